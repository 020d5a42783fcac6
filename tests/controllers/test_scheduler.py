"""Tests for the default scheduler (``controllers.scheduler``): filter reasons, the exact FailedScheduling
text of kube-scheduler 1.32 (``FitError.Error`` plus the DefaultPreemption message), scoring and the seeded
tie-break, and the bind plan."""

from __future__ import annotations

import copy
import random
from datetime import datetime, timezone

import pytest

from controllers.cache import Cache
from controllers.plan import BindPod, EmitEvent
from controllers.scheduler import (
    NodeInfoCache,
    SchedulerState,
    fit_error_message,
    num_feasible_nodes_to_find,
    schedule_pod,
    truncate_message,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def make_node(name, cpu="2", memory="4Gi", pods="110", labels=None, taints=None, unschedulable=False):
    node = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }
    if taints:
        node["spec"]["taints"] = taints
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node


def make_pod(name="pi-x7k9q", cpu=None, memory=None, node_name=None, phase="Pending", **spec_extra):
    resources = {}
    if cpu or memory:
        resources["requests"] = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    spec = {"containers": [{"name": "pi", "image": "perl", "resources": resources}], "schedulerName": "default-scheduler"}
    if node_name:
        spec["nodeName"] = node_name
    spec.update(spec_extra)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": spec, "status": {"phase": phase}}


def cluster(worker_cpu="2"):
    return [make_node("control-plane", taints=[CONTROL_PLANE_TAINT])] + [
        make_node(f"node-{i}", cpu=worker_cpu) for i in (1, 2, 3)]


def run(pod, nodes, pods_on_nodes=None, seed=7):
    return schedule_pod(pod, nodes, pods_on_nodes or {}, NOW, rng=random.Random(seed))


def failed_message(result):
    events = [a for a in result.actions if isinstance(a, EmitEvent)]
    assert len(events) == 1 and events[0].reason == "FailedScheduling" and events[0].type == "Warning"
    assert events[0].component == "default-scheduler"
    return events[0].message


NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


@pytest.mark.parametrize(
    "nodes, pod, pods_on_nodes, message",
    [
        pytest.param(
            [make_node("control-plane", taints=[CONTROL_PLANE_TAINT])], make_pod(), {},
            "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. "
            f"preemption: 0/1 nodes are available: 1 {NOT_HELPFUL}.",
            id="control-plane taint only"),
        pytest.param(
            cluster(worker_cpu="1"), make_pod(cpu="1500m"), {},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            f"3 Insufficient cpu. preemption: 0/4 nodes are available: 1 {NOT_HELPFUL}, 3 {NO_VICTIMS}.",
            id="insufficient cpu"),
        pytest.param(
            cluster(), make_pod(nodeSelector={"disktype": "ssd"}), {},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            f"3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 {NOT_HELPFUL}.",
            id="node selector mismatch"),
        pytest.param(
            [make_node("node-1", unschedulable=True), make_node("node-2", unschedulable=True)], make_pod(), {},
            f"0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 {NOT_HELPFUL}.",
            id="unschedulable"),
        pytest.param(
            [make_node("control-plane", taints=[CONTROL_PLANE_TAINT]),
             make_node("node-1", unschedulable=True),
             make_node("node-2", labels={"disktype": "hdd"}),
             make_node("node-3", cpu="1", memory="1Gi", labels={"disktype": "ssd"}),
             make_node("node-4", memory="1Gi", labels={"disktype": "ssd"})],
            make_pod(cpu="1500m", memory="2Gi", nodeSelector={"disktype": "ssd"}), {},
            "0/5 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, "
            "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "1 node(s) were unschedulable, 2 Insufficient memory. "
            f"preemption: 0/5 nodes are available: 2 {NO_VICTIMS}, 3 {NOT_HELPFUL}.",
            id="mixed"),
        pytest.param(
            [make_node("node-1", pods="2")], make_pod(),
            {"node-1": [make_pod("a", node_name="node-1", phase="Running"),
                        make_pod("b", node_name="node-1", phase="Running"),
                        make_pod("done", node_name="node-1", phase="Succeeded")]},
            f"0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 {NO_VICTIMS}.",
            id="too many pods, terminal pods not counted"),
        pytest.param(
            [make_node("node-1", cpu="1")], make_pod(cpu="600m"),
            {"node-1": [make_pod("big", cpu="500m", node_name="node-1", phase="Running")]},
            f"0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 {NO_VICTIMS}.",
            id="requests of bound pods are subtracted"),
        pytest.param(
            cluster(), make_pod(cpu="5", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}]}}}),
            {},
            "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
            f"preemption: 0/4 nodes are available: 1 {NO_VICTIMS}, 3 {NOT_HELPFUL}.",
            id="daemon pod pinned with matchFields to a full node"),
        pytest.param(
            cluster(), make_pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": ["node-1"]},
                    {"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}]}}}),
            {},
            f"0/4 nodes are available: pod affinity terms conflict. preemption: 0/4 nodes are available: 4 {NOT_HELPFUL}.",
            id="conflicting node name terms fail at PreFilter"),
        pytest.param(
            [make_node("node-1", cpu="1")], make_pod(cpu="2", preemptionPolicy="Never"), {},
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
            id="preemptionPolicy Never"),
        pytest.param(
            [make_node("node-1")],
            make_pod(containers=[{"name": "web", "ports": [{"containerPort": 80, "hostPort": 8080}]}]),
            {"node-1": [make_pod("other", node_name="node-1", phase="Running",
                                 containers=[{"name": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}])]},
            "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
            f"preemption: 0/1 nodes are available: 1 {NO_VICTIMS}.",
            id="host port taken"),
        pytest.param(
            [make_node("node-1", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}])], make_pod(), {},
            f"0/1 nodes are available: 1 node(s) had untolerated taint {{dedicated: gpu}}. "
            f"preemption: 0/1 nodes are available: 1 {NOT_HELPFUL}.",
            id="NoExecute taint with a value"),
        pytest.param([], make_pod(), {}, "no nodes available to schedule pods", id="no nodes"),
    ],
)
def test_failed_scheduling_message(nodes, pod, pods_on_nodes, message):
    before = copy.deepcopy((nodes, pod, pods_on_nodes))
    result = run(pod, nodes, pods_on_nodes)
    assert failed_message(result) == message
    assert result.status["conditions"] == [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                            "lastTransitionTime": "2024-06-01T12:00:00Z",
                                            "reason": "Unschedulable", "message": message}]
    assert result.requeue_after == 300.0
    assert (nodes, pod, pods_on_nodes) == before


