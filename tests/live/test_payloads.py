"""The live stream's message payloads: exact shapes, the text frame, batch frames, and the shared frame cache."""

import json

import pytest

from kubeviz.live import payloads

CLOCK = {"now": "2025-01-01T00:00:05Z", "paused": False, "speed": 2.0}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "日志", "namespace": "default", "uid": "u1",
                                                       "resourceVersion": "12"}}


def test_snapshot_lists_every_kind_and_keeps_the_newest_traces():
    traces = [{"sequence": i} for i in range(1, 601)]
    message = payloads.snapshot(resource_version=12, clock=CLOCK, objects={"Pod": [POD], "Lease": [{}]},
                                traces=traces)
    assert message == {
        "type": "snapshot",
        "resourceVersion": "12",
        "clock": CLOCK,
        "objects": {"Node": [], "Pod": [POD], "Job": [], "CronJob": [], "DaemonSet": [], "ControllerRevision": [],
                    "Event": [], "Namespace": [], "ResourceQuota": []},
        "traces": traces[100:],
    }
    assert list(message["objects"]) == list(payloads.KINDS)


@pytest.mark.parametrize("message, expected", [
    (payloads.resume(resource_version=7, clock=CLOCK), {"type": "resume", "resourceVersion": "7", "clock": CLOCK}),
    (payloads.event(type_="DELETED", kind="Pod", obj=POD, resource_version=12),
     {"type": "event", "event": "DELETED", "kind": "Pod", "object": POD, "resourceVersion": "12"}),
    (payloads.bookmark(resource_version=13), {"type": "bookmark", "resourceVersion": "13"}),
    (payloads.trace({"sequence": 1}), {"type": "trace", "trace": {"sequence": 1}}),
    (payloads.clock(CLOCK), {"type": "clock", "clock": CLOCK}),
    (payloads.error("boom"), {"type": "error", "message": "boom"}),
    (payloads.batch([payloads.bookmark(resource_version=13), payloads.clock(CLOCK)]),
     {"type": "batch", "messages": [{"type": "bookmark", "resourceVersion": "13"}, {"type": "clock", "clock": CLOCK}]}),
], ids=["resume", "event", "bookmark", "trace", "clock", "error", "batch"])
def test_message_shapes(message, expected):
    assert message == expected


def test_a_frame_is_compact_json_with_text_as_is():
    frame = payloads.encode(payloads.event(type_="ADDED", kind="Pod", obj=POD, resource_version=12))
    assert frame == (
        '{"type":"event","event":"ADDED","kind":"Pod","object":{"apiVersion":"v1","kind":"Pod","metadata":'
        '{"name":"日志","namespace":"default","uid":"u1","resourceVersion":"12"}},"resourceVersion":"12"}')


def test_the_frame_cache_builds_each_frame_once_and_forgets_the_oldest():
    cache = payloads.FrameCache(size=2)
    built = []

    def build(n):
        def _build():
            built.append(n)
            return payloads.bookmark(resource_version=n)
        return _build

    assert cache.get(("a", 1), build(1)) == '{"type":"bookmark","resourceVersion":"1"}'
    assert cache.get(("a", 1), build(1)) == '{"type":"bookmark","resourceVersion":"1"}'
    cache.get(("a", 2), build(2))
    cache.get(("a", 3), build(3))
    assert len(cache) == 2
    cache.get(("a", 1), build(1))
    assert built == [1, 2, 3, 1]


