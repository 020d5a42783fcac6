"""The per-process fan-out: one group membership per cluster however many browsers watch it, each message handed
to every consumer in order, in batches shared by all of them, feeds started and stopped with their subscribers;
and the same live path over Redis."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from kubeviz.live import hub as hub_module
from kubeviz.live import payloads, receivers
from kubeviz.live.consumers import CLOSE_FEED_LOST, CLOSE_NOT_FOUND
from kubeviz.live.hub import FEED_LOST, Batch, Feed, Hub, Subscription, hub
from kubeviz.live.receivers import RedisReceiver, open_receiver
from kubeviz.store import events as store_events
from kubeviz.store.services import cluster_delete
from tests.live.test_consumers import (
    create_pod, event_message, expected_snapshot, open_stream, receive_messages, unbatch, write,
)

pytestmark = pytest.mark.django_db(transaction=True)

# A database of its own on the machine's Redis, which is started before the session (and for CI).
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def no_player(settings):
    settings.KUBEVIZ_PLAYER = False


def clock_message(seconds: int) -> dict:
    return {"type": "clock.changed", "clock": {"now": f"2025-01-01T00:00:{seconds:02d}Z", "paused": True,
                                               "speed": 1.0}}


CLOCK = clock_message(9)


def members(group: str) -> list[str]:
    """The channels of an in-memory layer's group."""
    return sorted(get_channel_layer().groups.get(group, {}))


async def take(subscription: Subscription, count: int) -> list[Batch]:
    """The next batches of a subscription, until they hold ``count`` messages (no more)."""
    batches = []
    while sum(len(b) for b in batches) < count:
        batches.append(await asyncio.wait_for(subscription.get(), 1))
    assert sum(len(b) for b in batches) == count
    return batches


def messages_of(batches: list[Batch]) -> list[dict]:
    return [message for batch in batches for message in batch.messages]


# -- the hub on its own ---------------------------------------------------------------------------------------


async def test_subscribers_of_a_cluster_share_one_group_membership():
    local = Hub()
    layer = get_channel_layer()
    first = await local.subscribe(layer, "a")
    second = await local.subscribe(layer, "a")
    other = await local.subscribe(layer, "b")
    assert first.feed is second.feed and other.feed is not first.feed
    assert members("cluster.a") == [first.feed.channel]
    assert members("cluster.b") == [other.feed.channel]
    assert local.feeds() == {"a": 2, "b": 1}

    messages = [clock_message(s) for s in range(5)]
    for message in messages:
        await layer.group_send("cluster.a", message)
    batches = await take(first, len(messages))
    assert messages_of(batches) == messages
    # Both get the very same batches (so a batch's frame is built once for both).
    assert await take(second, len(messages)) == batches
    assert other.queue.empty()

    await local.unsubscribe(first)
    assert members("cluster.a") == [second.feed.channel]
    await local.unsubscribe(second)
    await local.unsubscribe(second)  # twice is harmless
    assert members("cluster.a") == []
    assert local.feeds() == {"b": 1}
    await local.unsubscribe(other)
    assert local.feeds() == {} and members("cluster.b") == []


async def test_a_feed_started_again_after_its_last_subscriber_left_gets_a_new_channel():
    local = Hub()
    layer = get_channel_layer()
    first = await local.subscribe(layer, "a")
    await local.unsubscribe(first)
    again = await local.subscribe(layer, "a")
    assert again.feed is not first.feed and first.feed.task.done()
    assert members("cluster.a") == [again.feed.channel]
    await layer.group_send("cluster.a", CLOCK)
    assert (await asyncio.wait_for(again.get(), 1)).messages == (CLOCK,)
    await local.unsubscribe(again)


async def test_a_burst_reaches_every_subscriber_in_order_in_fewer_batches():
    local = Hub()
    layer = get_channel_layer()
    subscriptions = [await local.subscribe(layer, "a") for _ in range(3)]
    # Published without giving the feed a turn, as a busy process would: the feed finds them all waiting.
    messages = [change_message(rv) for rv in range(1, 2 * payloads.BATCH_LIMIT + 501)]
    for message in messages:
        await layer.group_send("cluster.a", message)
    batches = await take(subscriptions[0], len(messages))
    assert messages_of(batches) == messages
    assert len(batches) < len(messages)
    assert all(len(batch) <= payloads.BATCH_LIMIT for batch in batches)
    for subscription in subscriptions[1:]:
        assert await take(subscription, len(messages)) == batches
    for subscription in subscriptions:
        await local.unsubscribe(subscription)


