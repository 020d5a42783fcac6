"""Two real server processes, one PostgreSQL database, one Redis: each cluster driven by exactly one engine.

The issue's scenario, as an operator ran it: a Job of 24 completions (parallelism 4) applied through A, clock
advances sent through A and B at the same time, the clock played through B and paused through A. With one engine
per cluster it creates 24 pods, with one SuccessfulCreate each and no SuccessfulDelete, and both processes answer
the same; a websocket on B streams what was done through A. Then the owner is killed (kill -9) in the middle of a
DaemonSet rolling update and a Job, and the other process takes over and finishes both.
"""

import json
import textwrap
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from controllers.apimachinery.timeutil import parse_rfc3339

from tests.manifests import HELLO

from .scaleout import LEASE_SECONDS, deployment


def receive(ws, timeout=30):
    """The stream's next message, put together when it came in parts (a snapshot longer than one frame)."""
    message = json.loads(ws.recv(timeout=timeout))
    parts = []
    while message["type"] == "part":
        parts.append(message["text"])
        if message["last"]:
            return json.loads("".join(parts))
        message = json.loads(ws.recv(timeout=timeout))
    return message

pytestmark = pytest.mark.live

START = "2025-01-01T00:00:00Z"

JOB = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: count
    spec:
      completions: {completions}
      parallelism: {parallelism}
      template:
        spec:
          containers:
          - name: count
            image: busybox:1.36
            command: ["sh", "-c", "sleep 20; echo done"]
          restartPolicy: Never
    """
)

DAEMONSET = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: logs
    spec:
      selector:
        matchLabels: {{app: logs}}
      updateStrategy:
        type: RollingUpdate
        rollingUpdate: {{maxUnavailable: 1}}
      template:
        metadata:
          labels: {{app: logs}}
        spec:
          containers:
          - name: fluentd
            image: {image}
    """
)


def call(server, method, path, body=None, *, content_type="application/json", timeout=180):
    """(status, JSON body) of one request to ``server``."""
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ok(server, method, path, body=None, **kwargs):
    status, answer = call(server, method, path, body, **kwargs)
    assert status in (200, 201), (server.url, method, path, status, answer)
    return answer


def apply(server, cluster, text):
    return ok(server, "POST", f"/sim/clusters/{cluster}/apply", text, content_type="application/yaml")


def clock(server, cluster):
    return ok(server, "GET", f"/sim/clusters/{cluster}/clock")


def job_events(server, cluster, name):
    events = ok(server, "GET", f"/clusters/{cluster}/api/v1/namespaces/default/events")["items"]
    reasons = {}
    for event in events:
        if event["involvedObject"]["kind"] == "Job" and event["involvedObject"]["name"] == name:
            reasons[event["reason"]] = reasons.get(event["reason"], 0) + event.get("count", 1)
    return reasons


def pods(server, cluster, selector):
    path = f"/clusters/{cluster}/api/v1/namespaces/default/pods?labelSelector={urllib.request.quote(selector)}"
    return ok(server, "GET", path)["items"]


def in_background(server, method, path, body):
    """A request sent from a thread of its own: the thread, and a dict whose "reply" is its (status, body) once
    it is answered."""
    answer = {}
    request = threading.Thread(target=lambda: answer.update(reply=call(server, method, path, body, timeout=120)))
    request.start()
    return request, answer


def assert_each_pod_created_once(server, cluster, completions):
    """The Job ``count`` succeeded ``completions`` times with as many pods, each created once (one SuccessfulCreate
    each) and none deleted as surplus: what two engines running one cluster at once break."""
    job = ok(server, "GET", f"/clusters/{cluster}/apis/batch/v1/namespaces/default/jobs/count")["status"]
    assert job["succeeded"] == completions
    assert len(pods(server, cluster, "job-name=count")) == completions
    reasons = job_events(server, cluster, "count")
    assert reasons.get("SuccessfulCreate") == completions, reasons
    assert "SuccessfulDelete" not in reasons, reasons


