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
from typing import Callable, Iterable, Iterator, Protocol

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


class FutureRevision(StorageError):
    """A read at a resourceVersion the cluster has not reached (etcd's ``ErrFutureRev``)."""

    message = "etcdserver: mvcc: required revision is a future revision"


def object_key(namespace: str, name: str) -> str:
    """An object's key below its kind, as etcd's keys sort: ``/<namespace>/<name>``, or ``/<name>`` for a
    cluster-scoped object. (Sorting by it differs from sorting by (namespace, name) where one namespace's name
    begins with another's and goes on with a character before ``/``: ``team-a`` lists before ``team``.)"""
    return f"/{namespace}/{name}" if namespace else f"/{name}"


def _sort_key(key: tuple) -> tuple:
    # (namespace + "/", name) orders as object_key does: neither part can hold a "/"
    return key[0] + "/", key[1]


@dataclass(frozen=True)
class ListRange:
    """What ``Storage.list_range`` answers: the objects of one kind from a key on, as they were at
    ``revision``."""

    revision: int
    count: int  # how many objects lie in the range (etcd's Count)
    objects: Iterator[dict]  # those objects in key order, read as the caller goes


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
        """All objects of a type (in one namespace, or all when None) in key order (``object_key``), and the
        resourceVersion the list is consistent with."""

    def list_range(self, resource: ResourceType, namespace: str | None = None, *, start: str = "",
                   revision: int | None = None, size_hint: int = 0) -> ListRange:
        """The objects of a type (in one namespace, or all) whose keys are ``start`` or after, in key order, as
        they were at ``revision`` (the newest when None), like an etcd range read at a revision. An object
        changed since then is answered as it was, one created since is not there, one deleted since is. Raises
        ``HistoryCompacted`` when the history no longer reaches back to ``revision`` (also while the objects are
        read), ``FutureRevision`` past the newest. ``size_hint``: how many objects the caller expects to read."""

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
        # What etcd's compaction keeps: the resourceVersion the history was trimmed up to, and each object's
        # last version from before it (unless that was its deletion), by (group, kind, namespace, name).
        self._compacted = 0
        self._retained: dict[tuple, dict] = {}
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
            self.compact(int(self._history[-self._history_length - 1].resource_version))
        for listener in self._listeners:
            listener(event)

    def append_log(self, namespace, pod, uid, container, restart_count, lines) -> None:
        self._logs.setdefault((uid, container, restart_count), (namespace, pod, []))[2].extend(lines)

    def read_log(self, namespace, pod, uid, container, restart_count) -> list | None:
        entry = self._logs.get((uid, container, restart_count))
        return list(entry[2]) if entry else None

    def compact(self, revision: int) -> None:
        """Forget the history up to ``revision`` as etcd's compaction does: reads and watches from before it
        answer 410; an object's state at ``revision`` stays known."""
        first = int(self._history[0].resource_version) if self._history else self._rv + 1
        trimmed = self._history[: max(0, min(revision, self._rv) - first + 1)]
        for event in trimmed:
            meta = event.object["metadata"]
            key = (event.resource.group, event.resource.kind, meta.get("namespace", ""), meta["name"])
            if event.type == "DELETED":
                self._retained.pop(key, None)
            else:
                self._retained[key] = event.object
        del self._history[: len(trimmed)]
        self._compacted = max(self._compacted, min(revision, self._rv))

    def changes_since(self, resource_version, limit=None):
        if resource_version and resource_version < self._compacted:
            raise HistoryCompacted(resource_version)
        if not self._history:
            return []
        first = int(self._history[0].resource_version)
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
        keys = sorted((k for k in objects if namespace is None or k[0] == namespace), key=_sort_key)
        return [objects[k] for k in keys], str(self._rv)

    def list_range(self, resource, namespace=None, *, start="", revision=None, size_hint=0):
        if revision is None:
            revision = self._rv
        elif revision > self._rv:
            raise FutureRevision(revision)
        elif revision < self._compacted:
            raise HistoryCompacted(revision)
        states = {k: obj for k, obj in self._kind(resource).items()
                  if (namespace is None or k[0] == namespace) and int(obj["metadata"]["resourceVersion"]) <= revision}
        states.update(self._states_at(resource, namespace, revision, exclude=states))
        keys = sorted((k for k in states if object_key(*k) >= start), key=_sort_key)
        return ListRange(revision, len(keys), iter([states[k] for k in keys]))

    def _states_at(self, resource, namespace, revision, exclude) -> dict[tuple, dict]:
        """The objects changed after ``revision`` (but for those in ``exclude``) as they were at it: the last
        version at or before it, from the history or from what compaction kept; none if that is a deletion or
        they were created later."""
        first = int(self._history[0].resource_version) if self._history else self._rv + 1
        split = max(0, revision - first + 1)  # positions follow versions: history[:split] is at or before it
        wanted: dict[tuple, str] = {}  # key -> type of its first change after the revision
        for event in self._history[split:]:
            meta = event.object["metadata"]
            if event.resource is resource and (namespace is None or meta.get("namespace", "") == namespace):
                key = (meta.get("namespace", ""), meta["name"])
                if key not in exclude:
                    wanted.setdefault(key, event.type)
        found: dict[tuple, dict | None] = {}
        for event in reversed(self._history[:split]):
            if len(found) == len(wanted):
                break
            meta = event.object["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            if event.resource is resource and key in wanted and key not in found:
                found[key] = None if event.type == "DELETED" else event.object
        states = {}
        for key, first_type in wanted.items():
            if key not in found:
                found[key] = self._retained.get((resource.group, resource.kind, *key))
                if found[key] is None and first_type != "ADDED":
                    raise HistoryCompacted(revision)  # it existed then, but no version of it is left
            if found[key] is not None:
                states[key] = found[key]
        return states

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
