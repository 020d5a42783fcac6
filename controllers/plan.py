"""The plan vocabulary every simulated controller returns.

A controller never talks to the API server. It looks at what it was given (an object, the pods it owns, the time)
and answers a ``SyncResult``: the actions it wants applied, the new status of its object, when it wants to be
synced again, a human-readable ``Trace`` of why, and an opaque ``memory`` the engine keeps for it until the
next sync. The engine (clock, work queue, informer, client) applies the plan; the dashboard shows the trace.

Everything here is a frozen dataclass so a plan can be compared, hashed into a log, and replayed.

Applying a plan (the contract every engine honours):

1. Write ``status`` first (when it is not ``None``) through the status subresource, except after the creates
   whose objects it counts (``CreateObject.counted_in_status``, the Job's pods in ``active``): those go first,
   and the counter is written without the ones that failed or were skipped, as ``manageJob`` counts them
   (``active--``) before ``syncJob`` writes the status.
2. Then apply ``actions`` in order. Creates carry a ``batch`` number (slow start): if a create fails, the
   creates of later batches are skipped, like upstream's ``slowStartBatch``.
3. Events bound to an action (``success_event`` / ``failure_event``) are emitted only after that action
   succeeded or failed; their messages may hold ``{name}`` (the name the API server assigned, useful for
   ``generateName`` creates) and ``{error}``; fill them with ``EmitEvent.bind``. A delete that fails with
   NotFound emits nothing (upstream ``RealPodControl`` does the same). Free-standing ``EmitEvent`` actions are
   emitted as they come.
4. If ``requeue_after`` is not ``None``, schedule a sync of the same key that many seconds later (0 means
   "as soon as possible"). If any action failed, requeue with the usual rate limit: the next sync repairs
   the status from what it then observes.
5. Keep ``memory`` for the object's key and hand it back on the next sync; drop it when the object is
   deleted.

Actions added for the simulated kubelet (``controllers.kubelet``):

* ``AppendLog``: append the lines, with their timestamps, to the log of one container instance, keyed by
  (namespace, pod uid, container, restart_count). ``kubectl logs`` reads the instance with the pod's current
  ``restartCount`` for that container, ``--previous`` the one before; keep at least those two, drop the pod's
  logs when the pod is deleted. Never fails for a missing pod (the lines are simply dropped).
* ``AddNodeImage``: read the Node, and unless one of its ``status.images`` entries already lists ``image``,
  append ``{"names": [image, *extra_names], "sizeBytes": size_bytes}``; write the Node status back (a
  read-modify-write with resourceVersion, retried on conflict), so concurrent pulls on one node never
  clobber each other. A missing Node is ignored.
* ``DeleteObject.grace_period_seconds``: when not ``None``, send it as the delete's ``gracePeriodSeconds``
  (the kubelet's final delete uses ``0``: the pod is gone as soon as its finalizers are).
* ``EmitEvent.host``: when set, the Event's ``source.host`` (the kubelet's node name).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

EventType = Literal["Normal", "Warning"]

#: Placeholders an engine fills in an action-bound event message.
NAME_PLACEHOLDER = "{name}"
ERROR_PLACEHOLDER = "{error}"


@dataclass(frozen=True)
class EmitEvent:
    """Record a core/v1 Event about ``involved`` (a reference: kind, namespace, name, uid, apiVersion)."""

    involved: dict
    type: EventType
    reason: str
    message: str
    component: str
    #: ``source.host`` of the Event (the node a kubelet runs on); empty for control-plane components.
    host: str = ""

    def bind(self, *, name: str | None = None, error: str | None = None) -> "EmitEvent":
        """Return this event with ``{name}`` / ``{error}`` in its message replaced by the given text."""
        message = self.message
        if name is not None:
            message = message.replace(NAME_PLACEHOLDER, name)
        if error is not None:
            message = message.replace(ERROR_PLACEHOLDER, error)
        return replace(self, message=message)


@dataclass(frozen=True)
class CreateObject:
    """Create ``obj``; it may carry ``metadata.generateName`` instead of a name.

    ``batch`` is the slow-start batch the create belongs to (0, 1, 2, ... holding 1, 2, 4, ... creates).
    ``success_event`` is emitted once the API server accepted the object (``{name}`` = its final name),
    ``failure_event`` when it refused it (``{error}`` = the error text).
    """

    obj: dict
    batch: int = 0
    success_event: EmitEvent | None = None
    failure_event: EmitEvent | None = None
    #: The status counter (a top-level field of the plan's ``status``) that counts this object as created:
    #: the engine takes it back out when the create fails or is skipped.
    counted_in_status: str | None = None


@dataclass(frozen=True)
class DeleteObject:
    """Delete an object, with its ``uid`` as a precondition (a recreated namesake is left alone)."""

    kind: str
    namespace: str
    name: str
    uid: str
    propagation_policy: str | None = None
    success_event: EmitEvent | None = None
    failure_event: EmitEvent | None = None
    #: ``DeleteOptions.gracePeriodSeconds``; ``None`` keeps the object's default, ``0`` deletes at once.
    grace_period_seconds: int | None = None


@dataclass(frozen=True)
class PatchObject:
    """Patch an object; ``patch_type`` is ``"merge"`` (RFC 7386: lists are replaced, ``None`` deletes)."""

    kind: str
    namespace: str
    name: str
    patch: dict
    patch_type: str = "merge"
    #: ``""`` patches the object itself; ``"status"`` goes through the status subresource (a pod's status can
    #: only be changed there).
    subresource: str = ""


@dataclass(frozen=True)
class BindPod:
    """Bind a pending pod to a node: ``POST pods/<name>/binding`` with ``metadata.uid`` as a precondition.

    The API server's binding (``BindingREST.setPodNodeAndMetadata``) refuses a pod that already has a node
    ("pod <name> is already assigned to node ...") or is being deleted, sets ``spec.nodeName`` and sets the
    ``PodScheduled=True`` condition (``lastTransitionTime`` = now unless it was already True). Events as in
    ``DeleteObject``: ``success_event`` after the binding succeeded, ``failure_event`` (``{error}``) when it failed.
    """

    namespace: str
    name: str
    uid: str
    node: str
    success_event: EmitEvent | None = None
    failure_event: EmitEvent | None = None


@dataclass(frozen=True)
class AppendLog:
    """Append output lines to one container instance's log (see the module docstring for the contract).

    ``lines`` are ``(timestamp, text)`` pairs in order, ``text`` without its newline; ``restart_count`` tells
    the instance (``kubectl logs --previous`` reads ``restart_count - 1``).
    """

    namespace: str
    pod: str
    uid: str
    container: str
    restart_count: int
    lines: tuple[tuple[datetime, str], ...]


@dataclass(frozen=True)
class AddNodeImage:
    """Record ``image`` on a Node's ``status.images`` by read-modify-write (never a list-replacing patch).

    ``image`` is the normalized reference (``docker.io/library/perl:5.34.0``); the entry's ``names`` are
    ``[image, *extra_names]`` (e.g. the digest reference ``docker.io/library/perl@sha256:...``).
    """

    node: str
    image: str
    size_bytes: int = 0
    extra_names: tuple[str, ...] = ()


Action = CreateObject | DeleteObject | PatchObject | EmitEvent | BindPod | AppendLog | AddNodeImage


@dataclass(frozen=True)
class Trace:
    """Why a controller did what it did, in sentences a learner can read beside the YAML."""

    controller: str
    object_key: str
    trigger: str
    observed: str
    decision: str
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncResult:
    """One sync's plan: actions, the full new status (``None`` when unchanged), requeue delay, trace, memory."""

    actions: tuple[Action, ...]
    status: dict | None
    requeue_after: float | None
    trace: Trace
    memory: Any = field(default=None)