def wait_for(what, condition, *, timeout):
    """Poll ``condition`` until it answers something true; fail saying ``what`` after ``timeout`` wall seconds
    (a bound on waiting, not a speed target)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("scaleout")) as servers:
        yield servers


def test_one_cluster_driven_through_two_processes_creates_each_pod_once(pair):
    from websockets.sync.client import connect

    a, b = pair
    ok(a, "POST", "/sim/clusters", {"name": "shared", "nodes": 3, "seed": 5, "start": START})

    with connect(f"ws://127.0.0.1:{b.port}/ws/clusters/shared/", open_timeout=30) as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["objects"]["Job"] == []
        apply(a, "shared", JOB.format(completions=24, parallelism=4))

        def frames():
            while True:
                message = receive(ws)
                yield from message["messages"] if message["type"] == "batch" else [message]

        seen = next(m for m in frames() if m["type"] == "event" and m["kind"] == "Job")
        assert (seen["event"], seen["object"]["metadata"]["name"]) == ("ADDED", "count")

    # advances through both at once: each runs once, one after the other, in the one engine
    answers = {}

    def advance(server):
        try:
            answers[server.url] = call(server, "POST", "/sim/clusters/shared/clock/advance",
                                       {"seconds": 20, "wait": 120})
        except Exception as error:  # noqa: BLE001 - said in the assertion below
            answers[server.url] = (None, repr(error))

    threads = [threading.Thread(target=advance, args=(s,)) for s in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers.values()] == [200, 200], answers
    # (two advances asked for at once may both count from the same instant, as with one process)
    at = max(parse_rfc3339(answer["now"]) for _, answer in answers.values())
    assert at >= parse_rfc3339(START) + timedelta(seconds=20)
    assert parse_rfc3339(clock(a, "shared")["now"]) == at
    assert clock(b, "shared") == clock(a, "shared")

    # played through B, paused through A
    played = ok(b, "PATCH", "/sim/clusters/shared/clock", {"paused": False, "speed": 10})
    assert played["paused"] is False
    wait_for("the clock playing", lambda: parse_rfc3339(clock(a, "shared")["now"]) >= at + timedelta(seconds=30),
             timeout=60)
    paused = ok(a, "PATCH", "/sim/clusters/shared/clock", {"paused": True})
    assert paused["paused"] is True
    time.sleep(1)  # had a player gone on somewhere, the clock would have moved by now
    assert clock(b, "shared") == paused == clock(a, "shared")

    # the rest of the Job, through B
    done = ok(b, "POST", "/sim/clusters/shared/clock/advance", {"seconds": 900, "wait": 240}, timeout=300)
    assert done["paused"] is True
    job_path = "/clusters/shared/apis/batch/v1/namespaces/default/jobs/count"
    status_a, status_b = ok(a, "GET", job_path)["status"], ok(b, "GET", job_path)["status"]
    assert status_a == status_b
    assert status_a["succeeded"] == 24
    assert status_a.get("failed", 0) == 0
    assert len(pods(a, "shared", "job-name=count")) == 24
    reasons = job_events(b, "shared", "count")
    assert reasons.get("SuccessfulCreate") == 24, reasons
    assert "SuccessfulDelete" not in reasons, reasons
    assert clock(a, "shared") == clock(b, "shared")

    # and the engine's reasoning, read through either process, is the one engine's
    traces_a = ok(a, "GET", "/sim/clusters/shared/traces?controller=job&limit=5")["items"]
    assert traces_a and traces_a == ok(b, "GET", "/sim/clusters/shared/traces?controller=job&limit=5")["items"]
    snapshots = []
    for server in (a, b):
        with connect(f"ws://127.0.0.1:{server.port}/ws/clusters/shared/", open_timeout=30) as ws:
            snapshots.append(receive(ws))
    assert snapshots[0]["traces"] and snapshots[0]["traces"] == snapshots[1]["traces"]
    # (a paused clock's pending work is known where the engine runs: GET clock asks there, a snapshot elsewhere
    # leaves it out and the page reads the clock after it)
    bare = {key: value for key, value in clock(a, "shared").items() if key != "pending"}
    assert [{key: value for key, value in s["clock"].items() if key != "pending"} for s in snapshots] == [bare, bare]
    assert clock(a, "shared") == clock(b, "shared")


def test_a_pause_stored_by_a_process_that_does_not_run_the_engine_stops_its_run(pair):
    """A teacher pausing a class from one process: the engine running a sandbox's month-long advance elsewhere is
    told and stops there (without it, that run would go on moving the clock after the pause)."""
    import subprocess
    import sys

    from .conftest import ROOT

    a, _ = pair
    ok(a, "POST", "/sim/clusters", {"name": "far", "nodes": 1, "seed": 4, "start": START, "paused": False})
    apply(a, "far", HELLO)
    status, answer = call(a, "POST", "/sim/clusters/far/clock/advance", {"seconds": 30 * 24 * 3600, "wait": 0})
    assert (status, "advance" in answer) == (202, True), answer
    # the pause, stored by a process that holds no lease (a management command's, as a teacher's request would be)
    pause = ("from kubeviz.classroom.services import cluster_set_paused; from kubeviz.store.models import Cluster; "
             "print(cluster_set_paused(Cluster.objects.get(name='far'), True))")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", pause], cwd=ROOT, env=a.env, check=True,
                          capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "True"  # (after the shell's own greeting)

    def still():
        first = clock(a, "far")
        time.sleep(1)
        return first if first == clock(a, "far") else None

    stopped = wait_for("the advance to stop", still, timeout=30)
    assert stopped["paused"] is True and "advance" not in stopped
    assert parse_rfc3339(stopped["now"]) < parse_rfc3339(START) + timedelta(days=30)


def _holder(servers, cluster):
    """The server process holding the cluster's lease, as the database says."""
    import psycopg

    with psycopg.connect(servers[0].env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT l.holder FROM runtime_enginelease l JOIN store_cluster c ON c.id = l.cluster_id "
                           "WHERE c.name = %s AND l.expires_at > now()", [cluster]).fetchone()
    if row is None:
        return None
    return next((s for s in servers if f"-{s.process.pid}-" in row[0]), None)


