"""A cluster's live stream opens only for this server's own pages: a websocket from a page on another origin, or
for a Host the server does not answer to (DNS rebinding), is closed before anything is sent."""

import pytest
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


def _application():
    from kubeviz.asgi import application

    return application


async def connect(headers):
    communicator = WebsocketCommunicator(_application(), "/ws/clusters/test/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.mark.parametrize("headers", [
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://evil.example")],
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:9999")],  # another port: another origin
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://localhost:8000")],
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://127.0.0.1:8000")],
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"null")],  # a sandboxed frame or a file
    [(b"host", b"evil.example:8000"), (b"origin", b"http://evil.example:8000")],  # DNS rebinding
    [(b"host", b"evil.example")],
    [(b"origin", b"http://127.0.0.1:8000")],
], ids=["other site", "other port", "other host name", "other scheme", "null", "rebinding", "bad host",
        "origin without host"])
async def test_a_foreign_page_gets_no_stream(cluster, headers):
    communicator, connected = await connect(headers)
    assert not connected
    assert await communicator.receive_nothing()


@pytest.mark.parametrize("headers", [
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")],
    [(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")],
    [(b"host", b"[::1]:8000"), (b"origin", b"http://[::1]:8000")],
    [(b"host", b"127.0.0.1:8000")],  # a client that is no browser sends no Origin
], ids=["127.0.0.1", "localhost", "::1", "no origin"])
async def test_the_servers_own_page_gets_its_snapshot(cluster, headers):
    communicator, connected = await connect(headers)
    assert connected
    assert (await communicator.receive_json_from())["type"] == "snapshot"
    await communicator.disconnect()


async def test_a_trusted_origin_is_accepted(cluster, settings):
    """Behind a proxy that serves the page over HTTPS, its origin is named in CSRF_TRUSTED_ORIGINS."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://class.example.org"]
    settings.ALLOWED_HOSTS = ["class.example.org"]
    communicator, connected = await connect([(b"host", b"class.example.org"),
                                             (b"origin", b"https://class.example.org")])
    assert connected
    await communicator.disconnect()