def test_unschedulable_again_with_same_message_writes_no_status():
    nodes = [make_node("control-plane", taints=[CONTROL_PLANE_TAINT])]
    first = run(make_pod(), nodes)
    pod = make_pod()
    pod["status"] = first.status
    second = run(pod, nodes)
    assert second.status is None
    assert failed_message(second) == failed_message(first)


def test_trace_explains_each_node():
    result = run(make_pod(cpu="1500m"), cluster(worker_cpu="1"))
    assert result.trace.observed == (
        "control-plane: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule; "
        "node-1: Insufficient cpu (pod requests 1500m, 1 of 1 free); "
        "node-2: Insufficient cpu (pod requests 1500m, 1 of 1 free); "
        "node-3: Insufficient cpu (pod requests 1500m, 1 of 1 free)")


def test_successfully_assigned():
    nodes = cluster()
    busy = [make_pod("busy", cpu="1", memory="1Gi", node_name="node-1", phase="Running")]
    result = run(make_pod(cpu="500m", memory="512Mi"), nodes, {"node-1": busy, "node-3": busy[:0]})
    (bind,) = result.actions
    assert isinstance(bind, BindPod)
    assert (bind.namespace, bind.name, bind.uid) == ("default", "pi-x7k9q", "uid-pi-x7k9q")
    assert bind.node in ("node-2", "node-3")
    assert bind.success_event == EmitEvent(
        {"apiVersion": "v1", "kind": "Pod", "namespace": "default", "name": "pi-x7k9q", "uid": "uid-pi-x7k9q"},
        "Normal", "Scheduled", f"Successfully assigned default/pi-x7k9q to {bind.node}", "default-scheduler")
    assert bind.failure_event.bind(error="boom").message == 'binding rejected: running Bind plugin "DefaultBinder": boom'
    assert result.status is None  # pods/binding sets PodScheduled=True, as upstream's BindingREST does
    assert result.requeue_after is None
    # node-1 already carries 1 cpu / 1Gi. LeastAllocated: cpu (2000-1500)*100/2000 = 25, memory
    # (4Gi-1.5Gi)*100/4Gi = 62 -> 43; Balanced: |0.75-0.375|/2 -> 81. Empty nodes: 75 and 87 -> 81; 93.
    assert "node-1: fits, score 424 (TaintToleration 100×3, NodeResourcesFit 43, NodeResourcesBalancedAllocation 81)" \
        in result.trace.observed
    assert "node-2: fits, score 474 (TaintToleration 100×3, NodeResourcesFit 81, NodeResourcesBalancedAllocation 93)" \
        in result.trace.observed