def test_the_other_process_takes_over_when_the_owner_is_killed(tmp_path):
    with deployment(tmp_path) as servers:
        a, b = servers
        ok(a, "POST", "/sim/clusters", {"name": "ha", "nodes": 3, "seed": 9, "start": START})
        apply(a, "ha", DAEMONSET.format(image="fluentd:v1"))
        ok(a, "POST", "/sim/clusters/ha/clock/advance", {"seconds": 60, "wait": 120})
        owner = _holder(servers, "ha")
        assert owner is not None
        survivor = b if owner is a else a

        apply(survivor, "ha", DAEMONSET.format(image="fluentd:v2"))
        apply(survivor, "ha", JOB.format(completions=12, parallelism=3))
        ok(survivor, "PATCH", "/sim/clusters/ha/clock", {"paused": False, "speed": 4})

        def midway():
            ds = ok(survivor, "GET", "/clusters/ha/apis/apps/v1/namespaces/default/daemonsets/logs")["status"]
            job = ok(survivor, "GET", "/clusters/ha/apis/batch/v1/namespaces/default/jobs/count")["status"]
            return 1 <= ds.get("updatedNumberScheduled", 0) < 3 and 0 < job.get("active", 0)

        wait_for("the rolling update and the Job under way", midway, timeout=120)
        owner.kill()
        stood = parse_rfc3339(clock(survivor, "ha")["now"])

        wait_for("the survivor taking the cluster over and playing it on",
                 lambda: parse_rfc3339(clock(survivor, "ha")["now"]) > stood + timedelta(seconds=2),
                 timeout=3 * LEASE_SECONDS + 20)
        assert _holder(servers, "ha") is survivor

        ok(survivor, "PATCH", "/sim/clusters/ha/clock", {"paused": True})
        after = ok(survivor, "POST", "/sim/clusters/ha/clock/advance", {"seconds": 900, "wait": 240}, timeout=300)
        assert parse_rfc3339(after["now"]) >= stood + timedelta(seconds=900)

        daemons = pods(survivor, "ha", "app=logs")
        nodes = sorted(p["spec"].get("nodeName") for p in daemons)
        assert nodes == ["node-1", "node-2", "node-3"], nodes
        assert {p["spec"]["containers"][0]["image"] for p in daemons} == {"fluentd:v2"}
        assert all("deletionTimestamp" not in p["metadata"] for p in daemons)
        ds = ok(survivor, "GET", "/clusters/ha/apis/apps/v1/namespaces/default/daemonsets/logs")["status"]
        assert (ds["updatedNumberScheduled"], ds["numberAvailable"], ds["desiredNumberScheduled"]) == (3, 3, 3)

        assert_each_pod_created_once(survivor, "ha", 12)


