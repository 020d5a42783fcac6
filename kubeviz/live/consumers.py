"""The live stream of one cluster: a websocket that sends the browser a snapshot, then every change.

The dashboard is one more watcher of the store, like an informer: it lists once, then watches. Its reducer
(``static/js/state.js``) applies the messages below; ``payloads.py`` builds them.

Protocol
    Connect to ``/ws/clusters/<name>/``. An unknown cluster is accepted, told why, and closed with code 4404::

        {"type": "error", "message": "cluster \\"<name>\\" not found"}

    In classroom mode a stream is first authorized (``kubeviz.classroom.middleware.stream_refusal``): without a
    login it gets an ``error`` and closes with 4401, with one that does not reach the cluster 4403.

    On connect the server sends the whole state once::

        {"type": "snapshot", "cluster": {"name": "<name>", "uid": "<uid>"}, "resourceVersion": "N",
         "clock": {"now": RFC 3339, "paused": bool, "speed": float},
         "objects": {"Node": [...], "Pod": [...], "Job": [...], "CronJob": [...], "DaemonSet": [...],
                     "ControllerRevision": [...], "Event": [...], "Namespace": [...]},
         "traces": [trace, ...]}

    ``objects`` holds every object of those kinds exactly as the Kubernetes API serves it, each list sorted by
    namespace and name, consistent with ``resourceVersion`` (every change up to N is in it, none after).
    ``traces`` are the newest reconcile traces (at most 500), oldest first, each as the engine reports it:
    ``{"time", "sequence", "controller", "object", "trigger", "observed", "decision", "actions"}``.
    ``cluster`` names the cluster the state belongs to; its ``uid`` differs for a cluster deleted and created
    again under the same name.

    Then, live::

        {"type": "event", "event": "ADDED" | "MODIFIED" | "DELETED", "kind": "Pod", "object": {...},
         "resourceVersion": "N"}
        {"type": "bookmark", "resourceVersion": "N"}
        {"type": "trace", "trace": {...}}
        {"type": "clock", "clock": {"now", "paused", "speed"}}

    Events come in resourceVersion order, without gaps or duplicates: the consumer drops a published change at
    or below the last resourceVersion it delivered, and when a published change skips ahead (the channel layer
    drops messages for a client that cannot keep up) it reads the missing ones from the store's change history
    first. A DELETED event carries the object's last state with the deletion's resourceVersion. Changes of kinds
    the dashboard does not show (Leases) are not sent; a ``bookmark`` moves the client's resourceVersion past
    them instead (at the end of the frame, unless a shown change after them in the frame does), so the client
    always knows where the stream stands. A trace at or before the last one sent (by simulated time, then
    sequence) is dropped. ``clock`` is sent after every advance and clock change (one older than the last clock
    sent is dropped).

    Live messages that are ready together travel in one frame, a ``batch``, to be applied in order exactly as if
    each had come in a frame of its own (a lone message is sent as itself; a batch holds at most
    ``payloads.BATCH_LIMIT`` messages)::

        {"type": "batch", "messages": [{"type": "event", ...}, {"type": "trace", ...}, ...]}

    A frame longer than ``payloads.FRAME_CHARS`` (the snapshot of a busy cluster: Daphne sends no websocket message
    over its 1 MiB limit) is sent as consecutive parts, whose texts joined are that frame::

        {"type": "part", "last": false, "text": "{\"type\":\"snapshot\",..."} ... {"type": "part", "last": true, ...}

    Reconnecting: connect to ``/ws/clusters/<name>/?resourceVersion=N`` with the last resourceVersion the client
    applied, and ``&uid=U`` with the ``cluster.uid`` its state came from (optional; without it the server cannot
    tell a cluster created again under the same name). While the history still reaches back to N the server
    answers::

        {"type": "resume", "cluster": {"name": "<name>", "uid": "<uid>"}, "resourceVersion": "N", "clock": {...}}

    followed by every change after N (events, batched, and at the end a bookmark when the newest change was of a
    kind not shown), then live messages, with no snapshot. When the history was compacted past N (or N is not a
    resourceVersion of this cluster) the server sends a fresh ``snapshot`` instead, which replaces the client's
    state; so does a ``uid`` other than the cluster's. A snapshot may also arrive mid-stream, when a gap can no
    longer be filled from the history.

    When the cluster is deleted, its streams get the ``error`` above and close with 4404 at once. When the server
    loses its channel layer a stream closes with 1011, and the client reconnects and resumes. A client address that
    already holds ``KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT`` streams open in this process is accepted, told why, and closed
    with 4429 (4000 + 429 Too Many Requests)::

        {"type": "error", "message": "too many live streams from this client: at most N at once ..."}

    The client sends nothing (controls go through the HTTP API); any message it does send is answered with
    ``{"type": "error", "message": ...}`` and otherwise ignored.

Cost
    The live path reads no database: each handler compares resourceVersions, and a change is encoded once per
    process and shared by every client (``payloads.frames``). Only connecting, resuming and filling a gap read the
    store, on Django's database thread. A consumer does not join the cluster's channel-layer group itself: the
    process joins it once per cluster (``hub.py``) and hands the messages to every consumer in batches, the same
    batches for all. Each consumer follows its own queue of batches, in a task of its own; a client where the
    stream stands sends a batch's frame as built once for the process (:meth:`ClusterConsumer.handle`), so under
    load a client costs one queue operation, one task switch and one websocket frame per batch, not per change.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from apiserver.storage import HistoryCompacted, WatchEvent
from kubeviz.classroom.middleware import stream_refusal
from kubeviz.runtime.forwarding import engine_elsewhere, traces_from
from kubeviz.runtime.host import host
from kubeviz.store.models import Cluster, StoredObject
from kubeviz.store.services import clock_json
from kubeviz.store.storage import DatabaseStorage

from . import payloads
from .hub import FEED_LOST, Batch, Subscription, hub

# The channel-layer messages of the cluster's group, one handler each.
LIVE_MESSAGES = frozenset({"object.changed", "trace.recorded", "clock.changed", "cluster.deleted"})

# Close code for an unknown (or deleted) cluster: 4000 + the HTTP status, as the 4000-4999 range allows.
CLOSE_NOT_FOUND = 4404

# Close code when the live feed broke (RFC 6455 "internal error"): the client reconnects and resumes.
CLOSE_FEED_LOST = 1011

# Close code for a client over KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT: 4000 + 429 Too Many Requests.
CLOSE_TOO_MANY = 4429

# Streams open in this process, by client address; touched only on the server's event loop.
_open_streams: Counter = Counter()


def _client_address(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""

logger = logging.getLogger(__name__)


class ClusterGone(Exception):
    """The cluster was deleted while a client watched it."""


class ClusterConsumer(AsyncJsonWebsocketConsumer):
    """One browser watching one cluster (see the module docstring for the protocol)."""

    # No channel layer of the consumer's own: it joins no group and nothing is sent to it (the process follows the
    # cluster's group once, in the hub). With one, Channels would keep a receive waiting on the layer for every
    # browser; on Redis each is a blocking pop that fails the whole stream when the server is slow to read it.
    # An alias that is not configured gives none; the hub gets the default layer.
    channel_layer_alias = None

    # The cluster's messages while the stream is live, and the task that handles them.
    subscription: Subscription | None = None
    follower: asyncio.Task | None = None

    # The client address this stream counts against, once counted.
    counted_as: str | None = None

    async def __call__(self, scope, receive, send):
        # However the connection ends (a disconnect, or the server cancelling the application), leave the feed.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.stop_following()
            self.uncount()

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Every text frame this stream sends: one too long for a websocket message goes in parts
        (``payloads.split_frames``)."""
        if text_data is None:
            return await super().send(text_data, bytes_data, close)
        parts = payloads.split_frames(text_data)
        for part in parts[:-1]:
            await super().send(text_data=part)
        return await super().send(text_data=parts[-1], close=close)

    def uncount(self) -> None:
        if self.counted_as is not None:
            _open_streams[self.counted_as] -= 1
            if not _open_streams[self.counted_as]:
                del _open_streams[self.counted_as]
            self.counted_as = None

    async def connect(self):
        self.cluster_name: str = self.scope["url_route"]["kwargs"]["name"]
        address = _client_address(self.scope)
        limit = settings.KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT
        if _open_streams[address] >= limit:
            await self.accept()
            await self.send(text_data=payloads.encode(payloads.error(
                f"too many live streams from this client: at most {limit} at once (KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT); "
                f"close a dashboard tab")))
            await self.close(code=CLOSE_TOO_MANY)
            return
        _open_streams[address] += 1
        self.counted_as = address
        # The last resourceVersion delivered (or passed over with a bookmark) and the last trace's (time, sequence).
        self.last_rv = 0
        self.last_trace: tuple[str, int] | None = None
        self.last_clock_now = ""
        # The encoded live messages of the frame being put together, and the resourceVersion of hidden changes
        # after the last shown one (sent as a bookmark at the end of the frame).
        self.outbox: list[str] = []
        self.bookmark_rv: int | None = None
        await self.accept()
        # Classroom mode: only a login that reaches the cluster may watch it (4401 without one, 4403 otherwise).
        refusal = await database_sync_to_async(stream_refusal)(self.scope, self.cluster_name)
        if refusal is not None:
            code, message = refusal
            await self.send(text_data=payloads.encode(payloads.error(message)))
            await self.close(code=code)
            return
        cluster = await database_sync_to_async(_find_cluster)(self.cluster_name)
        if cluster is None:
            await self.close_not_found()
            return
        self.cluster = cluster
        self.cluster_uid = str(cluster.uid)
        # Subscribe before reading, so that nothing committed after the read is missed; what the read already
        # covers is dropped by the resourceVersion guard.
        self.subscription = await hub.subscribe(get_channel_layer(), self.cluster_name)
        try:
            since, uid = _requested_position(self.scope.get("query_string", b""))
            if not (since is not None and uid in (None, self.cluster_uid) and await self.resume(since)):
                await self.send_snapshot()
        except ClusterGone:
            await self.close_not_found()
            return
        self.follower = asyncio.create_task(self.follow(), name=f"kubeviz.live {self.cluster_name}")

    async def disconnect(self, code):
        await self.stop_following()
        self.uncount()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Nothing is expected from the client yet; say so instead of failing on what it sent.
        await self.send(text_data=payloads.encode(payloads.error(
            "this stream accepts no messages; use the HTTP API to change the cluster")))

    # -- channel-layer handlers: one per message type published to the cluster's group --------------------

    async def follow(self) -> None:
        """Handle the cluster's batches in the order they were published, until the stream closes.

        Channels would hop to Django's database thread before every message it dispatches, to close stale
        connections; the live handlers read no database on their usual path (and database_sync_to_async cleans up
        around the reads they do make), so they are called here directly.
        """
        try:
            while self.subscription is not None:
                await self.handle(await self.subscription.get())
        except Exception:
            logger.exception("live stream of cluster %s failed", self.cluster_name)
            await self.stop_following()
            await self.close(code=CLOSE_FEED_LOST)

    async def handle(self, batch: Batch) -> None:
        """Send what one batch holds for this client, in one frame (a gap filled from the history may take more).

        A client where the stream stands (:meth:`continues`) gets every message of the batch, the same frame as
        every other such client: the first one builds it through the handlers below and leaves it on the batch,
        the others send it as it is. Any other client (just connected, behind, or the batch ends the stream) goes
        through the handlers message by message.
        """
        continues = self.continues(batch)
        if continues and batch.frame is not None:
            if batch.last_rv is not None:
                self.last_rv = batch.last_rv
            if batch.last_trace is not None:
                self.last_trace = batch.last_trace
            if batch.last_clock is not None:
                self.last_clock_now = batch.last_clock
            await self.send(text_data=batch.frame)
            return
        for message in batch.messages:
            if message is FEED_LOST:
                await self.flush()
                await self.stop_following()
                await self.close(code=CLOSE_FEED_LOST)
                return
            if message["type"] in LIVE_MESSAGES:
                await getattr(self, get_handler_name(message))(message)
                if self.subscription is None:
                    return  # the stream was closed (the cluster is gone)
        frame = await self.flush()
        if continues:
            batch.frame = frame

    def continues(self, batch: Batch) -> bool:
        """Whether the handlers would deliver every message of the batch, in order, and nothing else: its changes
        start right after the last resourceVersion delivered, its traces after the last trace, its clock readings
        no earlier than the last, and nothing in it closes the stream."""
        return (
            batch.ordered
            and (batch.first_rv is None or batch.first_rv == self.last_rv + 1)
            and (batch.first_trace is None or self.last_trace is None or batch.first_trace > self.last_trace)
            and (batch.first_clock is None or batch.first_clock >= self.last_clock_now)
        )

    async def object_changed(self, message: dict):
        rv = int(message["resourceVersion"])
        if rv <= self.last_rv:
            return  # already delivered (by the snapshot, a resume, a gap fill, or a duplicate publish)
        if rv > self.last_rv + 1:
            # A change went missing on the way here; every published change is committed, so the history has it.
            if not await self.catch_up():
                return
            if rv <= self.last_rv:
                return
        await self.deliver(message["event"], message["kind"], message["object"], rv)

    async def trace_recorded(self, message: dict):
        record = message["trace"]
        position = (record["time"], record["sequence"])
        if self.last_trace is not None and position <= self.last_trace:
            return
        self.last_trace = position
        await self.emit(payloads.trace_frame(self.cluster_uid, record))

    async def clock_changed(self, message: dict):
        clock = message["clock"]
        if clock["now"] < self.last_clock_now:
            return  # an older reading overtaken by the snapshot's (simulated time never goes back)
        self.last_clock_now = clock["now"]
        await self.emit(payloads.clock_frame(self.cluster_uid, message["clock"]))

    async def cluster_deleted(self, message: dict):
        if message.get("uid", self.cluster_uid) != self.cluster_uid:
            return  # an earlier cluster of the same name
        await self.close_not_found()

    # -- sending ------------------------------------------------------------------------------------------

    async def deliver(self, type_: str, kind: str, obj: dict, rv: int) -> None:
        """Put the change at ``rv`` (the next after ``last_rv``) in the frame: an event, or for a kind not shown a
        bookmark at the end of the frame unless a shown change follows it there."""
        self.last_rv = rv
        if kind in payloads.KINDS:
            self.bookmark_rv = None
            await self.emit(payloads.event_frame(
                self.cluster_uid, type_=type_, kind=kind, obj=obj, resource_version=rv))
        else:
            self.bookmark_rv = rv

    async def deliver_history(self, events: list[WatchEvent]) -> None:
        """Put changes read from the history in the frame (those not delivered yet)."""
        for event in events:
            rv = int(event.resource_version)
            if rv > self.last_rv:
                await self.deliver(event.type, event.resource.kind, event.object, rv)

    async def emit(self, part: str) -> None:
        """Add one encoded live message to the frame being put together (sending that first when it is full)."""
        if len(self.outbox) >= payloads.BATCH_LIMIT:
            await self.flush()
        self.outbox.append(part)

    async def flush(self) -> str | None:
        """Send the frame put together so far, if there is anything in it; answers the frame sent."""
        if self.bookmark_rv is not None:
            bookmark, self.bookmark_rv = payloads.bookmark(resource_version=self.bookmark_rv), None
            await self.emit(payloads.encode(bookmark))
        if not self.outbox:
            return None
        frame = payloads.batch_frame(self.outbox)
        self.outbox = []
        await self.send(text_data=frame)
        return frame

    async def send_snapshot(self) -> None:
        rv, clock, objects, traces = await database_sync_to_async(_read_snapshot)(self.cluster)
        if isinstance(traces, str):  # the engine runs in that other process: its traces from there
            traces = await traces_from(traces, self.cluster.name, payloads.TRACE_LIMIT)
        await self.flush()  # what came before goes first (the snapshot then replaces it all)
        self.last_rv = rv
        self.last_clock_now = clock["now"]
        if traces:
            self.last_trace = (traces[-1]["time"], traces[-1]["sequence"])
        await self.send(text_data=payloads.encode(payloads.snapshot(
            cluster=self.cluster_ref(), resource_version=rv, clock=clock, objects=objects, traces=traces)))

    async def resume(self, since: int) -> bool:
        """Continue a client's stream after ``since``; False when the history cannot (send a snapshot)."""
        found = await database_sync_to_async(_read_resume)(self.cluster, since)
        if found is None:
            return False
        clock, events = found
        self.last_rv = since
        self.last_clock_now = clock["now"]
        await self.send(text_data=payloads.encode(
            payloads.resume(cluster=self.cluster_ref(), resource_version=since, clock=clock)))
        await self.deliver_history(events)
        await self.flush()
        return True

    async def catch_up(self) -> bool:
        """Fill a gap from the history (or resend the snapshot when it is compacted); False once closed."""
        try:
            events = await database_sync_to_async(_read_changes)(self.cluster, self.last_rv)
        except HistoryCompacted:
            try:
                await self.send_snapshot()
            except ClusterGone:
                await self.close_not_found()
                return False
            return True
        except ClusterGone:
            await self.close_not_found()
            return False
        await self.deliver_history(events)
        return True

    def cluster_ref(self) -> payloads.ClusterRef:
        return {"name": self.cluster_name, "uid": self.cluster_uid}

    async def stop_following(self) -> None:
        """Leave the cluster's feed and stop handling its messages (from any task, any number of times)."""
        subscription, self.subscription = self.subscription, None
        follower, self.follower = self.follower, None
        if follower is not None and follower is not asyncio.current_task():
            follower.cancel()
        if subscription is not None:
            await hub.unsubscribe(subscription)

    async def close_not_found(self) -> None:
        await self.stop_following()
        await self.flush()
        await self.send(text_data=payloads.encode(payloads.error(f'cluster "{self.cluster_name}" not found')))
        await self.close(code=CLOSE_NOT_FOUND)


