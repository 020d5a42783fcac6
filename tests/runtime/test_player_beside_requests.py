"""The player's engine work does not hold up the server's other work: while a playing cluster's tick is under way
(held here until the test lets it go), a dashboard's live stream gets its snapshot and the Kubernetes API answers,
through the real ASGI app."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from kubeviz.lessons.recheck import rechecker
from kubeviz.runtime.host import host
from kubeviz.runtime.player import player
from kubeviz.store.models import Cluster
from kubeviz.store.services import cluster_create
from tests.conftest import START

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def held_tick(settings, monkeypatch):
    """The player plays, and its first run of a cluster waits for ``release`` (``playing`` says it began). Then
    the threads that served keep no connection to the test database (PostgreSQL would not drop it)."""
    settings.KUBEVIZ_PLAYER = True
    playing, release = threading.Event(), threading.Event()
    real_play = host.play

    def play(cluster, wall_seconds, *, budget):
        playing.set()
        assert release.wait(timeout=60), "the test never let the tick go"
        return real_play(cluster, wall_seconds, budget=budget)

    monkeypatch.setattr(host, "play", play)
    yield playing, release
    release.set()
    for task in (player._task, rechecker._task):
        if task is not None:
            task.cancel()
    player._task = rechecker._task = None
    player._last.clear()
    from kubeviz.asgi import django_asgi_app

    await sync_to_async(connections.close_all)()  # asgiref's shared thread: the stream's database work
    await asyncio.wrap_future(player._executor.submit(connections.close_all))
    django_asgi_app.threads.close()


async def get(application, path):
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
             "root_path": "", "scheme": "http", "query_string": b"", "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000), "headers": [(b"host", b"127.0.0.1:8000")]}
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(30)
    body = b""
    while True:
        message = await communicator.receive_output(30)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], body


async def test_a_stream_and_a_read_are_answered_while_a_tick_is_under_way(held_tick):
    from kubeviz.asgi import application

    playing, release = held_tick
    cluster = await database_sync_to_async(cluster_create)(name="busy", nodes=1, seed=3, start=START)
    await database_sync_to_async(Cluster.objects.filter(pk=cluster.pk).update)(paused=False)
    status, _ = await get(application, "/clusters/busy/version")  # the first connection starts the player
    assert status == 200
    assert await asyncio.to_thread(playing.wait, 60), "the player did not play the cluster"

    stream = WebsocketCommunicator(application, "/ws/clusters/busy/")
    connected, _ = await stream.connect(timeout=30)
    assert connected
    snapshot = await stream.receive_json_from(timeout=30)
    assert snapshot["type"] == "snapshot" and snapshot["cluster"]["name"] == "busy"
    status, body = await get(application, "/clusters/busy/api/v1/nodes")
    assert status == 200 and b'"name":"node-1"' in body.replace(b" ", b"")
    assert not release.is_set()  # all of it while the tick was still held

    release.set()
    await stream.disconnect()
