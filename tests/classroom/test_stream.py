"""The websocket column of the isolation matrix: the live stream of learner A's sandbox, through the real ASGI app
with each one's session cookie."""

import json

import pytest
from channels.testing import WebsocketCommunicator

from kubeviz.asgi import application
from kubeviz.classroom.middleware import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED

pytestmark = pytest.mark.django_db(transaction=True)


async def watch(world, who: str, cluster: str):
    client = world.clients[who]
    cookie = client.cookies.get("sessionid")
    headers = [(b"cookie", f"sessionid={cookie.value}".encode())] if cookie else []
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{cluster}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    first = json.loads(await communicator.receive_from(timeout=10))
    return communicator, first


@pytest.mark.parametrize("who, outcome", [
    ("nobody", CLOSE_UNAUTHORIZED), ("a", "snapshot"), ("b", CLOSE_FORBIDDEN), ("teacher", "snapshot"),
    ("other_teacher", CLOSE_FORBIDDEN),
])
async def test_the_stream_of_a_sandbox(world, who, outcome):
    communicator, first = await watch(world, who, world.cluster_a)
    if outcome == "snapshot":
        assert first["type"] == "snapshot" and first["cluster"]["name"] == world.cluster_a
        await communicator.disconnect()
        return
    assert first["type"] == "error" and "objects" not in first
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": outcome}


async def test_an_unknown_cluster_is_forbidden_to_a_learner_not_found_to_nobody(world):
    communicator, first = await watch(world, "b", "no-such-cluster")
    assert first["type"] == "error"
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    communicator, first = await watch(world, "nobody", "no-such-cluster")
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED}