# -- reads (run on Django's database thread) ---------------------------------------------------------------


def _requested_position(query_string: bytes) -> tuple[int | None, str | None]:
    """``(N, U)`` of ``?resourceVersion=N&uid=U``: N a positive integer, else None (a snapshot is asked for);
    U the cluster uid the client's state came from, or None when not given."""
    query = parse_qs(query_string.decode("latin-1"))
    uids = query.get("uid")
    uid = uids[-1] if uids else None
    values = query.get("resourceVersion")
    if not values:
        return None, uid
    try:
        value = int(values[-1])
    except ValueError:
        return None, uid
    return (value if value > 0 else None), uid


def _find_cluster(name: str) -> Cluster | None:
    return Cluster.objects.filter(name=name).first()


def _head(cluster: Cluster) -> Cluster:
    row = Cluster.objects.filter(pk=cluster.pk).first()
    if row is None:
        raise ClusterGone(cluster.name)
    return row


def _read_changes(cluster: Cluster, since: int) -> list[WatchEvent]:
    _head(cluster)
    return DatabaseStorage(cluster).changes_since(since)


def _read_resume(cluster: Cluster, since: int):
    """``(clock, changes after since)``, or None when the history does not reach back to ``since``."""
    head = _head(cluster)
    if since > head.resource_version:
        return None  # a resourceVersion this cluster never had: the client's state is from elsewhere
    try:
        events = DatabaseStorage(head).changes_since(since)
    except HistoryCompacted:
        return None
    return clock_json(head, pending=host.pending(head)), events


