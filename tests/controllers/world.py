"""One fake world for controller tests: an in-memory API server that applies plans the way the engine does.

A controller returns a plan (``SyncResult``); the engine applies it through its client (``controllers.engine``'s
``Engine.apply`` and ``ACTION_HANDLERS``, over ``apiserver.client.RegistryClient``). Tests that play several
syncs in a row need the same thing without the engine: ``World`` is that client (it implements
``controllers.client.Client``) with the registry's rules, small, plus ``World.apply``, the engine's way of
applying a plan. So the objects a test hands its next sync are what the real cluster would hold:

* Creates: ``generateName`` gets five more characters (here a counter, so names sort in creation order), a
  name already taken answers AlreadyExists; the object gets a ``uid`` (``uid-<name>``), ``creationTimestamp``,
  ``resourceVersion`` and, for kinds with a generation, ``generation: 1``; a Pod starts ``Pending``, a Job,
  CronJob or DaemonSet with an empty status.
* Deletes are graceful, as kube-apiserver's: a Pod that is bound to a node and not finished gets a
  ``deletionTimestamp`` (now + its grace period, 30 s unless told) and stays until its kubelet finishes it
  (``finish_termination``); any other object, or a pod that was never scheduled or has finished, goes at once.
  An object with finalizers stays, terminating, until its last finalizer is patched away. The ``uid``
  precondition is checked; deleting what is gone answers NotFound.
* Patches are JSON merge patches; the ``status`` subresource changes only the status, the object itself
  everything but the status. A write that changes nothing is not a write (no new resourceVersion).
* Objects are never changed in place: every write stores a new dict with the next resourceVersion and is told
  as a ``WatchEvent`` (``changes_since``), so what a test got from the world earlier stays as it was.

What it leaves out: validation and defaulting, namespaces, the garbage collector (a delete's propagation policy
is accepted and dependents are left alone), resourceVersion preconditions on status writes, and the event
recorder's counting (``events`` lists each event the plans emitted, bound to its action's outcome).

Upstream's controller unit tests often use a fake pod control whose deleted pods vanish at once; a test that
follows one of them says so with ``kubelet_finishes_at_once=True``: every graceful pod deletion is finished by
the kubelet in the same instant (the pod goes as soon as it has no finalizers).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Callable

from apiserver.patch import json_merge_patch
from controllers.apimachinery.names import MAX_GENERATED_NAME_LENGTH
from controllers.apimachinery.timeutil import format_rfc3339
from controllers.client import ClientError, LogEntry, WatchEvent
from controllers.plan import (
    AddNodeImage, AppendLog, BindPod, CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult,
)

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)

CLUSTER_SCOPED = frozenset({"Node", "Namespace"})
HAS_GENERATION = frozenset({"Job", "CronJob", "DaemonSet"})
#: What a new object's status is (the registry's PrepareForCreate): kinds not listed keep what they were given.
STATUS_ON_CREATE = {"Pod": {"phase": "Pending"}, "Job": {}, "CronJob": {}, "DaemonSet": {}}
#: ``<resource>.<group>`` as the API server's error messages name them.
RESOURCE_NAMES = {
    "Pod": "pods", "Node": "nodes", "Event": "events", "Job": "jobs.batch", "CronJob": "cronjobs.batch",
    "DaemonSet": "daemonsets.apps", "ControllerRevision": "controllerrevisions.apps",
}
DEFAULT_GRACE_PERIOD_SECONDS = 30

Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name


def key_of(obj: dict) -> Key:
    kind = obj["kind"]
    return kind, "" if kind in CLUSTER_SCOPED else obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _resource(kind: str) -> str:
    return RESOURCE_NAMES.get(kind, kind.lower() + "s")


def _not_found(kind: str, name: str) -> ClientError:
    return ClientError(404, "NotFound", f'{_resource(kind)} "{name}" not found')


class World:
    """An in-memory API server for controller tests (see the module docstring for its rules).

    A test puts objects in (``put``, ``change``, ``delete``), syncs a controller with what it reads back (``get``,
    ``list``), and applies the plan with ``apply``. ``events`` and ``logs`` collect what plans emitted and logged.
    """

    def __init__(self, *objects: dict, now: datetime = NOW, kubelet_finishes_at_once: bool = False):
        self._now = now
        self.kubelet_finishes_at_once = kubelet_finishes_at_once
        #: When set, every create is refused with this error (an API server that says no: a terminating
        #: namespace, a quota, ...).
        self.refuse_creates: ClientError | None = None
        self.events: list[EmitEvent] = []
        self.logs: list[LogEntry] = []
        self._objects: dict[Key, dict] = {}
        self._history: list[WatchEvent] = []
        self._rv = 0
        self._generated = 0
        self._failed_batch: int | None = None
        for obj in objects:
            self.put(obj)

    # -- what a test does by hand ------------------------------------------------------------------------

    def put(self, obj: dict) -> dict:
        """Store (a copy of) ``obj`` as it is, created or replacing its namesake: a test's own write. A missing
        ``uid`` becomes ``uid-<name>``. Answers the stored object."""
        obj = copy.deepcopy(obj)
        obj["metadata"].setdefault("uid", f"uid-{obj['metadata']['name']}")
        return self._write(obj)

    def change(self, kind: str, namespace: str, name: str, change: Callable[[dict], None]) -> dict:
        """Write the next version of an object: a copy, changed by ``change(copy)``."""
        obj = copy.deepcopy(self._require(kind, namespace, name))
        change(obj)
        return self._write(obj)

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        """The stored object (the very dict: never change it in place), or None."""
        return self._objects.get((kind, "" if kind in CLUSTER_SCOPED else namespace, name))

    def list(self, kind: str) -> list[dict]:
        """Every stored object of ``kind``, in namespace and name order, as the informer cache lists them."""
        return [self._objects[k] for k in sorted(k for k in self._objects if k[0] == kind)]

    def finish_termination(self, namespace: str, name: str) -> None:
        """The kubelet has stopped a terminating pod: its final delete (grace period 0). The pod goes now, or
        as soon as its last finalizer does."""
        pod = self._require("Pod", namespace, name)
        if not pod["metadata"].get("deletionTimestamp"):
            raise AssertionError(f"pod {namespace}/{name} is not terminating")
        if pod["metadata"].get("finalizers"):
            if pod["metadata"].get("deletionGracePeriodSeconds") != 0:
                self._write(_with_meta(pod, deletionGracePeriodSeconds=0))
        else:
            self._remove(pod)

    # -- the Client protocol (controllers.client.Client) -------------------------------------------------

    def now(self) -> datetime:
        return self._now

    def set_now(self, now: datetime) -> None:
        self._now = now

    def resource_version(self) -> int:
        return self._rv

    def changes_since(self, resource_version: int) -> list[WatchEvent]:
        """Every write after ``resource_version``, oldest first (the world keeps its whole history)."""
        return [e for e in self._history if e.resource_version > resource_version]

    def create(self, obj: dict) -> dict:
        if self.refuse_creates is not None:
            raise self.refuse_creates
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        kind = obj["kind"]
        if not meta.get("name"):
            meta["name"] = self._generate_name(kind, meta.get("namespace", ""), meta["generateName"])
        if self.get(kind, meta.get("namespace", ""), meta["name"]) is not None:
            raise ClientError(409, "AlreadyExists", f'{_resource(kind)} "{meta["name"]}" already exists')
        for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(transient, None)
        meta["uid"] = f"uid-{meta['name']}"
        meta["creationTimestamp"] = format_rfc3339(self._now)
        if kind in HAS_GENERATION:
            meta["generation"] = 1
        if kind in STATUS_ON_CREATE:
            obj["status"] = copy.deepcopy(STATUS_ON_CREATE[kind])
        return self._write(obj)

    def update_status(self, obj: dict) -> dict:
        """Write ``obj['status']`` over the stored object's (the status subresource; last writer wins)."""
        stored = self._require(*key_of(obj))
        if stored.get("status") == obj.get("status"):
            return stored
        return self._write(dict(stored, status=copy.deepcopy(obj.get("status"))))

    def patch(self, kind: str, namespace: str, name: str, patch: dict, patch_type: str = "merge", *,
              subresource: str = "") -> dict:
        if patch_type != "merge":
            raise NotImplementedError(f"the test world applies merge patches only, not {patch_type}")
        old = self._require(kind, namespace, name)
        if subresource == "status":
            new = dict(old, status=json_merge_patch(old.get("status") or {}, patch.get("status") or {}))
        else:
            new = json_merge_patch(old, {k: v for k, v in patch.items() if k != "status"})
            for kept in ("uid", "name", "namespace", "creationTimestamp", "deletionTimestamp",
                         "deletionGracePeriodSeconds", "generation", "resourceVersion"):
                if kept in old["metadata"]:
                    new["metadata"][kept] = old["metadata"][kept]
            if kind in HAS_GENERATION and new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if new == old:
            return old
        stored = self._write(new)
        meta = stored["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and old["metadata"].get("finalizers"):
            # The last finalizer went: the deletion that was waiting for it completes now.
            if self._deletion_may_finish(stored):
                self._remove(stored)
        return stored

    def delete(self, kind: str, namespace: str, name: str, *, uid: str | None = None,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None) -> None:
        obj = self._require(kind, namespace, name)
        meta = obj["metadata"]
        if uid and uid != meta.get("uid"):
            raise ClientError(409, "Conflict", f"Operation cannot be fulfilled on {_resource(kind)} \"{name}\": "
                                               f"Precondition failed: UID in precondition: {uid}, UID in object "
                                               f"meta: {meta.get('uid')}")
        grace = self._grace_period(obj, grace_period_seconds)
        finalizers = meta.get("finalizers")
        if meta.get("deletionTimestamp"):
            # Already terminating: a second delete may only shorten the grace period.
            if grace == 0 and kind == "Pod" and not finalizers:
                self._remove(obj)
            return
        if grace == 0 and not finalizers:
            self._remove(obj)
            return
        changes = {"deletionTimestamp": format_rfc3339(self._now + timedelta(seconds=grace)),
                   "deletionGracePeriodSeconds": grace}
        if kind in HAS_GENERATION:
            changes["generation"] = meta.get("generation", 1) + 1
        terminating = self._write(_with_meta(obj, **changes))
        if kind == "Pod" and self.kubelet_finishes_at_once:
            self.finish_termination(namespace, terminating["metadata"]["name"])

    def bind(self, namespace: str, name: str, uid: str, node: str) -> dict:
        """pods/binding: only an unbound pod that is not being deleted can be bound, once."""
        pod = self.get("Pod", namespace, name)
        if pod is None or (uid and pod["metadata"].get("uid") != uid):
            raise _not_found("Pod", name)
        if (pod.get("spec") or {}).get("nodeName"):
            raise ClientError(409, "Conflict", f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"')
        if pod["metadata"].get("deletionTimestamp"):
            raise ClientError(409, "Conflict", f"pod {name} is being deleted, cannot be assigned to a host")
        status = dict(pod.get("status") or {})
        conditions = status.get("conditions") or []
        previous = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        since = previous["lastTransitionTime"] if previous and previous.get("status") == "True" else None
        status["conditions"] = [c for c in conditions if c.get("type") != "PodScheduled"] + [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": since or format_rfc3339(self._now)}]
        return self._write(dict(pod, spec=dict(pod["spec"], nodeName=node), status=status))

    def append_log(self, entry: LogEntry) -> None:
        pod = self.get("Pod", entry.namespace, entry.pod)
        if pod is None or pod["metadata"].get("uid") != entry.uid:
            raise _not_found("Pod", entry.pod)
        self.logs.append(entry)

    # -- the engine's part: applying a plan ----------------------------------------------------------------

    def apply(self, result: SyncResult, subject: dict | None = None) -> bool:
        """Apply a plan as ``Engine.apply`` does: the status first (onto ``subject``, the object the controller
        synced, as stored now), then each action in order by its handler in ``HANDLERS``. Answers whether
        anything failed (the engine would then requeue with its rate limit)."""
        failed = False
        if result.status is not None and subject is not None:
            stored = self.get(*key_of(subject))
            if stored is not None:
                self.update_status(dict(stored, status=result.status))
        self._failed_batch = None
        for action in result.actions:
            handler = HANDLERS.get(type(action))
            if handler is None:
                raise TypeError(f"the test world has no handler for {type(action).__name__}: add one to HANDLERS")
            failed |= handler(self, action)
        return failed

    # Each handler applies one action and answers whether it failed; NotFound is not a failure.

    def apply_create_object(self, action: CreateObject) -> bool:
        if self._failed_batch is not None and action.batch > self._failed_batch:
            return False  # slow start: a create of an earlier batch of this plan failed
        try:
            created = self.create(action.obj)
        except ClientError as error:
            self._failed_batch = action.batch
            if action.failure_event is not None:
                self.events.append(action.failure_event.bind(error=error.message))
            return True
        if action.success_event is not None:
            self.events.append(action.success_event.bind(name=created["metadata"]["name"]))
        return False

    def apply_delete_object(self, action: DeleteObject) -> bool:
        try:
            self.delete(action.kind, action.namespace, action.name, uid=action.uid,
                        propagation_policy=action.propagation_policy,
                        grace_period_seconds=action.grace_period_seconds)
        except ClientError as error:
            if error.not_found:
                return False
            if action.failure_event is not None:
                self.events.append(action.failure_event.bind(error=error.message))
            return True
        if action.success_event is not None:
            self.events.append(action.success_event)
        return False

    def apply_patch_object(self, action: PatchObject) -> bool:
        try:
            self.patch(action.kind, action.namespace, action.name, action.patch, action.patch_type,
                       subresource=action.subresource)
        except ClientError as error:
            return not error.not_found
        return False

    def apply_emit_event(self, action: EmitEvent) -> bool:
        self.events.append(action)
        return False

    def apply_bind_pod(self, action: BindPod) -> bool:
        try:
            self.bind(action.namespace, action.name, action.uid, action.node)
        except ClientError as error:
            if action.failure_event is not None:
                self.events.append(action.failure_event.bind(error=error.message))
            return not error.not_found
        if action.success_event is not None:
            self.events.append(action.success_event)
        return False

    def apply_append_log(self, action: AppendLog) -> bool:
        try:
            self.append_log(LogEntry(action.namespace, action.pod, action.uid, action.container,
                                     action.restart_count, tuple(action.lines)))
        except ClientError as error:
            return not error.not_found
        return False

    def apply_add_node_image(self, action: AddNodeImage) -> bool:
        node = self.get("Node", "", action.node)
        if node is None:
            return False
        images = list((node.get("status") or {}).get("images") or [])
        if any(action.image in (entry.get("names") or ()) for entry in images):
            return False
        entry = {"names": [action.image, *action.extra_names], "sizeBytes": action.size_bytes}
        self.update_status(dict(node, status=dict(node.get("status") or {}, images=images + [entry])))
        return False

    # -- inside ---------------------------------------------------------------------------------------------

    def _require(self, kind: str, namespace: str, name: str) -> dict:
        obj = self.get(kind, namespace, name)
        if obj is None:
            raise _not_found(kind, name)
        return obj

    def _generate_name(self, kind: str, namespace: str, base: str) -> str:
        while True:
            name = f"{base[:MAX_GENERATED_NAME_LENGTH]}{self._generated:05d}"
            self._generated += 1
            if self.get(kind, namespace, name) is None:
                return name

    def _write(self, obj: dict) -> dict:
        key = key_of(obj)
        self._rv += 1
        obj = dict(obj, metadata=dict(obj["metadata"], resourceVersion=str(self._rv)))
        event_type = "MODIFIED" if key in self._objects else "ADDED"
        self._objects[key] = obj
        self._history.append(WatchEvent(event_type, obj["kind"], obj))
        return obj

    def _remove(self, obj: dict) -> None:
        key = key_of(obj)
        del self._objects[key]
        self._rv += 1
        gone = dict(obj, metadata=dict(obj["metadata"], resourceVersion=str(self._rv)))
        self._history.append(WatchEvent("DELETED", obj["kind"], gone))

    @staticmethod
    def _grace_period(obj: dict, requested: int | None) -> int:
        """The registry's: only a pod that runs somewhere has anything to stop."""
        if obj["kind"] != "Pod":
            return 0
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(int(requested), 0)
        return int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_PERIOD_SECONDS))

    def _deletion_may_finish(self, obj: dict) -> bool:
        """A terminating pod waits for its kubelet (the grace period); anything else goes with its finalizers."""
        if obj["kind"] != "Pod":
            return True
        return self._grace_period(obj, None) == 0 or obj["metadata"].get("deletionGracePeriodSeconds") == 0


def _with_meta(obj: dict, **changes) -> dict:
    return dict(obj, metadata=dict(obj["metadata"], **changes))


#: Every action type of ``controllers.plan`` and the one World method that applies it (as ``ACTION_HANDLERS``).
HANDLERS: dict[type, Callable[[World, object], bool]] = {
    CreateObject: World.apply_create_object,
    DeleteObject: World.apply_delete_object,
    PatchObject: World.apply_patch_object,
    EmitEvent: World.apply_emit_event,
    BindPod: World.apply_bind_pod,
    AppendLog: World.apply_append_log,
    AddNodeImage: World.apply_add_node_image,
}