def test_frames_are_keyed_by_cluster_and_change():
    payloads.frames.clear()
    first = payloads.event_frame("uid-a", type_="ADDED", kind="Pod", obj=POD, resource_version=12)
    # Another cluster's change with the same resourceVersion is another frame.
    other = dict(POD, metadata=dict(POD["metadata"], name="other"))
    second = payloads.event_frame("uid-b", type_="ADDED", kind="Pod", obj=other, resource_version=12)
    assert json.loads(first)["object"] == POD and json.loads(second)["object"] == other
    trace = {"time": "2025-01-01T00:00:05.000000Z", "sequence": 3, "controller": "job", "object": "default/pi"}
    assert json.loads(payloads.trace_frame("uid-a", trace)) == {"type": "trace", "trace": trace}
    assert json.loads(payloads.clock_frame("uid-a", CLOCK)) == {"type": "clock", "clock": CLOCK}
    paused = dict(CLOCK, paused=True)
    assert json.loads(payloads.clock_frame("uid-a", paused)) == {"type": "clock", "clock": paused}
    assert len(payloads.frames) == 5
    payloads.frames.clear()


def test_a_paused_clock_that_only_differs_in_its_pending_work_is_another_frame():
    payloads.frames.clear()
    waiting = dict(CLOCK, paused=True, pending={"count": 1, "resync": False, "items": [
        {"controller": "job-controller", "key": "default/pi", "due": "2025-01-01T00:00:00.000000Z"}]})
    done = dict(CLOCK, paused=True, pending={"count": 0, "items": [], "resync": False})
    assert json.loads(payloads.clock_frame("uid-a", waiting))["clock"]["pending"]["count"] == 1
    assert json.loads(payloads.clock_frame("uid-a", done))["clock"]["pending"]["count"] == 0
    payloads.frames.clear()


def test_snapshot_and_resume_name_the_cluster_when_given():
    cluster = {"name": "test", "uid": "c-uid"}
    snapshot = payloads.snapshot(cluster=cluster, resource_version=12, clock=CLOCK, objects={}, traces=[])
    assert snapshot["cluster"] == cluster
    assert list(snapshot) == ["type", "cluster", "resourceVersion", "clock", "objects", "traces"]
    assert payloads.resume(cluster=cluster, resource_version=7, clock=CLOCK) == {
        "type": "resume", "cluster": cluster, "resourceVersion": "7", "clock": CLOCK}
    assert payloads.encode(payloads.resume(cluster=cluster, resource_version=7, clock=CLOCK)).startswith(
        '{"type":"resume","cluster":{"name":"test","uid":"c-uid"},')


def test_a_batch_frame_is_joined_from_its_encoded_messages_as_encode_would_write_it():
    messages = [payloads.event(type_="ADDED", kind="Pod", obj=POD, resource_version=12),
                payloads.trace({"sequence": 1}), payloads.clock(CLOCK), payloads.bookmark(resource_version=13)]
    parts = [payloads.encode(message) for message in messages]
    assert payloads.batch_frame(parts) == payloads.encode(payloads.batch(messages))
    assert payloads.batch_frame(parts[:2]) == payloads.encode(payloads.batch(messages[:2]))
    # A lone message is sent as itself.
    assert payloads.batch_frame(parts[:1]) == parts[0]
    with pytest.raises(ValueError):
        payloads.batch_frame([])


def test_a_message_longer_than_a_frame_goes_in_parts_that_join_to_it():
    """Daphne sends no websocket message over 1 MiB; every part stays far below, whatever the text holds."""
    message = {"type": "snapshot", "objects": {"Pod": [
        {"metadata": {"name": f"p{n}", "annotations": {"q": '"\\' * 300, "zh": "并行" * 300}}} for n in range(900)]}}
    text = payloads.encode(message)
    assert len(text.encode()) > 2 * 1024 * 1024
    frames = payloads.split_frames(text)
    assert len(frames) > 1
    parts = [json.loads(frame) for frame in frames]
    assert [part["type"] for part in parts] == ["part"] * len(parts)
    assert [part["last"] for part in parts] == [False] * (len(parts) - 1) + [True]
    assert json.loads("".join(part["text"] for part in parts)) == message
    assert max(len(frame.encode()) for frame in frames) < 1024 * 1024
    assert payloads.split_frames(payloads.encode({"type": "clock"})) == ['{"type":"clock"}']
