"""Recordings replay exactly: export then import gives the same cluster, and a fork from an instant with the same
seed and no new input goes on exactly as the original did.

Each case drives a stored cluster through the real endpoints (the apply endpoint, the Kubernetes API, the clock,
nodes joining) and compares everything a learner can see of the two clusters: every object (names, uids,
resourceVersions, status), every change of the history, the container logs, and the controllers' traces.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client

from kubeviz.recordings import format as recording_format
from kubeviz.recordings.models import Input
from kubeviz.recordings.services import cluster_fork, recording_import, recording_of
from kubeviz.runtime.host import host
from kubeviz.store.models import Change, Cluster, ContainerLog, StoredObject, TraceRecord
from tests.manifests import HELLO, agent_daemonset, failing_pi, slow_cronjob

pytestmark = pytest.mark.django_db(transaction=False)


class Sim:
    def __init__(self, name):
        self.client, self.name = Client(), name

    def apply(self, text, door=None):
        headers = {"HTTP_X_KUBEVIZ_DOOR": door} if door else {}
        response = self.client.post(f"/sim/clusters/{self.name}/apply", data=text, content_type="application/yaml",
                                    **headers)
        assert response.status_code == 200, response.content
        return response.json()

    def advance(self, seconds):
        response = self.client.post(f"/sim/clusters/{self.name}/clock/advance",
                                    data=json.dumps({"seconds": seconds}), content_type="application/json")
        assert response.status_code == 200, response.content

    def patch(self, path, patch, content_type="application/merge-patch+json"):
        response = self.client.patch(f"/clusters/{self.name}{path}", data=json.dumps(patch),
                                     content_type=content_type)
        assert response.status_code == 200, response.content
        return response.json()

    def delete(self, path):
        response = self.client.delete(f"/clusters/{self.name}{path}")
        assert response.status_code == 200, response.content

    def join(self, node, labels=None):
        response = self.client.post(f"/sim/clusters/{self.name}/nodes", data=json.dumps(
            {"name": node, "labels": labels or {}}), content_type="application/json")
        assert response.status_code == 201, response.content

    def fail(self, node):
        response = self.client.post(f"/sim/clusters/{self.name}/nodes/{node}/fail")
        assert response.status_code == 200, response.content


def state(name, *, since_rv=0):
    """Everything a learner can see of a cluster, by value."""
    cluster = Cluster.objects.get(name=name)
    objects = sorted(StoredObject.objects.filter(cluster=cluster).values_list(
        "api_group", "kind", "namespace", "name", "uid", "resource_version", "data"))
    changes = list(Change.objects.filter(cluster=cluster, resource_version__gt=since_rv).order_by(
        "resource_version").values_list("resource_version", "type", "kind", "namespace", "name", "sim_time",
                                         "actor", "data"))
    logs = sorted(ContainerLog.objects.filter(cluster=cluster).values_list(
        "namespace", "pod", "pod_uid", "container", "restart_count", "lines"))
    stored_traces = list(TraceRecord.objects.filter(cluster=cluster).order_by("sequence").values_list(
        "sequence", "sim_time", "controller", "object_key", "data"))
    return {"now": cluster.sim_now, "resourceVersion": cluster.resource_version, "objects": objects,
            "changes": changes, "logs": logs, "traces": stored_traces}


def traces(name, *, since=None):
    """The engine's traces (time, controller, object, what it saw, decided and did), from ``since`` on."""
    engine = host.engine_for(Cluster.objects.get(name=name))
    found = []
    for record in engine.traces:
        if since is None or record.time >= since:
            found.append({k: v for k, v in record.as_json().items() if k != "sequence"})
    return found


def roundtrip(name, new_name):
    """Export the cluster's recording to JSON text, read it back and import it under another name."""
    text = json.dumps(recording_format.recording_json(recording_of(Cluster.objects.get(name=name))))
    return recording_import(recording_format.loads(text, max_bytes=10**8), name=new_name)


def assert_same(a, b):
    sa, sb = state(a), state(b)
    assert sa["objects"], "nothing to compare"
    assert [o[:6] for o in sa["objects"]] == [o[:6] for o in sb["objects"]]  # names, uids, resourceVersions
    assert sa == sb
    assert traces(a) == traces(b)


@pytest.fixture
def sim(cluster):
    return Sim(cluster.name)