def test_control_plane_toleration_allows_control_plane():
    nodes = [make_node("control-plane", taints=[CONTROL_PLANE_TAINT])]
    pod = make_pod(tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                 "effect": "NoSchedule"}])
    result = run(pod, nodes)
    assert [a.node for a in result.actions] == ["control-plane"]
    assert result.trace.actions == ("bind to control-plane", "control-plane is the only feasible node: scoring skipped")


def test_prefer_no_schedule_and_preferred_affinity_score():
    nodes = [make_node("node-1", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]),
             make_node("node-2"), make_node("node-3", labels={"zone": "b"})]
    assert run(make_pod(), nodes).actions[0].node in ("node-2", "node-3")
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}}]}})
    for seed in range(5):
        assert run(pod, nodes, seed=seed).actions[0].node == "node-3"


def test_ties_are_broken_by_the_seeded_rng_deterministically():
    nodes = [make_node(f"node-{i}") for i in range(1, 6)]
    picks = [run(make_pod(), nodes, seed=seed).actions[0].node for seed in range(30)]
    assert picks == [run(make_pod(), nodes, seed=seed).actions[0].node for seed in range(30)]
    assert len(set(picks)) > 1


def test_cordoned_node_is_allowed_with_unschedulable_toleration():
    nodes = [make_node("node-1", unschedulable=True)]
    pod = make_pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}])
    assert run(pod, nodes).actions[0].node == "node-1"


@pytest.mark.parametrize(
    "pod, decision",
    [
        pytest.param(make_pod(node_name="node-1"), "nothing to do", id="already bound"),
        pytest.param(make_pod(schedulerName="my-scheduler"), "not ours: left to that scheduler", id="other scheduler"),
        pytest.param(make_pod(phase="Failed"), "nothing to do", id="terminal"),
    ],
)
def test_pods_not_for_this_scheduler(pod, decision):
    result = run(pod, cluster())
    assert result.actions == () and result.status is None and result.trace.decision == decision


def test_deleting_pod_is_skipped_with_event():
    pod = make_pod()
    pod["metadata"]["deletionTimestamp"] = "2024-06-01T11:59:00Z"
    result = run(pod, cluster())
    assert failed_message(result) == "skip schedule deleting pod: default/pi-x7k9q"
    assert result.status is None and result.requeue_after is None


def test_scheduling_gated_pod_waits():
    pod = make_pod(schedulingGates=[{"name": "example.com/quota"}])
    result = run(pod, cluster())
    assert result.actions == ()
    assert result.status["conditions"] == [{
        "type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": "2024-06-01T12:00:00Z",
        "reason": "SchedulingGated", "message": "Scheduling is blocked due to non-empty scheduling gates"}]
    assert result.requeue_after is None


def test_fit_error_reasons_sort_as_strings():
    from controllers.scheduler import NodeStatus
    statuses = {f"n{i}": NodeStatus("X", "Unschedulable", ("Insufficient cpu",), "") for i in range(10)}
    statuses["m"] = NodeStatus("X", "Unschedulable", ("Too many pods",), "")
    statuses["k"] = NodeStatus("X", "Unschedulable", ("Too many pods",), "")
    assert fit_error_message(12, statuses) == "0/12 nodes are available: 10 Insufficient cpu, 2 Too many pods."


def test_truncate_message():
    assert truncate_message("x" * 1024) == "x" * 1024
    assert truncate_message("x" * 2000) == "x" * 1020 + " ..."


# --- how many nodes a cycle examines (numFeasibleNodesToFind, nextStartNodeIndex) ---------------------------


@pytest.mark.parametrize("num_all_nodes, percentage, expected", [
    pytest.param(10, 0, 10, id="not set, nodes under 100"),
    pytest.param(10, 40, 10, id="set, nodes under 100"),
    pytest.param(1000, 0, 420, id="not set, nodes over 100"),
    pytest.param(1000, 40, 400, id="set, nodes over 100"),
    pytest.param(6000, 0, 300, id="not set, nodes over 6000"),
    pytest.param(6000, 20, 1200, id="set, nodes over 6000"),
    pytest.param(150, 0, 100, id="never fewer than 100"),
])
def test_num_feasible_nodes_to_find(num_all_nodes, percentage, expected):
    # upstream's TestNumFeasibleNodesToFind (pkg/scheduler/schedule_one_test.go)
    assert num_feasible_nodes_to_find(num_all_nodes, percentage) == expected


