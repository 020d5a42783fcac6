"""The storage interface the registry writes through, and its in-memory implementation.

Storage is the etcd of a cluster: it keeps objects by (resource type, namespace, name), hands out a monotonically
increasing resourceVersion per cluster, compares-and-swaps on update, and tells watchers about every change. It
knows nothing of defaulting or validation; that is the registry's job (``registry.py``), as in kube-apiserver's
``registry/generic`` over ``storage.Interface``.

``MemoryStorage`` serves the ``simulate`` command, benchmarks and tests; ``kubeviz.store.storage`` is the database
implementation with the same contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Protocol

from .resources import ResourceType


class StorageError(Exception):
    pass


class KeyExists(StorageError):
    pass


class KeyNotFound(StorageError):
    pass


class VersionConflict(StorageError):
    pass


class HistoryCompacted(StorageError):
    """The change history no longer reaches back to the requested resourceVersion (410 Gone)."""


@dataclass(frozen=True)
class WatchEvent:
    """One change, as a Kubernetes watch reports it."""

    type: str  # ADDED, MODIFIED, DELETED
    resource: ResourceType
    object: dict

    @property
    def resource_version(self) -> str:
        return self.object["metadata"]["resourceVersion"]


class Storage(Protocol):
    seed: int

    def now(self) -> datetime:
        """The cluster's simulated time."""

    def current_resource_version(self) -> int: ...

    def get(self, resource: ResourceType, namespace: str, name: str) -> dict | None: ...

    def list(self, resource: ResourceType, namespace: str | None = None) -> tuple[list[dict], str]:
        """All objects of a type (in one namespace, or all when None) sorted by namespace and name, and the
        resourceVersion the list is consistent with."""

    def create(self, resource: ResourceType, obj: dict) -> dict:
        """Store a new object, giving it the next resourceVersion. Raises KeyExists."""

    def update(self, resource: ResourceType, obj: dict, expected_rv: str) -> dict:
        """Replace an object if its stored resourceVersion is ``expected_rv``. Raises KeyNotFound or
        VersionConflict."""

    def delete(self, resource: ResourceType, namespace: str, name: str, expected_rv: str | None = None) -> dict:
        """Remove an object; the returned copy carries the deletion's resourceVersion."""

    def find_by_uid(self, uid: str) -> tuple[ResourceType, dict] | None: ...

    def dependents_of(self, uid: str) -> Iterable[tuple[ResourceType, dict]]:
        """Objects whose ownerReferences name ``uid``."""

    def changes_since(self, resource_version: int, limit: int | None = None) -> list[WatchEvent]:
        """Every change after ``resource_version`` in order (the watch history); raises HistoryCompacted."""

    def set_now(self, now: datetime) -> None:
        """Move the simulated clock (the engine's privilege)."""

    def append_log(self, namespace: str, pod: str, uid: str, container: str, restart_count: int,
                   lines: list) -> None:
        """Add ``[timestamp, text]`` lines to one container run's log."""

    def read_log(self, namespace: str, pod: str, uid: str, container: str, restart_count: int) -> list | None:
        """One container run's ``[timestamp, text]`` lines, or None when it never logged."""


def _key(resource: ResourceType, namespace: str, name: str) -> tuple:
    return (resource.group, resource.kind, namespace, name)


