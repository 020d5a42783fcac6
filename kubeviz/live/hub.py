"""One subscription per cluster per process: the fan-out between the channel layer and the live consumers.

Every browser watching a cluster used to join the cluster's channel-layer group itself, so each change was sent
through the layer once per browser: the in-memory layer deep-copies a message for every member and sweeps its
expired messages on every send, and Redis keeps one subscription per browser. With 100 browsers on a cluster
that copying, not the browsers, was the bottleneck.

Here a process joins the group once per cluster. The first consumer to subscribe starts a :class:`Feed`: a
channel of its own, added to ``cluster.<name>``, and a task that receives each published message once and puts
it, as is, on the queue of every :class:`Subscription`. The last consumer to leave stops it. A consumer reads
its queue in order and encodes nothing itself: the frames come from ``payloads.frames``, so a change is encoded
once per process however many browsers watch it.

A queue holds at most :data:`QUEUE_CAPACITY` messages; past that a message is dropped for that consumer alone,
as the channel layer drops for a full channel, and the consumer reads what it missed from the store's history.
Messages are shared between subscribers and must not be changed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from kubeviz.store.events import cluster_group

# Messages one consumer may fall behind by before the hub drops for it (the channel layer's own capacity).
QUEUE_CAPACITY = 10_000

# How often a feed joins its group again. Both layers end a membership after ``group_expiry`` (a day), and the
# in-memory layer also drops a channel from its groups when a message waits on it past ``expiry`` (a minute).
REJOIN_SECONDS = 30.0

# What a subscription receives last when its feed failed (the channel layer broke): the consumer closes the
# stream, and the browser reconnects and resumes through a new feed.
FEED_LOST = {"type": "hub.feed_lost"}

logger = logging.getLogger(__name__)


class Subscription:
    """One consumer's place in a cluster's feed: the messages published to the cluster since it subscribed."""

    def __init__(self, feed: Feed):
        self.feed = feed
        self.queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=QUEUE_CAPACITY)
        self.dropped = 0

    async def get(self) -> dict:
        """The next message, in the order the feed received them."""
        return await self.queue.get()

    def put(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1  # the consumer sees the gap in resourceVersions and reads the history

    def lost(self) -> None:
        while True:  # make room: nothing queued matters once the stream is to be closed
            try:
                self.queue.put_nowait(FEED_LOST)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


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

    @property
    def group(self) -> str:
        return cluster_group(self.cluster_name)

    def start(self) -> None:
        self.joined = self.loop.create_future()
        self.task = self.loop.create_task(self._run(), name=f"kubeviz.live.hub {self.group}")

    async def _run(self) -> None:
        try:
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, self.channel)
        except Exception as exc:
            if not self.joined.done():
                self.joined.set_exception(exc)
            return
        self.joined.set_result(None)
        rejoin = self.loop.create_task(self._rejoin())
        try:
            while True:
                message = await self.layer.receive(self.channel)
                for subscription in self.subscriptions:
                    subscription.put(message)
        except Exception:
            logger.exception("live feed of cluster %s failed", self.cluster_name)
            for subscription in self.subscriptions:
                subscription.lost()
        finally:
            rejoin.cancel()

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await self.layer.group_add(self.group, self.channel)
            except Exception:
                logger.exception("live feed of cluster %s could not rejoin its group", self.cluster_name)

    async def stop(self) -> None:
        if not self.joined.done():
            self.joined.cancel()
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
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
