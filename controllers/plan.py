"""The plan vocabulary every simulated controller returns.

A controller never talks to the store. It looks at what it was given (an object, the pods it owns, the time)
and answers a ``SyncResult``: the actions it wants applied, the new status of its object, when it wants to be
synced again, a human-readable ``Trace`` of why, and an opaque ``memory`` the engine keeps for it until the
next sync. The engine (clock, work queue, informer, store) applies the plan; the dashboard shows the trace.

Everything here is a frozen dataclass so a plan can be compared, hashed into a log, and replayed.

Applying a plan (the contract every engine honours):

1. Write ``status`` first (when it is not ``None``) through the status subresource.
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
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def bind(self, *, name: str | None = None, error: str | None = None) -> "EmitEvent":
        """Return this event with ``{name}`` / ``{error}`` in its message replaced by the given text."""
        message = self.message
        if name is not None:
            message = message.replace(NAME_PLACEHOLDER, name)
        if error is not None:
            message = message.replace(ERROR_PLACEHOLDER, error)
        return EmitEvent(self.involved, self.type, self.reason, message, self.component)


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


Action = CreateObject | DeleteObject | PatchObject | EmitEvent | BindPod


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
