"""DaemonSets end to end: placement, node changes, rolling updates and history through the API and clock."""

import json

import pytest
from django.test import Client

from kubeviz.store.models import Change
from tests.manifests import FLUENTD
from tests.runtime.test_job_e2e import Sim

DS_PATH = "/apis/apps/v1/namespaces/kube-system/daemonsets/fluentd-elasticsearch"
WORKERS = {"node-1", "node-2", "node-3"}
ALL_NODES = WORKERS | {"control-plane"}


@pytest.fixture
def sim(cluster):
    return Sim()


def daemon_pods(sim):
    _, body = sim.get("/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dfluentd-elasticsearch")
    return body["items"]


def live_nodes(sim):
    return {p["spec"].get("nodeName") for p in daemon_pods(sim) if not p["metadata"].get("deletionTimestamp")}


def status(sim):
    return sim.get(DS_PATH)[1]["status"]


def patch(path, body, content_type="application/merge-patch+json"):
    response = Client().patch("/clusters/test" + path, data=json.dumps(body), content_type=content_type)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def set_image(image, strategy=None):
    spec = {"template": {"spec": {"containers": [{"name": "fluentd-elasticsearch", "image": image}]}}}
    if strategy:
        spec["updateStrategy"] = strategy
    return patch(DS_PATH, {"spec": spec}, "application/strategic-merge-patch+json")


def is_ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def ready_nodes_over_time(cluster, since_rv):
    """After each pod change from ``since_rv`` on: the set of nodes with a Ready fluentd pod."""
    pods, timeline = {}, []
    for change in Change.objects.filter(cluster=cluster, kind="Pod").order_by("resource_version"):
        labels = change.data["metadata"].get("labels") or {}
        if labels.get("name") != "fluentd-elasticsearch":
            continue
        name = change.data["metadata"]["name"]
        if change.type == "DELETED":
            pods.pop(name, None)
        else:
            pods[name] = change.data
        if change.resource_version > since_rv:
            timeline.append({p["spec"].get("nodeName") for p in pods.values() if is_ready(p)})
    return timeline


def latest_rv(cluster):
    return Change.objects.filter(cluster=cluster).order_by("-resource_version").values_list(
        "resource_version", flat=True).first()


def test_fluentd_runs_on_every_node_with_the_control_plane_toleration(sim):
    sim.apply(FLUENTD)
    sim.advance(60)
    assert live_nodes(sim) == ALL_NODES
    st = status(sim)
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"],
            st["updatedNumberScheduled"], st["numberAvailable"]) == (4, 4, 4, 4, 4)
    pod = daemon_pods(sim)[0]
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    fields = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchFields"][0]
    assert fields["key"] == "metadata.name" and fields["values"] == [pod["spec"]["nodeName"]]


def test_without_the_toleration_only_the_workers(sim):
    without = FLUENTD.replace(
        "      tolerations:\n      - key: node-role.kubernetes.io/control-plane\n        operator: Exists\n"
        "        effect: NoSchedule\n", "")
    assert "tolerations" not in without
    sim.apply(without)
    sim.advance(60)
    assert live_nodes(sim) == WORKERS
    assert status(sim)["desiredNumberScheduled"] == 3


def test_node_selector_places_pods_only_on_labelled_nodes(sim):
    patch("/api/v1/nodes/node-2", {"metadata": {"labels": {"logging": "on"}}})
    sim.apply(FLUENTD.replace("      tolerations:", "      nodeSelector:\n        logging: \"on\"\n      tolerations:"))
    sim.advance(60)
    assert live_nodes(sim) == {"node-2"}
    patch("/api/v1/nodes/node-3", {"metadata": {"labels": {"logging": "on"}}})
    sim.advance(30)
    assert live_nodes(sim) == {"node-2", "node-3"}
    patch("/api/v1/nodes/node-2", {"metadata": {"labels": {"logging": None}}})
    sim.advance(60)
    assert live_nodes(sim) == {"node-3"}