def test_a_full_queue_drops_for_that_subscriber_alone(monkeypatch):
    monkeypatch.setattr(hub_module, "QUEUE_CAPACITY", 3)
    subscription = Subscription(feed=None)
    batches = [Batch([clock_message(1), clock_message(2)]), Batch([clock_message(3)]), Batch([clock_message(4)])]
    for batch in batches:
        subscription.put(batch)
    assert subscription.dropped == 1
    assert [subscription.queue.get_nowait() for _ in range(2)] == batches[:2]
    # A lost feed is always told, even to a full queue.
    for batch in batches:
        subscription.put(batch)
    subscription.lost()
    assert list(subscription.queue._queue)[-1].messages == (FEED_LOST,)


class Clock:
    """A loop's clock that moves only when told."""

    def __init__(self):
        self.now = 100.0

    def time(self) -> float:
        return self.now


def test_batches_leave_at_once_until_the_frames_go_over_budget():
    clock = Clock()
    feed = Feed(layer=None, cluster_name="a", loop=clock, credit_at=clock.now)
    feed.subscriptions = [Subscription(feed) for _ in range(100)]
    for _ in range(hub_module.FRAME_BURST // 100):  # a burst's worth of batches: at once
        assert feed.flush_wait() == 0
        feed.pending = [CLOCK]
        feed.flush()
    # Over budget: the next batch waits for its 100 frames' worth of time.
    assert feed.flush_wait() == pytest.approx(100 / hub_module.FRAMES_PER_SECOND)
    clock.now += 100 / hub_module.FRAMES_PER_SECOND
    assert feed.flush_wait() == pytest.approx(0, abs=1e-9)
    # After a quiet spell the credit is full again, and no more.
    clock.now += 60
    assert feed.flush_wait() == 0 and feed.frame_credit == hub_module.FRAME_BURST


def test_a_batch_waits_no_longer_than_the_most_however_many_watch():
    clock = Clock()
    feed = Feed(layer=None, cluster_name="a", loop=clock, credit_at=clock.now, frame_credit=0)
    feed.subscriptions = [Subscription(feed) for _ in range(10_000)]
    assert feed.flush_wait() == hub_module.MAX_FLUSH_WAIT


def change_message(rv: int, kind: str = "Pod") -> dict:
    return {"type": "object.changed", "event": "ADDED", "group": "", "kind": kind, "resourceVersion": str(rv),
            "object": {"kind": kind, "metadata": {"name": f"p{rv}", "namespace": "default",
                                                  "resourceVersion": str(rv)}}}


def trace_message(time: str, sequence: int) -> dict:
    return {"type": "trace.recorded", "trace": {"time": time, "sequence": sequence}}


T1, T2 = "2025-01-01T00:00:01.000000Z", "2025-01-01T00:00:02.000000Z"


@pytest.mark.parametrize("messages, ordered, rvs, traces, clocks", [
    ([], True, (None, None), (None, None), (None, None)),
    ([change_message(5), trace_message(T1, 1), change_message(6), clock_message(1), trace_message(T1, 2),
      clock_message(1), change_message(7, "Lease")],
     True, (5, 7), ((T1, 1), (T1, 2)), ("2025-01-01T00:00:01Z", "2025-01-01T00:00:01Z")),
    ([change_message(5), change_message(7)], False, (5, 7), (None, None), (None, None)),
    ([change_message(5), change_message(5)], False, (5, 5), (None, None), (None, None)),
    ([trace_message(T2, 1), trace_message(T1, 9)], False, (None, None), ((T2, 1), (T1, 9)), (None, None)),
    ([clock_message(2), clock_message(1)], False, (None, None), (None, None),
     ("2025-01-01T00:00:02Z", "2025-01-01T00:00:01Z")),
    ([change_message(5), {"type": "cluster.deleted", "uid": "u"}], False, (5, 5), (None, None), (None, None)),
    ([FEED_LOST], False, (None, None), (None, None), (None, None)),
    ([{"type": "something.new"}, change_message(5)], True, (5, 5), (None, None), (None, None)),
], ids=["empty", "changes traces and clocks in order", "a gap", "a duplicate", "a trace out of order",
        "a clock going back", "the cluster deleted", "the feed lost", "a type no consumer handles"])
def test_a_batch_notes_where_it_stands_in_the_stream(messages, ordered, rvs, traces, clocks):
    batch = Batch(messages)
    assert batch.ordered is ordered
    assert (batch.first_rv, batch.last_rv) == rvs
    assert (batch.first_trace, batch.last_trace) == traces
    assert (batch.first_clock, batch.last_clock) == clocks
    assert batch.messages == tuple(messages) and batch.frame is None


# -- the hub under the consumers ------------------------------------------------------------------------------


async def test_many_streams_join_the_group_once_and_leave_it_with_the_last(cluster):
    streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
    for stream in streams:
        await stream.receive_json_from()
    assert hub.feeds() == {"test": 3}
    assert len(members("cluster.test")) == 1

    pods = [await write(cluster, create_pod(f"web-{n}")) for n in range(5)]
    for stream in streams:
        assert await receive_messages(stream, len(pods)) == [event_message("ADDED", p) for p in pods]

    await streams[0].disconnect()
    assert hub.feeds() == {"test": 2} and len(members("cluster.test")) == 1
    for stream in streams[1:]:
        await stream.disconnect()
    assert hub.feeds() == {} and members("cluster.test") == []


@pytest.fixture(params=["in-memory", "redis"])
def layer(request):
    """The process's channel layer: the in-memory one, and the Redis one."""
    if request.param == "redis":
        return request.getfixturevalue("redis_layer")
    return get_channel_layer()


async def test_a_burst_reaches_every_stream_in_order_in_frames_encoded_once(cluster, layer):
    streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
    for stream in streams:
        head = int((await stream.receive_json_from())["resourceVersion"])
    payloads.frames.clear()
    # Changes, traces and clock readings, more than one frame holds; the last change of a kind not shown.
    count = payloads.BATCH_LIMIT + 500
    sent = []
    for n in range(1, count + 1):
        sent.append(change_message(head + n, "Lease" if n == count else "Pod"))
        if n % 100 == 0 and n < count:
            sent.append(trace_message(T1, n))
            sent.append(clock_message(n // 100))
    for message in sent:
        await layer.group_send("cluster.test", message)

    expected = []
    for message in sent:
        if message["type"] == "object.changed":
            if message["kind"] == "Pod":
                expected.append(event_message("ADDED", message["object"]))
        elif message["type"] == "trace.recorded":
            expected.append({"type": "trace", "trace": message["trace"]})
        else:
            expected.append({"type": "clock", "clock": message["clock"]})
    expected.append({"type": "bookmark", "resourceVersion": str(head + count)})  # the Lease's, ending the last frame
    received = []
    for stream in streams:
        frames = []
        while sum(len(unbatch([json.loads(f)])) for f in frames) < len(expected):
            frames.append(await stream.receive_from())
        assert unbatch([json.loads(f) for f in frames]) == expected
        if isinstance(layer, InMemoryChannelLayer):
            # Sent without a turn of the event loop, the burst waits whole for the feed. (Over Redis each send
            # waits for Redis, so how many come together depends on the machine's speed.)
            assert len(frames) < len(expected)
        assert all(len(unbatch([json.loads(f)])) <= payloads.BATCH_LIMIT for f in frames)
        received.append(frames)
    # Every stream got the same frames, and each change was encoded once for all of them.
    assert received[1] == received[0] and received[2] == received[0]
    assert len(payloads.frames) == len(expected) - 1  # (the bookmark is not cached)
    for stream in streams:
        assert await stream.receive_nothing()
        await stream.disconnect()


async def test_an_unknown_cluster_never_subscribes(db):
    stream = await open_stream("/ws/clusters/nope/")
    assert (await stream.receive_json_from())["type"] == "error"
    assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
    assert hub.feeds() == {} and members("cluster.nope") == []


async def test_one_stream_filling_a_gap_leaves_another_in_order(cluster, monkeypatch):
    first = await open_stream("/ws/clusters/test/")
    await first.receive_json_from()
    with monkeypatch.context() as patch:
        patch.setattr(store_events, "publish_watch_event", lambda *args: None)  # the channel layer lost it
        lost = await write(cluster, create_pod("lost"))
    second = await open_stream("/ws/clusters/test/")  # its snapshot has the lost pod: no gap for it
    assert (await second.receive_json_from())["objects"]["Pod"] == [lost]
    pods = [await write(cluster, create_pod(f"web-{n}")) for n in range(3)]
    assert await receive_messages(first, 4) == [event_message("ADDED", p) for p in [lost, *pods]]
    assert await receive_messages(second, len(pods)) == [event_message("ADDED", p) for p in pods]
    for stream in (first, second):
        assert await stream.receive_nothing()
        await stream.disconnect()


async def test_a_broken_feed_closes_its_streams_with_1011(cluster, caplog):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    layer = get_channel_layer()

    async def broken(channel):
        raise ConnectionError("the channel layer went away")

    layer.receive = broken  # the feed's receive in progress still gets the next message
    try:
        await layer.group_send("cluster.test", CLOCK)
        assert await stream.receive_json_from() == {"type": "clock", "clock": CLOCK["clock"]}
        assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_FEED_LOST}
    finally:
        del layer.receive
    assert "live feed of cluster test failed" in caplog.text
    assert hub.feeds() == {}
    # The client reconnects and is served by a new feed.
    again = await open_stream("/ws/clusters/test/")
    assert await again.receive_json_from() == await expected_snapshot(cluster)
    assert hub.feeds() == {"test": 1}
    await again.disconnect()


# -- Redis ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def redis_layer(settings):
    """The channel layer ``REDIS_URL=redis://127.0.0.1:6379/15`` configures, with a prefix of this test's own;
    its keys are deleted afterwards."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); the live stream's Redis path cannot be "
                    f"tested. The machine starts Redis before the session: start it (redis-server) and re-run.",
                    pytrace=False)
    prefix = f"kubeviz-test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "capacity": 10000, "prefix": prefix},
    }}
    layer = get_channel_layer()
    yield layer
    await layer.flush()
    await layer.close_pools()


async def test_a_feed_on_redis_takes_every_waiting_message_at_once(redis_layer):
    receiver = await open_receiver(redis_layer)
    assert isinstance(receiver, RedisReceiver)
    await redis_layer.group_add("cluster.bulk", receiver.channel)
    messages = [clock_message(s) for s in range(50)]
    for message in messages:
        await redis_layer.group_send("cluster.bulk", message)
    assert await receiver.receive() == messages
    # With nothing waiting, a receive waits for the next message.
    waiting = asyncio.create_task(receiver.receive())
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await redis_layer.group_send("cluster.bulk", CLOCK)
    assert await asyncio.wait_for(waiting, 5) == [CLOCK]
    # Not before the given time: what arrives until then comes along.
    await redis_layer.group_send("cluster.bulk", messages[0])
    gathering = asyncio.create_task(receiver.receive(not_before=asyncio.get_running_loop().time() + 0.5))
    for message in messages[1:3]:
        await redis_layer.group_send("cluster.bulk", message)
    assert await asyncio.wait_for(gathering, 5) == messages[:3]
    await redis_layer.group_discard("cluster.bulk", receiver.channel)


async def test_a_pop_that_times_out_is_tried_again_before_the_feed_gives_up(redis_layer, monkeypatch):
    """A Redis (or a process) that stalls past the client's read timeout once is not a lost feed."""
    from redis.asyncio import Redis
    from redis.exceptions import TimeoutError as RedisTimeoutError

    receiver = await open_receiver(redis_layer)
    await redis_layer.group_add("cluster.stall", receiver.channel)
    await redis_layer.group_send("cluster.stall", CLOCK)
    real_zpopmin, failures = Redis.zpopmin, []

    async def stalling_zpopmin(self, *args):
        if len(failures) < stalls:
            failures.append(args)
            raise RedisTimeoutError("Timeout reading from 127.0.0.1:6379")
        return await real_zpopmin(self, *args)

    monkeypatch.setattr(Redis, "zpopmin", stalling_zpopmin)
    stalls = receivers.POP_ATTEMPTS - 1
    assert await receiver.receive() == [CLOCK]
    assert len(failures) == stalls
    # One more failure in a row than that, and the feed fails (its streams close; browsers reconnect).
    await redis_layer.group_send("cluster.stall", CLOCK)
    failures.clear()
    stalls = receivers.POP_ATTEMPTS
    with pytest.raises(RedisTimeoutError):
        await receiver.receive()
    await redis_layer.group_discard("cluster.stall", receiver.channel)


async def test_the_live_stream_over_redis(cluster, redis_layer):
    from channels_redis.core import RedisChannelLayer

    assert isinstance(redis_layer, RedisChannelLayer)
    streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
    expected = await expected_snapshot(cluster)
    for stream in streams:
        assert await stream.receive_json_from() == expected
    assert hub.feeds() == {"test": 3}
    connection = redis_layer.connection(redis_layer.consistent_hash("cluster.test"))
    assert await connection.zcard(redis_layer._group_key("cluster.test")) == 1  # one member for the process

    pods = [await write(cluster, create_pod(f"web-{n}")) for n in range(3)]
    for stream in streams:
        assert await receive_messages(stream, len(pods), timeout=5) == [event_message("ADDED", p) for p in pods]

    resumed = await open_stream(f"/ws/clusters/test/?resourceVersion={pods[0]['metadata']['resourceVersion']}")
    assert (await resumed.receive_json_from(timeout=5))["type"] == "resume"
    assert await receive_messages(resumed, len(pods[1:]), timeout=5) == [event_message("ADDED", p) for p in pods[1:]]
    streams.append(resumed)

    await sync_to_async(cluster_delete)(name="test")
    for stream in streams:
        assert await stream.receive_json_from(timeout=5) == {"type": "error", "message": 'cluster "test" not found'}
        assert await stream.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
    assert hub.feeds() == {}
    assert await connection.zcard(redis_layer._group_key("cluster.test")) == 0