def test_a_stopped_process_gives_its_clusters_up_at_once(tmp_path):
    """SIGTERM: the process stops its runs and gives its leases up, so the other takes them over without waiting for
    them to expire; the clock goes on from where it stood."""
    import psycopg

    with deployment(tmp_path) as servers:
        a, _ = servers
        ok(a, "POST", "/sim/clusters", {"name": "calm", "nodes": 1, "seed": 3, "start": START})
        ok(a, "PATCH", "/sim/clusters/calm/clock", {"paused": False})
        owner = wait_for("a process playing the cluster", lambda: _holder(servers, "calm"), timeout=30)
        survivor = next(s for s in servers if s is not owner)
        owner.stop()  # SIGTERM, waited for
        # its lease, renewed a moment ago, is no longer its own: given up (and perhaps taken by the survivor already)
        assert _holder(servers, "calm") is not owner
        with psycopg.connect(servers[0].env["DATABASE_URL"]) as conn:
            processes = [row[0] for row in conn.execute("SELECT identity FROM runtime_engineprocess")]
        assert [f"-{survivor.process.pid}-" in p for p in processes] == [True]
        stood = parse_rfc3339(clock(survivor, "calm")["now"])
        wait_for("the survivor playing the cluster on",
                 lambda: parse_rfc3339(clock(survivor, "calm")["now"]) > stood, timeout=30)
        assert _holder(servers, "calm") is survivor


def test_wrong_class_codes_are_counted_across_the_processes(tmp_path):
    """The join form's allowance of wrong codes per address is one for the whole deployment, kept in Redis: a
    guesser whose tries nginx spreads over the processes is refused after as many tries as with one process."""
    from tests.classroom.live import Browser

    allowed = 4
    env = {"KUBEVIZ_CLASSROOM": "true", "KUBEVIZ_JOIN_FAILURES": str(allowed)}
    with deployment(tmp_path, extra_env=env) as servers:
        guessers = [Browser(server) for server in servers]
        statuses = [guessers[i % 2].form("/join/", {"code": f"WRONG{i}", "name": "mallory"})[0]
                    for i in range(allowed + 2)]
        assert statuses == [400] * allowed + [429, 429], statuses
        # and it is the address that is refused, on every process, whichever code comes next
        assert [Browser(server).form("/join/", {"code": "ANY", "name": "x"})[0] for server in servers] == [429, 429]


def test_web_processes_leave_every_engine_to_the_engine_process(tmp_path):
    """deploy/serve_class.py --engines: a web process (``KUBEVIZ_ENGINES=false``) sends what drives an engine to the
    engine process, which runs the cluster. When the engine process dies, the web process runs the cluster meanwhile,
    and gives it back to the engine process that comes up again; the Job creates each of its pods once throughout."""
    import psycopg

    def now(server):
        return parse_rfc3339(clock(server, "split")["now"])

    with deployment(tmp_path, envs=[{"KUBEVIZ_ENGINES": "false"}, {}]) as servers:
        web, engine = servers
        ok(web, "POST", "/sim/clusters", {"name": "split", "nodes": 2, "seed": 5, "start": START})
        apply(web, "split", JOB.format(completions=8, parallelism=2))
        ok(web, "POST", "/sim/clusters/split/clock/advance", {"seconds": 30, "wait": 120})
        assert _holder(servers, "split") is engine
        with psycopg.connect(web.env["DATABASE_URL"]) as conn:
            processes = [row[0] for row in conn.execute("SELECT identity FROM runtime_engineprocess")]
        assert [f"-{engine.process.pid}-" in p for p in processes] == [True]  # the web process is not a candidate
        assert now(web) == now(engine) == parse_rfc3339(START) + timedelta(seconds=30)

        ok(web, "PATCH", "/sim/clusters/split/clock", {"paused": False, "speed": 4})
        stood = now(web)
        wait_for("the engine process playing the cluster", lambda: now(web) > stood + timedelta(seconds=2), timeout=30)
        assert _holder(servers, "split") is engine

        engine.kill()
        stood = now(web)
        wait_for("the web process running the cluster while no engine process is alive",
                 lambda: _holder(servers, "split") is web and now(web) > stood + timedelta(seconds=2),
                 timeout=3 * LEASE_SECONDS + 20)

        engine.start()  # a new engine process, on the same port
        wait_for("the engine process taking the cluster back", lambda: _holder(servers, "split") is engine,
                 timeout=3 * LEASE_SECONDS + 20)
        stood = now(web)
        wait_for("the engine process playing it on", lambda: now(web) > stood + timedelta(seconds=2), timeout=30)

        ok(web, "PATCH", "/sim/clusters/split/clock", {"paused": True})
        ok(web, "POST", "/sim/clusters/split/clock/advance", {"seconds": 600, "wait": 240}, timeout=300)
        assert_each_pod_created_once(web, "split", 8)


