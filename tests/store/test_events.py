"""Publishing from threads in a serving process: handed to the server's loop without waiting, in order, and sent
before a stopping server's loop stops."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from kubeviz.store import events


@pytest.fixture
def served():
    """Publishing goes through this test's event loop, as through a server's (``kubeviz.asgi``)."""
    yield lambda: events.deliver_on(asyncio.get_running_loop())
    events._outbox.loop = None


async def group_channel(name: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.cluster_group(name), channel)
    return channel


async def test_a_thread_publishes_without_waiting_for_the_loop_and_the_messages_arrive_in_order(served):
    served()
    channel = await group_channel("ordered")
    started, go, returned = threading.Event(), threading.Event(), threading.Event()

    def engine():  # a thread of the server's, as the player's and the requests' are (sync_to_async)
        started.set()
        go.wait(timeout=30)
        for n in range(20):  # one at a time, and in batches as an engine's slice publishes them
            events.publish("ordered", {"type": "clock.changed", "n": n})
        with events.collected():
            for n in range(20, 40):
                events.publish("ordered", {"type": "clock.changed", "n": n})
        returned.set()

    running = asyncio.ensure_future(sync_to_async(engine, thread_sensitive=False)())
    await asyncio.to_thread(started.wait, 30)
    go.set()
    # The loop is held here, not awaiting anything, until the publisher has returned: a publisher that waited for
    # the loop to send would not return.
    assert returned.wait(timeout=30), "publishing waited for the event loop"
    await running
    layer = get_channel_layer()
    received = [(await layer.receive(channel))["n"] for _ in range(40)]
    assert received == list(range(40))


async def test_two_threads_messages_keep_the_order_they_were_handed_over_in(served):
    served()
    channel = await group_channel("two")
    handed = []
    lock = threading.Lock()

    def engine(name):
        for n in range(25):
            with lock:  # the order of handing over, as the outbox sees it
                events.publish("two", {"type": "clock.changed", "who": name, "n": n})
                handed.append((name, n))

    threads = [threading.Thread(target=engine, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        await asyncio.to_thread(thread.join)
    layer = get_channel_layer()
    received = [(m["who"], m["n"]) for m in [await layer.receive(channel) for _ in range(50)]]
    assert received == handed


async def test_a_stopping_server_waits_until_what_was_handed_over_is_sent(served):
    served()
    channel = await group_channel("left")
    layer = get_channel_layer()
    seen = {}

    def engine_then_shutdown():
        for n in range(10):
            events.publish("left", {"type": "clock.changed", "n": n})
        # what the reactor's shutdown trigger waits for (kubeviz/runtime/apps.py), in a thread of its own
        seen["sent"] = events.wait_sent(timeout=30)
        seen["queued"] = layer.channels[channel].qsize()

    thread = threading.Thread(target=engine_then_shutdown)
    thread.start()
    await asyncio.to_thread(thread.join)
    assert seen == {"sent": True, "queued": 10}
    assert [(await layer.receive(channel))["n"] for _ in range(10)] == list(range(10))


async def test_a_failed_send_is_logged_and_the_next_messages_still_go(served, monkeypatch, caplog):
    served()
    channel = await group_channel("after-failure")
    layer = get_channel_layer()
    real_send = layer.group_send

    async def group_send(group, message):
        if message.get("n") == 0:
            raise RuntimeError("the channel layer is down")
        await real_send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)

    def engine():
        for n in range(3):
            events.publish("after-failure", {"type": "clock.changed", "n": n})
        events.wait_sent(timeout=30)

    await asyncio.to_thread(engine)
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [1, 2]
    assert "publishing 1 message(s) failed" in caplog.text


def test_without_a_serving_loop_publishing_waits_until_sent():
    """A management command or a test outside a server: the message is in the layer when publish returns."""
    layer = get_channel_layer()

    async def subscribe():
        return await group_channel("plain")

    channel = asyncio.run(subscribe())
    events.publish("plain", {"type": "clock.changed", "n": 1})
    assert layer.channels[channel].qsize() == 1