def big_cluster(count):
    return [make_node(f"node-{i:03d}") for i in range(count)]


def bound_node(result):
    binds = [a for a in result.actions if isinstance(a, BindPod)]
    assert len(binds) == 1
    return binds[0].node


def test_large_clusters_stop_after_enough_feasible_nodes_and_the_next_cycle_goes_on_from_there():
    nodes = big_cluster(150)
    state = SchedulerState()
    first = schedule_pod(make_pod("a"), nodes, {}, NOW, rng=random.Random(1), state=state)
    # 100 feasible nodes wanted: the first 100 in name order are examined, the next cycle starts at node-100
    assert state.next_start_node_index == 100
    assert int(bound_node(first).split("-")[1]) < 100
    assert any("after examining 100 of 150 nodes" in note for note in first.trace.actions)
    second = schedule_pod(make_pod("b"), nodes, {}, NOW, rng=random.Random(1), state=state)
    assert state.next_start_node_index == 50  # (100 + 100) % 150: it wrapped round
    chosen = int(bound_node(second).split("-")[1])
    assert chosen >= 100 or chosen < 50


def test_small_clusters_examine_every_node_and_keep_no_start_index():
    state = SchedulerState()
    result = schedule_pod(make_pod(), cluster(), {}, NOW, rng=random.Random(1), state=state)
    assert state.next_start_node_index == 0  # (0 + 4 examined) % 4
    listed = [part.split(":")[0] for part in result.trace.observed.split("; ")]
    assert listed == ["control-plane", "node-1", "node-2", "node-3"]  # a small cluster is listed node by node


def test_when_nothing_fits_every_node_is_examined_whatever_the_cluster_size():
    nodes = big_cluster(150)
    result = schedule_pod(make_pod(cpu="5"), nodes, {}, NOW, rng=random.Random(1), state=SchedulerState(13))
    assert failed_message(result) == (
        f"0/150 nodes are available: 150 Insufficient cpu. preemption: 0/150 nodes are available: "
        f"150 {NO_VICTIMS}.")
    # the trace summarises 150 nodes instead of listing them
    assert result.trace.observed == (
        "150 node(s) rejected: Insufficient cpu (e.g. node-000: Insufficient cpu (pod requests 5, 2 of 2 free))")


