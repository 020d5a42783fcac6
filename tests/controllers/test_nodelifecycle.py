"""Tests for node tainting and taint-based eviction (``controllers.nodelifecycle``), after upstream's
TestTaintsNodeByCondition / TestApplyNoExecuteTaints (node_lifecycle_controller_test.go) and
TestCreatePod / TestUpdatePod / TestUpdateNode (tainteviction/taint_eviction_test.go)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from controllers.nodelifecycle import ScheduledEviction, evict_pods_for_taints, sync_node_lifecycle
from controllers.plan import DeleteObject, EmitEvent, PatchObject

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
T = "2024-06-01T12:00:00Z"
OLD = "2024-06-01T11:00:00Z"


def node(ready="True", taints=None, unschedulable=False, **conditions):
    n = {"metadata": {"name": "node-1", "creationTimestamp": T}, "spec": {},
         "status": {"conditions": ([{"type": "Ready", "status": ready}] if ready else [])
                    + [{"type": k, "status": v} for k, v in conditions.items()]}}
    if taints is not None:
        n["spec"]["taints"] = taints
    if unschedulable:
        n["spec"]["unschedulable"] = True
    return n


#: What ``taints_after`` answers for a patch that removes the field (its last taint went).
REMOVED = "spec.taints removed"


def taints_after(result):
    if not result.actions:
        return None
    (patch,) = result.actions
    assert isinstance(patch, PatchObject) and (patch.kind, patch.name) == ("Node", "node-1")
    taints = patch.patch["spec"]["taints"]
    return REMOVED if taints is None else taints


@pytest.mark.parametrize(
    "obj, expected",
    [
        pytest.param(node(), None, id="ready node needs no taints"),
        pytest.param(node(ready="False"), [
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": T},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": T}], id="NotReady node"),
        pytest.param(node(ready="Unknown"), [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": T},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": T}], id="Unreachable node"),
        pytest.param(node(ready="Unknown", taints=[
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": OLD},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": OLD}]), [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": T},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": T}],
            id="NotReady to Unreachable swaps the taints"),
        pytest.param(node(taints=[
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": OLD},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": OLD}]),
            [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
            id="Ready again removes the controller's taints and keeps the user's"),
        pytest.param(node(unschedulable=True), [
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": T}], id="cordoned"),
        pytest.param(node(taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": OLD}]),
                     REMOVED, id="uncordoned"),
        pytest.param(node(MemoryPressure="True", DiskPressure="False", PIDPressure="True"), [
            {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule", "timeAdded": T},
            {"key": "node.kubernetes.io/pid-pressure", "effect": "NoSchedule", "timeAdded": T}], id="pressure conditions"),
        pytest.param(node(ready="False", taints=[
            {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": OLD},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": OLD}]), None,
            id="already tainted: nothing to do"),
        pytest.param(node(ready=None, taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]), None,
                     id="no Ready condition: NoExecute taints left alone"),
    ],
)
def test_sync_node_lifecycle(obj, expected):
    before = copy.deepcopy(obj)
    result = sync_node_lifecycle(obj, NOW)
    assert taints_after(result) == expected
    # A node no kubelet has posted a Ready condition for is looked at again when its startup grace period ends.
    assert result.status is None and result.requeue_after == (None if ready_condition(obj) else 60)
    assert obj == before


def ready_condition(obj):
    return next((c for c in obj["status"]["conditions"] if c["type"] == "Ready"), None)


NOT_READY_NO_EXECUTE = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": T}
DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


def pod(name, tolerations=None, node_name="node-1", deleting=False):
    p = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
         "spec": {"nodeName": node_name, "tolerations": tolerations or []}, "status": {"phase": "Running"}}
    if deleting:
        p["metadata"]["deletionTimestamp"] = T
    return p


def ref(name):
    return {"apiVersion": "v1", "kind": "Pod", "namespace": "default", "name": name}


def eviction(name, at="2024-06-01T12:00:00Z"):
    return (
        EmitEvent(ref(name), "Normal", "TaintManagerEviction", f"Marking for deletion Pod default/{name}",
                  "taint-eviction-controller"),
        PatchObject("Pod", "default", name, {"metadata": {"uid": f"uid-{name}"}, "status": {"conditions": [
            {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None, "lastTransitionTime": at,
             "reason": "DeletionByTaintManager", "message": "Taint manager: deleting due to NoExecute taint"}]}},
            subresource="status"),
        DeleteObject("Pod", "default", name, f"uid-{name}"),
    )


def tainted_node(*taints):
    return node(ready="False", taints=list(taints))


@pytest.mark.parametrize(
    "pods, taints, actions, scheduled",
    [
        pytest.param([pod("p")], [], (), {}, id="not scheduled - no taints"),
        pytest.param([pod("p")], [{"key": "x", "effect": "NoSchedule"}], (), {}, id="NoSchedule taints are ignored"),
        pytest.param([pod("p")], [NOT_READY_NO_EXECUTE], eviction("p"), {}, id="schedule on tainted Node: evict now"),
        pytest.param([pod("p", [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}])],
                     [NOT_READY_NO_EXECUTE], (), {}, id="schedule on tainted Node with infinite toleration"),
        pytest.param([pod("p", DEFAULT_TOLERATIONS)], [NOT_READY_NO_EXECUTE], (),
                     {"default/p": ScheduledEviction("uid-p", NOW, NOW + timedelta(seconds=300))},
                     id="schedule on tainted Node with finite toleration"),
        pytest.param([pod("p", [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                                 "tolerationSeconds": 0}])],
                     [NOT_READY_NO_EXECUTE], eviction("p"), {}, id="tolerationSeconds 0 evicts now"),
        pytest.param([pod("p", DEFAULT_TOLERATIONS)], [NOT_READY_NO_EXECUTE, {"key": "other", "effect": "NoExecute"}],
                     eviction("p"), {}, id="one untolerated taint among tolerated ones"),
        pytest.param([pod("p", deleting=True)], [NOT_READY_NO_EXECUTE], (), {}, id="terminating pod left alone"),
        pytest.param([pod("p", node_name="node-2")], [NOT_READY_NO_EXECUTE], (), {}, id="pod on another node ignored"),
    ],
)
def test_evict_pods_for_taints(pods, taints, actions, scheduled):
    obj = tainted_node(*taints)
    before = copy.deepcopy((obj, pods))
    result = evict_pods_for_taints(obj, pods, NOW)
    assert result.actions == actions
    assert result.memory == scheduled
    assert result.requeue_after == (300.0 if scheduled else None)
    assert (obj, pods) == before


def test_finite_toleration_fires_after_toleration_seconds():
    obj = tainted_node(NOT_READY_NO_EXECUTE)
    pods = [pod("p", DEFAULT_TOLERATIONS)]
    first = evict_pods_for_taints(obj, pods, NOW)
    later = NOW + timedelta(seconds=100)
    middle = evict_pods_for_taints(obj, pods, later, memory=first.memory)
    assert middle.actions == () and middle.requeue_after == 200.0 and middle.memory == first.memory
    due = NOW + timedelta(seconds=300)
    fired = evict_pods_for_taints(obj, pods, due, memory=middle.memory)
    assert fired.actions == eviction("p", at="2024-06-01T12:05:00Z")
    assert fired.memory == {} and fired.requeue_after is None


def test_taint_removed_cancels_scheduled_eviction_with_event():
    pods = [pod("p", DEFAULT_TOLERATIONS)]
    first = evict_pods_for_taints(tainted_node(NOT_READY_NO_EXECUTE), pods, NOW)
    healed = evict_pods_for_taints(node(), pods, NOW + timedelta(seconds=60), memory=first.memory)
    assert healed.actions == (EmitEvent(ref("p"), "Normal", "TaintManagerEviction", "Cancelling deletion of Pod default/p",
                                        "taint-eviction-controller"),)
    assert healed.memory == {} and healed.requeue_after is None


def test_deleted_pod_cancels_its_scheduled_eviction():
    first = evict_pods_for_taints(tainted_node(NOT_READY_NO_EXECUTE), [pod("p", DEFAULT_TOLERATIONS)], NOW)
    gone = evict_pods_for_taints(tainted_node(NOT_READY_NO_EXECUTE), [], NOW + timedelta(seconds=1), memory=first.memory)
    assert [a.message for a in gone.actions] == ["Cancelling deletion of Pod default/p"]


def test_existing_disruption_condition_is_not_patched_again():
    p = pod("p")
    p["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                                  "lastTransitionTime": OLD, "reason": "DeletionByTaintManager",
                                  "message": "Taint manager: deleting due to NoExecute taint"}]
    result = evict_pods_for_taints(tainted_node(NOT_READY_NO_EXECUTE), [p], NOW)
    assert [type(a).__name__ for a in result.actions] == ["EmitEvent", "DeleteObject"]


# --- a Node with no kubelet behind it ------------------------------------------------------------------------

NOT_READY_NO_SCHEDULE = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
CREATED_LONG_AGO = "2012-01-01T00:00:00Z"


def api_node(created=T, taints=None):
    """A Node as ``kubectl create`` stores it: no status from a kubelet, the admission plugin's taint."""
    return {"metadata": {"name": "node-1", "creationTimestamp": created},
            "spec": {"taints": [NOT_READY_NO_SCHEDULE] if taints is None else taints}}


