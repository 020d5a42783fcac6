"""The live stream through the real ASGI app: snapshot, live events, traces and clock, resume, and what is not sent."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from apiserver.kinds import resource_for_kind
from kubeviz.live import payloads
from kubeviz.live.consumers import CLOSE_NOT_FOUND, CLOSE_TOO_MANY, ClusterConsumer
from kubeviz.live.hub import Batch
from kubeviz.store import events as store_events
from kubeviz.store.models import Change, Cluster
from kubeviz.runtime.host import host
from kubeviz.store.services import clock_json, cluster_create, cluster_delete, registry_for
from kubeviz.store.storage import DatabaseStorage
from tests.conftest import START

pytestmark = pytest.mark.django_db(transaction=True)

JOB = resource_for_kind("batch", "Job")
POD = resource_for_kind("", "Pod")
LEASE = resource_for_kind("coordination.k8s.io", "Lease")

SLEEPER = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "sleeper"},
    "spec": {
        "template": {
            "spec": {
                "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "30"]}],
                "restartPolicy": "Never",
            }
        }
    },
}


def pod_manifest(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"]}]},
    }


@pytest.fixture(autouse=True)
def no_player(settings):
    settings.KUBEVIZ_PLAYER = False


@pytest.fixture(autouse=True)
def fresh_frames():
    payloads.frames.clear()
    yield
    payloads.frames.clear()


# -- helpers ------------------------------------------------------------------------------------------------


@sync_to_async
def write(cluster, fn):
    """Run ``fn(registry)`` in one committed transaction, so its changes are published on commit."""
    with transaction.atomic():
        return fn(registry_for(Cluster.objects.get(pk=cluster.pk)))


def create_pod(name):
    return lambda registry: registry.create(POD, "default", pod_manifest(name)).object


def delete_pod(name):
    return lambda registry: registry.delete(POD, "default", name, grace_period_seconds=0)


@sync_to_async
def advance(cluster, seconds):
    from kubeviz.runtime.host import host

    host.advance(Cluster.objects.get(pk=cluster.pk), seconds)


@sync_to_async
def expected_snapshot(cluster, traces=()):
    """The snapshot message the store says the client should get now, built independently of the consumer."""
    fresh = Cluster.objects.get(pk=cluster.pk)
    registry = registry_for(fresh)
    objects = {}
    for kind in payloads.KINDS:
        resource = next(r for r in (resource_for_kind(g, kind) for g in ("", "batch", "apps")) if r)
        objects[kind] = registry.list(resource)[0]
    return {
        "type": "snapshot",
        "cluster": {"name": fresh.name, "uid": str(fresh.uid)},
        "resourceVersion": str(fresh.resource_version),
        "clock": clock_json(fresh, pending=host.pending(fresh)),
        "objects": objects,
        "traces": list(traces),
    }


@sync_to_async
def current_clock(cluster):
    """The clock as GET clock answers it now (a paused one with its pending work)."""
    fresh = Cluster.objects.get(pk=cluster.pk)
    return clock_json(fresh, pending=host.pending(fresh))


@sync_to_async
def current_rv(cluster):
    return Cluster.objects.get(pk=cluster.pk).resource_version


async def open_stream(path):
    communicator = WebsocketCommunicator(_application(), path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def _application():
    from kubeviz.asgi import application

    return application


def unbatch(frames):
    """The messages of the frames, a batch's one by one, in order (what the page's reducer applies)."""
    return [m for frame in frames for m in (frame["messages"] if frame["type"] == "batch" else [frame])]


async def receive_frames(communicator, timeout=1.0):
    """Every frame until the stream is quiet, as sent (batches included)."""
    frames = []
    while not await communicator.receive_nothing(timeout=0.2):
        frames.append(await communicator.receive_json_from(timeout=timeout))
    return frames


async def receive_all(communicator, timeout=1.0):
    """Every message until the stream is quiet, however the server batched them."""
    return unbatch(await receive_frames(communicator, timeout))


async def receive_messages(communicator, count, timeout=1.0):
    """The next ``count`` messages, however the server batched them; no frame may carry more."""
    messages = []
    while len(messages) < count:
        messages += unbatch([await communicator.receive_json_from(timeout=timeout)])
    assert len(messages) == count, f"{len(messages) - count} more messages than expected in the last frame"
    return messages


def event_message(type_, obj):
    return {"type": "event", "event": type_, "kind": obj["kind"], "object": obj,
            "resourceVersion": obj["metadata"]["resourceVersion"]}


# -- tests --------------------------------------------------------------------------------------------------


async def test_snapshot_of_a_new_cluster_with_a_job(cluster):
    await write(cluster, lambda r: r.create(JOB, "default", SLEEPER).object)
    stream = await open_stream("/ws/clusters/test/")
    snapshot = await stream.receive_json_from()
    expected = await expected_snapshot(cluster)
    assert snapshot == expected
    assert [n["metadata"]["name"] for n in snapshot["objects"]["Node"]] == [
        "control-plane", "node-1", "node-2", "node-3"]
    assert [j["metadata"]["name"] for j in snapshot["objects"]["Job"]] == ["sleeper"]
    assert snapshot["objects"]["Pod"] == []
    clock = dict(snapshot["clock"])
    pending = clock.pop("pending")
    assert clock == {"now": "2025-01-01T00:00:00Z", "paused": True, "speed": 1.0}
    # a paused clock says what waits, as GET clock does: here the resync a first run begins with, the Job's too
    assert pending["resync"] and {"controller": "job-controller", "key": "default/sleeper",
                                  "due": "2025-01-01T00:00:00.000000Z"} in pending["items"]
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_store_write_is_sent_as_an_event(cluster):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    pod = await write(cluster, create_pod("web"))
    assert await stream.receive_json_from() == event_message("ADDED", pod)
    gone = await write(cluster, delete_pod("web"))
    assert await stream.receive_json_from() == event_message("DELETED", gone)
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_an_advance_sends_events_traces_and_the_clock(cluster):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    job = await write(cluster, lambda r: r.create(JOB, "default", SLEEPER).object)
    assert await stream.receive_json_from() == event_message("ADDED", job)
    await advance(cluster, 5)
    messages = await receive_all(stream)

    from kubeviz.runtime.host import host

    engine = await sync_to_async(lambda: host.engine_for(Cluster.objects.get(pk=cluster.pk)))()
    traces = [record.as_json() for record in engine.traces]
    assert traces, "the job controller should have reconciled the new Job"
    assert [m["trace"] for m in messages if m["type"] == "trace"] == traces
    changes = await sync_to_async(lambda: list(
        Change.objects.filter(cluster_id=cluster.pk, resource_version__gt=int(job["metadata"]["resourceVersion"]))
        .order_by("resource_version").values_list("type", "kind", "data")))()
    assert [m for m in messages if m["type"] == "event"] == [
        event_message(type_, data) for type_, kind, data in changes]
    assert {"Pod", "Job", "Event"} <= {m["kind"] for m in messages if m["type"] == "event"}
    clocks = [m for m in messages if m["type"] == "clock"]
    # paused: the clock says the controllers have nothing left waiting
    assert clocks == [{"type": "clock", "clock": {"now": "2025-01-01T00:00:05Z", "paused": True, "speed": 1.0,
                                                  "pending": {"count": 0, "items": [], "resync": False}}}]
    assert messages[-1] == clocks[0]
    await stream.disconnect()


async def test_a_reconnect_with_a_resource_version_gets_exactly_the_missed_events(cluster):
    stream = await open_stream("/ws/clusters/test/")
    snapshot = await stream.receive_json_from()
    await stream.disconnect()
    missed = [await write(cluster, create_pod("a")), await write(cluster, create_pod("b")),
              await write(cluster, delete_pod("a"))]

    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={snapshot['resourceVersion']}")
    resume = await stream.receive_json_from()
    assert resume == {
        "type": "resume", "cluster": {"name": "test", "uid": str(cluster.uid)},
        "resourceVersion": snapshot["resourceVersion"], "clock": await current_clock(cluster)}
    assert resume["clock"]["now"] == "2025-01-01T00:00:00Z" and resume["clock"]["pending"]["count"] > 0
    # The missed changes, read from the history at once, come in one frame.
    assert await stream.receive_json_from() == {"type": "batch", "messages": [
        event_message("ADDED", missed[0]), event_message("ADDED", missed[1]), event_message("DELETED", missed[2])]}
    assert await stream.receive_nothing()
    live = await write(cluster, create_pod("c"))
    assert await stream.receive_json_from() == event_message("ADDED", live)
    await stream.disconnect()


async def test_a_long_resume_comes_in_frames_of_at_most_the_batch_limit(cluster, monkeypatch):
    monkeypatch.setattr(payloads, "BATCH_LIMIT", 2)
    rv = await current_rv(cluster)
    missed = [await write(cluster, create_pod(f"p{n}")) for n in range(5)]
    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={rv}")
    assert (await stream.receive_json_from())["type"] == "resume"
    events = [event_message("ADDED", pod) for pod in missed]
    assert await stream.receive_json_from() == {"type": "batch", "messages": events[0:2]}
    assert await stream.receive_json_from() == {"type": "batch", "messages": events[2:4]}
    assert await stream.receive_json_from() == events[4]
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_reconnect_at_the_head_gets_a_resume_and_nothing_else(cluster):
    rv = await current_rv(cluster)
    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={rv}")
    assert await stream.receive_json_from() == {
        "type": "resume", "cluster": {"name": "test", "uid": str(cluster.uid)}, "resourceVersion": str(rv),
        "clock": await current_clock(cluster)}
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_reconnect_after_compaction_gets_a_fresh_snapshot(cluster):
    old = await current_rv(cluster)
    await write(cluster, create_pod("a"))
    await write(cluster, create_pod("b"))
    await sync_to_async(lambda: DatabaseStorage(cluster).compact(old + 1))()
    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={old}")
    assert await stream.receive_json_from() == await expected_snapshot(cluster)
    assert await stream.receive_nothing()
    await stream.disconnect()


@pytest.mark.parametrize("query", ["resourceVersion=999999", "resourceVersion=abc", "resourceVersion=0"])
async def test_a_resource_version_the_cluster_never_had_gets_a_snapshot(cluster, query):
    stream = await open_stream(f"/ws/clusters/test/?{query}")
    assert await stream.receive_json_from() == await expected_snapshot(cluster)
    await stream.disconnect()


async def test_an_unknown_cluster_is_told_and_closed_with_4404(db):
    communicator = WebsocketCommunicator(_application(), "/ws/clusters/nope/")
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "error", "message": 'cluster "nope" not found'}
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_another_clusters_changes_are_not_delivered(cluster):
    other = await sync_to_async(cluster_create)(name="other", nodes=1, start=START)
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    await write(other, create_pod("elsewhere"))
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_duplicate_publish_is_dropped(cluster):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    pod = await write(cluster, create_pod("web"))
    assert await stream.receive_json_from() == event_message("ADDED", pod)
    await get_channel_layer().group_send("cluster.test", {
        "type": "object.changed", "event": "ADDED", "group": "", "kind": "Pod",
        "resourceVersion": pod["metadata"]["resourceVersion"], "object": pod})
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_changes_published_before_the_snapshot_are_not_sent_twice(cluster):
    # The consumer joins the group before it reads the snapshot; a change it reads there and then also
    # receives from the group is dropped.
    stream = await open_stream("/ws/clusters/test/")
    snapshot = await stream.receive_json_from()
    rv = int(snapshot["resourceVersion"])
    node = snapshot["objects"]["Node"][0]
    await get_channel_layer().group_send("cluster.test", {
        "type": "object.changed", "event": "MODIFIED", "group": "", "kind": "Node",
        "resourceVersion": str(rv), "object": node})
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_lost_publish_is_filled_from_the_history(cluster, monkeypatch):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    with monkeypatch.context() as patch:
        patch.setattr(store_events, "publish_watch_event", lambda *args: None)  # the channel layer lost it
        lost = await write(cluster, create_pod("lost"))
    assert await stream.receive_nothing()
    seen = await write(cluster, create_pod("seen"))
    # The gap is filled from the history, which has the published change too: both in one frame.
    assert await stream.receive_json_from() == {"type": "batch", "messages": [
        event_message("ADDED", lost), event_message("ADDED", seen)]}
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_gap_past_the_compacted_history_resends_the_snapshot(cluster, monkeypatch):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    with monkeypatch.context() as patch:
        patch.setattr(store_events, "publish_watch_event", lambda *args: None)
        lost = await write(cluster, create_pod("lost"))
    await sync_to_async(lambda: DatabaseStorage(cluster).compact(int(lost["metadata"]["resourceVersion"])))()
    await write(cluster, create_pod("seen"))
    assert await stream.receive_json_from() == await expected_snapshot(cluster)
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_change_of_a_hidden_kind_moves_the_resource_version_with_a_bookmark(cluster):
    stream = await open_stream("/ws/clusters/test/")
    snapshot = await stream.receive_json_from()
    assert "Lease" not in snapshot["objects"]
    lease = await write(cluster, lambda r: r.create(LEASE, "default", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"},
        "spec": {"holderIdentity": "me"}}).object)
    assert await stream.receive_json_from() == {
        "type": "bookmark", "resourceVersion": lease["metadata"]["resourceVersion"]}
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_message_from_the_client_is_answered_with_an_error(cluster):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    await stream.send_to(text_data=json.dumps({"type": "pause"}))
    assert await stream.receive_json_from() == {
        "type": "error", "message": "this stream accepts no messages; use the HTTP API to change the cluster"}
    await stream.send_to(text_data="not json")
    assert (await stream.receive_json_from())["type"] == "error"
    pod = await write(cluster, create_pod("still-live"))
    assert await stream.receive_json_from() == event_message("ADDED", pod)
    await stream.disconnect()


async def test_many_clients_share_one_encoded_frame_per_change(cluster):
    streams = [await open_stream("/ws/clusters/test/") for _ in range(3)]
    for stream in streams:
        await stream.receive_json_from()
    payloads.frames.clear()
    pod = await write(cluster, create_pod("web"))
    frames = [await stream.receive_from() for stream in streams]
    assert len(set(frames)) == 1 and json.loads(frames[0]) == event_message("ADDED", pod)
    assert len(payloads.frames) == 1
    for stream in streams:
        await stream.disconnect()


def following_consumer(rv: int, trace=None, clock: str = "") -> ClusterConsumer:
    """A consumer whose stream stands at ``rv`` (and trace, clock), recording the frames it sends."""
    consumer = ClusterConsumer()
    consumer.cluster_name, consumer.cluster_uid = "test", "uid-1"
    consumer.last_rv, consumer.last_trace, consumer.last_clock_now = rv, trace, clock
    consumer.outbox, consumer.bookmark_rv = [], None
    consumer.subscription = object()  # following its feed
    consumer.sent = []

    async def send(text_data=None, bytes_data=None, close=False):
        consumer.sent.append(text_data)

    consumer.send = send
    return consumer


def changed(rv: int) -> dict:
    pod = {"kind": "Pod", "metadata": {"name": f"p{rv}", "namespace": "default", "resourceVersion": str(rv)}}
    return {"type": "object.changed", "event": "ADDED", "group": "", "kind": "Pod", "resourceVersion": str(rv),
            "object": pod}


async def test_clients_where_the_stream_stands_share_a_batchs_frame_and_others_get_their_part():
    trace = {"type": "trace.recorded", "trace": {"time": "2025-01-01T00:00:01.000000Z", "sequence": 1}}
    clock = {"type": "clock.changed", "clock": {"now": "2025-01-01T00:00:02Z", "paused": False, "speed": 1.0}}
    first = Batch([changed(11), changed(12), trace, changed(13)])
    second = Batch([changed(14), clock, changed(15)])
    behind = following_consumer(10)
    # Its snapshot was read after 12 and the trace were committed.
    ahead = following_consumer(12, trace=("2025-01-01T00:00:01.000000Z", 1))

    await behind.handle(first)
    await ahead.handle(first)
    assert [json.loads(frame) for frame in behind.sent] == [{"type": "batch", "messages": [
        event_message("ADDED", changed(rv)["object"]) for rv in (11, 12)] + [
        {"type": "trace", "trace": trace["trace"]}, event_message("ADDED", changed(13)["object"])]}]
    assert first.frame is behind.sent[0]  # built by the client that takes it all, for any other such client
    assert [json.loads(frame) for frame in ahead.sent] == [event_message("ADDED", changed(13)["object"])]

    # Now both stand at 13: both send the second batch's one frame.
    await behind.handle(second)
    await ahead.handle(second)
    assert behind.sent[1] is second.frame and ahead.sent[1] is second.frame
    assert json.loads(second.frame) == {"type": "batch", "messages": [
        event_message("ADDED", changed(14)["object"]), {"type": "clock", "clock": clock["clock"]},
        event_message("ADDED", changed(15)["object"])]}
    for consumer in (behind, ahead):
        assert (consumer.last_rv, consumer.last_clock_now) == (15, "2025-01-01T00:00:02Z")
        assert consumer.last_trace == ("2025-01-01T00:00:01.000000Z", 1)


async def test_a_deleted_cluster_closes_the_stream_with_4404(cluster):
    stream = await open_stream("/ws/clusters/test/")
    snapshot = await stream.receive_json_from()
    await sync_to_async(lambda: Cluster.objects.filter(pk=cluster.pk).delete())()
    rv = int(snapshot["resourceVersion"]) + 2  # a gap: the consumer goes to the history and finds no cluster
    await get_channel_layer().group_send("cluster.test", {
        "type": "object.changed", "event": "ADDED", "group": "", "kind": "Pod", "resourceVersion": str(rv),
        "object": {"kind": "Pod", "metadata": {"name": "x", "namespace": "default", "resourceVersion": str(rv)}}})
    assert await stream.receive_json_from() == {"type": "error", "message": 'cluster "test" not found'}
    assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_deleting_the_cluster_closes_its_streams_with_4404_at_once(cluster):
    streams = [await open_stream("/ws/clusters/test/") for _ in range(2)]
    for stream in streams:
        await stream.receive_json_from()
    await sync_to_async(cluster_delete)(name="test")
    for stream in streams:
        assert await stream.receive_json_from() == {"type": "error", "message": 'cluster "test" not found'}
        assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_the_deletion_of_an_earlier_cluster_of_the_same_name_is_ignored(cluster):
    stream = await open_stream("/ws/clusters/test/")
    await stream.receive_json_from()
    await get_channel_layer().group_send("cluster.test", store_events.deleted_message("another-uid"))
    assert await stream.receive_nothing()
    pod = await write(cluster, create_pod("web"))
    assert await stream.receive_json_from() == event_message("ADDED", pod)
    await stream.disconnect()


async def test_a_reconnect_with_the_clusters_uid_resumes(cluster):
    rv = await current_rv(cluster)
    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={rv}&uid={cluster.uid}")
    assert (await stream.receive_json_from())["type"] == "resume"
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_reconnect_to_a_cluster_created_again_under_the_same_name_gets_a_fresh_snapshot(cluster):
    stream = await open_stream("/ws/clusters/test/")
    old = await stream.receive_json_from()
    assert old["cluster"] == {"name": "test", "uid": str(cluster.uid)}
    await sync_to_async(cluster_delete)(name="test")
    assert (await stream.receive_json_from())["type"] == "error"
    recreated = await sync_to_async(cluster_create)(name="test", nodes=3, seed=7, start=START)
    await write(recreated, create_pod("a"))  # the new cluster's history now reaches past the old snapshot's
    assert await current_rv(recreated) >= int(old["resourceVersion"])

    stream = await open_stream(
        f"/ws/clusters/test/?resourceVersion={old['resourceVersion']}&uid={old['cluster']['uid']}")
    snapshot = await stream.receive_json_from()
    assert snapshot == await expected_snapshot(recreated)
    assert snapshot["cluster"] == {"name": "test", "uid": str(recreated.uid)} != old["cluster"]
    await stream.disconnect()


async def test_a_client_over_its_limit_of_streams_is_told_and_closed_with_4429(cluster, settings):
    settings.KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT = 2

    async def connect(address):
        communicator = WebsocketCommunicator(_application(), "/ws/clusters/test/")
        communicator.scope["client"] = (address, 40000)
        connected, _ = await communicator.connect()
        assert connected
        return communicator

    first, second = await connect("10.0.0.1"), await connect("10.0.0.1")
    for stream in (first, second):
        assert (await stream.receive_json_from())["type"] == "snapshot"
    third = await connect("10.0.0.1")
    assert await third.receive_json_from() == {
        "type": "error", "message": "too many live streams from this client: at most 2 at once "
                                    "(KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT); close a dashboard tab"}
    assert await third.receive_output() == {"type": "websocket.close", "code": CLOSE_TOO_MANY}
    other = await connect("10.0.0.2")  # another client's streams are its own
    assert (await other.receive_json_from())["type"] == "snapshot"
    await first.disconnect()
    again = await connect("10.0.0.1")  # a closed stream gives its place back
    assert (await again.receive_json_from())["type"] == "snapshot"
    for stream in (second, other, again):
        await stream.disconnect()


async def test_a_snapshot_longer_than_a_frame_comes_in_parts(cluster):
    """Daphne would close the stream rather than send a message over 1 MiB: the snapshot of a busy cluster is sent
    in parts, which joined are the snapshot."""
    def crowd(registry):
        for n in range(400):
            manifest = pod_manifest(f"p{n:03d}")
            manifest["metadata"]["annotations"] = {"note": "并行" * 600}
            registry.create(POD, "default", manifest)

    await write(cluster, crowd)
    stream = await open_stream("/ws/clusters/test/")
    parts = [await stream.receive_json_from()]
    while not parts[-1]["last"]:
        assert parts[-1]["type"] == "part"
        parts.append(await stream.receive_json_from())
    assert len(parts) > 2
    snapshot = json.loads("".join(part["text"] for part in parts))
    assert snapshot == await expected_snapshot(cluster)
    assert len(snapshot["objects"]["Pod"]) == 400
    await stream.disconnect()