def test_a_pinned_pod_is_filtered_on_its_node_alone_and_the_others_are_counted_absent():
    nodes = big_cluster(150)
    pinned = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-077"]}]}]}}}
    state = SchedulerState(next_start_node_index=42)
    placed = schedule_pod(make_pod(affinity=pinned), nodes, {}, NOW, rng=random.Random(1), state=state)
    assert bound_node(placed) == "node-077"
    assert state.next_start_node_index == 0  # upstream's index wraps over the one candidate node
    assert "149 other node(s): not among the nodes the pod's node affinity names (node-077)" in placed.trace.observed
    full = schedule_pod(make_pod(cpu="5", affinity=pinned), nodes, {}, NOW, rng=random.Random(1))
    assert failed_message(full) == (
        "0/150 nodes are available: 1 Insufficient cpu, 149 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        f"preemption: 0/150 nodes are available: 1 {NO_VICTIMS}, 149 {NOT_HELPFUL}.")


def _cache_of(nodes, pods=()):
    cache = Cache()
    for obj in [*nodes, *pods]:
        cache.apply_change("ADDED", obj["kind"], obj)
    return cache


def test_node_info_cache_rebuilds_only_nodes_that_changed():
    nodes = cluster()
    cache = _cache_of(nodes, [make_pod("x", cpu="1", node_name="node-1", phase="Running")])
    snapshot = NodeInfoCache()
    first = snapshot.infos(cache)
    assert [i.name for i in first] == ["control-plane", "node-1", "node-2", "node-3"]
    assert first[1].requested["cpu"] == 1000
    assert snapshot.infos(cache) is first  # nothing changed: the same list of the same NodeInfo objects
    cache.apply_change("MODIFIED", "Pod", dict(make_pod("x", cpu="1", node_name="node-1", phase="Running"),
                                               status={"phase": "Running", "podIP": "10.0.0.9"}))
    assert snapshot.infos(cache) is first  # a running pod's status change leaves its node alone
    cache.apply_change("ADDED", "Pod", make_pod("y", cpu="500m", node_name="node-1", phase="Running"))
    relabelled = copy.deepcopy(nodes[2])  # a new object for node-2 (the cache replaces, never mutates)
    relabelled["metadata"]["labels"]["disk"] = "ssd"
    cache.apply_change("MODIFIED", "Node", relabelled)
    unchanged = list(first)
    after = snapshot.infos(cache)
    assert after is first  # the same list, updated in place: a scheduling cycle lets it go before the next
    assert after[0] is unchanged[0] and after[3] is unchanged[3]
    assert after[1] is not unchanged[1] and after[1].requested["cpu"] == 1500
    assert after[2] is not unchanged[2] and after[2].node["metadata"]["labels"]["disk"] == "ssd"
    assert unchanged[1].requested["cpu"] == 1000  # a NodeInfo is never changed, only replaced
    cache.apply_change("DELETED", "Node", nodes[3])
    cache.apply_change("ADDED", "Node", dict(copy.deepcopy(nodes[3]), metadata={"name": "node-0", "labels": {}}))
    assert [i.name for i in snapshot.infos(cache)] == ["control-plane", "node-0", "node-1", "node-2"]
    cache.apply_change("MODIFIED", "Pod", make_pod("y", cpu="500m", node_name="node-1", phase="Succeeded"))
    assert snapshot.infos(cache)[2].requested["cpu"] == 1000  # a finished pod leaves its node's requests


def test_node_info_cache_starts_afresh_on_a_new_cache():
    """An engine relist builds a new informer cache, whose generations count from the start again."""
    snapshot = NodeInfoCache()
    busy = _cache_of(cluster(), [make_pod(f"x{i}", cpu="100m", node_name="node-1", phase="Running")
                                 for i in range(5)])
    assert snapshot.infos(busy)[1].requested["cpu"] == 500
    relisted = _cache_of(cluster())  # fewer changes: a lower generation than the old cache's
    assert snapshot.infos(relisted)[1].requested.get("cpu", 0) == 0
    relisted.apply_change("ADDED", "Pod", make_pod("y", cpu="1", node_name="node-1", phase="Running"))
    assert snapshot.infos(relisted)[1].requested["cpu"] == 1000


def test_a_pinned_pod_finds_its_node_in_the_snapshot_as_in_a_walk():
    nodes = cluster()
    infos = NodeInfoCache().infos(_cache_of(nodes))
    for target in ("node-2", "control-plane", "gone"):
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}]}}}
        pod = make_pod("d", cpu="100m", affinity=affinity)
        looked_up = schedule_pod(pod, (), {}, NOW, rng=random.Random(5), node_infos=infos)
        walked = schedule_pod(pod, (), {}, NOW, rng=random.Random(5), node_infos=list(infos))
        assert looked_up.actions == walked.actions and looked_up.status == walked.status
        assert looked_up.trace.observed == walked.trace.observed


def test_remembered_answers_are_per_pod_signature_and_match_fresh_ones():
    nodes = cluster()
    infos = NodeInfoCache().infos(_cache_of(nodes))
    tolerating = make_pod("t", cpu="1", tolerations=[{"key": "node-role.kubernetes.io/control-plane",
                                                      "effect": "NoSchedule"}])
    plain = make_pod("p", cpu="1")
    for pod in (plain, tolerating, plain, tolerating):  # the second round is answered from the NodeInfo memo
        remembered = schedule_pod(pod, (), {}, NOW, rng=random.Random(3), node_infos=infos)
        fresh = schedule_pod(pod, nodes, {}, NOW, rng=random.Random(3))
        assert remembered.trace.observed == fresh.trace.observed
        assert bound_node(remembered) == bound_node(fresh)
    assert "control-plane: fits" in schedule_pod(tolerating, (), {}, NOW, rng=random.Random(3),
                                                 node_infos=infos).trace.observed
    assert "control-plane: untolerated taint" in schedule_pod(plain, (), {}, NOW, rng=random.Random(3),
                                                              node_infos=infos).trace.observed
    assert len(infos[0].memo) == 2  # one entry per signature


def test_a_tie_of_many_nodes_is_folded_in_the_trace():
    nodes = [make_node(f"n-{i:03d}", cpu="4") for i in range(40)]
    result = schedule_pod(make_pod("p", cpu="1"), nodes, {}, NOW, rng=random.Random(2))
    tie = [note for note in result.trace.actions if note.startswith("top score")]
    assert len(tie) == 1 and "shared by 40 nodes (n-000, n-001, n-002 … n-039): picked" in tie[0]
