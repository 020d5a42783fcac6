"""Publishing store changes to a cluster's channel-layer group.

Watchers (the live dashboard, HTTP watches, engines in other processes) join ``cluster_group(name)`` and receive
``{"type": "object.changed", ...}`` messages, one per committed change, in resourceVersion order, and a last
``{"type": "cluster.deleted", "uid": ...}`` once the cluster is deleted (the uid tells which cluster of that name).
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


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
    """Send one message to everything watching the cluster (``type`` names the consumer handler)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(cluster_group(cluster_name), message)
