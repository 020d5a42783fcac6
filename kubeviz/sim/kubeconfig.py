"""``GET /sim/clusters/<name>/kubeconfig``: a kubeconfig that points the real kubectl at one simulated cluster.

The server is the request's own ``scheme://host`` plus the cluster's API prefix ``/clusters/<name>`` (DESIGN.md
"Contracts"), so the file works from wherever the learner reached the page. Over plain ``http://`` kubectl sends
no credentials (kubectl-compat.md §15), so the user entry is empty; context and user are named after the cluster.
"""

import yaml
from django.http import HttpResponse

from apiserver import errors
from kubeviz.api.views import api_endpoint, get_cluster


def kubeconfig_document(*, cluster: str, server: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster, "namespace": "default"}}],
        "current-context": cluster,
        "preferences": {},
        "users": [{"name": cluster, "user": {}}],
    }


@api_endpoint
def kubeconfig(request, cluster):
    if request.method != "GET":
        raise errors.method_not_supported("kubeconfig", request.method.lower())
    found = get_cluster(cluster)
    server = f"{request.scheme}://{request.get_host()}/clusters/{found.name}"
    text = yaml.safe_dump(kubeconfig_document(cluster=found.name, server=server), sort_keys=False)
    response = HttpResponse(text, content_type="application/yaml")
    response["Content-Disposition"] = f'attachment; filename="kubeconfig-{found.name}.yaml"'
    return response
