"""Websocket routes: one live stream per cluster, and one per class for its teacher's grid."""

from django.urls import re_path

from kubeviz.classroom.consumers import ClassConsumer

from .consumers import ClusterConsumer

websocket_urlpatterns = [
    re_path(r"^ws/clusters/(?P<name>[^/]+)/$", ClusterConsumer.as_asgi()),
    re_path(r"^ws/classes/(?P<pk>[0-9]+)/$", ClassConsumer.as_asgi()),
]
