"""Lists in chunks and gzipped lists, as the real kubectl 1.32 and the official Python client use them against a
live kubeviz server."""

import json
import re

import pytest
from kubernetes import client

pytestmark = pytest.mark.live


@pytest.fixture
def api(kubectl):
    configuration = client.Configuration()
    configuration.host = kubectl.server
    with client.ApiClient(configuration) as api_client:
        yield api_client


def pod(name, **annotations):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations or None},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}


def test_the_python_client_pages_through_every_pod_consistently_while_pods_come_and_go(api):
    core = client.CoreV1Api(api)
    for i in range(10):
        core.create_namespaced_pod("default", pod(f"p-{i:02}"))
    first = core.list_namespaced_pod("default", limit=3)
    seen = [p.metadata.name for p in first.items]
    assert first.metadata.remaining_item_count == 7
    token, versions, chunks = first.metadata._continue, {first.metadata.resource_version}, 1
    core.delete_namespaced_pod("p-05", "default", grace_period_seconds=0)  # not yet listed: listed as it was
    core.create_namespaced_pod("default", pod("p-04a"))  # created after the first chunk: not listed
    while token:
        chunk = core.list_namespaced_pod("default", limit=3, _continue=token)
        seen += [p.metadata.name for p in chunk.items]
        versions.add(chunk.metadata.resource_version)
        token, chunks = chunk.metadata._continue, chunks + 1
        core.delete_namespaced_pod(f"p-{11 - chunks:02}", "default", grace_period_seconds=0)  # p-09, p-08, p-07
        core.create_namespaced_pod("default", pod(f"p-0{chunks}b"))
    assert seen == [f"p-{i:02}" for i in range(10)]
    assert (chunks, len(versions)) == (4, 1)
    now = [p.metadata.name for p in core.list_namespaced_pod("default").items]
    assert now == ["p-00", "p-01", "p-02", "p-02b", "p-03", "p-03b", "p-04", "p-04a", "p-04b", "p-06"]


def test_the_python_client_is_told_a_garbage_token_is_a_400(api):
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api).list_namespaced_pod("default", limit=1, _continue="garbage")
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == (
        "invalid continue token: continue key is not valid: invalid character '\\u0081' looking for beginning of "
        "value")


def test_kubectl_gets_everything_in_chunks_of_two_tables_included(kubectl, api):
    core = client.CoreV1Api(api)
    for name in ("web-3", "web-1", "web-2", "db-1", "db-2"):
        core.create_namespaced_pod("default", pod(name))
    core.create_namespaced_pod("kube-system", pod("dns"))
    whole = kubectl("get", "pods", "--chunk-size=0")
    assert whole.splitlines()[1:] == [
        f"{name}   0/1     Pending   0          0s" for name in ("db-1 ", "db-2 ", "web-1", "web-2", "web-3")]
    chunked = kubectl.run("get", "pods", "--chunk-size=2", "-v=6")
    assert chunked.stdout == whole
    # three requests: the first chunk, then two that go on from its token
    requests = re.findall(r"GET \S+/api/v1/namespaces/default/pods\?(\S+) 200 OK", chunked.stderr)
    assert [re.sub(r"continue=[^&]+", "continue=T", query) for query in requests] == [
        "limit=2", "continue=T&limit=2", "continue=T&limit=2"]
    everywhere = kubectl("get", "pods", "-A", "--chunk-size=2", "-o", "name")
    assert everywhere == "".join(f"pod/{name}\n" for name in ("db-1", "db-2", "web-1", "web-2", "web-3", "dns"))
    assert kubectl("get", "nodes", "--chunk-size=1", "-o", "name") == \
        "node/control-plane\nnode/node-1\nnode/node-2\n"
    listed = json.loads(kubectl("get", "pods", "--chunk-size=2", "-o", "json"))
    assert [p["metadata"]["name"] for p in listed["items"]] == ["db-1", "db-2", "web-1", "web-2", "web-3"]


def test_a_large_list_comes_gzipped_and_decodes_in_both_clients(kubectl, api):
    core = client.CoreV1Api(api)
    for i in range(4):
        core.create_namespaced_pod("default", pod(f"fat-{i}", filler=str(i) * 40_000))
    api.set_default_header("Accept-Encoding", "gzip")
    raw = core.list_namespaced_pod("default", _preload_content=False)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in raw.headers["Vary"]
    assert int(raw.headers["Content-Length"]) < 20_000
    assert len(raw.data) > 160_000  # urllib3 decoded it
    listed = core.list_namespaced_pod("default")
    assert [(p.metadata.name, p.metadata.annotations["filler"]) for p in listed.items] == [
        (f"fat-{i}", str(i) * 40_000) for i in range(4)]
    small = core.list_namespaced_pod("default", limit=1, _preload_content=False)
    assert "Content-Encoding" not in small.headers
    # kubectl's Go transport asks for gzip by itself and unpacks what it gets
    out = json.loads(kubectl("get", "pods", "-o", "json"))
    assert [len(p["metadata"]["annotations"]["filler"]) for p in out["items"]] == [40_000] * 4
