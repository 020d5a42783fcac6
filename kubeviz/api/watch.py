"""Watch: ``GET <collection>?watch=true`` as a chunked stream of newline-terminated JSON events.

A watch is the API server's half of every informer, of ``kubectl get -w``, ``kubectl delete --wait`` and
``kubectl rollout status``, and of the Python client's ``watch.Watch().stream()``. kubectl-compat.md §3 is the
specification; upstream's code is ``apiserver/pkg/endpoints/handlers/watch.go`` (the stream) and
``apiserver/pkg/storage/cacher/cache_watcher.go`` (``convertToWatchEvent``: how a filtered watch turns changes
into ADDED/MODIFIED/DELETED).

How it is served
    The view prepares everything that can fail with a plain Status (selectors, ``resourceVersion``,
    ``timeoutSeconds``, the synthetic ADDED list) synchronously, then answers a ``StreamingHttpResponse`` over the
    async generator :func:`stream`. Under ASGI Django iterates it on the event loop and sends one
    ``http.response.body`` message per event; Daphne writes each as an HTTP/1.1 chunk at once. When the client
    goes away, Django's disconnect listener cancels the task, the generator's ``finally`` runs, and nothing is
    left behind: the stream holds no subscription, only its own position in the history.

Where the events come from
    The ``Change`` table is the history (``changes_since``), so the stream is ordered, includes deletions, only
    ever shows committed writes and resumes from any resourceVersion the history still holds (older ones end the
    stream with a 410 ``Expired`` ERROR event, as etcd compaction does). The stream polls the cluster row's
    resourceVersion every :data:`POLL_SECONDS` (one primary-key read) and reads the history only when it moved.
    Polling the database, rather than trusting channel-layer messages, works the same with the in-memory and the
    Redis layer and across server processes, cannot lose an event to a full channel, and keeps one code path for
    catching up and for live changes. The reads run on a small dedicated thread pool, so a thousand open watches
    hold no thread and no database connection of their own.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncIterator, Callable, Protocol

from apiserver import kinds, printers
from apiserver.kinds import ResourceType
from apiserver.storage import HistoryCompacted, WatchEvent

logger = logging.getLogger(__name__)

# How often an idle stream looks for new changes, and how many changes it reads at once.
POLL_SECONDS = 0.15
BATCH = 500
# Upstream's watch cache sends a bookmark about once a minute to watchers that allow them.
BOOKMARK_SECONDS = 60.0

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"

_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kubeviz-watch")


class WatchSource(Protocol):
    """What a stream reads: the newest resourceVersion with the simulated time, and the change history."""

    def head(self) -> tuple[int, datetime] | None:
        """``(resourceVersion, now)`` of the cluster, or None once the cluster is gone."""

    def changes_since(self, resource_version: int, limit: int | None = None) -> list[WatchEvent]: ...


class DatabaseSource:
    """A cluster's history in the database (``kubeviz.store``)."""

    def __init__(self, cluster):
        from kubeviz.store.storage import DatabaseStorage

        self._storage = DatabaseStorage(cluster)
        self._cluster_pk = cluster.pk

    def head(self):
        from kubeviz.store.models import Cluster

        return Cluster.objects.filter(pk=self._cluster_pk).values_list("resource_version", "sim_now").first()

    def changes_since(self, resource_version, limit=None):
        return self._storage.changes_since(resource_version, limit)


def _call_db(fn: Callable, *args):
    """Run one read on a pool thread; a connection the database dropped is reopened once."""
    from django.db import InterfaceError, OperationalError, connection

    try:
        return fn(*args)
    except (InterfaceError, OperationalError):
        connection.close()
        return fn(*args)