def test_a_job_with_retries_exports_and_imports_object_for_object(sim):
    sim.apply(failing_pi(3), door="editor")
    sim.advance(45)
    sim.apply(HELLO.replace("name: hello", "name: hi"), door="upload")
    sim.advance(300)
    job = sim.client.get("/clusters/test/apis/batch/v1/namespaces/default/jobs/pi").json()
    assert job["status"]["failed"] == 4  # the retries happened
    assert [c["reason"] for c in job["status"]["conditions"]] == ["BackoffLimitExceeded", "BackoffLimitExceeded"]
    roundtrip("test", "copy")
    assert_same("test", "copy")
    doors = list(Input.objects.filter(cluster__name="copy", type="write").values_list("door", flat=True))
    assert doors == ["editor", "upload"]
    authors = {c.actor["door"] for c in Change.objects.filter(cluster__name="copy", actor__type="user")}
    assert authors == {"editor", "upload"}


def test_a_cronjob_over_hours_exports_and_imports(sim):
    sim.apply(slow_cronjob("Forbid", sleep=150))
    for _ in range(4):
        sim.advance(1800)
    sim.patch("/apis/batch/v1/namespaces/default/cronjobs/hello", {"spec": {"suspend": True}})
    sim.advance(900)
    jobs = sim.client.get("/clusters/test/apis/batch/v1/namespaces/default/jobs").json()["items"]
    assert jobs, "the CronJob made Jobs"
    roundtrip("test", "copy")
    assert_same("test", "copy")


def test_a_daemonset_rolling_update_with_nodes_joining_exports_and_imports(sim):
    sim.apply(agent_daemonset("1"))
    sim.advance(30)
    sim.join("node-4", labels={"disk": "ssd"})
    sim.advance(20)
    sim.patch("/apis/apps/v1/namespaces/default/daemonsets/agent",
              {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "fluentd:v2"}]}}}},
              content_type="application/strategic-merge-patch+json")
    sim.advance(7)
    sim.join("node-5")
    sim.advance(120)
    pods = sim.client.get("/clusters/test/api/v1/namespaces/default/pods").json()["items"]
    assert len(pods) == 5 and {p["spec"]["containers"][0]["image"] for p in pods} == {"fluentd:v2"}
    sim.fail("node-2")
    sim.advance(400)
    roundtrip("test", "copy")
    assert_same("test", "copy")
    types = list(Input.objects.filter(cluster__name="copy").values_list("type", flat=True))
    assert types.count("node") == 2


def test_a_write_between_two_syncs_of_one_instant_lands_there_again(sim, cluster):
    """A write that lands while the engine is in the middle of an instant (between two slices of a run) is
    replayed between the same two syncs."""
    sim.apply(agent_daemonset("2"))
    sim.join("node-4")
    target = cluster.sim_now
    host.run_to(cluster, target, until=lambda engine: engine.position()[0] == target and engine.position()[1] >= 2)
    engine = host.engine_for(cluster)
    assert engine.position()[:2] == (target, 2) and not engine.settled()
    sim.delete("/api/v1/nodes/node-1")
    sim.advance(60)
    write = Input.objects.filter(cluster=cluster, type="write").last()
    assert (write.time, write.syncs) == (target, 2)
    roundtrip("test", "copy")
    assert_same("test", "copy")


def test_a_fork_with_the_same_seed_and_no_new_input_goes_on_as_the_original(sim, cluster):
    sim.apply(failing_pi(2))
    sim.apply(agent_daemonset("1"))
    sim.advance(25)
    sim.patch("/apis/apps/v1/namespaces/default/daemonsets/agent",
              {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "fluentd:v2"}]}}}},
              content_type="application/strategic-merge-patch+json")
    sim.advance(40)
    fork_at = Cluster.objects.get(name="test").sim_now
    fork_rv = Cluster.objects.get(name="test").resource_version
    sim.advance(200)
    fork = cluster_fork(Cluster.objects.get(name="test"), name="fork", at=fork_at)
    assert fork.sim_now == fork_at and fork.resource_version == fork_rv
    Sim("fork").advance(200)
    assert_same("test", "fork")
    assert state("test", since_rv=fork_rv)["changes"] == state("fork", since_rv=fork_rv)["changes"]
    assert traces("test", since=fork_at) == traces("fork", since=fork_at)
