"""The storage interface the registry writes through, and its in-memory implementation.

Storage is the etcd of a cluster: it keeps objects by (resource type, namespace, name), hands out a monotonically
increasing resourceVersion per cluster, compares-and-swaps on update, and tells watchers about every change. It
knows nothing of defaulting or validation; that is the registry's job (``registry.py``), as in kube-apiserver's
``registry/generic`` over ``storage.Interface``.

``MemoryStorage`` serves the ``simulate`` command, benchmarks and tests; ``kubeviz.store.storage`` is the database
implementation with the same contract.
"""

from __future__ import annotations

import copy
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
    """A dict-backed Storage. Listeners are called synchronously after each change, in order."""

    def __init__(self, *, now: datetime, seed: int = 0, history_length: int = 20_000):
        self.seed = seed
        self._now = now
        self._rv = 0
        self._objects: dict[tuple, tuple[ResourceType, dict]] = {}
        self._listeners: list[Callable[[WatchEvent], None]] = []
        # The newest changes, oldest first; trimmed in halves so reads can index it directly.
        self._history: list[WatchEvent] = []
        self._history_length = history_length
        self._logs: dict[tuple, tuple[str, str, list]] = {}

    # time is owned by the engine; tests and the simulate command move it
    def now(self) -> datetime:
        return self._now

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

    def set_now(self, now: datetime) -> None:
        self._now = now

    def changes_since(self, resource_version, limit=None):
        if not self._history:
            return []
        first = int(self._history[0].resource_version)
        if resource_version and first > resource_version + 1:
            raise HistoryCompacted(resource_version)
        # every write takes the next resourceVersion and records one event, so positions follow versions
        start = max(0, resource_version - first + 1)
        stop = len(self._history) if limit is None else min(len(self._history), start + limit)
        return [self._history[i] for i in range(start, stop)]

    def get(self, resource, namespace, name):
        entry = self._objects.get(_key(resource, namespace, name))
        return copy.deepcopy(entry[1]) if entry else None

    def list(self, resource, namespace=None):
        items = [
            copy.deepcopy(obj)
            for (group, kind, ns, _), (_, obj) in sorted(self._objects.items())
            if group == resource.group and kind == resource.kind and (namespace is None or ns == namespace)
        ]
        return items, str(self._rv)

    def create(self, resource, obj):
        meta = obj["metadata"]
        key = _key(resource, meta.get("namespace", ""), meta["name"])
        if key in self._objects:
            raise KeyExists(meta["name"])
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = self._next_rv()
        self._objects[key] = (resource, stored)
        self._emit("ADDED", resource, copy.deepcopy(stored))
        return copy.deepcopy(stored)

    def update(self, resource, obj, expected_rv):
        meta = obj["metadata"]
        key = _key(resource, meta.get("namespace", ""), meta["name"])
        entry = self._objects.get(key)
        if entry is None:
            raise KeyNotFound(meta["name"])
        if entry[1]["metadata"]["resourceVersion"] != expected_rv:
            raise VersionConflict(meta["name"])
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = self._next_rv()
        self._objects[key] = (resource, stored)
        self._emit("MODIFIED", resource, copy.deepcopy(stored))
        return copy.deepcopy(stored)

    def delete(self, resource, namespace, name, expected_rv=None):
        key = _key(resource, namespace, name)
        entry = self._objects.get(key)
        if entry is None:
            raise KeyNotFound(name)
        if expected_rv is not None and entry[1]["metadata"]["resourceVersion"] != expected_rv:
            raise VersionConflict(name)
        del self._objects[key]
        gone = copy.deepcopy(entry[1])
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._emit("DELETED", resource, copy.deepcopy(gone))
        return gone

    def find_by_uid(self, uid):
        for resource, obj in self._objects.values():
            if obj["metadata"].get("uid") == uid:
                return resource, copy.deepcopy(obj)
        return None

    def dependents_of(self, uid):
        found = []
        for resource, obj in self._objects.values():
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or ()):
                found.append((resource, copy.deepcopy(obj)))
        return found
