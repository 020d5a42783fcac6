"""Websocket routes: one live stream per cluster."""

from django.urls import re_path

from .consumers import ClusterConsumer

websocket_urlpatterns = [
    re_path(r"^ws/clusters/(?P<name>[^/]+)/$", ClusterConsumer.as_asgi()),
]
