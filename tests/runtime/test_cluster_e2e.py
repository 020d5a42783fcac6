"""Nodes, pods and garbage collection end to end, through the HTTP API and the clock."""

import json

import pytest
from django.test import Client

from tests.runtime.test_job_e2e import Sim, condition

SLEEPER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: long
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/hostname: node-1
      containers:
      - name: work
        image: busybox:1.36
        command: ["sleep", "3600"]
      restartPolicy: Never
"""


@pytest.fixture
def sim(cluster):
    return Sim()


def post(path, body=None):
    response = Client().post(path, data=json.dumps(body or {}), content_type="application/json")
    return response.status_code, json.loads(response.content)


def node(sim, name):
    return sim.get(f"/api/v1/nodes/{name}")[1]


def test_failed_node_is_tainted_and_its_pods_are_evicted_after_their_toleration(sim):
    sim.apply(SLEEPER)
    sim.advance(30)
    (pod,) = sim.pods("job-name=long")
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] == "node-1"
    code, failed = post("/sim/clusters/test/nodes/node-1/fail")
    assert code == 200
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")
    sim.advance(1)
    taints = {(t["key"], t["effect"]) for t in node(sim, "node-1")["spec"]["taints"]}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in taints
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in taints
    sim.advance(250)
    (still,) = sim.pods("job-name=long")
    assert still["metadata"]["name"] == pod["metadata"]["name"]  # tolerated for 300 s by default
    sim.advance(120)
    pods = sim.pods("job-name=long")
    evicted = [p for p in pods if p["metadata"]["name"] == pod["metadata"]["name"]]
    assert not evicted or evicted[0]["metadata"].get("deletionTimestamp")
    code, events = sim.get("/api/v1/namespaces/default/events?fieldSelector=reason%3DTaintManagerEviction")
    assert [e["message"] for e in events["items"]] == [f"Marking for deletion Pod default/{pod['metadata']['name']}"]


def test_recovered_node_loses_its_taints(sim):
    post("/sim/clusters/test/nodes/node-2/fail")
    sim.advance(1)
    post("/sim/clusters/test/nodes/node-2/recover")
    sim.advance(1)
    assert not node(sim, "node-2")["spec"].get("taints")


def test_added_node_gets_pending_pods(sim):
    job = SLEEPER.replace("kubernetes.io/hostname: node-1", "disk: ssd")
    sim.apply(job)
    sim.advance(5)
    (pod,) = sim.pods("job-name=long")
    assert "nodeName" not in pod["spec"]
    scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["reason"] == "Unschedulable"
    assert scheduled["message"].startswith("0/4 nodes are available: 1 node(s) had untolerated taint "
                                           "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match "
                                           "Pod's node affinity/selector.")
    code, added = post("/sim/clusters/test/nodes", {"name": "fast-1", "labels": {"disk": "ssd"}})
    assert code == 201 and added["metadata"]["labels"]["disk"] == "ssd"
    sim.advance(5)
    (pod,) = sim.pods("job-name=long")
    assert pod["spec"]["nodeName"] == "fast-1"


def test_node_add_validates_the_name(sim):
    code, status = post("/sim/clusters/test/nodes", {"name": "Bad_Name"})
    assert code == 422 and status["reason"] == "Invalid"


def test_deleting_a_running_pod_waits_for_its_grace_period(sim):
    sim.apply(SLEEPER)
    sim.advance(30)
    (pod,) = sim.pods("job-name=long")
    name = pod["metadata"]["name"]
    response = Client().delete(f"/clusters/test/api/v1/namespaces/default/pods/{name}")
    assert response.status_code == 200
    sim.advance(10)
    code, terminating = sim.get(f"/api/v1/namespaces/default/pods/{name}")
    assert code == 200 and terminating["metadata"]["deletionTimestamp"]
    sim.advance(30)  # sleep ignores SIGTERM: killed at the end of the 30 s grace period
    assert sim.get(f"/api/v1/namespaces/default/pods/{name}")[0] == 404
    replacement = [p for p in sim.pods("job-name=long") if p["metadata"]["name"] != name]
    assert len(replacement) == 1  # the Job made a new pod


def test_ttl_after_finished_deletes_the_job_and_its_pods(sim):
    job = SLEEPER.replace('command: ["sleep", "3600"]', 'command: ["sleep", "5"]').replace(
        "spec:\n  template:", "spec:\n  ttlSecondsAfterFinished: 60\n  template:")
    sim.apply(job)
    sim.advance(30)
    assert condition(sim.job("long"), "Complete")["status"] == "True"
    sim.advance(60)
    assert sim.get("/apis/batch/v1/namespaces/default/jobs/long")[0] == 404
    assert sim.pods("job-name=long") == []


def test_traces_explain_decisions(sim):
    sim.apply(SLEEPER)
    sim.advance(1)
    response = Client().get("/sim/clusters/test/traces?controller=job&object=default/long")
    items = json.loads(response.content)["items"]
    assert items and items[0]["decision"].startswith("too few active pods")
    assert items[0]["time"] == "2025-01-01T00:00:00.000000Z"
    scheduler = json.loads(Client().get("/sim/clusters/test/traces?controller=scheduler").content)["items"]
    assert any("node-1: fits" in t["observed"] for t in scheduler)


def test_nodes_per_cluster_is_a_setting(sim, settings):
    """KUBEVIZ_MAX_NODES: workers a cluster may have, when it is made (422) and as kubelets join (403)."""
    settings.KUBEVIZ_MAX_NODES = 4
    code, status = post("/sim/clusters", {"name": "big", "nodes": 5})
    assert (code, status["reason"], status["message"]) == (422, "Invalid", "nodes must be an integer from 0 to 4")
    assert post("/sim/clusters/test/nodes", {"name": "node-4"})[0] == 201  # the test cluster has 3 workers
    code, status = post("/sim/clusters/test/nodes", {"name": "node-5"})
    assert (code, status["kind"], status["reason"], status["message"]) == (
        403, "Status", "Forbidden",
        'nodes "node-5" is forbidden: this cluster has 4 worker nodes, the most it may have (KUBEVIZ_MAX_NODES)')
    assert post("/sim/clusters/test/nodes", {"name": "cp-2", "controlPlane": True})[0] == 201
