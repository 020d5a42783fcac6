"""Tests for PodGC (``controllers.podgc``), after upstream's gc_controller_test.go (TestGCOrphaned,
TestGCUnscheduledTerminating, TestGCTerminating, TestGCTerminated)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from controllers.plan import DeleteObject, PatchObject
from controllers.podgc import gc_pods

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def node(name, ready=True, taints=None):
    return {"metadata": {"name": name}, "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def pod(name, node_name="", phase="Running", deleting=False, created="2024-06-01T10:00:00Z", reason=None):
    p = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": created},
         "spec": {"nodeName": node_name} if node_name else {}, "status": {"phase": phase}}
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2024-06-01T11:59:00Z"
    if reason:
        p["status"]["reason"] = reason
    return p


def deleted(result):
    return [a.name for a in result.actions if isinstance(a, DeleteObject)]


def test_orphaned_pod_deleted_after_quarantine():
    pods = [pod("a", "gone"), pod("b", "node-1"), pod("c", "gone", phase="Succeeded")]
    nodes = [node("node-1")]
    before = copy.deepcopy(pods)
    first = gc_pods(pods, nodes, NOW)
    assert first.actions == ()
    assert first.memory == {"gone": NOW + timedelta(seconds=40)}
    assert first.requeue_after == 20.0
    second = gc_pods(pods, nodes, NOW + timedelta(seconds=20), memory=first.memory)
    assert second.actions == () and second.memory == first.memory
    third = gc_pods(pods, nodes, NOW + timedelta(seconds=40), memory=second.memory)
    assert third.memory == {}
    assert third.actions == (
        PatchObject("Pod", "default", "a", {"metadata": {"uid": "uid-a"}, "status": {
            "phase": "Failed",
            "conditions": [{"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": "2024-06-01T12:00:40Z", "reason": "DeletionByPodGC",
                            "message": "PodGC: node no longer exists"}]}}, subresource="status"),
        DeleteObject("Pod", "default", "a", "uid-a", grace_period_seconds=0),
        # A terminal pod is not patched, only deleted.
        DeleteObject("Pod", "default", "c", "uid-c", grace_period_seconds=0),
    )
    assert pods == before


def test_node_that_comes_back_is_released_from_quarantine():
    pods = [pod("a", "flaky")]
    first = gc_pods(pods, [], NOW)
    back = gc_pods(pods, [node("flaky")], NOW + timedelta(seconds=40), memory=first.memory)
    assert back.actions == () and back.memory == {}


@pytest.mark.parametrize(
    "pods, nodes, expected",
    [
        pytest.param([pod("unscheduled-terminating", deleting=True, phase="Pending"), pod("pending", phase="Pending")],
                     [], ["unscheduled-terminating"], id="Unscheduled pod in any phase must be deleted once terminating"),
        pytest.param([pod("t", "node-1", deleting=True)],
                     [node("node-1", ready=False, taints=[{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}])],
                     ["t"], id="terminating pod on out-of-service not-ready node"),
        pytest.param([pod("t", "node-1", deleting=True)], [node("node-1", ready=False)], [],
                     id="terminating pod on not-ready node without out-of-service taint is kept"),
        pytest.param([pod("t", "node-1", deleting=True)],
                     [node("node-1", ready=True, taints=[{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}])],
                     [], id="out-of-service but ready node keeps its pods"),
    ],
)
def test_gc_terminating(pods, nodes, expected):
    result = gc_pods(pods, nodes, NOW)
    assert deleted(result) == expected
    patches = [a for a in result.actions if isinstance(a, PatchObject)]
    assert [p.patch["status"] for p in patches] == [{"phase": "Failed"}] * len(expected)


def test_gc_terminated_over_threshold_deletes_evicted_then_oldest():
    pods = [pod("new", "node-1", phase="Succeeded", created="2024-06-01T11:00:00Z"),
            pod("old", "node-1", phase="Failed", created="2024-06-01T09:00:00Z"),
            pod("evicted", "node-1", phase="Failed", reason="Evicted", created="2024-06-01T11:30:00Z"),
            pod("running", "node-1")]
    result = gc_pods(pods, [node("node-1")], NOW, terminated_pod_threshold=1)
    assert deleted(result) == ["evicted", "old"]
    assert gc_pods(pods, [node("node-1")], NOW).actions == ()  # 12500 by default


def test_pod_is_handled_once_even_if_two_passes_select_it():
    pods = [pod("x", "gone", deleting=True)]
    first = gc_pods(pods, [], NOW)
    assert deleted(first) == []
    later = gc_pods(pods, [], NOW + timedelta(seconds=40), memory=first.memory)
    assert deleted(later) == ["x"]