async def run_blocking(fn: Callable, *args):
    """Run a blocking storage read on the watch streams' own thread pool (with its database connection
    handling), from the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(_call_db, fn, *args))


def object_key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


class EventFilter:
    """Turns the cluster's changes into one watcher's events, as upstream's ``cacheWatcher`` does.

    Only changes of the watched resource type (and namespace) count. Without selectors every change passes as
    it is. With selectors, an object is reported by whether its previous and its new state match:
    new only → ADDED, both → MODIFIED, previous only → DELETED carrying the previous state with the change's
    resourceVersion (the object "left" the watch), neither → nothing. The previous state is what this watcher
    last reported, starting from ``known`` (the objects matching when the watch began).
    """

    def __init__(self, resource: ResourceType, namespace: str | None, matches: Callable[[dict], bool], *,
                 filtered: bool, known: list[dict] = ()):
        self.resource = resource
        self.namespace = namespace
        self.matches = matches
        self.filtered = filtered
        self.known: dict[tuple[str, str], dict] = {object_key(o): o for o in known} if filtered else {}

    def convert(self, event: WatchEvent) -> tuple[str, dict] | None:
        if event.resource != self.resource:
            return None
        obj = event.object
        key = object_key(obj)
        if self.namespace is not None and key[0] != self.namespace:
            return None
        if not self.filtered:
            return event.type, obj
        previous = self.known.get(key)
        if event.type == DELETED:
            self.known.pop(key, None)
            if previous is not None or self.matches(obj):
                return DELETED, obj
            return None
        if self.matches(obj):
            self.known[key] = obj
            return (MODIFIED if previous is not None and event.type != ADDED else ADDED), obj
        if previous is not None:
            del self.known[key]
            gone = dict(previous, metadata=dict(previous.get("metadata") or {},
                                                resourceVersion=obj["metadata"]["resourceVersion"]))
            return DELETED, gone
        return None


@dataclass
class EventEncoder:
    """One event per line: the object itself, or a one-row Table when the watch asked for Tables (the first
    with its column definitions, later ones without, as ``watchEmbeddedEncoder`` sets ``NoHeaders``)."""

    resource: ResourceType
    table_version: str | None = None
    include_object: str = printers.INCLUDE_METADATA
    _headers_sent: bool = field(default=False, init=False)

    def encode(self, type_: str, obj: dict, now: datetime) -> bytes:
        obj.setdefault("apiVersion", self.resource.api_version)
        obj.setdefault("kind", self.resource.kind)
        if self.table_version:
            obj = kinds.table(
                self.resource.kind, [obj], now, include_object=self.include_object,
                resource_version=(obj.get("metadata") or {}).get("resourceVersion", ""),
                api_version=self.table_version,
            )
            if self._headers_sent:
                obj["columnDefinitions"] = []
            self._headers_sent = True
        return line(type_, obj)

    def bookmark(self, resource_version: int) -> bytes:
        if self.table_version:
            obj = {"kind": "Table", "apiVersion": self.table_version,
                   "metadata": {"resourceVersion": str(resource_version)}, "columnDefinitions": [], "rows": []}
        else:
            obj = {"kind": self.resource.kind, "apiVersion": self.resource.api_version,
                   "metadata": {"resourceVersion": str(resource_version)}}
        return line(BOOKMARK, obj)


def line(type_: str, obj: Any) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def error_status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


@dataclass
class WatchPlan:
    """Everything a stream needs, decided before the response starts."""

    start_rv: int
    now: datetime
    event_filter: EventFilter
    encoder: EventEncoder
    initial: list[dict] = field(default_factory=list)  # synthetic ADDED events, sent first
    timeout: float | None = None  # timeoutSeconds; None streams until the client leaves
    bookmarks: bool = False


async def stream(plan: WatchPlan, source: WatchSource) -> AsyncIterator[bytes]:
    """The event stream of one watch; ends only at ``timeout``, on a 410 or when the cluster is deleted."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + plan.timeout if plan.timeout is not None else None
    # The first bookmark goes out as soon as the stream has caught up: Daphne sends the response headers only
    # with the first bytes, and client-go's reflector cannot be stopped while it waits for them (kubectl
    # rollout status printed its answer and then hung on exit).
    next_bookmark = started
    last_rv, now = plan.start_rv, plan.now
    try:
        for obj in plan.initial:
            yield plan.encoder.encode(ADDED, obj, now)
        while True:
            head = await run_blocking(source.head)
            if head is None:
                return
            head_rv, now = int(head[0]), head[1]
            while head_rv > last_rv:
                try:
                    events = await run_blocking(source.changes_since, last_rv, BATCH)
                except HistoryCompacted:
                    yield line(ERROR, error_status(410, "Expired",
                                                   f"too old resource version: {last_rv} ({head_rv})"))
                    return
                if not events:
                    break
                for event in events:
                    last_rv = int(event.resource_version)
                    converted = plan.event_filter.convert(event)
                    if converted is not None:
                        yield plan.encoder.encode(converted[0], converted[1], now)
            moment = loop.time()
            if deadline is not None and moment >= deadline:
                return
            if plan.bookmarks and moment >= next_bookmark:
                yield plan.encoder.bookmark(last_rv)
                next_bookmark = moment + BOOKMARK_SECONDS
            pause = POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline - moment))
            await asyncio.sleep(pause)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - a stream that has started can only report failure as an event
        logger.exception("watch stream failed")
        yield line(ERROR, error_status(500, "InternalError",
                                       "Internal error occurred: the watch stream failed"))
