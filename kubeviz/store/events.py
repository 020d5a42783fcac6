"""Publishing store changes to a cluster's channel-layer group.

Watchers (the live dashboard, HTTP watches, engines in other processes) join ``cluster_group(name)`` and receive
``{"type": "object.changed", ...}`` messages, one per committed change, in resourceVersion order, and a last
``{"type": "cluster.deleted", "uid": ...}`` once the cluster is deleted (the uid tells which cluster of that name).
"""

import contextvars
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

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


def _send(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        for group, message in messages:
            await layer.group_send(group, message)

    async_to_sync(send_all)()
