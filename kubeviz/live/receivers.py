"""How a feed (``hub.py``) receives its channel's messages: as many at a time as are waiting.

A channel layer's ``receive`` hands over one message a call. For the in-memory layer that is a queue operation,
and a call returns at once while messages wait. For the Redis layer (``channels_redis.core``) one call is four
round trips to Redis (put back an in-flight backup, BZPOPMIN, back the message up, drop the backup), each waiting
for a turn of the event loop, which under load is busy writing websocket frames: a feed then received a few
hundred messages a second, however many were waiting, and the rest queued up in Redis.

So a feed on the Redis layer listens on a channel of its own, with a plain (not process-specific) name, so that
no other receiver in the process takes from its Redis key, and pops everything waiting there with one ZPOPMIN,
blocking with BZPOPMIN only while nothing waits. It also takes no more often than the feed hands batches out
(``not_before``): what arrives meanwhile waits in Redis and comes with the next pop, so a batch costs two or three
commands however many changes it carries. The layer's backup of in-flight messages is not kept: a message lost
with a cancelled receive is one a consumer reads from the store's history, as any other gap.

:class:`RedisReceiver` reads the Redis layer's own storage (a sorted set per channel under the layer's prefix,
scored by send time, each member a message serialised by the layer with ``__asgi_channel__`` added), as
channels_redis 4 keeps it; the live tests run it against a real Redis.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

from .payloads import BATCH_LIMIT

logger = logging.getLogger(__name__)

# How long one blocking pop waits for a message (seconds) before it is sent again: well inside the Redis client's
# read timeout (redis-py's default is 5 s, the very time the Redis layer's own pops block, so those can fail).
BLOCK_SECONDS = 1.0

# A pop that times out or loses its connection is tried again, this many times in a row before the feed gives up
# (and its browsers reconnect): a Redis (or a process) that stalls for a few seconds is not a lost feed. What the
# failed pop took out is read from the store's history, like any gap.
POP_ATTEMPTS = 3


class LayerReceiver:
    """A new channel of any layer, received from through the layer's API, one message a call."""

    def __init__(self, layer, channel: str):
        self.layer = layer
        self.channel = channel

    async def receive(self, not_before: float = 0.0) -> list[dict]:
        """The next message of the channel, as a list of one (a receive costs no I/O: ``not_before`` is not
        needed)."""
        return [await self.layer.receive(self.channel)]


class RedisReceiver:
    """A new channel of a ``channels_redis.core.RedisChannelLayer``, received from in bulk."""

    def __init__(self, layer, channel: str):
        self.layer = layer
        self.channel = channel
        self.key = layer.prefix + channel
        self.index = layer.consistent_hash(channel)

    async def _take(self, connection, count: int) -> list | None:
        """What waits on the channel (up to ``count``), else the next to arrive within ``BLOCK_SECONDS``, else
        None."""
        members = [member for member, _ in await connection.zpopmin(self.key, count)]
        if members:
            return members
        found = await connection.bzpopmin(self.key, timeout=BLOCK_SECONDS)
        return None if found is None else [found[1]]

    async def receive(self, not_before: float = 0.0) -> list[dict]:
        """Every message waiting on the channel (up to ``BATCH_LIMIT``), in the order they were sent, or when none
        is waiting, the next one to arrive within ``BLOCK_SECONDS`` (or none); answered no sooner than the event
        loop's time ``not_before``, with what arrived until then."""
        connection = self.layer.connection(self.index)
        members = await _retrying(self._take, connection, BATCH_LIMIT)
        if members is None:
            return []
        wait = not_before - asyncio.get_running_loop().time()
        if wait > 0 and len(members) < BATCH_LIMIT:
            await asyncio.sleep(wait)
            more = await _retrying(connection.zpopmin, self.key, BATCH_LIMIT - len(members))
            members += [member for member, _ in more]
        messages = []
        for member in members:
            message = self.layer.deserialize(member)
            message.pop("__asgi_channel__", None)
            messages.append(message)
        return messages


async def _retrying(call, *args):
    """``await call(*args)``, tried again when Redis times out or drops the connection (see ``POP_ATTEMPTS``)."""
    for attempt in range(1, POP_ATTEMPTS + 1):
        try:
            return await call(*args)
        except (RedisConnectionError, RedisTimeoutError):
            if attempt == POP_ATTEMPTS:
                raise
            logger.warning("live feed: a pop from Redis failed (attempt %d of %d); trying again",
                           attempt, POP_ATTEMPTS, exc_info=True)


async def open_receiver(layer) -> LayerReceiver | RedisReceiver:
    """A receiver of a new channel of the layer, for one feed to add to its group."""
    if _is_redis_layer(layer):
        return RedisReceiver(layer, f"kubeviz.live.{uuid.uuid4().hex}")
    return LayerReceiver(layer, await layer.new_channel())


def _is_redis_layer(layer) -> bool:
    try:
        from channels_redis.core import RedisChannelLayer
    except ImportError:  # not installed, so not in use either
        return False
    return isinstance(layer, RedisChannelLayer)
