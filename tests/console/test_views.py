"""The kubectl console's endpoint, ``POST /sim/clusters/<name>/console``: the real kubectl run by the server
against its own cluster, answering exactly what kubectl prints when run directly; refused command lines never
reach kubectl.

The live tests go through a real Daphne server (one thread for sync views), which is where a blocking view would
deadlock while kubectl calls back into the server.
"""

import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kubeviz.console import runner
from tests.live.conftest import kubeviz_server  # noqa: F401 - the session's live Daphne server

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = "/usr/bin/kubectl"
START = "2025-01-01T00:00:00Z"
PI = (ROOT / "kubeviz" / "dashboard" / "examples" / "pi.yaml").read_text()

needs_kubectl = pytest.mark.skipif(shutil.which(KUBECTL) is None, reason=f"{KUBECTL} is not installed")


def post(server, path, body):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def live_cluster(kubeviz_server):  # noqa: F811
    name = f"con-{uuid.uuid4().hex[:8]}"
    post(kubeviz_server, "/sim/clusters", {"name": name, "nodes": 2, "seed": 1, "start": START, "paused": True})
    return name


def run(server, cluster, command, stdin=None):
    body = {"command": command}
    if stdin is not None:
        body["stdin"] = stdin
    return post(server, f"/sim/clusters/{cluster}/console", body)


def direct(server, cluster, *args, home):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "KUBECACHEDIR": str(home / "cache"), "KUBECONFIG": str(home / "config"), "LANG": "C.UTF-8"}
    done = subprocess.run([KUBECTL, "--server", f"{server.url}/clusters/{cluster}", *args], capture_output=True,
                          text=True, env=env, cwd=home, timeout=30)
    return done


# --- through the live server ---------------------------------------------------------------------------------

@needs_kubectl
@pytest.mark.live
def test_get_nodes_prints_what_kubectl_prints(kubeviz_server, live_cluster, tmp_path):  # noqa: F811
    answer = run(kubeviz_server, live_cluster, "kubectl get nodes")
    expected = direct(kubeviz_server, live_cluster, "get", "nodes", home=tmp_path)
    assert answer["exitCode"] == 0 == expected.returncode
    assert answer["stdout"].splitlines() == expected.stdout.splitlines()
    assert answer["stdout"].splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(answer["stdout"].splitlines()) == 4  # control-plane and two workers
    wide = run(kubeviz_server, live_cluster, "k get no -o wide")
    assert wide["stdout"] == direct(kubeviz_server, live_cluster, "get", "no", "-o", "wide", home=tmp_path).stdout


@needs_kubectl
@pytest.mark.live
def test_apply_from_stdin_then_get_and_errors(kubeviz_server, live_cluster, tmp_path):  # noqa: F811
    created = run(kubeviz_server, live_cluster, "kubectl apply -f -", stdin=PI)
    assert created == {"stdout": "job.batch/pi created\n", "stderr": "", "exitCode": 0}
    assert run(kubeviz_server, live_cluster, "kubectl apply -f -", stdin=PI)["stdout"] == "job.batch/pi unchanged\n"
    jobs = run(kubeviz_server, live_cluster, "kubectl get jobs")
    assert jobs["stdout"] == direct(kubeviz_server, live_cluster, "get", "jobs", home=tmp_path).stdout
    assert jobs["stdout"].startswith("NAME   STATUS    COMPLETIONS   DURATION   AGE\npi ")
    missing = run(kubeviz_server, live_cluster, "kubectl get job nope")
    assert missing == {"stdout": "", "stderr": 'Error from server (NotFound): jobs.batch "nope" not found\n',
                       "exitCode": 1}
    ds = run(kubeviz_server, live_cluster, "kubectl get ds -n kube-system")
    assert ds["stdout"] == direct(kubeviz_server, live_cluster, "get", "ds", "-n", "kube-system",
                                  home=tmp_path).stdout


