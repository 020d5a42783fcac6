"""The dashboard's pages: the default cluster at ``/``, any cluster at ``/c/<name>/``, and the language switch."""

from django.urls import include, path, re_path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("c/<str:name>/", views.cluster_page, name="cluster"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Daphne serves no static files itself; the page's CSS, scripts and vendored libraries come from here.
    re_path(r"^static/(?P<path>.+)$", views.static_file, name="static"),
    # Anything else under /c/ is a page, not an API path: answer the friendly HTML 404, not a JSON Status.
    re_path(r"^c(/.*)?$", views.page_not_found, name="not-found"),
]