def test_a_request_whose_engine_process_died_is_answered_by_the_one_taking_over(tmp_path):
    """A web process waiting for the answer of an engine process that dies (kill -9) asks the engine process that
    takes the cluster over, and passes its answer on: the client never learns that the first one died."""
    with deployment(tmp_path, 3, envs=[{"KUBEVIZ_ENGINES": "false"}, {}, {}]) as servers:
        web, *engines = servers
        ok(web, "POST", "/sim/clusters", {"name": "busy", "nodes": 2, "seed": 8, "start": START})
        apply(web, "busy", HELLO)  # a CronJob every minute
        # weeks of a CronJob every minute: far more than a few seconds of work
        request, answer = in_background(web, "POST", "/sim/clusters/busy/clock/advance",
                                        {"seconds": 14 * 86400, "wait": 8})
        wait_for("the advance under way in the engine process",
                 lambda: _stored_now(web, "busy") > parse_rfc3339(START), timeout=30)
        first = _holder(servers, "busy")
        assert first in engines
        first.kill()
        request.join(timeout=100)
        assert not request.is_alive()
        status, body = answer["reply"]
        assert status in (200, 202), body  # the other engine process's answer: done, or going on in the background
        second = _holder(servers, "busy")
        assert second in engines and second is not first
        assert parse_rfc3339(body["now"]) > parse_rfc3339(START)


