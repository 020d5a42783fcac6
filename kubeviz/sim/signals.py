"""Signals of the simulator's endpoints."""

from django.dispatch import Signal

#: Sent by the apply endpoint after an apply that was not a dry run, with ``cluster`` (the store's Cluster) and
#: either ``results`` (a DocumentResult per document) or ``error`` (the ManifestError that refused the stream):
#: the lesson player records what a learner applied during a step.
manifests_applied = Signal()
