"""The event recorder on its own: counting repeats (client-go's EventCorrelator), naming, and the Event TTL."""

import logging
from datetime import datetime, timedelta, timezone

import pytest

from controllers.client import ClientError, WatchEvent
from controllers.plan import EmitEvent
from controllers.recorder import EVENT_AGGREGATION_WINDOW, EVENT_TTL, EventRecorder, event_write_time

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
T0_NANOS = int(T0.timestamp()) * 1_000_000_000


def at(seconds):
    return T0 + timedelta(seconds=seconds)


class EventClient:
    """Keeps Events by (namespace, name) and the changes it made; ``refuse`` fails creates, ``gone`` fails patches."""

    def __init__(self):
        self.events = {}
        self.calls = []
        self.changes = []
        self.refuse = False
        self.rv = 0

    def _changed(self, type_, obj):
        self.rv += 1
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
        self.changes.append(WatchEvent(type_, "Event", obj))
        return obj

    def create(self, obj):
        meta = obj["metadata"]
        self.calls.append(("create", meta["name"]))
        if self.refuse:
            raise ClientError(403, "Forbidden", "namespace is terminating")
        self.events[(meta["namespace"], meta["name"])] = self._changed("ADDED", obj)
        return obj

    def patch(self, kind, namespace, name, patch, patch_type="merge", *, subresource=""):
        self.calls.append(("patch", name, patch))
        if (namespace, name) not in self.events:
            raise ClientError(404, "NotFound", f'events "{name}" not found')
        self.events[(namespace, name)] = self._changed("MODIFIED", {**self.events[(namespace, name)], **patch})
        return self.events[(namespace, name)]

    def delete(self, kind, namespace, name, **options):
        self.calls.append(("delete", name))
        if (namespace, name) not in self.events:
            raise ClientError(404, "NotFound", f'events "{name}" not found')
        self._changed("DELETED", self.events.pop((namespace, name)))


def feed(client, recorder, now):
    """What the engine's informer does: hand the recorder every Event change since the last feed."""
    for change in client.changes:
        recorder.observe(change, now)
    client.changes.clear()


def back_off(name="j"):
    return EmitEvent({"kind": "Pod", "namespace": "default", "name": name, "uid": f"uid-{name}"}, "Warning",
                     "BackOff", "Back-off restarting failed container", "kubelet", host="node-1")


def test_an_event_is_written_as_core_v1_with_upstreams_name():
    client = EventClient()
    EventRecorder(client).record(back_off(), T0)
    assert list(client.events.values()) == [{
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"j.{T0_NANOS:x}", "namespace": "default", "resourceVersion": "1"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "j", "uid": "uid-j"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:00:00Z",
        "count": 1,
        "type": "Warning",
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
    }]


@pytest.mark.parametrize(
    "gap, calls",
    [
        pytest.param(EVENT_AGGREGATION_WINDOW, ["create", "patch"], id="a repeat within the window is counted"),
        pytest.param(EVENT_AGGREGATION_WINDOW + timedelta(seconds=1), ["create", "create"],
                     id="a repeat after the window is a new Event"),
    ],
)
def test_repeats_are_counted_on_one_event_within_the_window(gap, calls):
    client = EventClient()
    recorder = EventRecorder(client)
    recorder.record(back_off(), T0)
    recorder.record(back_off(), T0 + gap)
    assert [c[0] for c in client.calls] == calls


def test_the_count_and_last_timestamp_move_and_the_first_timestamp_stays():
    client = EventClient()
    recorder = EventRecorder(client)
    for seconds in (0, 10, 300):
        recorder.record(back_off(), at(seconds))
    (event,) = client.events.values()
    assert (event["count"], event["firstTimestamp"], event["lastTimestamp"]) == (
        3, "2025-01-01T00:00:00Z", "2025-01-01T00:05:00Z")


def failed_create(pod):
    return EmitEvent({"kind": "Job", "namespace": "default", "name": "pi", "uid": "uid-pi"}, "Warning",
                     "FailedCreate", f'Error creating: pods "{pod}" is forbidden: exceeded quota: q, requested: pods=1',
                     "job-controller")


