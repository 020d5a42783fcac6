"""Publishing store changes to a cluster's channel-layer group.

Watchers (the live dashboard, HTTP watches, engines in other processes) join ``cluster_group(name)`` and receive
``{"type": "object.changed", ...}`` messages, one per committed change, in resourceVersion order, and a last
``{"type": "cluster.deleted", "uid": ...}`` once the cluster is deleted (the uid tells which cluster of that name).

Publishing from sync code crosses to the channel layer's event loop. In a serving process (``deliver_on``) a thread
hands its messages to the server's loop and goes on without waiting for them to be sent: an engine's slice, or a
request, does not wait behind everything else the loop has to do. The loop sends them in the order they were
handed over, one batch after another (``_Outbox``), and a server that stops sends what is left before its loop
stops (``wait_sent``). Elsewhere (management commands, tests without a server loop) publishing waits until the
messages are sent, as it always did.
"""

import asyncio
import contextvars
import logging
import threading
from collections import deque
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Messages held back by ``collected()`` (None: publish at once).
_collecting: contextvars.ContextVar[list | None] = contextvars.ContextVar("kubeviz_collecting", default=None)


def cluster_group(cluster_name: str) -> str:
    return f"cluster.{cluster_name}"


def watch_message(event) -> dict:
    return {
        "type": "object.changed",
        "event": event.type,
        "group": event.resource.group,
        "kind": event.resource.kind,
        "resourceVersion": event.resource_version,
        "object": event.object,
    }


def deleted_message(cluster_uid: str) -> dict:
    return {"type": "cluster.deleted", "uid": cluster_uid}


def publish_watch_event(cluster_name: str, event) -> None:
    publish(cluster_name, watch_message(event))


def publish(cluster_name: str, message: dict) -> None:
    """Send one message to everything watching the cluster (``type`` names the consumer handler); inside
    ``collected()``, when that block ends."""
    held = _collecting.get()
    if held is not None:
        held.append((cluster_group(cluster_name), message))
        return
    _send([(cluster_group(cluster_name), message)])


@contextmanager
def collected():
    """Hold back what is published inside the block and send it all, in order, when the block ends.

    Sending crosses from sync code to the channel layer's event loop, which costs far more than a message: an
    engine instant that writes a thousand changes should pay for it once. Wrap the block around the transaction
    (publishing happens in ``on_commit`` hooks): what a rollback discards is never published."""
    if _collecting.get() is not None:
        yield  # already collecting: the outer block sends
        return
    held: list = []
    token = _collecting.set(held)
    try:
        yield
    finally:
        _collecting.reset(token)
        if held:
            _send(held)


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


class _Outbox:
    """Batches of messages handed to the server's event loop from other threads, sent by one task of that loop
    in the order they were handed over (so a group's messages keep their order, whoever published them)."""

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._batches: deque = deque()
        self._sending = False  # a task of the loop is sending (or about to): it takes what is added meanwhile
        self._sent = threading.Condition(self._lock)

    def accepts(self) -> bool:
        """Whether a message published in this thread may be handed over: a loop serves, and this thread is not
        the loop's own (which must not wait, and has nobody to hand over to)."""
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return False
        try:
            return asyncio.get_running_loop() is not loop
        except RuntimeError:
            return True

    def serve_on(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if loop is self.loop:
                return
            # Another loop (a test's after a test's): what an earlier one left is sent by this one.
            self.loop = loop
            self._sending = bool(self._batches)
        if self._sending:
            loop.call_soon_threadsafe(self._start)

    def put(self, layer, messages: list[tuple[str, dict]]) -> None:
        with self._lock:
            self._batches.append((layer, messages))
            if self._sending:
                return
            self._sending = True
        self.loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        asyncio.get_running_loop().create_task(self._drain(), name="kubeviz-publish")

    async def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._batches:
                    self._sending = False
                    self._sent.notify_all()
                    return
                layer, messages = self._batches.popleft()
            try:
                await _send_all(layer, messages)
            except Exception:  # noqa: BLE001 - the publisher went on long ago; the next batches still go
                logger.exception("publishing %d message(s) failed", len(messages))

    def wait_sent(self, timeout: float | None = None) -> bool:
        """Wait (in a thread other than the loop's) until everything handed over was sent."""
        with self._lock:
            return self._sent.wait_for(lambda: not self._sending, timeout)


_outbox = _Outbox()


def deliver_on(loop: asyncio.AbstractEventLoop) -> None:
    """Publish through ``loop`` (the server's), without waiting, from now on (see the module docstring)."""
    _outbox.serve_on(loop)


def wait_sent(timeout: float | None = None) -> bool:
    """Wait until every message handed to the server's loop was sent (a stopping server, before its loop stops);
    answers whether they were."""
    return _outbox.wait_sent(timeout)


def _send(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if _outbox.accepts():
        _outbox.put(layer, messages)
        return
    async_to_sync(_send_all)(layer, messages)
