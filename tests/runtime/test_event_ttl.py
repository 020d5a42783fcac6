"""Events expire an hour after their last write, as kube-apiserver's ``--event-ttl`` (an etcd lease) makes them."""

from datetime import datetime, timezone

from controllers.engine import Engine
from controllers.manager import default_controllers
from controllers.plan import EmitEvent
from kubeviz.runtime.memory import memory_cluster

START = datetime(2025, 3, 1, tzinfo=timezone.utc)


def emit(cluster, reason, message):
    involved = {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "uid-node-1"}
    cluster.engine.record_event(EmitEvent(involved, "Normal", reason, message, "kubelet"))


def events(cluster):
    return {(e["reason"], e["count"]) for e in cluster.objects("Event")}


def test_events_go_an_hour_after_their_last_write_and_a_repeat_renews_the_hour():
    cluster = memory_cluster(nodes=1, start=START)
    cluster.engine.drain()
    emit(cluster, "Once", "written at 0:00")
    emit(cluster, "Twice", "written at 0:00 and 0:05")
    cluster.advance(300)
    emit(cluster, "Twice", "written at 0:00 and 0:05")  # counted on the same Event: its lease is renewed
    assert events(cluster) == {("Once", 1), ("Twice", 2)}

    cluster.advance(59 * 60 + 59 - 300)  # 0:59:59
    assert events(cluster) == {("Once", 1), ("Twice", 2)}
    cluster.advance(1)  # 1:00:00: the first event's hour is up, to the second
    assert events(cluster) == {("Twice", 2)}
    cluster.advance(300)  # 1:05:00
    assert events(cluster) == set()
    deleted = [e for e in cluster.storage.changes_since(0) if e.type == "DELETED" and e.resource.kind == "Event"]
    assert len(deleted) == 2  # watchers are told, as etcd's lease expiry tells them


def test_expiry_is_due_in_fast_forward_even_when_nothing_else_happens():
    cluster = memory_cluster(nodes=1, start=START)
    cluster.engine.drain()
    emit(cluster, "Lonely", "nothing else is scheduled")
    cluster.engine.drain()
    assert cluster.engine.next_due() == datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc)
    assert cluster.engine.step() == datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc)
    assert events(cluster) == set()


def test_a_restarted_engine_still_expires_the_events_written_before():
    cluster = memory_cluster(nodes=1, start=START)
    cluster.engine.drain()
    emit(cluster, "Before", "written before the restart")
    cluster.advance(600)
    # a new engine over the same store, as after a server restart: it learns the expiries from the Events
    cluster.engine = Engine(cluster.engine.client, default_controllers(), seed="0")
    cluster.advance(50 * 60 - 1)  # 0:59:59
    assert events(cluster) == {("Before", 1)}
    cluster.advance(1)
    assert events(cluster) == set()
