"""A Node created through the Kubernetes API, with no kubelet behind it, in a whole in-memory cluster: the
TaintNodesByCondition admission plugin, the node lifecycle controller, the scheduler and the DaemonSet controller."""

from datetime import datetime, timezone

from apiserver.registry import NODE
from kubeviz.runtime.memory import memory_cluster
from tests.manifests import FLUENTD

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}

BARE_NODE = """\
apiVersion: v1
kind: Node
metadata:
  name: extra
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: work
spec:
  parallelism: 6
  completions: 6
  template:
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "600"]
      restartPolicy: Never
"""


def node(cluster, name="extra"):
    return cluster.registry.get(NODE, "", name)


def test_a_node_object_without_a_kubelet():
    cluster = memory_cluster(nodes=1, seed=1, start=START)
    assert all(r.ok for r in cluster.apply(FLUENTD))
    cluster.advance(10)
    (created,) = cluster.apply(BARE_NODE)
    assert created.object["spec"]["taints"] == [NOT_READY]  # what the create answers
    # No kubelet has posted a Ready condition, so nothing calls for the taint: the node lifecycle controller takes it
    # away at once, as upstream's does, and the scheduler and the DaemonSet controller may use the node.
    cluster.advance(1)
    assert "taints" not in node(cluster)["spec"]
    assert all(r.ok for r in cluster.apply(JOB))
    cluster.advance(5)
    assert placement(cluster, "fluentd-elasticsearch-") == {"control-plane": ["Running"], "node-1": ["Running"],
                                                            "extra": ["Pending"]}
    early = placement(cluster, "work-")
    assert early["extra"] == ["Pending"] * len(early["extra"]) and len(early["extra"]) >= 1  # nothing runs there
    # --node-startup-grace-period after its creation the controller marks it Unknown, and taints it unreachable.
    cluster.advance(60)
    ready = next(c for c in node(cluster)["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusNeverUpdated")
    assert [(t["key"], t["effect"]) for t in node(cluster)["spec"]["taints"]] == [
        ("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")]
    # The Job's pods there are evicted 300 s later (DefaultTolerationSeconds): with no kubelet to stop them they stay
    # Terminating, and the Job replaces them on node-1 after its failure back-off. The daemon pod tolerates
    # unreachable:NoExecute for ever and stays.
    cluster.advance(360)
    assert placement(cluster, "work-") == {"node-1": ["Running"] * 6}
    assert [p["metadata"].get("deletionTimestamp") is not None for p in cluster.objects("Pod")
            if p["spec"].get("nodeName") == "extra" and p["metadata"]["name"].startswith("work-")] == \
        [True] * len(early["extra"])
    assert placement(cluster, "fluentd-elasticsearch-")["extra"] == ["Pending"]


def placement(cluster, prefix):
    """node name -> phases of the pods whose names start with ``prefix`` (not being deleted)."""
    found = {}
    for pod in cluster.objects("Pod"):
        if pod["metadata"]["name"].startswith(prefix) and not pod["metadata"].get("deletionTimestamp"):
            found.setdefault(pod["spec"].get("nodeName"), []).append(pod["status"]["phase"])
    return found


def test_a_node_created_not_ready_takes_no_pods_until_it_is_ready():
    cluster = memory_cluster(nodes=1, seed=1, start=START)
    (created,) = cluster.apply(BARE_NODE + '  conditions:\n  - {type: Ready, status: "False"}\n')
    assert created.ok
    cluster.advance(1)
    assert [(t["key"], t["effect"]) for t in node(cluster)["spec"]["taints"]] == [
        ("node.kubernetes.io/not-ready", "NoSchedule"), ("node.kubernetes.io/not-ready", "NoExecute")]
    assert all(r.ok for r in cluster.apply(FLUENTD))
    cluster.advance(5)
    assert {p["spec"].get("nodeName") for p in cluster.objects("Pod")} == {"node-1", "control-plane"}
