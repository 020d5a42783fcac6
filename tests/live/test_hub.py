"""The per-process fan-out: one group membership per cluster however many browsers watch it, each message handed
to every consumer in order, feeds started and stopped with their subscribers; and the same live path over Redis."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from kubeviz.live import hub as hub_module
from kubeviz.live.consumers import CLOSE_FEED_LOST, CLOSE_NOT_FOUND
from kubeviz.live.hub import FEED_LOST, Hub, Subscription, hub
from kubeviz.store import events as store_events
from kubeviz.store.services import cluster_delete
from tests.live.test_consumers import (
    create_pod, event_message, expected_snapshot, open_stream, write,
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
    assert [await asyncio.wait_for(first.get(), 1) for _ in messages] == messages
    assert [await asyncio.wait_for(second.get(), 1) for _ in messages] == messages
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
    assert await asyncio.wait_for(again.get(), 1) == CLOCK
    await local.unsubscribe(again)


def test_a_full_queue_drops_for_that_subscriber_alone(monkeypatch):
    monkeypatch.setattr(hub_module, "QUEUE_CAPACITY", 2)
    subscription = Subscription(feed=None)
    for n in range(3):
        subscription.put({"n": n})
    assert subscription.dropped == 1
    assert [subscription.queue.get_nowait() for _ in range(2)] == [{"n": 0}, {"n": 1}]
    # A lost feed is always told, even to a full queue.
    for n in range(2):
        subscription.put({"n": n})
    subscription.lost()
    assert list(subscription.queue._queue)[-1] is FEED_LOST


# -- the hub under the consumers ------------------------------------------------------------------------------


async def test_many_streams_join_the_group_once_and_leave_it_with_the_last(cluster):
    streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
    for stream in streams:
        await stream.receive_json_from()
    assert hub.feeds() == {"test": 3}
    assert len(members("cluster.test")) == 1

    pods = [await write(cluster, create_pod(f"web-{n}")) for n in range(5)]
    for stream in streams:
        assert [await stream.receive_json_from() for _ in pods] == [event_message("ADDED", p) for p in pods]

    await streams[0].disconnect()
    assert hub.feeds() == {"test": 2} and len(members("cluster.test")) == 1
    for stream in streams[1:]:
        await stream.disconnect()
    assert hub.feeds() == {} and members("cluster.test") == []


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
    assert [await first.receive_json_from() for _ in range(4)] == [
        event_message("ADDED", p) for p in [lost, *pods]]
    assert [await second.receive_json_from() for _ in pods] == [event_message("ADDED", p) for p in pods]
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
def redis_layer(settings):
    """The channel layer ``REDIS_URL=redis://127.0.0.1:6379/15`` configures, with a prefix of this test's own."""
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
    return get_channel_layer()


async def test_the_live_stream_over_redis(cluster, redis_layer):
    from channels_redis.core import RedisChannelLayer

    assert isinstance(redis_layer, RedisChannelLayer)
    try:
        streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
        expected = await expected_snapshot(cluster)
        for stream in streams:
            assert await stream.receive_json_from() == expected
        assert hub.feeds() == {"test": 3}
        connection = redis_layer.connection(redis_layer.consistent_hash("cluster.test"))
        assert await connection.zcard(redis_layer._group_key("cluster.test")) == 1  # one member for the process

        pods = [await write(cluster, create_pod(f"web-{n}")) for n in range(3)]
        for stream in streams:
            assert [await stream.receive_json_from(timeout=5) for _ in pods] == [
                event_message("ADDED", p) for p in pods]

        resumed = await open_stream(f"/ws/clusters/test/?resourceVersion={pods[0]['metadata']['resourceVersion']}")
        assert (await resumed.receive_json_from(timeout=5))["type"] == "resume"
        assert [await resumed.receive_json_from(timeout=5) for _ in pods[1:]] == [
            event_message("ADDED", p) for p in pods[1:]]
        streams.append(resumed)

        await sync_to_async(cluster_delete)(name="test")
        for stream in streams:
            assert await stream.receive_json_from(timeout=5) == {
                "type": "error", "message": 'cluster "test" not found'}
            assert await stream.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}
        assert hub.feeds() == {}
        assert await connection.zcard(redis_layer._group_key("cluster.test")) == 0
    finally:
        await redis_layer.flush()
        await redis_layer.close_pools()
