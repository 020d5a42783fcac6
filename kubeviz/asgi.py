"""ASGI entry point: HTTP goes to Django, websockets to the Channels consumers.

Django is set up (``get_asgi_application()``) before anything that imports models, such as the consumers, is
imported: that is why the imports below are not at the top of the file.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([]),
    }
)