@needs_kubectl
@pytest.mark.live
def test_the_history_tells_the_consoles_writes_from_a_kubectl_of_ones_own(kubeviz_server, live_cluster,  # noqa: F811
                                                                           tmp_path):
    assert run(kubeviz_server, live_cluster, "kubectl apply -f -", stdin=PI)["exitCode"] == 0
    (tmp_path / "other.yaml").write_text(PI.replace("name: pi", "name: pi-direct", 1))
    done = direct(kubeviz_server, live_cluster, "apply", "-f", str(tmp_path / "other.yaml"), home=tmp_path)
    assert done.returncode == 0, done.stderr
    with urllib.request.urlopen(f"{kubeviz_server.url}/sim/clusters/{live_cluster}/history?kind=Job",
                                timeout=30) as response:
        changes = json.loads(response.read())["changes"]
    assert {c["name"]: c["actor"] for c in changes} == {
        "pi": {"type": "user", "door": "console", "who": None},
        "pi-direct": {"type": "user", "door": "kubectl", "who": None},
    }


@needs_kubectl
@pytest.mark.live
def test_describe_says_when_its_event_ages_are_not_simulated_time(kubeviz_server, live_cluster):  # noqa: F811
    run(kubeviz_server, live_cluster, "kubectl apply -f -", stdin=PI)
    post(kubeviz_server, f"/sim/clusters/{live_cluster}/clock/advance", {"seconds": 30})
    described = run(kubeviz_server, live_cluster, "kubectl describe job pi")
    assert described["exitCode"] == 0 and "SuccessfulCreate" in described["stdout"]
    assert described["note"] == (
        "(kubectl describe works out the ages of Events from this computer's clock, but this cluster's simulated "
        "clock reads 2025-01-01T00:00:30Z: those ages are off. `kubectl get events` shows them in simulated time.)")
    assert "note" not in run(kubeviz_server, live_cluster, "kubectl get events")
    # A cluster whose clock is the computer's needs no note.
    name = f"now-{live_cluster}"
    post(kubeviz_server, "/sim/clusters", {"name": name, "nodes": 1, "paused": True})
    assert "note" not in run(kubeviz_server, name, "kubectl describe nodes")


@needs_kubectl
@pytest.mark.live
def test_refused_command_lines_answer_clear_errors(kubeviz_server, live_cluster):  # noqa: F811
    cases = {
        "kubectl apply edit-last-applied job/pi": "opens no editor",
        "kubectl edit job/pi": 'does not run "kubectl edit"',
        "kubectl get pods --server http://example.com": "talks to this cluster only",
        "kubectl get pods -s http://example.com": "talks to this cluster only",
        "kubectl --kubeconfig=/etc/passwd get pods": "talks to this cluster only",
        "kubectl get pods --token=abc": "talks to this cluster only",
        "kubectl create job x --from_file=/etc/passwd": "reads no files of the server",
        "kubectl create job x --from_env_file=/etc/passwd": "reads no files of the server",
        "kubectl patch job pi --patch_file=/etc/passwd": "reads no files of the server",
        "kubectl get pods --cache_dir=/tmp/kubeviz-console-test": "reads no files of the server",
        "kubectl apply -f /etc/passwd": "reads no files of the server",
        "kubectl apply --filename=job.yaml": "reads no files of the server",
        "kubectl get --raw /../../sim/clusters": "--raw takes a path of this cluster's API",
        "kubectl exec -it pi -- sh": 'does not run "kubectl exec"',
        "kubectl run x --image=busybox": 'does not run "kubectl run"',
        "rm -rf /": 'unknown command "rm"',
        "kubectl get pods 'unclosed": "cannot parse",
    }
    for command, text in cases.items():
        started = time.monotonic()
        answer = run(kubeviz_server, live_cluster, command)
        assert time.monotonic() - started < 2, command  # refused at once, never waiting on a kubectl
        assert answer["exitCode"] == 1 and answer["stdout"] == "", command
        assert answer["stderr"].startswith("error: ") and text in answer["stderr"], (command, answer)
    assert not Path("/tmp/kubeviz-console-test").exists()


