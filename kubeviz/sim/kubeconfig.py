"""``GET /sim/clusters/<name>/kubeconfig``: a kubeconfig that points the real kubectl at one simulated cluster.

The server is the request's own ``scheme://host`` plus the cluster's API prefix ``/clusters/<name>`` (DESIGN.md
"Contracts"), so the file works from wherever the learner reached the page. Over plain ``http://`` kubectl sends
no credentials (kubectl-compat.md §15), so the user entry is empty; context and user are named after the cluster.

In classroom mode the prefix is the caller's capability instead, ``/k/<token>`` (``kubeviz.classroom.access``),
and the user entry carries the same token, which kubectl sends as a bearer token once the server is HTTPS.
"""

import yaml
from django.http import HttpResponse

from apiserver import errors
from kubeviz.api.views import api_endpoint, get_cluster
from kubeviz.classroom.access import capability_for, classroom_mode


def kubeconfig_document(*, cluster: str, server: str, token: str | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster, "namespace": "default"}}],
        "current-context": cluster,
        "preferences": {},
        "users": [{"name": cluster, "user": {"token": token} if token else {}}],
    }


@api_endpoint
def kubeconfig(request, cluster):
    if request.method != "GET":
        raise errors.method_not_supported("kubeconfig", request.method.lower())
    found = get_cluster(cluster)
    prefix, token = f"/clusters/{found.name}", None
    if classroom_mode():
        capability = capability_for(request.kubeviz_principal, found)
        prefix, token = f"/k/{capability.token}", capability.token
    server = f"{request.scheme}://{request.get_host()}{prefix}"
    text = yaml.safe_dump(kubeconfig_document(cluster=found.name, server=server, token=token), sort_keys=False)
    response = HttpResponse(text, content_type="application/yaml")
    response["Content-Disposition"] = f'attachment; filename="kubeconfig-{found.name}.yaml"'
    response["Cache-Control"] = "no-store"  # it may hold a token
    return response
