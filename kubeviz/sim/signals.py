"""Signals of the simulator's endpoints."""

from django.dispatch import Signal

#: Sent by the apply endpoint after an apply that was not a dry run, with ``cluster`` (the store's Cluster) and
#: either ``results`` (a DocumentResult per document) or ``error`` (the ManifestError that refused the stream):
#: the lesson player records what a learner applied during a step.
manifests_applied = Signal()

#: Sent by the Kubernetes API after a write (create, update, patch, delete; not a dry run) on ``cluster``, with
#: ``door`` (kubectl, client, console, api: ``kubeviz.store.actor.door_of``) and ``error``, the StatusError that
#: refused it, or None: the teacher's grid shows a learner's last refused write, whichever way it came.
api_write_answered = Signal()

#: Sent by the clock endpoint after a clock was paused or played, with ``cluster``: the teacher's grid shows which
#: sandboxes are paused.
clock_paused_changed = Signal()
