"""The controller tests' fake world (``tests.controllers.world``) keeps the engine's and the registry's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controllers.engine import ACTION_HANDLERS
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from tests.controllers.world import HANDLERS, NOW, World

TRACE = Trace("test", "k", "", "", "", ())


def plan(*actions, status=None) -> SyncResult:
    return SyncResult(tuple(actions), status, None, TRACE)


def pod(name, *, node=None, phase="Running", finalizers=None, grace=None) -> dict:
    spec = {"containers": [{"name": "c", "image": "foo/bar"}]}
    if node:
        spec["nodeName"] = node
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    meta = {"name": name, "namespace": "default"}
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {"phase": phase}}


def delete(name, uid=None) -> DeleteObject:
    return DeleteObject("Pod", "default", name, uid or f"uid-{name}")


def test_the_world_applies_every_action_type_the_engine_applies():
    assert set(HANDLERS) == set(ACTION_HANDLERS)
    assert all(handler.__qualname__ == "World." + engine_handler.__name__
               for action, handler in HANDLERS.items() for engine_handler in [ACTION_HANDLERS[action]])


def test_a_running_pod_terminates_for_its_grace_period_until_the_kubelet_finishes_it():
    world = World(pod("a", node="node-1", grace=10))
    assert world.apply(plan(delete("a"))) is False
    terminating = world.get("Pod", "default", "a")
    assert terminating["metadata"]["deletionTimestamp"] == "2024-06-01T12:00:10Z"
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 10
    world.finish_termination("default", "a")
    assert world.get("Pod", "default", "a") is None
    assert [(e.type, e.object["metadata"]["name"]) for e in world.changes_since(0)] == [
        ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


@pytest.mark.parametrize("gone", [
    pytest.param(pod("a"), id="never scheduled"),
    pytest.param(pod("a", node="node-1", phase="Failed"), id="finished"),
    pytest.param(dict(pod("a", node="node-1"), kind="Job"), id="not a pod"),
])
def test_what_has_nothing_to_stop_goes_at_once(gone):
    world = World(gone)
    world.delete(gone["kind"], "default", "a")
    assert world.get(gone["kind"], "default", "a") is None


def test_kubelet_finishing_at_once_makes_deleted_pods_vanish():
    world = World(pod("a", node="node-1"), kubelet_finishes_at_once=True)
    world.apply(plan(delete("a")))
    assert world.list("Pod") == []


def test_a_finalizer_holds_a_deleted_object_until_it_is_patched_away():
    world = World(pod("a", finalizers=["batch.kubernetes.io/job-tracking"]))
    world.apply(plan(delete("a")))
    assert world.get("Pod", "default", "a")["metadata"]["deletionTimestamp"] == "2024-06-01T12:00:00Z"
    world.apply(plan(PatchObject("Pod", "default", "a", {"metadata": {"finalizers": None}})))
    assert world.get("Pod", "default", "a") is None


def test_a_delete_checks_the_uid_and_what_is_gone_is_no_failure():
    world = World(pod("a"))
    failed = world.apply(plan(DeleteObject("Pod", "default", "a", "uid-other",
                                           failure_event=event("FailedDelete", "Error deleting: {error}"))))
    assert failed and world.get("Pod", "default", "a") is not None
    assert world.events[0].message.startswith('Error deleting: Operation cannot be fulfilled on pods "a"')
    assert world.apply(plan(delete("gone", "uid-gone"))) is False


def event(reason, message) -> EmitEvent:
    return EmitEvent({"kind": "Job", "namespace": "default", "name": "j", "uid": "u"}, "Normal", reason, message,
                     "job-controller")


def test_creates_are_named_stamped_and_slow_started_and_bind_their_events():
    world = World(pod("taken-00001"))
    world.set_now(NOW + timedelta(seconds=5))
    new = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "taken-", "namespace": "default"},
           "spec": {}, "status": {"phase": "Running"}}
    named = dict(new, metadata={"name": "taken-00001", "namespace": "default"})
    created = event("SuccessfulCreate", "Created pod: {name}")
    refused = event("FailedCreate", "Error creating: {error}")
    failed = world.apply(plan(
        CreateObject(new, 0, created, refused),
        CreateObject(new, 1, created, refused),
        CreateObject(named, 1, created, refused),
        CreateObject(new, 2, created, refused),  # skipped: batch 1 failed
    ))
    assert failed
    assert [p["metadata"]["name"] for p in world.list("Pod")] == ["taken-00000", "taken-00001", "taken-00002"]
    first = world.get("Pod", "default", "taken-00000")
    assert first["metadata"]["uid"] == "uid-taken-00000"
    assert first["metadata"]["creationTimestamp"] == "2024-06-01T12:00:05Z"
    assert first["status"] == {"phase": "Pending"}
    assert [e.message for e in world.events] == [
        "Created pod: taken-00000", "Created pod: taken-00002",
        'Error creating: pods "taken-00001" already exists']


def test_status_goes_first_and_writes_never_change_objects_in_place():
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "default"},
           "spec": {"parallelism": 1}, "status": {}}
    world = World(job)
    before = world.get("Job", "default", "j")
    world.apply(plan(status={"active": 1}), subject=job)
    after = world.get("Job", "default", "j")
    assert before["status"] == {} and after["status"] == {"active": 1}
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    world.apply(plan(status={"active": 1}), subject=job)  # no change: no write
    assert world.get("Job", "default", "j") is after