class MemoryStorage:
    """A dict-backed Storage. Listeners are called synchronously after each change, in order.

    A write takes over the object it is given (the registry passes its own copy and never touches it again);
    reads, watch events and write results all hand out that same stored dict, which callers must treat as
    read-only (copy before changing it), as with an informer's cache. Unchanged parts of an object may be shared
    between its versions. That keeps a large simulated cluster to one copy of each object.
    """

    def __init__(self, *, now: datetime, seed: int = 0, history_length: int = 20_000):
        self.seed = seed
        self._now = now
        self._rv = 0
        self._by_kind: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self._by_uid: dict[str, tuple[ResourceType, dict]] = {}
        self._dependents: dict[str, dict[str, tuple[ResourceType, dict]]] = {}
        self._listeners: list[Callable[[WatchEvent], None]] = []
        # The newest changes, oldest first; trimmed in halves so reads can index it directly.
        self._history: list[WatchEvent] = []
        self._history_length = history_length
        self._logs: dict[tuple, tuple[str, str, list]] = {}

    # time is owned by the engine; tests and the simulate command move it
    def now(self) -> datetime:
        return self._now

    def set_now(self, now: datetime) -> None:
        self._now = now

    def current_resource_version(self) -> int:
        return self._rv

    def subscribe(self, listener: Callable[[WatchEvent], None]) -> None:
        self._listeners.append(listener)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _emit(self, type_: str, resource: ResourceType, obj: dict) -> None:
        event = WatchEvent(type_, resource, obj)
        self._history.append(event)
        if len(self._history) > 2 * self._history_length:
            del self._history[: len(self._history) - self._history_length]
        for listener in self._listeners:
            listener(event)

    def append_log(self, namespace, pod, uid, container, restart_count, lines) -> None:
        self._logs.setdefault((uid, container, restart_count), (namespace, pod, []))[2].extend(lines)

    def read_log(self, namespace, pod, uid, container, restart_count) -> list | None:
        entry = self._logs.get((uid, container, restart_count))
        return list(entry[2]) if entry else None

    def changes_since(self, resource_version, limit=None):
        if not self._history:
            return []
        first = int(self._history[0].resource_version)
        if resource_version and first > resource_version + 1:
            raise HistoryCompacted(resource_version)
        # every write takes the next resourceVersion and records one event, so positions follow versions
        start = max(0, resource_version - first + 1)
        stop = len(self._history) if limit is None else min(len(self._history), start + limit)
        return self._history[start:stop]

    def _kind(self, resource: ResourceType) -> dict[tuple[str, str], dict]:
        return self._by_kind.setdefault((resource.group, resource.kind), {})

    def get(self, resource, namespace, name):
        return self._kind(resource).get((namespace, name))

    def list(self, resource, namespace=None):
        objects = self._kind(resource)
        keys = sorted(k for k in objects if namespace is None or k[0] == namespace)
        return [objects[k] for k in keys], str(self._rv)

    def _index(self, resource, obj, add: bool) -> None:
        meta = obj["metadata"]
        uid = meta.get("uid", "")
        if add:
            self._by_uid[uid] = (resource, obj)
        elif self._by_uid.get(uid, (None, None))[1] is obj:
            del self._by_uid[uid]
        for ref in meta.get("ownerReferences") or ():
            owner = ref.get("uid", "")
            if add:
                self._dependents.setdefault(owner, {})[uid] = (resource, obj)
            else:
                found = self._dependents.get(owner)
                if found is not None:
                    found.pop(uid, None)
                    if not found:
                        del self._dependents[owner]

    def _store(self, resource, obj, type_: str) -> dict:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        # The registry hands over its own copy; what is stored is shared read-only with every reader.
        stored = dict(obj, metadata=dict(meta, resourceVersion=self._next_rv()))
        objects = self._kind(resource)
        old = objects.get(key)
        if old is not None:
            self._index(resource, old, add=False)
        objects[key] = stored
        self._index(resource, stored, add=True)
        self._emit(type_, resource, stored)
        return stored

    def create(self, resource, obj):
        meta = obj["metadata"]
        if (meta.get("namespace", ""), meta["name"]) in self._kind(resource):
            raise KeyExists(meta["name"])
        return self._store(resource, obj, "ADDED")

    def update(self, resource, obj, expected_rv):
        meta = obj["metadata"]
        current = self._kind(resource).get((meta.get("namespace", ""), meta["name"]))
        if current is None:
            raise KeyNotFound(meta["name"])
        if current["metadata"]["resourceVersion"] != expected_rv:
            raise VersionConflict(meta["name"])
        return self._store(resource, obj, "MODIFIED")

    def delete(self, resource, namespace, name, expected_rv=None):
        objects = self._kind(resource)
        current = objects.get((namespace, name))
        if current is None:
            raise KeyNotFound(name)
        if expected_rv is not None and current["metadata"]["resourceVersion"] != expected_rv:
            raise VersionConflict(name)
        del objects[(namespace, name)]
        self._index(resource, current, add=False)
        gone = dict(current, metadata=dict(current["metadata"], resourceVersion=self._next_rv()))
        self._emit("DELETED", resource, gone)
        return gone

    def find_by_uid(self, uid):
        return self._by_uid.get(uid)

    def dependents_of(self, uid):
        return sorted(self._dependents.get(uid, {}).values(),
                      key=lambda entry: (entry[0].kind, entry[1]["metadata"].get("namespace", ""),
                                         entry[1]["metadata"]["name"]))
