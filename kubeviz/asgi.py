"""ASGI entry point: HTTP goes to Django, websockets to the Channels consumers.

Django is set up (``django.setup()``, what ``get_asgi_application()`` does first) before anything that imports models,
such as the consumers or the runtime, is imported: that is why the imports below are not at the top of the file.
HTTP is served by Django's ASGI handler on long-lived threads (``kubeviz.serving``).
"""

import asyncio
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
django.setup(set_prefix=False)

from kubeviz.serving import PooledASGIHandler  # noqa: E402

django_asgi_app = PooledASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from kubeviz.classroom.lifecycle import sweeper  # noqa: E402
from kubeviz.lessons.recheck import rechecker  # noqa: E402
from kubeviz.live.routing import websocket_urlpatterns  # noqa: E402
from kubeviz.runtime.forwarding import listener  # noqa: E402
from kubeviz.runtime.host import host  # noqa: E402
from kubeviz.runtime.lease import renewer  # noqa: E402
from kubeviz.runtime.player import player  # noqa: E402
from kubeviz.security import SameOriginWebsocket  # noqa: E402
from kubeviz.store import events  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Only this server's own pages may open a cluster's live stream (kubeviz/security.py); the session tells
        # the consumer who watches (classroom mode).
        "websocket": SameOriginWebsocket(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    """The router, plus the real-time player started on the server's event loop by the first connection
    (Daphne has no lifespan events to start it earlier), which also runs the background advances, and the lessons'
    checks evaluated again as clusters change; in classroom mode the sweep of idle sandboxes too; with several processes
    (engine leases) the renewal of this one's leases and the requests other processes forward to it. What threads
    publish goes out through the same loop."""
    loop = asyncio.get_running_loop()
    host.serve_on(loop)
    events.deliver_on(loop)
    if settings.KUBEVIZ_PLAYER:
        player.ensure_started()
        rechecker.ensure_started()
    if settings.KUBEVIZ_CLASSROOM:
        sweeper.ensure_started()
    if host.leases is not None:  # several processes: renew this one's engine leases, serve what others forward
        renewer.ensure_started()
        listener.ensure_started()
    await router(scope, receive, send)