def _read_snapshot(cluster: Cluster, attempts: int = 3):
    """``(resourceVersion, clock, objects by kind, traces)``, consistent at that resourceVersion.

    The cluster's resourceVersion R is read first, then the objects, then the history after R. The objects were
    read at some point after R, and the history holds every change committed up to (and past) that point, so
    applying the whole history in order on top of the objects gives exactly the state at the newest change
    read: a change already in the objects is only applied again, and the last change of each object wins.
    """
    traces = _recent_traces(cluster)
    storage = DatabaseStorage(cluster)
    for _ in range(attempts):
        head = _head(cluster)
        rv = head.resource_version
        rows = StoredObject.objects.filter(cluster_id=cluster.pk, kind__in=payloads.KINDS).values_list(
            "kind", "namespace", "name", "data")
        state = {(kind, namespace, name): data for kind, namespace, name, data in rows}
        try:
            changes = storage.changes_since(rv)
        except HistoryCompacted:  # compacted between the two reads: read again
            continue
        for event in changes:
            rv = int(event.resource_version)
            kind = event.resource.kind
            if kind not in payloads.KINDS:
                continue
            meta = event.object.get("metadata") or {}
            key = (kind, meta.get("namespace", ""), meta.get("name", ""))
            if event.type == "DELETED":
                state.pop(key, None)
            else:
                state[key] = event.object
        objects: dict[str, list[dict]] = {kind: [] for kind in payloads.KINDS}
        for (kind, _, _), data in sorted(state.items(), key=lambda item: item[0]):
            objects[kind].append(data)
        head = _head(cluster)
        return rv, clock_json(head, pending=host.pending(head)), objects, traces
    raise RuntimeError(f"cluster {cluster.name}: no consistent snapshot after {attempts} attempts")


def _recent_traces(cluster: Cluster) -> list[dict] | str:
    """The engine's newest traces; with several processes, the name of the one running the engine instead when
    that is another (``send_snapshot`` asks it)."""
    if host.leases is not None:
        holder = engine_elsewhere(cluster)
        if holder is not None:
            return holder
    # Under the host lock no engine work is half-done, so every trace read here has been published (or will
    # never be); the trace guard drops the published copies still queued for this client.
    with host.lock(cluster.name):
        engine = host.engine_for(cluster)
        records = list(engine.traces)[-payloads.TRACE_LIMIT:]
    return [record.as_json() for record in records]
