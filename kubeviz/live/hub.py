"""One subscription per cluster per process: the fan-out between the channel layer and the live consumers.

Every browser watching a cluster used to join the cluster's channel-layer group itself, so each change was sent
through the layer once per browser: the in-memory layer deep-copies a message for every member and sweeps its
expired messages on every send, and Redis keeps one subscription per browser. With 100 browsers on a cluster
that copying, not the browsers, was the bottleneck.

Here a process joins the group once per cluster. The first consumer to subscribe starts a :class:`Feed`: a
channel of its own, added to ``cluster.<name>``, and a task that receives each published message once (as many at
a time as are waiting, see ``receivers.py``). The last consumer to leave stops it.

The feed hands messages on in :class:`Batch` es, not one by one: at 1,000 changes a second, one websocket frame
(and one task switch, one queue operation) per change per browser was the next bottleneck. A batch is whatever
arrived since the previous one, handed out as soon as the event loop is free, unless the feed's frames (one per
browser per batch) would go over :data:`FRAMES_PER_SECOND`: then it waits a little (:meth:`Feed.flush_wait`) and
grows. So at a moderate rate every change leaves at once, and under load each frame carries everything that
arrived since the last. Every subscription receives the same batches, so the frame of a batch is built once per
process (by the first consumer that can send it as it is, see ``consumers.py``) and shared: ``Batch.frame``.

A queue holds at most :data:`QUEUE_CAPACITY` messages; past that a batch is dropped for that consumer alone, as
the channel layer drops for a full channel, and the consumer reads what it missed from the store's history.
Batches and their messages are shared between subscribers and must not be changed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from kubeviz.store.events import cluster_group

from .payloads import BATCH_LIMIT
from .receivers import open_receiver

# Messages one consumer may fall behind by before the hub drops for it (the channel layer's own capacity).
QUEUE_CAPACITY = 10_000

# The most websocket frames a feed sends a second, to all its browsers together, under load. A frame costs the
# server about the same whatever it carries (Daphne's write path, a task switch), and so it does the browser. The
# frames are budgeted like a token bucket: FRAME_BURST (or one batch's worth) may go at once after a quiet spell,
# and a batch never waits longer than MAX_FLUSH_WAIT (seconds) for its turn.
FRAMES_PER_SECOND = 5000
FRAME_BURST = 1000
MAX_FLUSH_WAIT = 0.040

# How often a feed joins its group again. Both layers end a membership after ``group_expiry`` (a day), and the
# in-memory layer also drops a channel from its groups when a message waits on it past ``expiry`` (a minute).
REJOIN_SECONDS = 30.0

# What a subscription receives last when its feed failed (the channel layer broke): the consumer closes the
# stream, and the browser reconnects and resumes through a new feed.
FEED_LOST = {"type": "hub.feed_lost"}

logger = logging.getLogger(__name__)


class Batch:
    """Messages of a cluster's group that the feed received together, in the order it received them.

    Besides the messages, a batch notes where they stand in the stream, once for every subscriber: the first and
    last resourceVersion of its ``object.changed`` messages, the first and last (time, sequence) of its traces,
    the first and last simulated time of its clock readings, and whether it is ``ordered``: resourceVersions
    consecutive, traces and clock readings ascending, and nothing else that matters to a consumer (no
    ``cluster.deleted``, no :data:`FEED_LOST`; types no consumer handles are passed over). ``frame`` is the
    shared text frame of the batch, once a consumer has built it.
    """

    __slots__ = ("messages", "ordered", "first_rv", "last_rv", "first_trace", "last_trace", "first_clock",
                 "last_clock", "frame")

    def __init__(self, messages: list[dict]):
        self.messages: tuple[dict, ...] = tuple(messages)
        self.frame: str | None = None
        ordered = True
        first_rv = last_rv = first_trace = last_trace = first_clock = last_clock = None
        for message in self.messages:
            type_ = message.get("type")
            if type_ == "object.changed":
                rv = int(message["resourceVersion"])
                if last_rv is None:
                    first_rv = rv
                elif rv != last_rv + 1:
                    ordered = False
                last_rv = rv
            elif type_ == "trace.recorded":
                position = (message["trace"]["time"], message["trace"]["sequence"])
                if last_trace is None:
                    first_trace = position
                elif position <= last_trace:
                    ordered = False
                last_trace = position
            elif type_ == "clock.changed":
                now = message["clock"]["now"]
                if last_clock is None:
                    first_clock = now
                elif now < last_clock:
                    ordered = False
                last_clock = now
            elif type_ == "cluster.deleted" or message is FEED_LOST:
                ordered = False
        self.ordered = ordered
        self.first_rv, self.last_rv = first_rv, last_rv
        self.first_trace, self.last_trace = first_trace, last_trace
        self.first_clock, self.last_clock = first_clock, last_clock

    def __len__(self) -> int:
        return len(self.messages)

    def __repr__(self) -> str:
        return f"<Batch of {len(self.messages)}, resourceVersions {self.first_rv}..{self.last_rv}>"


class Subscription:
    """One consumer's place in a cluster's feed: the batches published to the cluster since it subscribed."""

    def __init__(self, feed: Feed):
        self.feed = feed
        self.queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.queued = 0  # messages in the queue
        self.dropped = 0  # messages dropped because the queue was full

    async def get(self) -> Batch:
        """The next batch, in the order the feed received them."""
        batch = await self.queue.get()
        self.queued -= len(batch)
        return batch

    def put(self, batch: Batch) -> None:
        if self.queued + len(batch) > QUEUE_CAPACITY:
            self.dropped += len(batch)  # the consumer sees the gap in resourceVersions and reads the history
            return
        self.queued += len(batch)
        self.queue.put_nowait(batch)

    def lost(self) -> None:
        """Tell the consumer that the feed failed: always queued, however full the queue is."""
        self.queued += 1
        self.queue.put_nowait(Batch([FEED_LOST]))


@dataclass(eq=False)
class Feed:
    """The process's one member of a cluster's group, handing each message to every subscription."""

    layer: object
    cluster_name: str
    loop: asyncio.AbstractEventLoop
    subscriptions: list[Subscription] = field(default_factory=list)
    channel: str = ""
    joined: asyncio.Future | None = None
    task: asyncio.Task | None = None
    # Messages received since the last batch, and the call that will hand them out.
    pending: list[dict] = field(default_factory=list)
    flush_handle: asyncio.Handle | None = None
    # The frames the feed may still send at once, as of the loop time credit_at (see flush_wait).
    frame_credit: float = FRAME_BURST
    credit_at: float = 0.0
    stopping: bool = False

    @property
    def group(self) -> str:
        return cluster_group(self.cluster_name)

    def start(self) -> None:
        self.joined = self.loop.create_future()
        self.task = self.loop.create_task(self._run(), name=f"kubeviz.live.hub {self.group}")

    async def _run(self) -> None:
        try:
            receiver = await open_receiver(self.layer)
            self.channel = receiver.channel
            await self.layer.group_add(self.group, self.channel)
        except Exception as exc:
            if not self.joined.done():
                self.joined.set_exception(exc)
            return
        if self.stopping:  # stopped while joining, and the cancellation was lost (see stop)
            await self.layer.group_discard(self.group, self.channel)
            return
        self.joined.set_result(None)
        rejoin = self.loop.create_task(self._rejoin())
        try:
            while not self.stopping:
                messages = await receiver.receive(not_before=self.loop.time() + self.flush_wait())
                if not messages:
                    continue
                self.pending += messages  # (not in one statement: flush replaces the list while this waits)
                if len(self.pending) >= BATCH_LIMIT:
                    self.flush()
                elif self.flush_handle is None:
                    wait = self.flush_wait()
                    self.flush_handle = (self.loop.call_later(wait, self.flush) if wait > 0
                                         else self.loop.call_soon(self.flush))
        except Exception:
            logger.exception("live feed of cluster %s failed", self.cluster_name)
            self.flush()  # what did arrive is still delivered, before the loss
            for subscription in self.subscriptions:
                subscription.lost()
        finally:
            rejoin.cancel()
            if self.flush_handle is not None:
                self.flush_handle.cancel()

    def flush_wait(self) -> float:
        """How long the next batch should wait before it leaves (0: it may leave now): until the credit covers
        its frames, one per subscriber, and at most MAX_FLUSH_WAIT."""
        now = self.loop.time()
        cost = len(self.subscriptions)
        earned = (now - self.credit_at) * FRAMES_PER_SECOND
        self.frame_credit = min(max(FRAME_BURST, cost), self.frame_credit + earned)
        self.credit_at = now
        return min(MAX_FLUSH_WAIT, max(0.0, (cost - self.frame_credit) / FRAMES_PER_SECOND))

    def flush(self) -> None:
        """Hand the messages received since the last batch to every subscription, as one batch (or several of
        at most ``BATCH_LIMIT`` messages, so that each fits in one frame)."""
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        self.flush_wait()  # brings the credit up to now
        for start in range(0, len(pending), BATCH_LIMIT):
            batch = Batch(pending[start:start + BATCH_LIMIT])
            self.frame_credit -= len(self.subscriptions)
            for subscription in self.subscriptions:
                subscription.put(batch)

    async def _rejoin(self) -> None:
        while not self.stopping:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await self.layer.group_add(self.group, self.channel)
            except Exception:
                logger.exception("live feed of cluster %s could not rejoin its group", self.cluster_name)

    async def stop(self) -> None:
        """Stop receiving, then leave the group.

        The feed is cancelled and also told to stop: a cancellation can be lost inside redis-py (it sends each
        command under ``asyncio.wait_for``, which on Python 3.11 drops a cancellation that arrives as the send
        completes), and the feed then ends as soon as its receive returns (within ``receivers.BLOCK_SECONDS``)."""
        self.stopping = True
        if not self.joined.done():
            self.joined.cancel()
        self.task.cancel()
        await asyncio.wait([self.task])
        if self.joined.done() and not self.joined.cancelled() and self.joined.exception() is None:
            await self.layer.group_discard(self.group, self.channel)


class Hub:
    """The process's feeds, one per (channel layer, cluster) on the running event loop."""

    def __init__(self):
        self._feeds: dict[tuple[int, str], Feed] = {}

    async def subscribe(self, layer, cluster_name: str) -> Subscription:
        """A new subscription to the cluster's messages. When this returns the process is in the cluster's group,
        so every message published from then on reaches the subscription (and some published just before may)."""
        loop = asyncio.get_running_loop()
        key = (id(layer), cluster_name)
        feed = self._feeds.get(key)
        if feed is None or feed.layer is not layer or feed.loop is not loop or feed.task.done():
            # A feed of a closed event loop (one test's) or a replaced layer (settings changed) is abandoned.
            feed = Feed(layer=layer, cluster_name=cluster_name, loop=loop)
            self._feeds[key] = feed
            feed.start()
        subscription = Subscription(feed)
        feed.subscriptions.append(subscription)
        try:
            await asyncio.shield(feed.joined)
        except BaseException:
            await self.unsubscribe(subscription)
            raise
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Leave the feed; the last subscription to leave stops it. Calling it twice is harmless."""
        feed = subscription.feed
        if subscription not in feed.subscriptions:
            return
        feed.subscriptions.remove(subscription)
        if feed.subscriptions:
            return
        key = (id(feed.layer), feed.cluster_name)
        if self._feeds.get(key) is feed:
            del self._feeds[key]
        if feed.loop is asyncio.get_running_loop():
            await feed.stop()

    def feeds(self) -> dict[str, int]:
        """Subscriptions by cluster name, of the feeds running now (for tests and diagnostics)."""
        counts: dict[str, int] = {}
        for feed in self._feeds.values():
            counts[feed.cluster_name] = counts.get(feed.cluster_name, 0) + len(feed.subscriptions)
        return counts


hub = Hub()
