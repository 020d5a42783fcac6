"""The real kubectl in classroom mode: with a fresh HOME and the kubeconfig a learner downloads, it reaches the
learner's own sandbox and nothing else; the in-page console likewise, whatever flags are typed."""

import os
import shutil
import subprocess

import pytest

from .live import classroom_server, learner, set_up_class

pytestmark = pytest.mark.live

KUBECTL = "/usr/bin/kubectl"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = classroom_server(tmp_path_factory.mktemp("classroom"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def room(server):
    teacher, class_id, code = set_up_class(server)
    a, cluster_a = learner(server, code, "Ada")
    b, cluster_b = learner(server, code, "Bob")
    return {"teacher": teacher, "a": a, "b": b, "cluster_a": cluster_a, "cluster_b": cluster_b}


def kubectl(home, kubeconfig, *args):
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "KUBECONFIG": str(kubeconfig)}
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, cwd=home, timeout=60)


@pytest.mark.skipif(shutil.which(KUBECTL) is None, reason=f"{KUBECTL} is not installed")
def test_the_downloaded_kubeconfig_reaches_its_own_sandbox_only(server, room, tmp_path):
    configs = {}
    for who in ("a", "b"):
        status, headers, body = room[who].get(f"/sim/clusters/{room[f'cluster_{who}']}/kubeconfig")
        assert status == 200 and headers["Content-Type"] == "application/yaml"
        configs[who] = tmp_path / f"kubeconfig-{who}.yaml"
        configs[who].write_bytes(body)
        assert room[f"cluster_{who}"].encode() not in body.split(b"server:")[1].split(b"\n")[0]
    home_a, home_b = tmp_path / "home-a", tmp_path / "home-b"

    nodes = kubectl(home_a, configs["a"], "get", "nodes")
    assert nodes.returncode == 0, nodes.stderr
    assert "node-1" in nodes.stdout
    made = kubectl(home_a, configs["a"], "create", "namespace", "ada-was-here")
    assert made.returncode == 0, made.stderr
    mine = kubectl(home_a, configs["a"], "get", "namespaces", "-o", "name").stdout
    theirs = kubectl(home_b, configs["b"], "get", "namespaces", "-o", "name").stdout
    assert "namespace/ada-was-here" in mine and "ada-was-here" not in theirs

    # The cluster's name grants nothing: over http kubectl sends no credentials to a server URL.
    # (Discovery is refused first, as a real cluster refuses it to system:anonymous; --raw shows the Status.)
    for cluster in (room["cluster_b"], room["cluster_a"]):
        refused = kubectl(home_a, configs["a"], "--server", f"{server.url}/clusters/{cluster}", "get", "jobs")
        assert refused.returncode == 1
        assert "Error from server (Forbidden)" in refused.stderr and "No resources" not in refused.stdout
        raw = kubectl(home_a, configs["a"], "--server", server.url, "get", "--raw",
                      f"/clusters/{cluster}/apis/batch/v1/namespaces/default/jobs")
        assert raw.returncode == 1
        assert raw.stderr.strip().endswith(
            'Error from server (Forbidden): jobs.batch is forbidden: User "system:anonymous" cannot list resource '
            '"jobs" in API group "batch" in the namespace "default"'), raw.stderr
    bogus = kubectl(home_a, configs["a"], "--server", f"{server.url}/k/not-a-token", "get", "pods")
    assert bogus.returncode == 1
    assert "error: You must be logged in to the server" in bogus.stderr  # as against a real cluster


def test_the_console_reaches_its_own_sandbox_whatever_is_typed(server, room):
    a, b, cluster_a, cluster_b = room["a"], room["b"], room["cluster_a"], room["cluster_b"]

    def console(browser, cluster, command):
        status, body = browser.json("POST", f"/sim/clusters/{cluster}/console", {"command": command})
        return status, body

    status, body = console(a, cluster_a, "kubectl get nodes")
    assert status == 200 and body["exitCode"] == 0 and "node-1" in body["stdout"], body
    status, body = console(a, cluster_a, "kubectl get --raw /api/v1/namespaces/default")
    assert status == 200 and '"name":"default"' in body["stdout"], body
    for escape in (f"kubectl --server={server.url}/clusters/{cluster_b} get pods",
                   f"kubectl -s {server.url}/clusters/{cluster_b} get pods",
                   "kubectl --kubeconfig=/etc/passwd get pods", "kubectl --context=other get pods",
                   "kubectl --token=x get pods", f"kubectl get --raw /../clusters/{cluster_b}/api/v1/pods",
                   f"kubectl get --raw //{cluster_b}/api"):
        status, body = console(a, cluster_a, escape)
        assert status == 200 and body["exitCode"] == 1 and body["stdout"] == "", (escape, body)
    # A --raw path stays under A's capability: another capability's path is no API path there.
    status, body = console(a, cluster_a, "kubectl get --raw /k/anything/api/v1/pods")
    assert body["exitCode"] == 1 and "NotFound" in body["stderr"] + body["stdout"] or "not find" in body["stderr"]
    # B's session may not run A's console, and nobody may.
    assert console(b, cluster_a, "kubectl get pods")[0] == 403
    from .live import Browser

    assert console(Browser(server), cluster_a, "kubectl get pods")[0] == 401
    # The teacher of the class may.
    status, body = console(room["teacher"], cluster_a, "kubectl get nodes")
    assert status == 200 and body["exitCode"] == 0, body
