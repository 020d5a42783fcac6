"""Reads at a past revision through a live server, with the official client and the real kubectl (a fresh HOME
each): the Pod of the pi Job as it was while it ran, after it has finished."""

import json
import shutil
import subprocess
import urllib.request
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.manifests import PI

pytestmark = pytest.mark.live
KUBECTL = "/usr/bin/kubectl"


def call(server, path, body=None, content_type="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(server.url + path, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def finished_pi(kubeviz_server):
    name = f"past-{uuid.uuid4().hex[:6]}"
    call(kubeviz_server, "/sim/clusters", {"name": name, "nodes": 2, "seed": 1, "start": "2025-01-01T00:00:00Z"})
    call(kubeviz_server, f"/sim/clusters/{name}/apply", PI.encode(), "application/yaml")
    call(kubeviz_server, f"/sim/clusters/{name}/clock/advance", {"seconds": 120})
    changes = call(kubeviz_server, f"/sim/clusters/{name}/history?kind=Pod")["changes"]
    running = next(c for c in changes if c["object"].get("status", {}).get("phase") == "Running")
    return name, running


def test_the_official_client_lists_pods_as_they_were(kubeviz_server, finished_pi):
    name, running = finished_pi
    configuration = client.Configuration()
    configuration.host = f"{kubeviz_server.url}/clusters/{name}"
    with client.ApiClient(configuration) as api:
        core = client.CoreV1Api(api)
        assert [p.status.phase for p in core.list_namespaced_pod("default").items] == ["Succeeded"]
        then = core.list_namespaced_pod("default", resource_version=str(running["resourceVersion"]),
                                        resource_version_match="Exact")
        assert then.metadata.resource_version == str(running["resourceVersion"])
        assert [(p.metadata.name, p.status.phase) for p in then.items] == [(running["name"], "Running")]
        with pytest.raises(ApiException) as ahead:
            core.list_namespaced_pod("default", resource_version="999999", resource_version_match="Exact")
        assert ahead.value.status == 504
        assert json.loads(ahead.value.body)["message"].startswith("Timeout: Too large resource version: 999999")


@pytest.mark.skipif(shutil.which(KUBECTL) is None, reason=f"{KUBECTL} is not installed")
def test_kubectl_get_raw_reads_one_pod_at_a_revision(kubeviz_server, finished_pi, tmp_path):
    name, running = finished_pi
    # kubectl's --raw path is the server's own: the cluster's URL prefix included
    path = (f"/clusters/{name}/api/v1/namespaces/default/pods?resourceVersion={running['resourceVersion']}"
            f"&resourceVersionMatch=Exact&fieldSelector=metadata.name%3D{running['name']}")
    done = subprocess.run([KUBECTL, "--server", f"{kubeviz_server.url}/clusters/{name}", "get", "--raw", path],
                          capture_output=True, text=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          timeout=30)
    assert done.returncode == 0, done.stderr
    (pod,) = json.loads(done.stdout)["items"]
    assert pod["status"]["phase"] == "Running"
    assert pod["metadata"]["resourceVersion"] == str(running["resourceVersion"])
    bad = subprocess.run([KUBECTL, "--server", f"{kubeviz_server.url}/clusters/{name}", "get", "--raw",
                          f"/clusters/{name}/api/v1/pods?resourceVersionMatch=Exact"],
                         capture_output=True, text=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         timeout=30)
    assert bad.returncode == 1
    assert "resourceVersionMatch is forbidden unless resourceVersion is provided" in bad.stderr