def _stored_now(server, cluster):
    """The cluster's clock as stored (what a reader of the database sees while a run goes on)."""
    import psycopg

    with psycopg.connect(server.env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT sim_now FROM store_cluster WHERE name = %s", [cluster]).fetchone()[0]


def test_serve_class_runs_web_processes_behind_nginx_and_an_engine_process_beside_them(tmp_path):
    """``deploy/serve_class.py --processes 2 --engines 1`` (``make serve-class N=2 E=1``), as a school starts it:
    nginx on PORT answers, a cluster played through it runs in the engine process on PORT+3, and SIGTERM stops
    every process it started."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    import psycopg

    from tests.live.conftest import ROOT

    from .scaleout import REDIS_URL, fresh_database, services_or_skip

    services_or_skip()

    def free_run(count):  # ``count`` consecutive free ports
        for _ in range(50):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                base = s.getsockname()[1]
            if base + count < 65536 and all(_port_free(base + i) for i in range(count)):
                return base
        pytest.fail("no consecutive free ports")

    port = free_run(4)
    with fresh_database() as database_url:
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=REDIS_URL,
                   REDIS_PREFIX=f"kubeviz-test-{port}", SECRET_KEY="k" * 60, KUBEVIZ_LEASE_SECONDS="4")
        log = open(tmp_path / "serve_class.log", "w")
        launcher = subprocess.Popen([sys.executable, "deploy/serve_class.py", "--processes", "2", "--engines", "1",
                                     "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            front = type("Front", (), {"url": f"http://127.0.0.1:{port}"})()
            wait_for("nginx answering", lambda: _answers(front.url), timeout=120)
            ok(front, "POST", "/sim/clusters", {"name": "school", "nodes": 2, "seed": 4, "start": START})
            ok(front, "PATCH", "/sim/clusters/school/clock", {"paused": False, "speed": 10})
            wait_for("the clock playing", lambda: parse_rfc3339(clock(front, "school")["now"])
                     > parse_rfc3339(START) + timedelta(seconds=5), timeout=60)
            with psycopg.connect(database_url) as conn:
                holder = conn.execute("SELECT l.holder FROM runtime_enginelease l JOIN store_cluster c "
                                      "ON c.id = l.cluster_id WHERE c.name = 'school'").fetchone()[0]
            pid = int(holder.split("-")[-2])
            arguments = open(f"/proc/{pid}/cmdline").read().split("\0")
            assert arguments[arguments.index("-p") + 1] == str(port + 3)  # the engine process, not behind nginx
            assert "KUBEVIZ_ENGINES=false" not in open(f"/proc/{pid}/environ").read().split("\0")
            children = [int(p) for p in subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True,
                                                       text=True).stdout.split()]
            assert len(children) == 4  # three Daphne processes and nginx
        finally:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=60)
            log.close()
        assert all(not os.path.exists(f"/proc/{child}") for child in children), \
            (tmp_path / "serve_class.log").read_text()[-2000:]


def _port_free(port):
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(url):
    try:
        with urllib.request.urlopen(url + "/clusters/default/version", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_recordings_imported_and_forked_through_a_web_process_replay_there(tmp_path):
    """An import or a fork replays inside its request, on the process that got it: a web process takes the new
    cluster's lease for the replay (nobody runs a new cluster yet), and gives it back to the engine processes after."""
    with deployment(tmp_path, envs=[{"KUBEVIZ_ENGINES": "false"}, {}]) as servers:
        web, engine = servers
        ok(web, "POST", "/sim/clusters", {"name": "orig", "nodes": 2, "seed": 6, "start": START})
        apply(web, "orig", JOB.format(completions=4, parallelism=2))
        ok(web, "POST", "/sim/clusters/orig/clock/advance", {"seconds": 30, "wait": 120})
        recording = ok(web, "GET", "/sim/clusters/orig/recording")

        def phases(cluster):
            return sorted((p["metadata"]["name"], p["status"]["phase"]) for p in pods(web, cluster, "job-name=count"))

        ok(web, "POST", "/sim/recordings?name=copy", recording)
        ok(web, "POST", "/sim/clusters/orig/fork", {"name": "branch"})
        for copy in ("copy", "branch"):
            assert clock(web, copy)["now"] == clock(web, "orig")["now"]
            assert phases(copy) == phases("orig") and len(phases(copy)) == 4, copy  # two done, two running
        # given back: the next run of the copy is the engine process's
        wait_for("the web process giving the copy back", lambda: _holder(servers, "copy") is not web,
                 timeout=3 * LEASE_SECONDS)
        ok(web, "POST", "/sim/clusters/copy/clock/advance", {"seconds": 600, "wait": 120})
        assert _holder(servers, "copy") is engine
        assert [p for _, p in phases("copy")] == ["Succeeded"] * 4


def test_a_web_process_keeps_a_cluster_it_is_running_until_the_run_ends(tmp_path):
    """A web process running a cluster while no engine process is alive does not give its lease up in the middle of
    a run when an engine process comes up: the advance it serves ends as asked."""
    with deployment(tmp_path, envs=[{"KUBEVIZ_ENGINES": "false"}, {}]) as servers:
        web, engine = servers
        engine.stop()  # no engine process: the web process runs what it is asked to
        ok(web, "POST", "/sim/clusters", {"name": "alone", "nodes": 2, "seed": 2, "start": START})
        apply(web, "alone", JOB.format(completions=400, parallelism=40))
        request, answer = in_background(web, "POST", "/sim/clusters/alone/clock/advance",
                                        {"seconds": 3 * 3600, "wait": 60})
        wait_for("the web process running the advance",
                 lambda: _holder(servers, "alone") is web and _stored_now(web, "alone") > parse_rfc3339(START),
                 timeout=30)
        engine.start()
        # clock reads through the web process meanwhile, each of which would place a cluster nobody holds live
        until = time.monotonic() + 2 * LEASE_SECONDS
        while request.is_alive() and time.monotonic() < until:
            clock(web, "alone")
            time.sleep(0.3)
        request.join(timeout=110)
        status, body = answer["reply"]
        assert status in (200, 202), body  # not cut short (409) by a lease given up under it
        if status == 200:
            assert parse_rfc3339(body["now"]) == parse_rfc3339(START) + timedelta(hours=3)
        else:
            assert parse_rfc3339(body["advance"]["target"]) == parse_rfc3339(START) + timedelta(hours=3)
