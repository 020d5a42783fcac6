"""The live dashboard's pages.

Views stay thin: they find the cluster, and hand the page its configuration (API paths, the seed examples, the
clock's speeds) and the translated strings its scripts show, both through ``json_script``. Everything live comes
afterwards from the cluster's websocket and the HTTP API.
"""

from pathlib import Path

from django.contrib.staticfiles.views import serve
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy as _

from apiserver.kinds import SHOWN_TYPES
from controllers import cronjob, daemonset, job, kubelet, nodelifecycle, podgc, resourcequota, scheduler, ttl
from kubeviz.classroom.access import kube_api_prefix, request_principal, visible_clusters
from kubeviz.store.models import Cluster

from .catalogue import js_catalogue

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

#: The seed article's demos, one click away in the editor (id, file, title).
EXAMPLES = (
    ("pi", "pi.yaml", _("Job: pi")),
    ("paral-1", "paral-1.yaml", _("Parallel Job: paral-1")),
    ("hello", "hello.yaml", _("CronJob: hello")),
    ("fluentd", "fluentd.yaml", _("DaemonSet: fluentd")),
)

#: The controllers whose reconcile traces the controller panel can filter on (their CONTROLLER names).
CONTROLLERS = (
    job.CONTROLLER, cronjob.CONTROLLER, daemonset.CONTROLLER, scheduler.CONTROLLER, kubelet.CONTROLLER,
    podgc.CONTROLLER, nodelifecycle.NODE_LIFECYCLE_CONTROLLER, nodelifecycle.TAINT_EVICTION_CONTROLLER,
    ttl.CONTROLLER, resourcequota.CONTROLLER,
)

#: The clock's speeds, as the API accepts them (0.25x to 100x).
SPEEDS = (0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100)


def _examples() -> list[dict]:
    return [
        {"id": key, "title": str(title), "yaml": (EXAMPLES_DIR / filename).read_text(encoding="utf-8")}
        for key, filename, title in EXAMPLES
    ]


def page_config(cluster: Cluster, *, api: str | None = None) -> dict:
    """The page's configuration; ``api`` is where it reaches the cluster's Kubernetes API (``/clusters/<name>``,
    or in classroom mode the viewer's capability, ``kubeviz.classroom.access.kube_api_prefix``)."""
    name = cluster.name
    return {
        "cluster": name,
        "api": api or f"/clusters/{name}",
        "sim": f"/sim/clusters/{name}",
        "ws": f"/ws/clusters/{name}/",
        "examples": _examples(),
        "speeds": list(SPEEDS),
        "controllers": list(CONTROLLERS),
        "language": get_language(),
        # The kinds the page keeps and their API paths, from the one resource table.
        "kinds": [{"kind": r.kind, "path": r.path, "plural": r.plural, "namespaced": r.namespaced}
                  for r in SHOWN_TYPES],
    }


def _not_found(request, name: str | None):
    clusters = list(visible_clusters(request_principal(request)).order_by("name").values_list("name", flat=True))
    return render(request, "dashboard/404.html", {"missing": name, "clusters": clusters}, status=404)


def cluster_page(request, name: str):
    """One cluster's live dashboard; an unknown cluster gets the friendly 404 page listing the others."""
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        return _not_found(request, name)
    return render(request, "dashboard/cluster.html", {
        "cluster": cluster,
        "config": page_config(cluster, api=kube_api_prefix(request_principal(request), cluster)),
        "catalogue": js_catalogue(),
        "speeds": SPEEDS,
        "examples": EXAMPLES,
        "controllers": CONTROLLERS,
    })


def index(request):
    """``/`` opens the ``default`` cluster."""
    return cluster_page(request, "default")


def page_not_found(request, *args, **kwargs):
    return _not_found(request, None)


def static_file(request, path: str):
    """The page's static files, found by the staticfiles finders (``static/`` and the apps').

    kubeviz runs as one Daphne process on a laptop, without a web server in front, so Django serves them; the
    answer carries Last-Modified, and browsers revalidate with If-Modified-Since.
    """
    return serve(request, path, insecure=True)
