"""URL map: the per-cluster Kubernetes API, the simulator's /sim endpoints, the classroom and the dashboard pages."""

from django.urls import include, path, re_path

from kubeviz.api import views
from kubeviz.classroom.views import through_capability
from kubeviz.console import views as console
from kubeviz.sim import kubeconfig
from kubeviz.sim import views as sim_views

urlpatterns = [
    re_path(r"^clusters/(?P<cluster>[^/]+)/version/?$", views.version),
    re_path(r"^clusters/(?P<cluster>[^/]+)/(?P<path>apis?(/.*)?)$", views.kube_api),
    re_path(r"^clusters/(?P<cluster>[^/]+)/openapi/(?P<path>.*)$", views.openapi_document),
    # The same API through a capability (classroom mode's kubeconfig and console): the token names the cluster.
    re_path(r"^k/(?P<token>[^/]+)/version/?$", through_capability(views.version)),
    re_path(r"^k/(?P<token>[^/]+)/(?P<path>apis?(/.*)?)$", through_capability(views.kube_api)),
    re_path(r"^k/(?P<token>[^/]+)/openapi/(?P<path>.*)$", through_capability(views.openapi_document)),
    path("sim/clusters", sim_views.clusters),
    path("sim/clusters/<str:cluster>", sim_views.cluster_detail),
    path("sim/clusters/<str:cluster>/clock", sim_views.clock),
    path("sim/clusters/<str:cluster>/clock/advance", sim_views.clock_advance),
    path("sim/clusters/<str:cluster>/clock/step", sim_views.clock_step),
    path("sim/clusters/<str:cluster>/apply", sim_views.apply),
    path("sim/clusters/<str:cluster>/kubeconfig", kubeconfig.kubeconfig),
    path("sim/clusters/<str:cluster>/console", console.console),
    path("sim/clusters/<str:cluster>/traces", sim_views.traces),
    path("sim/clusters/<str:cluster>/history", sim_views.cluster_history),
    path("sim/clusters/<str:cluster>/nodes", sim_views.nodes),
    re_path(r"^sim/clusters/(?P<cluster>[^/]+)/nodes/(?P<node>[^/]+)/(?P<action>fail|recover)$", sim_views.node_health),
    re_path(r"^(clusters|sim|k)(/.*)?$", views.api_not_found),
    # The lesson player: `/lessons/` and `/lessons/<slug>/` (a sandbox cluster per learner) with its JSON API.
    path("lessons/", include("kubeviz.lessons.urls")),
    # The classroom: joining a class, a learner's class page, teachers' logins and classes.
    path("", include("kubeviz.classroom.urls")),
    # The dashboard: `/`, `/c/<name>/` and the language switch; its own 404 page for unknown pages under `/c/`.
    path("", include("kubeviz.dashboard.urls")),
]

handler400 = "kubeviz.api.views.bad_request_page"
handler404 = "kubeviz.api.views.page_not_found"
handler500 = "kubeviz.api.views.server_error"