def test_similar_events_that_differ_only_in_message_are_combined_from_the_tenth_on():
    """A Job refused pods by a quota names each pod in its FailedCreate: nine Events, then one combined Event
    counting every later one, carrying the latest message (client-go's EventAggregator)."""
    client = EventClient()
    recorder = EventRecorder(client)
    for n in range(14):
        recorder.record(failed_create(f"pi-{n:05d}"), at(n))
    events = sorted(client.events.values(), key=lambda e: e["metadata"]["name"])
    assert len(events) == 10
    assert [e["count"] for e in events] == [1] * 9 + [5]
    assert all(not e["message"].startswith("(combined") for e in events[:9])
    combined = events[9]
    assert combined["message"] == ('(combined from similar events): Error creating: pods "pi-00013" is forbidden: '
                                   'exceeded quota: q, requested: pods=1')
    assert (combined["firstTimestamp"], combined["lastTimestamp"]) == ("2025-01-01T00:00:09Z", "2025-01-01T00:00:13Z")
    # Another reason about the same Job, or the same reason about another Job, is not combined with them.
    recorder.record(back_off("pi"), at(20))
    recorder.record(EmitEvent({"kind": "Job", "namespace": "default", "name": "e", "uid": "uid-e"}, "Warning",
                              "FailedCreate", "Error creating: x", "job-controller"), at(20))
    assert len(client.events) == 12


def test_similar_events_are_combined_only_within_the_window():
    client = EventClient()
    recorder = EventRecorder(client)
    for n in range(9):
        recorder.record(failed_create(f"pi-{n:05d}"), at(n))
    # The tenth different message after the window: a fresh record, a plain Event.
    recorder.record(failed_create("pi-late"), at(8) + EVENT_AGGREGATION_WINDOW + timedelta(seconds=1))
    assert len(client.events) == 10
    assert not any(e["message"].startswith("(combined") for e in client.events.values())


def test_a_repeat_of_a_deleted_event_writes_a_new_one():
    client = EventClient()
    recorder = EventRecorder(client)
    recorder.record(back_off(), T0)
    feed(client, recorder, T0)
    client.delete("Event", "default", f"j.{T0_NANOS:x}")  # a learner's kubectl delete
    recorder.record(back_off(), at(1))
    assert [c[0] for c in client.calls] == ["create", "delete", "patch", "create"]
    (event,) = client.events.values()
    assert (event["count"], event["metadata"]["name"]) == (1, f"j.{T0_NANOS + 1_000_000_000:x}")


def test_events_at_one_instant_take_the_next_free_nanoseconds():
    client = EventClient()
    recorder = EventRecorder(client)
    for i in range(3):
        recorder.record(EmitEvent({"name": "ds", "uid": "u"}, "Normal", "SuccessfulCreate", f"pod {i}", "ds"), T0)
    recorder.record(back_off("other"), T0)
    assert [c[1] for c in client.calls] == [f"ds.{T0_NANOS:x}", f"ds.{T0_NANOS + 1:x}", f"ds.{T0_NANOS + 2:x}",
                                           f"other.{T0_NANOS:x}"]


def test_a_refused_create_is_logged_and_not_counted(caplog):
    client = EventClient()
    recorder = EventRecorder(client)
    client.refuse = True
    with caplog.at_level(logging.INFO, logger="controllers.recorder"):
        recorder.record(back_off(), T0)
    assert "not recorded: namespace is terminating" in caplog.text
    client.refuse = False
    recorder.record(back_off(), at(1))
    assert [c[0] for c in client.calls] == ["create", "create"]  # nothing to patch: the first never existed


def test_an_event_expires_an_hour_after_its_last_write():
    client = EventClient()
    recorder = EventRecorder(client)
    recorder.record(back_off(), T0)
    feed(client, recorder, T0)
    assert recorder.next_expiry() == T0 + EVENT_TTL
    recorder.record(back_off(), at(600))  # the count patch renews the lease
    feed(client, recorder, at(600))
    assert recorder.expire(T0 + EVENT_TTL) is False
    assert client.events
    assert recorder.expire(at(600) + EVENT_TTL) is True
    assert not client.events and recorder.next_expiry() is None
    assert [c[0] for c in client.calls] == ["create", "patch", "delete"]


def test_an_event_deleted_by_someone_else_is_not_expired_again():
    client = EventClient()
    recorder = EventRecorder(client)
    recorder.record(back_off(), T0)
    feed(client, recorder, T0)
    client.delete("Event", "default", f"j.{T0_NANOS:x}")
    feed(client, recorder, at(5))
    assert recorder.expire(T0 + EVENT_TTL) is False
    assert [c[0] for c in client.calls] == ["create", "delete"]


def test_a_relist_learns_each_events_expiry_from_its_last_timestamp():
    recorder = EventRecorder(EventClient())
    events = [
        {"metadata": {"namespace": "default", "name": "late"}, "lastTimestamp": "2025-01-01T00:30:00Z"},
        {"metadata": {"namespace": "default", "name": "early", "creationTimestamp": "2025-01-01T00:10:00Z"}},
    ]
    recorder.relist(events)
    assert recorder.next_expiry() == at(600) + EVENT_TTL
    assert [event_write_time(e) for e in events] == [at(1800), at(600)]