@needs_kubectl
@pytest.mark.live
def test_get_raw_reads_this_clusters_api_only(kubeviz_server, live_cluster):  # noqa: F811
    """``get --raw /apis/batch/v1`` works as on a real cluster (kubectl itself would send it to the server's root,
    outside the cluster's prefix, where another cluster or /sim could be reached)."""
    answer = run(kubeviz_server, live_cluster, "kubectl get --raw /api/v1/namespaces/default")
    assert answer["exitCode"] == 0, answer
    assert json.loads(answer["stdout"])["metadata"]["name"] == "default"
    nested = run(kubeviz_server, live_cluster, "kubectl get --raw /clusters/default/api/v1/nodes")
    assert nested["exitCode"] == 1 and "NotFound" in nested["stderr"]


@needs_kubectl
@pytest.mark.live
def test_commands_running_at_once_are_limited_per_cluster(kubeviz_server, live_cluster):  # noqa: F811
    """Two watches run on one cluster; a third is refused at once (429) while they do, and runs afterwards."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        watches = [pool.submit(run, kubeviz_server, live_cluster, "kubectl get pods -w") for _ in range(2)]
        time.sleep(1.5)  # both have started (each runs for the console's watch window, 3 s)
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as busy:
            run(kubeviz_server, live_cluster, "kubectl get nodes")
        assert time.monotonic() - started < 1
        assert busy.value.code == 429
        answer = json.loads(busy.value.read())
        assert answer["exitCode"] == 1 and "already running on this cluster" in answer["stderr"]
        assert all("stopped after" in w.result()["note"] for w in watches)
    assert run(kubeviz_server, live_cluster, "kubectl get nodes")["exitCode"] == 0


@needs_kubectl
@pytest.mark.live
def test_a_watch_ends_within_the_window(kubeviz_server, live_cluster):  # noqa: F811
    run(kubeviz_server, live_cluster, "kubectl apply -f -", stdin=PI)
    started = time.monotonic()
    answer = run(kubeviz_server, live_cluster, "kubectl get jobs -w")
    took = time.monotonic() - started
    assert took < runner.WATCH_SECONDS + 3
    assert answer["stdout"].startswith("NAME   STATUS")
    assert "stopped after" in answer["note"]
    # The server kept serving while the watch ran (no deadlock): the next command answers at once.
    assert run(kubeviz_server, live_cluster, "kubectl get pods -w")["note"]
    assert run(kubeviz_server, live_cluster, "kubectl version")["stdout"].startswith("Client Version: v1.32.")


@pytest.mark.live
def test_unknown_cluster_and_bad_bodies_are_statuses(kubeviz_server):  # noqa: F811
    with pytest.raises(urllib.error.HTTPError) as missing:
        run(kubeviz_server, "no-such-cluster", "kubectl get pods")
    assert missing.value.code == 404
    assert json.loads(missing.value.read())["message"] == 'clusters "no-such-cluster" not found'
    with pytest.raises(urllib.error.HTTPError) as bad:
        post(kubeviz_server, "/sim/clusters/default/console", {"command": 3})
    assert bad.value.code == 422


# --- a refused line never starts kubectl --------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_a_refused_line_never_starts_kubectl(monkeypatch, cluster):
    from django.test import AsyncClient

    started = []

    async def spy(*args, **kwargs):
        started.append(args)
        raise AssertionError("kubectl must not run")

    monkeypatch.setattr(runner.asyncio, "create_subprocess_exec", spy)
    client = AsyncClient()
    for command in ("kubectl get pods --server http://evil", "kubectl apply -f /etc/passwd", "kubectl exec x"):
        response = await client.post("/sim/clusters/test/console", {"command": command},
                                     content_type="application/json")
        assert response.status_code == 200
        assert response.json()["exitCode"] == 1
    assert started == []