def test_the_admission_plugins_taint_goes_while_no_condition_calls_for_it():
    """doNoScheduleTaintingPass owns not-ready:NoSchedule: with no Ready condition nothing calls for it, so a Node
    created through the API loses it at the first pass (and can take pods until its startup grace period is over)."""
    result = sync_node_lifecycle(api_node(), NOW)
    assert taints_after(result) == REMOVED
    assert result.requeue_after == 60


def never_updated(condition_type):
    return {"type": condition_type, "status": "Unknown", "lastHeartbeatTime": CREATED_LONG_AGO, "lastTransitionTime": T,
            "reason": "NodeStatusNeverUpdated", "message": "Kubelet never posted node status."}


# TestMonitorNodeHealthUpdateStatus (node_lifecycle_controller_test.go); its cases are comments, kept as ids.
@pytest.mark.parametrize("obj, conditions, requeue", [
    pytest.param(api_node(created=CREATED_LONG_AGO, taints=[]), [never_updated(t) for t in (
        "Ready", "MemoryPressure", "DiskPressure", "PIDPressure")], None,
        id="Node created long time ago, without status: Expect Unknown status posted from node controller"),
    pytest.param(api_node(taints=[]), None, 60,
                 id="Node created recently, without status. Expect no action from node controller "
                    "(within startup grace period)"),
    pytest.param(api_node(created="2024-06-01T11:59:30Z", taints=[]), None, 30,
                 id="Node created 30 s ago, without status: looked at again when the grace period ends"),
])
def test_monitor_node_health_update_status(obj, conditions, requeue):
    before = copy.deepcopy(obj)
    result = sync_node_lifecycle(obj, NOW)
    if conditions is None:
        assert result.actions == ()
    else:
        assert result.actions == (PatchObject("Node", "", "node-1", {"status": {"conditions": conditions}},
                                              subresource="status"),)
    assert result.requeue_after == requeue
    assert obj == before


def test_a_node_whose_kubelet_never_posted_is_tainted_unreachable():
    node_ = api_node(created=CREATED_LONG_AGO, taints=[])
    node_["status"] = {"conditions": [never_updated(t) for t in ("Ready", "MemoryPressure", "DiskPressure",
                                                                 "PIDPressure")]}
    assert taints_after(sync_node_lifecycle(node_, NOW)) == [
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": T},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": T}]
