"""The engine's parts: timer heap, work queue, informer cache, and plan application through a recording client."""

import dataclasses
import typing
from datetime import datetime, timedelta, timezone

import pytest

from controllers import plan as plan_module
from controllers.cache import Cache
from controllers.clock import TimerHeap
from controllers.engine import ACTION_HANDLERS, Engine
from controllers.plan import Action, CreateObject, DeleteObject, EmitEvent, SyncResult, Trace
from controllers.client import ClientError, WatchEvent
from controllers.workqueue import WorkQueue

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_timer_heap_orders_by_time_then_insertion_and_keeps_the_earliest_time_per_key():
    heap = TimerHeap()
    heap.schedule(at(10), "b")
    heap.schedule(at(5), "a")
    heap.schedule(at(10), "c")
    heap.schedule(at(20), "a")  # later than the existing time: ignored
    heap.schedule(at(7), "c")  # earlier: moves
    assert heap.next_time() == at(5)
    assert heap.pop_due(at(9)) == ["a", "c"]
    assert heap.pop_due(at(9)) == []
    assert heap.pop_due(at(10)) == ["b"]
    assert heap.next_time() is None and len(heap) == 0


def test_work_queue_dedups_and_rate_limits_per_key():
    queue = WorkQueue()
    for key in ("a", "b", "a"):
        queue.add(key)
    assert len(queue) == 2
    assert [queue.pop(), queue.pop()] == ["a", "b"]
    assert [queue.rate_limit_delay("a") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    queue.forget("a")
    assert queue.rate_limit_delay("a") == 0.005


def pod(name, rv, node=None, owner=None, namespace="default"):
    meta = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": str(rv)}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True}]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}}


def test_cache_indexes_owner_and_node_and_ignores_stale_changes():
    cache = Cache()
    cache.apply_change("ADDED", "Pod", pod("b", 2, node="n1", owner="job"))
    cache.apply_change("ADDED", "Pod", pod("a", 3, node="n1", owner="job"))
    assert [p["metadata"]["name"] for p in cache.owned_by("job", "Pod")] == ["a", "b"]
    assert [p["metadata"]["name"] for p in cache.pods_on_node("n1")] == ["a", "b"]
    assert cache.apply_change("MODIFIED", "Pod", pod("a", 1, node="n2"))["metadata"]["resourceVersion"] == "3"
    assert cache.get("Pod", "default", "a")["spec"]["nodeName"] == "n1"  # the stale version was ignored
    cache.apply_change("MODIFIED", "Pod", pod("a", 4, node="n2"))
    assert [p["metadata"]["name"] for p in cache.pods_on_node("n1")] == ["b"]
    assert [p["metadata"]["name"] for p in cache.owned_by("job")] == ["b"]
    cache.apply_change("DELETED", "Pod", pod("b", 5))
    assert cache.by_uid("uid-b") is None and cache.pods_on_node("n1") == []


class RecordingClient:
    """A client that logs each call and the watch events of what it created, failing creates of names listed in
    ``refuse``; every delete answers NotFound."""

    def __init__(self, refuse=()):
        self._now = T0
        self.calls = []
        self.refuse = set(refuse)
        self.rv = 0
        self.changes = []

    def now(self):
        return self._now

    def set_now(self, now):
        self._now = now

    def resource_version(self):
        return self.rv

    def list(self, kind):
        return []

    def changes_since(self, rv):
        return [c for c in self.changes if c.resource_version > rv]

    def create(self, obj):
        name = obj["metadata"].get("name") or obj["metadata"]["generateName"] + "xyz"
        self.calls.append(("create", obj["kind"], name))
        if name in self.refuse:
            raise ClientError(422, "Invalid", f"{name} refused")
        self.rv += 1
        created = {**obj, "metadata": {**obj["metadata"], "name": name, "resourceVersion": str(self.rv)}}
        self.changes.append(WatchEvent("ADDED", obj["kind"], created))
        return created

    def update_status(self, obj):
        self.calls.append(("status", obj["kind"], obj["metadata"]["name"]))
        return obj

    def patch(self, kind, namespace, name, patch, patch_type="merge", *, subresource=""):
        self.calls.append(("patch", kind, name, patch))
        return {}

    def delete(self, kind, namespace, name, **options):
        self.calls.append(("delete", kind, name))
        raise ClientError(404, "NotFound", "gone")


def event(reason, message="m"):
    return EmitEvent({"kind": "Job", "namespace": "default", "name": "j", "uid": "u"}, "Normal", reason, message,
                     "job-controller")


class OneShot:
    """A controller that returns a fixed plan once for key "k"."""

    name = "one-shot"

    def __init__(self, result):
        self.result = result
        self.synced = []

    def initial_keys(self, engine):
        return ["k"]

    def keys_for_change(self, change, old, engine):
        return []

    def sync(self, key, engine, memory):
        self.synced.append((engine.now, memory))
        result, self.result = self.result, None
        return result


def plan(*actions, requeue=None, memory=None):
    return SyncResult(tuple(actions), None, requeue, Trace("one-shot", "k", "", "", "", ()), memory)


def test_slow_start_stops_after_a_failed_batch_and_events_follow_their_action():
    create = lambda name, batch: CreateObject(  # noqa: E731
        {"kind": "Pod", "metadata": {"name": name, "namespace": "default"}}, batch=batch,
        success_event=event("SuccessfulCreate", "Created pod: {name}"),
        failure_event=event("FailedCreate", "Error creating: {error}"))
    client = RecordingClient(refuse={"b"})
    engine = Engine(client, [OneShot(plan(create("a", 0), create("b", 1), create("c", 1), create("d", 2)))])
    engine.drain()
    creates = [c for c in client.calls if c[0] == "create"]
    assert [c[2] for c in creates if c[1] == "Pod"] == ["a", "b", "c"]  # batch 2 skipped after batch 1 failed
    messages = [c[2] for c in creates if c[1] == "Event"]
    assert len(messages) == 3  # SuccessfulCreate a, FailedCreate b, SuccessfulCreate c
    events = [c.object for c in client.changes if c.kind == "Event"]
    assert [e["message"] for e in events] == ["Created pod: a", "Error creating: b refused", "Created pod: c"]


def test_delete_of_a_missing_object_is_not_a_failure_and_emits_nothing():
    client = RecordingClient()
    action = DeleteObject("Pod", "default", "gone", "uid", success_event=event("SuccessfulDelete"))
    engine = Engine(client, [OneShot(plan(action))])
    engine.drain()
    assert ("delete", "Pod", "gone") in client.calls
    assert not [c for c in client.changes if c.kind == "Event"]
    assert engine.next_event_time() is None  # no retry scheduled


def test_requeue_and_memory_come_back_at_the_right_simulated_time():
    controller = OneShot(plan(requeue=30, memory={"n": 1}))
    engine = Engine(RecordingClient(), [controller])
    engine.run_until(at(100))
    assert controller.synced == [(T0, None), (at(30), {"n": 1})]
    assert engine.now == at(100)


def test_every_action_type_of_the_plan_has_exactly_one_handler():
    declared = {value for value in vars(plan_module).values()
                if isinstance(value, type) and dataclasses.is_dataclass(value)
                and value.__module__ == plan_module.__name__} - {Trace, SyncResult}
    assert set(typing.get_args(Action)) == declared  # a new action class is part of the Action union
    assert set(ACTION_HANDLERS) == declared
    handlers = list(ACTION_HANDLERS.values())
    assert len(set(handlers)) == len(handlers)  # and no handler serves two types
    assert all(handler.__qualname__.startswith("Engine.apply_") for handler in handlers)


def test_an_action_without_a_handler_fails_loudly():
    @dataclasses.dataclass(frozen=True)
    class ScaleObject:
        replicas: int

    engine = Engine(RecordingClient(), [OneShot(plan(ScaleObject(3)))])
    with pytest.raises(TypeError, match="the engine has no handler for ScaleObject: add one to ACTION_HANDLERS"):
        engine.drain()


def test_repeated_events_are_counted_on_one_event():
    client = RecordingClient()
    engine = Engine(client, [])
    engine.record_event(event("BackOff", "Back-off restarting failed container"))
    engine.record_event(event("BackOff", "Back-off restarting failed container"))
    engine.record_event(event("Other"))
    assert [c[0] for c in client.calls] == ["create", "patch", "create"]
    # upstream's patch (eventObserve) carries the message too: a combined event's is the latest one's
    assert client.calls[1][3] == {"count": 2, "lastTimestamp": "2025-01-01T00:00:00Z",
                                  "message": "Back-off restarting failed container"}


def test_event_names_are_unique_at_one_instant():
    client = RecordingClient()
    engine = Engine(client, [])
    engine.record_event(event("A"))
    engine.record_event(event("B"))
    names = [c.object["metadata"]["name"] for c in client.changes]
    assert len(set(names)) == 2 and all(n.startswith("j.") for n in names)
    for i in range(300):  # a DaemonSet creating pods on 300 nodes at one instant: the next nanoseconds in turn
        engine.record_event(event(f"Created {i}"))
    nanos = [int(c.object["metadata"]["name"].split(".")[1], 16) for c in client.changes]
    assert nanos == list(range(nanos[0], nanos[0] + 302))


def test_cache_keeps_finished_pods_out_of_the_unfinished_index():
    cache = Cache()
    running = pod("a", 1, node="n1")
    done = dict(pod("b", 2, node="n1"), status={"phase": "Succeeded"})
    cache.apply_change("ADDED", "Pod", running)
    cache.apply_change("ADDED", "Pod", done)
    assert [p["metadata"]["name"] for p in cache.pods_on_node("n1")] == ["a", "b"]
    assert [p["metadata"]["name"] for p in cache.unfinished_pods_on_node("n1")] == ["a"]
    cache.apply_change("MODIFIED", "Pod", dict(pod("a", 3, node="n1"), status={"phase": "Failed"}))
    assert cache.unfinished_pods_on_node("n1") == []


def test_node_generation_moves_only_when_a_node_gains_or_loses_an_unfinished_pod():
    cache = Cache()
    start = cache.node_generation("n1")
    cache.apply_change("ADDED", "Pod", pod("a", 1))  # not bound: no node changes
    assert cache.node_generation("n1") == start
    cache.apply_change("MODIFIED", "Pod", pod("a", 2, node="n1"))
    bound = cache.node_generation("n1")
    assert bound != start
    cache.apply_change("MODIFIED", "Pod", dict(pod("a", 3, node="n1"), status={"phase": "Running"}))
    assert cache.node_generation("n1") == bound  # a status change of a running pod leaves the node as it was
    cache.apply_change("MODIFIED", "Pod", dict(pod("a", 4, node="n1"), status={"phase": "Succeeded"}))
    finished = cache.node_generation("n1")
    assert finished != bound
    cache.apply_change("ADDED", "Pod", pod("b", 5, node="n2"))
    assert cache.node_generation("n1") == finished and cache.node_generation("n2") != start
    cache.apply_change("DELETED", "Pod", pod("b", 6, node="n2"))
    assert cache.node_generation("n2") > finished


def test_owned_pods_in_play_leave_out_finished_pods_without_finalizers():
    cache = Cache()

    def owned(name, rv, phase, finalizers=None, deleting=False):
        obj = dict(pod(name, rv, node="n1", owner="job"), status={"phase": phase})
        if finalizers:
            obj["metadata"]["finalizers"] = finalizers
        if deleting:
            obj["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
        return obj

    cache.apply_change("ADDED", "Pod", owned("running", 1, "Running"))
    cache.apply_change("ADDED", "Pod", owned("counted", 2, "Succeeded"))
    cache.apply_change("ADDED", "Pod", owned("uncounted", 3, "Succeeded", ["batch.kubernetes.io/job-tracking"]))
    cache.apply_change("ADDED", "Pod", owned("going", 4, "Failed", deleting=True))
    names = lambda pods: [p["metadata"]["name"] for p in pods]  # noqa: E731
    assert names(cache.owned_pods_in_play("job")) == ["going", "running", "uncounted"]
    assert names(cache.owned_by("job", "Pod")) == ["counted", "going", "running", "uncounted"]
    # the finalizer comes off: the pod is settled
    cache.apply_change("MODIFIED", "Pod", owned("uncounted", 5, "Succeeded"))
    assert names(cache.owned_pods_in_play("job")) == ["going", "running"]
    cache.apply_change("DELETED", "Pod", owned("going", 6, "Failed"))
    cache.apply_change("DELETED", "Pod", owned("running", 7, "Running"))
    assert cache.owned_pods_in_play("job") == []


def test_cache_lists_in_name_order_with_the_current_objects():
    cache = Cache()
    for name, rv in (("b", 1), ("a", 2), ("c", 3)):
        cache.apply_change("ADDED", "Pod", pod(name, rv))
    assert [p["metadata"]["name"] for p in cache.list("Pod")] == ["a", "b", "c"]
    cache.apply_change("MODIFIED", "Pod", pod("b", 4, node="n1"))
    assert cache.list("Pod")[1]["spec"] == {"nodeName": "n1"}  # the new version, in the same place
    cache.apply_change("DELETED", "Pod", pod("a", 5))
    cache.apply_change("ADDED", "Pod", pod("aa", 6))
    assert [p["metadata"]["name"] for p in cache.list("Pod")] == ["aa", "b", "c"]


def test_indexed_lists_hold_the_current_versions_and_follow_membership_changes():
    cache = Cache()
    cache.apply_change("ADDED", "Pod", pod("b", 1, node="n1", owner="ds"))
    cache.apply_change("ADDED", "Pod", pod("a", 2, node="n1", owner="ds"))
    assert [p["metadata"]["name"] for p in cache.owned_by("ds", "Pod")] == ["a", "b"]
    running = dict(pod("b", 3, node="n1", owner="ds"), status={"phase": "Running"})
    cache.apply_change("MODIFIED", "Pod", running)  # no index membership changes: the order is kept
    assert cache.owned_by("ds", "Pod")[1] is running and cache.unfinished_pods_on_node("n1")[1] is running
    cache.apply_change("MODIFIED", "Pod", pod("a", 4, node="n2", owner="other"))  # moves owner and node
    assert [p["metadata"]["name"] for p in cache.owned_by("ds")] == ["b"]
    assert [p["metadata"]["name"] for p in cache.owned_by("other")] == ["a"]
    assert [p["metadata"]["name"] for p in cache.pods_on_node("n2")] == ["a"]
    assert [p["metadata"]["name"] for p in cache.pods_on_node("n1")] == ["b"]


def test_every_informer_kind_is_served_by_the_api():
    """The engine's informers list kinds of the API's resource table (the one table of kinds; controllers/ cannot
    import it, so this test holds the two together)."""
    from apiserver.kinds import RESOURCE_TYPES
    from controllers.engine import INFORMER_KINDS

    served = {r.kind for r in RESOURCE_TYPES}
    assert set(INFORMER_KINDS) <= served
    assert served - set(INFORMER_KINDS) == set()  # and the controllers watch every kind the API serves today


class StatusSubject(OneShot):
    """A one-shot controller whose plans write the status of a Job it names."""

    def subject(self, key, engine):
        return "Job", {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "default"}}


class StatusRecordingClient(RecordingClient):
    def update_status(self, obj):
        self.calls.append(("status", obj["kind"], obj["metadata"]["name"], obj["status"]))
        return obj


def test_creates_a_status_counts_go_first_and_the_status_counts_only_those_created():
    """manageJob creates, subtracts each failed or skipped create from ``active``, then syncJob writes the status
    (upstream's order); the status write of other plans still goes first."""
    create = lambda name, batch: CreateObject(  # noqa: E731
        {"kind": "Pod", "metadata": {"name": name, "namespace": "default"}}, batch=batch,
        failure_event=event("FailedCreate", "Error creating: {error}"), counted_in_status="active")
    client = StatusRecordingClient(refuse={"c"})
    result = SyncResult((create("a", 0), create("b", 1), create("c", 1), create("d", 2)),
                        {"active": 4, "ready": 0}, None, Trace("one-shot", "k", "", "", "", ()))
    engine = Engine(client, [StatusSubject(result)])
    engine.drain()
    calls = [c for c in client.calls if c[1] != "Event"]
    assert calls == [("create", "Pod", "a"), ("create", "Pod", "b"), ("create", "Pod", "c"),
                     ("status", "Job", "j", {"active": 2, "ready": 0})]  # c failed, d was skipped


def test_a_controller_may_have_its_own_rate_limiter():
    """A failed plan is retried after the controller's own backoff: the Job controller's 1 s, 2 s, 4 s ... 60 s
    (DefaultJobApiBackOff, MaxJobApiBackOff) where others start at 5 ms."""
    from controllers.manager import JobController

    class Failing(OneShot):
        rate_limiter = JobController.rate_limiter

        def sync(self, key, engine, memory):
            self.synced.append(engine.now)
            return plan(CreateObject({"kind": "Pod", "metadata": {"name": "x", "namespace": "default"}}))

    controller = Failing(None)
    engine = Engine(RecordingClient(refuse={"x"}), [controller])
    engine.run_until(at(200))
    assert [(t - T0).total_seconds() for t in controller.synced] == [0, 1, 3, 7, 15, 31, 63, 123, 183]


class Noting:
    """A controller that notes the keys it syncs and plans nothing; it resyncs the keys it is given."""

    name = "noting"

    def __init__(self, keys):
        self.keys, self.synced = keys, []

    def initial_keys(self, engine):
        return list(self.keys)

    def keys_for_change(self, change, old, engine):
        return []

    def sync(self, key, engine, memory):
        self.synced.append(key)
        return None


def test_pending_lists_the_queue_in_order_then_the_timers_already_due_and_runs_nothing():
    controller = Noting(["a", "b"])
    engine = Engine(RecordingClient(), [controller])
    engine.start()
    engine.timers.schedule(T0, ("noting", "due"))
    engine.enqueue_after("noting", "later", 30)  # not due yet: not pending
    engine.timers.schedule(T0, ("noting", "a"))  # queued too: it runs twice (now, and when its timer fires)
    assert engine.pending(2) == (4, [("noting", "a", T0), ("noting", "b", T0)])
    assert engine.pending(5) == (4, [("noting", "a", T0), ("noting", "b", T0), ("noting", "due", T0),
                                     ("noting", "a", T0)])
    assert controller.synced == []
    engine.run_until(T0)
    assert controller.synced == ["a", "b", "due", "a"]
    assert engine.pending(5) == (0, [])
