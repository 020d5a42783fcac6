"""One cluster's long run never stalls the others: the engine works in slices, a long advance answers 202 and goes on
in the background (cancellable), and a pause is answered while it runs and stops it.

A real server process (Daphne over its own SQLite file), so the request threads, the background thread and the
database's writer queue are the real ones."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.live

START = "2025-01-01T00:00:00Z"


def job(name: str, *, completions: int, parallelism: int, sleep: int) -> str:
    return f"""\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completions: {completions}
  parallelism: {parallelism}
  backoffLimit: 0
  template:
    spec:
      containers:
      - name: work
        image: busybox:1.36
        command: ["sh", "-c", "sleep {sleep}"]
      restartPolicy: Never
"""


def call(server, method, path, body=None, content_type="application/json"):
    """(status, JSON body) of one request; error statuses are answers too."""
    data = body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def create(server, name, *, nodes=3, seed=5):
    status, body = call(server, "POST", "/sim/clusters", {"name": name, "nodes": nodes, "seed": seed, "start": START})
    assert status == 201, body


def apply(server, name, text):
    return call(server, "POST", f"/sim/clusters/{name}/apply", text, content_type="application/yaml")


def clock(server, name):
    return call(server, "GET", f"/sim/clusters/{name}/clock")[1]


def server_log(server) -> str:
    server.log.flush()
    return (server.tmp / "daphne.log").read_text()[-4000:]


def wait_for_the_advance(server, name, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = clock(server, name)
        if "advance" not in now:
            return now
        time.sleep(0.2)
    raise AssertionError(f"{name}: the background advance did not finish in {timeout} s")


def pods(server, name):
    return call(server, "GET", f"/clusters/{name}/api/v1/namespaces/default/pods")[1]["items"]


def test_a_long_advance_answers_202_goes_on_in_the_background_and_ends_as_a_waited_one(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    manifest = job("batch", completions=600, parallelism=100, sleep=10)
    for name in ("waited", "background"):
        create(server, name)
        assert apply(server, name, manifest)[0] == 200

    status, waited = call(server, "POST", "/sim/clusters/waited/clock/advance", {"seconds": 300, "wait": 300})
    assert status == 200 and waited["now"] == "2025-01-01T00:05:00Z" and "advance" not in waited

    status, answer = call(server, "POST", "/sim/clusters/background/clock/advance", {"seconds": 300, "wait": 0})
    assert status == 202
    assert answer["advance"] == {"from": START, "target": "2025-01-01T00:05:00Z"}
    assert answer["now"] < "2025-01-01T00:05:00Z"
    # one advance at a time
    status, conflict = call(server, "POST", "/sim/clusters/background/clock/advance", {"seconds": 1})
    if status != 409:
        pytest.fail(f"expected 409, got {status} {conflict}; the server's log:\n{server_log(server)}")
    assert conflict["reason"] == "Conflict"
    assert conflict["message"] == ('cluster "background" is already advancing to 2025-01-01T00:05:00Z: wait for it, '
                                   "or cancel it with DELETE")

    finished = wait_for_the_advance(server, "background")
    assert finished["now"] == "2025-01-01T00:05:00Z"

    # The same run, whether it was waited for or cut into background slices.
    def outcome(name):
        return sorted((p["metadata"]["name"], p["status"]["phase"], p["metadata"]["creationTimestamp"],
                       p["spec"].get("nodeName")) for p in pods(server, name))

    assert outcome("background") == outcome("waited")
    for name in ("waited", "background"):
        batch = call(server, "GET", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs/batch")[1]
        assert batch["status"]["succeeded"] == 600


def test_cancel_stops_a_background_advance_where_it_got_to(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    create(server, "long")
    assert apply(server, "long", job("many", completions=5000, parallelism=500, sleep=5))[0] == 200

    status, answer = call(server, "POST", "/sim/clusters/long/clock/advance", {"seconds": 3600, "wait": 0})
    assert status == 202
    status, cancelled = call(server, "DELETE", "/sim/clusters/long/clock/advance")
    assert status == 200 and "advance" not in cancelled
    assert cancelled["now"] < "2025-01-01T01:00:00Z"
    time.sleep(0.5)
    assert clock(server, "long") == cancelled, "the clock moved after the cancel was answered"
    status, gone = call(server, "DELETE", "/sim/clusters/long/clock/advance")
    assert status == 404 and gone["message"] == 'cluster "long" has no advance going on'


def test_while_one_cluster_runs_a_huge_job_the_others_and_its_own_pause_are_answered(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    create(server, "heavy")
    create(server, "light")
    assert apply(server, "heavy", job("huge", completions=100000, parallelism=100000, sleep=30))[0] == 200
    status, _ = call(server, "POST", "/sim/clusters/heavy/clock/advance", {"seconds": 60, "wait": 0})
    assert status == 202

    # Another learner's cluster goes about its business meanwhile, and each request is answered in order.
    answers = []
    assert clock(server, "heavy").get("advance") is not None
    answers.append(apply(server, "light", job("small", completions=2, parallelism=2, sleep=1))[0])
    answers.append(call(server, "GET", "/clusters/light/apis/batch/v1/namespaces/default/jobs")[0])
    answers.append(call(server, "PATCH", "/sim/clusters/light/clock", {"paused": False, "speed": 10})[0])
    answers.append(call(server, "PATCH", "/sim/clusters/light/clock", {"paused": True})[0])
    assert answers == [200, 200, 200, 200]
    assert clock(server, "heavy").get("advance") is not None, "the heavy run should still be going on"

    # The heavy cluster's own pause is answered while its run goes on, and stops it.
    status, paused = call(server, "PATCH", "/sim/clusters/heavy/clock", {"paused": True})
    assert status == 200 and paused["paused"] is True and "advance" not in paused
    time.sleep(0.5)
    assert clock(server, "heavy") == paused, "the clock moved after the pause was answered"
    created = len(pods(server, "heavy"))
    assert 0 < created < 100000


def test_a_pause_is_answered_while_the_player_plays_a_heavy_cluster(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    create(server, "playing")
    assert apply(server, "playing", job("huge", completions=100000, parallelism=100000, sleep=30))[0] == 200
    status, _ = call(server, "PATCH", "/sim/clusters/playing/clock", {"paused": False, "speed": 100})
    assert status == 200
    deadline = time.monotonic() + 30
    while not pods(server, "playing") and time.monotonic() < deadline:
        time.sleep(0.2)

    results = []
    worker = threading.Thread(
        target=lambda: results.append(call(server, "PATCH", "/sim/clusters/playing/clock", {"paused": True})))
    worker.start()
    worker.join(timeout=60)
    assert results and results[0][0] == 200 and results[0][1]["paused"] is True
    time.sleep(0.5)
    assert clock(server, "playing") == results[0][1], "the clock moved after the pause was answered"


def test_an_advance_left_by_a_stopped_server_goes_on_in_the_next(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    create(server, "resumed")
    assert apply(server, "resumed", job("many", completions=1500, parallelism=300, sleep=5))[0] == 200
    status, answer = call(server, "POST", "/sim/clusters/resumed/clock/advance", {"seconds": 120, "wait": 0})
    assert status == 202 and answer["advance"]["target"] == "2025-01-01T00:02:00Z"

    server.restart()
    left = clock(server, "resumed")  # (this first request also starts the new process's player)
    assert left["advance"] == {"from": START, "target": "2025-01-01T00:02:00Z"}
    assert left["now"] < "2025-01-01T00:02:00Z", "the first server finished before it stopped: nothing to resume"
    finished = wait_for_the_advance(server, "resumed")
    assert finished["now"] == "2025-01-01T00:02:00Z"


def test_two_advances_sent_together_make_one_background_run(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    create(server, "twice")
    assert apply(server, "twice", job("many", completions=3000, parallelism=300, sleep=5))[0] == 200
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(call(
        server, "POST", "/sim/clusters/twice/clock/advance", {"seconds": 600, "wait": 0}))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in answers) == [202, 409]
    status, cancelled = call(server, "DELETE", "/sim/clusters/twice/clock/advance")
    assert status == 200
    time.sleep(0.5)
    assert clock(server, "twice") == cancelled, "a second background run went on after the cancel"
