"""Jobs end to end: YAML through the apply endpoint, the clock through its API, results read back over HTTP."""

import json
import textwrap

import pytest
from django.test import Client

from controllers.apimachinery.timeutil import parse_rfc3339
from kubeviz.store.models import Change
from tests.manifests import PI

PARALLEL = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: paral-1
    spec:
      completions: 8
      parallelism: 2
      template:
        metadata:
          name: example-job
        spec:
          containers:
          - name: pi
            image: ubuntu
            command: ["/bin/sh"]
            args: ["-c", "sleep 30; date"]
          restartPolicy: OnFailure
    """
)

FAILING = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: fail
    spec:
      backoffLimit: 2
      template:
        spec:
          containers:
          - name: fail
            image: busybox:1.36
            command: ["sh", "-c", "sleep 5; exit 3"]
          restartPolicy: Never
    """
)


class Sim:
    def __init__(self, name="test"):
        self.client = Client()
        self.name = name

    def apply(self, text):
        response = self.client.post(f"/sim/clusters/{self.name}/apply", data=text, content_type="application/yaml")
        body = json.loads(response.content)
        assert response.status_code == 200, body
        return body

    def advance(self, seconds):
        response = self.client.post(f"/sim/clusters/{self.name}/clock/advance", data=json.dumps({"seconds": seconds}),
                                    content_type="application/json")
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    def get(self, path):
        response = self.client.get(f"/clusters/{self.name}{path}")
        return response.status_code, (json.loads(response.content) if response["Content-Type"].startswith(
            "application/json") else response.content.decode())

    def job(self, name):
        return self.get(f"/apis/batch/v1/namespaces/default/jobs/{name}")[1]

    def pods(self, selector=""):
        return self.get(f"/api/v1/namespaces/default/pods?labelSelector={selector}")[1]["items"]


@pytest.fixture
def sim(cluster):
    return Sim()


def condition(job, type_):
    return next((c for c in job.get("status", {}).get("conditions", []) if c["type"] == type_), None)


def pod_history(cluster, job_name):
    """(time, name, phase, deleted) for every change of the job's pods, in order."""
    history = []
    for change in Change.objects.filter(cluster=cluster, kind="Pod").order_by("resource_version"):
        labels = change.data["metadata"].get("labels") or {}
        if labels.get("job-name") != job_name:
            continue
        history.append(change)
    return history


def test_pi_job_completes_with_2000_digits_in_its_log(sim):
    sim.apply(PI)
    sim.advance(120)
    job = sim.job("pi")
    assert condition(job, "Complete")["status"] == "True"
    assert condition(job, "Complete")["reason"] == "CompletionsReached"
    assert job["status"]["succeeded"] == 1
    (pod,) = sim.pods("job-name=pi")
    assert pod["metadata"]["name"].startswith("pi-")
    assert pod["metadata"]["ownerReferences"][0]["name"] == "pi"
    code, log = sim.get(f"/api/v1/namespaces/default/pods/{pod['metadata']['name']}/log")
    assert code == 200
    digits = log.strip()
    assert digits.startswith("3.14159265358979323846")
    assert len(digits.replace(".", "")) == 2000


def test_parallel_job_runs_in_four_waves_of_two(sim, cluster):
    sim.apply(PARALLEL)
    sim.advance(600)
    job = sim.job("paral-1")
    assert job["status"]["succeeded"] == 8
    assert condition(job, "Complete")["status"] == "True"
    # never more than two active pods at any resourceVersion
    active, most = {}, 0
    for change in pod_history(cluster, "paral-1"):
        name = change.data["metadata"]["name"]
        phase = (change.data.get("status") or {}).get("phase")
        if change.type == "DELETED" or phase in ("Succeeded", "Failed"):
            active.pop(name, None)
        else:
            active[name] = True
        most = max(most, len(active))
    assert most == 2
    starts = sorted(parse_rfc3339(p["metadata"]["creationTimestamp"]) for p in sim.pods("job-name=paral-1"))
    # four waves of two: each wave starts when the previous one's pods finish, ~30 s of work later; within a
    # wave the two pods start a few seconds apart (their image pulls take different times)
    waves = [[starts[0]]]
    for start in starts[1:]:
        if (start - waves[-1][0]).total_seconds() < 15:
            waves[-1].append(start)
        else:
            waves.append([start])
    assert [len(w) for w in waves] == [2, 2, 2, 2], starts
    gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(waves, waves[1:])]
    assert all(30 <= gap < 45 for gap in gaps), gaps


def test_failing_job_retries_with_growing_delays_then_fails(sim):
    sim.apply(FAILING)
    sim.advance(600)
    job = sim.job("fail")
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    assert condition(job, "Failed")["message"] == "Job has reached the specified backoff limit"
    assert condition(job, "FailureTarget")["status"] == "True"
    pods = sim.pods("job-name=fail")
    assert len(pods) == 3
    assert job["status"]["failed"] == 3
    created = sorted(parse_rfc3339(p["metadata"]["creationTimestamp"]) for p in pods)
    gaps = [(b - a).total_seconds() for a, b in zip(created, created[1:])]
    assert gaps[1] > gaps[0], gaps  # the second retry waits longer (10 s then 20 s of backoff)
    code, events = sim.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=fail")
    reasons = [e["reason"] for e in events["items"]]
    assert reasons.count("SuccessfulCreate") == 3
    assert "BackoffLimitExceeded" in reasons


def test_advance_validates_its_input(sim):
    response = Client().post("/sim/clusters/test/clock/advance", data=json.dumps({"seconds": -1}),
                             content_type="application/json")
    assert response.status_code == 422 and json.loads(response.content)["reason"] == "Invalid"
    response = Client().post("/sim/clusters/test/clock/advance", data="{}", content_type="application/json")
    assert response.status_code == 422


def test_clock_moves_only_when_told(sim):
    clock = sim.advance(90)
    assert clock["now"] == "2025-01-01T00:01:30Z"
    assert clock["paused"] is True
