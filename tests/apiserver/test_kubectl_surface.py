"""What kubectl needs around the plain REST verbs: server-side Tables, a clear answer for what a simulated
cluster cannot do, and the downloadable kubeconfig."""

import json

import pytest
import yaml
from django.test import Client

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io," \
        "application/json"
PODS = "/clusters/test/api/v1/namespaces/default/pods"


def get(path, accept=TABLE):
    response = Client().get(path, HTTP_ACCEPT=accept)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def make_pod(registry, name, labels, node=None):
    from apiserver.kinds import resource_for_kind

    spec = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    return registry.create(resource_for_kind("", "Pod"), "default", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}).object


def test_list_as_table_honours_selectors(registry):
    make_pod(registry, "web", {"app": "web"}, node="node-1")
    make_pod(registry, "db", {"app": "db"})
    code, table = get(f"{PODS}?labelSelector=app%3Dweb&limit=500")
    assert code == 200 and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"]["resourceVersion"] == str(registry.storage.current_resource_version())
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
    assert [row["cells"][0] for row in table["rows"]] == ["web"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert table["rows"][0]["object"]["metadata"]["labels"] == {"app": "web"}
    _, by_field = get(f"{PODS}?fieldSelector=spec.nodeName%3Dnode-1")
    assert [row["cells"][0] for row in by_field["rows"]] == ["web"]


def test_single_object_as_table_and_include_object(registry):
    pod = make_pod(registry, "web", {"app": "web"})
    code, table = get(f"{PODS}/web?includeObject=Object")
    assert code == 200 and table["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
    assert table["rows"][0]["object"]["kind"] == "Pod" and table["rows"][0]["object"]["spec"]["containers"]
    _, none = get(f"{PODS}/web?includeObject=None")
    assert "object" not in none["rows"][0]
    _, v1beta1 = get(f"{PODS}/web", accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io")
    assert v1beta1["apiVersion"] == "meta.k8s.io/v1beta1"
    code, status = get(f"{PODS}/web?includeObject=Everything")
    assert code == 400 and status["reason"] == "BadRequest"


def test_plain_accept_still_gets_the_list(registry):
    make_pod(registry, "web", {"app": "web"})
    code, body = get(PODS, accept="application/json")
    assert code == 200 and body["kind"] == "PodList" and [i["metadata"]["name"] for i in body["items"]] == ["web"]
    code, body = get(PODS, accept="application/vnd.kubernetes.protobuf,application/json")
    assert body["kind"] == "PodList"


@pytest.mark.parametrize("method, path, what", [
    ("post", "/pods/web/exec?command=ls&stdout=true", "exec into containers"),
    ("get", "/pods/web/exec?command=ls", "exec into containers"),
    ("post", "/pods/web/attach?stdout=true", "attach to containers"),
    ("post", "/pods/web/portforward?ports=80", "forward ports"),
    ("get", "/pods/web/proxy/index.html", "proxy connections"),
    ("post", "/pods/web/eviction", "evict pods (the Eviction API)"),
])
def test_container_streams_are_refused_at_once(cluster, method, path, what):
    response = getattr(Client(), method)(f"/clusters/test/api/v1/namespaces/default{path}")
    status = json.loads(response.content)
    assert response.status_code == 405 and status["reason"] == "MethodNotAllowed"
    subresource = path.split("/")[3].split("?")[0]
    assert status["message"] == (f"pods/{subresource} is not available: this is a simulated kubeviz cluster "
                                 f"whose containers do not really run, so it cannot {what}")


def test_kubeconfig_download(cluster, settings):
    settings.ALLOWED_HOSTS = ["kubeviz.example", "testserver"]
    response = Client().get("/sim/clusters/test/kubeconfig", HTTP_HOST="kubeviz.example:8000")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="kubeconfig-test.yaml"'
    config = yaml.safe_load(response.content)
    assert config["clusters"] == [{"name": "test", "cluster": {"server": "http://kubeviz.example:8000/clusters/test"}}]
    assert config["contexts"] == [{"name": "test", "context": {"cluster": "test", "user": "test",
                                                                 "namespace": "default"}}]
    assert config["current-context"] == "test" and config["users"] == [{"name": "test", "user": {}}]
    missing = Client().get("/sim/clusters/nope/kubeconfig")
    assert missing.status_code == 404 and json.loads(missing.content)["message"] == 'clusters "nope" not found'
