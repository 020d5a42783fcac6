"""Watch: the event filter (upstream's cacheWatcher rules), the encoder, the stream, and the view around them."""

import asyncio
import json
from datetime import datetime, timezone

import pytest
from django.test import Client

from kubeviz.api import watch
from apiserver.registry import Registry
from apiserver.kinds import resource_for_kind
from apiserver.storage import HistoryCompacted, MemoryStorage, WatchEvent

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
POD = resource_for_kind("", "Pod")
JOB = resource_for_kind("batch", "Job")
NAMESPACE = resource_for_kind("", "Namespace")


def pod(name, namespace="default", labels=None, rv=None):
    """A Pod; with ``rv`` as stored (for filter tests), without it as sent to a create."""
    metadata = {"name": name, "namespace": namespace, "labels": labels or {}}
    if rv is not None:
        metadata["resourceVersion"] = rv
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}


def app_is(value):
    return lambda obj: (obj["metadata"].get("labels") or {}).get("app") == value


# --- EventFilter -------------------------------------------------------------------------------------------

FILTER_CASES = [
    # (name, known at start, event type, new labels, expected type or None)
    ("unfiltered passes as is", None, "MODIFIED", {}, "MODIFIED"),
    ("new object matching", [], "ADDED", {"app": "web"}, "ADDED"),
    ("new object not matching", [], "ADDED", {"app": "db"}, None),
    ("modified, matched before and after", ["p"], "MODIFIED", {"app": "web"}, "MODIFIED"),
    ("modified, starts matching", [], "MODIFIED", {"app": "web"}, "ADDED"),
    ("modified, stops matching", ["p"], "MODIFIED", {"app": "db"}, "DELETED"),
    ("modified, never matched", [], "MODIFIED", {"app": "db"}, None),
    ("deleted while matching", ["p"], "DELETED", {"app": "web"}, "DELETED"),
    ("deleted, never matched", [], "DELETED", {"app": "db"}, None),
]


@pytest.mark.parametrize("known, type_, labels, expected", [c[1:] for c in FILTER_CASES],
                         ids=[c[0] for c in FILTER_CASES])
def test_event_filter(known, type_, labels, expected):
    filtered = known is not None
    start = [pod(name, labels={"app": "web"}, rv="1") for name in (known or [])]
    event_filter = watch.EventFilter(POD, "default", app_is("web"), filtered=filtered, known=start)
    converted = event_filter.convert(WatchEvent(type_, POD, pod("p", labels=labels, rv="7")))
    assert (converted[0] if converted else None) == expected


def test_leaving_the_selector_reports_the_previous_state_with_the_new_resource_version():
    before = pod("p", labels={"app": "web"}, rv="3")
    event_filter = watch.EventFilter(POD, "default", app_is("web"), filtered=True, known=[before])
    type_, obj = event_filter.convert(WatchEvent("MODIFIED", POD, pod("p", labels={"app": "db"}, rv="9")))
    assert type_ == "DELETED"
    assert obj["metadata"]["labels"] == {"app": "web"} and obj["metadata"]["resourceVersion"] == "9"
    # once gone, further changes that do not match are not reported
    assert event_filter.convert(WatchEvent("MODIFIED", POD, pod("p", labels={"app": "db"}, rv="10"))) is None


def test_other_kinds_and_namespaces_are_ignored():
    event_filter = watch.EventFilter(POD, "default", lambda obj: True, filtered=False)
    assert event_filter.convert(WatchEvent("ADDED", POD, pod("p", namespace="other"))) is None
    job = {"kind": "Job", "metadata": {"name": "p", "namespace": "default", "resourceVersion": "2"}}
    assert event_filter.convert(WatchEvent("ADDED", JOB, job)) is None
    every_namespace = watch.EventFilter(POD, None, lambda obj: True, filtered=False)
    assert every_namespace.convert(WatchEvent("ADDED", POD, pod("p", namespace="other")))[0] == "ADDED"


# --- EventEncoder ------------------------------------------------------------------------------------------

