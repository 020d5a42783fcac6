"""A paused clock says what the controllers have waiting (``pending``), and reading it changes nothing of the run."""

import json
import textwrap

import pytest
from django.test import Client

from kubeviz.store.models import Change, StoredObject
from kubeviz.store.services import cluster_create
from tests.conftest import START
from tests.manifests import PI

SLEEPER = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: sleeper
    spec:
      template:
        spec:
          containers:
          - name: s
            image: busybox:1.36
            command: ["sh", "-c", "sleep 20"]
          restartPolicy: Never
    """
)


class Sim:
    def __init__(self, name):
        self.http = Client()
        self.name = name

    def post(self, path, body=None, content_type="application/json"):
        data = json.dumps(body or {}) if content_type == "application/json" else body
        response = self.http.post(f"/sim/clusters/{self.name}{path}", data=data, content_type=content_type)
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    def apply(self, text):
        return self.post("/apply", text, "application/yaml")

    def step(self):
        return self.post("/clock/step")

    def advance(self, seconds):
        return self.post("/clock/advance", {"seconds": seconds})

    def clock(self):
        response = self.http.get(f"/sim/clusters/{self.name}/clock")
        assert response.status_code == 200
        return json.loads(response.content)

    def set_clock(self, **changes):
        response = self.http.patch(f"/sim/clusters/{self.name}/clock", data=json.dumps(changes),
                                   content_type="application/json")
        assert response.status_code == 200, response.content
        return json.loads(response.content)


@pytest.fixture
def sim(cluster):
    return Sim(cluster.name)


def test_a_job_applied_on_a_paused_clock_waits_for_the_job_controller_until_a_step(sim):
    sim.step()  # the controllers have started and done their first resync
    assert sim.clock()["pending"] == {"count": 0, "items": [], "resync": False}
    sim.apply(PI)
    assert sim.clock()["pending"] == {
        "count": 1,
        "items": [{"controller": "job-controller", "key": "default/pi", "due": "2025-01-01T00:00:00.000000Z"}],
        "resync": False,
    }
    after_step = sim.step()
    assert after_step["pending"] == {"count": 0, "items": [], "resync": False}
    assert sim.clock()["pending"]["count"] == 0


def test_controllers_that_have_not_started_have_their_resync_waiting(sim):
    sim.apply(PI)
    pending = sim.clock()["pending"]
    assert pending["resync"] is True
    # in the order the controllers resync: the node lifecycle controller's of each node, the Job controller's of
    # each Job, ..., the pod garbage collector's (past the five named)
    assert [(item["controller"], item["key"]) for item in pending["items"]] == [
        ("node-lifecycle-controller", node) for node in ("control-plane", "node-1", "node-2", "node-3")
    ] + [("job-controller", "default/pi")]
    assert pending["items"][4]["due"] == "2025-01-01T00:00:00.000000Z"
    assert pending["count"] == 6
    assert sim.step()["pending"] == {"count": 0, "items": [], "resync": False}


def test_a_playing_clock_has_no_pending_and_a_pause_says_it_again(sim):
    sim.step()
    playing = sim.set_clock(paused=False)
    assert "pending" not in playing
    assert "pending" not in sim.clock()
    paused = sim.set_clock(paused=True)
    assert paused["pending"]["resync"] is False


def test_pending_names_a_few_and_counts_them_all(sim):
    sim.step()
    for n in range(7):
        sim.apply(PI.replace("name: pi", f"name: pi-{n}"))
    pending = sim.clock()["pending"]
    assert pending["count"] == 7
    assert [item["key"] for item in pending["items"]] == [f"default/pi-{n}" for n in range(5)]


def _outcome(cluster):
    objects = sorted(
        (kind, namespace, name, data["metadata"]["uid"], data["metadata"]["resourceVersion"], json.dumps(
            data.get("status"), sort_keys=True))
        for kind, namespace, name, data in StoredObject.objects.filter(cluster=cluster).values_list(
            "kind", "namespace", "name", "data")
    )
    changes = list(Change.objects.filter(cluster=cluster).order_by("resource_version").values_list(
        "resource_version", "type", "kind", "namespace", "name"))
    return objects, changes


@pytest.mark.django_db
def test_reading_the_pending_work_changes_nothing_of_the_run():
    """Two clusters, the same seed and inputs; one has its clock read (and so its pending work worked out) before
    and after every input, with the controllers not yet started and started. Both end object for object alike."""
    clusters = [cluster_create(name=name, nodes=2, seed=11, start=START) for name in ("read", "unread")]
    for cluster in clusters:
        sim = Sim(cluster.name)
        reading = cluster.name == "read"
        for act in (lambda: sim.apply(PI), sim.step, lambda: sim.apply(SLEEPER), sim.step,
                    lambda: sim.apply(SLEEPER.replace("name: sleeper", "name: sleeper-2")), lambda: sim.advance(300)):
            if reading:
                sim.clock()
            act()
            if reading:
                sim.clock()
    read, unread = (_outcome(cluster) for cluster in clusters)
    assert read == unread
    assert any(kind == "Pod" for kind, *_ in read[0])