def test_nodes_joining_leaving_cordoned_and_tainted(sim):
    sim.apply(FLUENTD)
    sim.advance(60)
    response = Client().post("/sim/clusters/test/nodes", data=json.dumps({"name": "node-4"}),
                             content_type="application/json")
    assert response.status_code == 201
    sim.advance(30)
    assert "node-4" in live_nodes(sim)
    assert Client().delete("/clusters/test/api/v1/nodes/node-4").status_code == 200
    sim.advance(120)  # PodGC removes pods of a deleted node after its 40 s quarantine
    assert "node-4" not in {p["spec"].get("nodeName") for p in daemon_pods(sim)}
    patch("/api/v1/nodes/node-1", {"spec": {"unschedulable": True}})  # cordon: daemon pods stay
    sim.advance(30)
    assert "node-1" in live_nodes(sim)
    patch("/api/v1/nodes/node-2", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}})
    sim.advance(60)  # an untolerated NoExecute taint evicts the daemon pod
    assert "node-2" not in live_nodes(sim)
    assert status(sim)["desiredNumberScheduled"] == 3


def test_failed_node_keeps_its_daemon_pod(sim):
    sim.apply(FLUENTD)
    sim.advance(60)
    Client().post("/sim/clusters/test/nodes/node-3/fail")
    sim.advance(600)  # far past the 300 s that ordinary pods tolerate an unreachable node
    assert "node-3" in live_nodes(sim)


def test_rolling_update_never_has_more_than_max_unavailable_nodes_down(sim, cluster):
    sim.apply(FLUENTD)
    sim.advance(60)
    before = latest_rv(cluster)
    set_image("quay.io/fluentd_elasticsearch/fluentd:v2.6.0")
    sim.advance(300)
    timeline = ready_nodes_over_time(cluster, before)
    assert min(len(nodes) for nodes in timeline) == 3  # maxUnavailable 1: one node at a time
    images = {p["spec"]["containers"][0]["image"] for p in daemon_pods(sim)}
    assert images == {"quay.io/fluentd_elasticsearch/fluentd:v2.6.0"}
    assert status(sim)["updatedNumberScheduled"] == 4
    _, revisions = sim.get("/apis/apps/v1/namespaces/kube-system/controllerrevisions")
    assert sorted(r["revision"] for r in revisions["items"]) == [1, 2]


def test_rolling_update_with_surge_keeps_every_node_served(sim, cluster):
    sim.apply(FLUENTD)
    sim.advance(60)
    before = latest_rv(cluster)
    set_image("quay.io/fluentd_elasticsearch/fluentd:v2.6.0",
              {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    sim.advance(300)
    timeline = ready_nodes_over_time(cluster, before)
    assert all(nodes == ALL_NODES for nodes in timeline)
    assert status(sim)["updatedNumberScheduled"] == 4


def test_on_delete_waits_for_a_deleted_pod(sim):
    sim.apply(FLUENTD.replace("spec:\n  selector:", "spec:\n  updateStrategy:\n    type: OnDelete\n  selector:"))
    sim.advance(60)
    set_image("quay.io/fluentd_elasticsearch/fluentd:v2.6.0")
    sim.advance(120)
    assert {p["spec"]["containers"][0]["image"] for p in daemon_pods(sim)} == {
        "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"}
    victim = next(p for p in daemon_pods(sim) if p["spec"]["nodeName"] == "node-1")
    Client().delete(f"/clusters/test/api/v1/namespaces/kube-system/pods/{victim['metadata']['name']}")
    sim.advance(120)
    by_node = {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"] for p in daemon_pods(sim)}
    assert by_node["node-1"].endswith(":v2.6.0")
    assert sum(image.endswith(":v2.5.2") for image in by_node.values()) == 3


def test_undo_renumbers_the_old_revision(sim):
    sim.apply(FLUENTD)
    sim.advance(60)
    set_image("quay.io/fluentd_elasticsearch/fluentd:v2.6.0")
    sim.advance(300)
    set_image("quay.io/fluentd_elasticsearch/fluentd:v2.5.2")  # back to the first template
    sim.advance(300)
    _, revisions = sim.get("/apis/apps/v1/namespaces/kube-system/controllerrevisions")
    assert sorted(r["revision"] for r in revisions["items"]) == [2, 3]