def test_plain_events_are_newline_terminated_json():
    encoder = watch.EventEncoder(POD)
    data = encoder.encode("ADDED", {"metadata": {"name": "p", "resourceVersion": "4"}}, START)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data) == {"type": "ADDED", "object": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "resourceVersion": "4"}}}


def test_table_events_send_column_definitions_only_first():
    encoder = watch.EventEncoder(JOB, "meta.k8s.io/v1", "Metadata")
    job = {"metadata": {"name": "pi", "namespace": "default", "resourceVersion": "5",
                        "creationTimestamp": "2025-01-01T00:00:00Z"}, "spec": {"completions": 1}, "status": {}}
    first = json.loads(encoder.encode("ADDED", dict(job), START))
    second = json.loads(encoder.encode("MODIFIED", dict(job), START))
    assert first["object"]["kind"] == "Table" and first["object"]["metadata"] == {"resourceVersion": "5"}
    assert [c["name"] for c in first["object"]["columnDefinitions"]][:5] == [
        "Name", "Status", "Completions", "Duration", "Age"]
    assert first["object"]["rows"][0]["cells"][:5] == ["pi", "Running", "0/1", "", "0s"]
    assert first["object"]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert second["type"] == "MODIFIED" and second["object"]["columnDefinitions"] == []
    assert second["object"]["rows"][0]["cells"][0] == "pi"


def test_bookmarks_carry_only_the_resource_version():
    assert json.loads(watch.EventEncoder(JOB).bookmark(12)) == {"type": "BOOKMARK", "object": {
        "kind": "Job", "apiVersion": "batch/v1", "metadata": {"resourceVersion": "12"}}}


# --- the stream, over an in-memory history -----------------------------------------------------------------

class MemorySource:
    def __init__(self, storage):
        self.storage = storage
        self.gone = False
        self.compacted = False

    def head(self):
        return None if self.gone else (self.storage.current_resource_version(), self.storage.now())

    def changes_since(self, resource_version, limit=None):
        if self.compacted:
            raise HistoryCompacted(resource_version)
        return self.storage.changes_since(resource_version, limit)


@pytest.fixture
def memory():
    storage = MemoryStorage(now=START, seed=3)
    registry = Registry(storage)
    registry.create(NAMESPACE, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return registry


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(watch, "POLL_SECONDS", 0.01)


def plan_for(registry, *, start_rv=0, initial=(), timeout=None, bookmarks=False, matches=None):
    filtered = matches is not None
    return watch.WatchPlan(
        start_rv=start_rv or registry.storage.current_resource_version(), now=START,
        event_filter=watch.EventFilter(POD, "default", matches or (lambda o: True), filtered=filtered,
                                       known=list(initial)),
        encoder=watch.EventEncoder(POD), initial=list(initial), timeout=timeout, bookmarks=bookmarks)


async def take(stream, count, timeout=2.0):
    found = []
    async def collect():
        async for data in stream:
            found.append(json.loads(data))
            if len(found) == count:
                return
    await asyncio.wait_for(collect(), timeout)
    return [(e["type"], e["object"]["metadata"].get("name")) for e in found]


async def test_synthetic_added_first_then_live_changes(memory):
    memory.create(POD, "default", pod("a"))
    current, _ = memory.list(POD, "default")
    events = watch.stream(plan_for(memory, initial=current), MemorySource(memory.storage))
    assert await take(events, 1) == [("ADDED", "a")]
    memory.create(POD, "default", pod("b"))
    memory.patch(POD, "default", "a", b'{"metadata":{"labels":{"x":"1"}}}', "application/merge-patch+json")
    memory.delete(POD, "default", "b")
    assert await take(events, 3) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    await events.aclose()


async def test_from_a_resource_version_replays_what_came_after(memory):
    memory.create(POD, "default", pod("a"))
    rv = memory.storage.current_resource_version()
    memory.create(POD, "default", pod("b"))
    events = watch.stream(plan_for(memory, start_rv=rv), MemorySource(memory.storage))
    assert await take(events, 1) == [("ADDED", "b")]
    await events.aclose()


async def test_a_no_op_write_sends_nothing(memory):
    memory.create(POD, "default", pod("a", labels={"x": "1"}))
    events = watch.stream(plan_for(memory, timeout=0.2), MemorySource(memory.storage))
    memory.patch(POD, "default", "a", b'{"metadata":{"labels":{"x":"1"}}}', "application/merge-patch+json")
    assert [e async for e in events] == []


async def test_timeout_ends_the_stream(memory):
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = [e async for e in watch.stream(plan_for(memory, timeout=0.3), MemorySource(memory.storage))]
    assert events == [] and 0.25 < loop.time() - started < 1.5


async def test_without_a_timeout_the_stream_stays_open(memory):
    events = watch.stream(plan_for(memory), MemorySource(memory.storage))
    with pytest.raises(asyncio.TimeoutError):
        await take(events, 1, timeout=0.3)


async def test_compacted_history_is_a_410_expired_error_event(memory):
    source = MemorySource(memory.storage)
    source.compacted = True
    events = watch.stream(plan_for(memory, start_rv=1), source)
    memory.create(POD, "default", pod("a"))
    found = [json.loads(e) async for e in events]
    assert found == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: 1 ({memory.storage.current_resource_version()})",
        "reason": "Expired", "code": 410}}]


async def test_bookmarks_when_allowed(memory, monkeypatch):
    monkeypatch.setattr(watch, "BOOKMARK_SECONDS", 0.05)
    rv = memory.storage.current_resource_version()
    events = watch.stream(plan_for(memory, bookmarks=True), MemorySource(memory.storage))
    first = json.loads(await events.__anext__())
    assert first == {"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                                                     "metadata": {"resourceVersion": str(rv)}}}
    await events.aclose()


async def test_a_deleted_cluster_ends_the_stream(memory):
    source = MemorySource(memory.storage)
    events = watch.stream(plan_for(memory), source)
    source.gone = True
    assert [e async for e in events] == []


async def test_a_cancelled_stream_closes_cleanly(memory):
    events = watch.stream(plan_for(memory), MemorySource(memory.storage))
    task = asyncio.ensure_future(take(events, 1, timeout=10))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await events.aclose()  # the generator is finished: nothing left running


# --- the view ----------------------------------------------------------------------------------------------

BASE = "/clusters/test/api/v1/namespaces/default/pods"


@pytest.mark.parametrize("query, message", [
    ("watch=true&fieldSelector=spec.bogus%3D1", "field label not supported: spec.bogus"),
    ("watch=true&resourceVersion=abc", 'resourceVersion: Invalid value: "abc": must be a non-negative integer'),
    ("watch=true&timeoutSeconds=soon", 'timeoutSeconds: Invalid value: "soon": must be an integer'),
    ("watch=true&includeObject=All", "Unable to convert to Table as requested: includeObject: Invalid value: "
                                     "\"All\": must be 'Metadata', 'Object', 'None', or empty"),
], ids=["field selector", "resourceVersion", "timeoutSeconds", "includeObject"])
def test_watch_request_errors_are_plain_400s(cluster, query, message):
    response = Client().get(f"{BASE}?{query}")
    assert response.status_code == 400
    assert json.loads(response.content)["message"] == message


@pytest.mark.django_db(transaction=True)
def test_watch_view_streams_events_until_timeout(cluster):
    from kubeviz.store.services import registry_for

    registry = registry_for(cluster)
    registry.create(POD, "default", pod("web", labels={"app": "web"}))
    registry.create(POD, "default", pod("db", labels={"app": "db"}))
    response = Client().get(f"{BASE}?watch=1&labelSelector=app%3Dweb&timeoutSeconds=1",
                            HTTP_ACCEPT="application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    from asgiref.sync import async_to_sync

    async def read_all():
        return [chunk async for chunk in response.streaming_content]

    lines = b"".join(async_to_sync(read_all)()).splitlines()
    events = [json.loads(line) for line in lines]
    assert [(e["type"], e["object"]["kind"], e["object"]["rows"][0]["cells"][0]) for e in events] == [
        ("ADDED", "Table", "web")]
