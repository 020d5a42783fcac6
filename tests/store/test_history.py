"""The kept history: every change records its simulated time and who made it, traces are kept beside the changes,
and ``/sim/clusters/<name>/history`` and ``/traces?from=&to=`` read them back."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from controllers.apimachinery.timeutil import format_rfc3339_micro, parse_rfc3339
from kubeviz.runtime.host import host
from kubeviz.store.models import Change, TraceRecord
from tests.conftest import START
from tests.manifests import PI


@pytest.fixture
def http(cluster):
    yield Client()
    host.forget(cluster.name)


def apply(http, text, **headers):
    response = http.post("/sim/clusters/test/apply", data=text, content_type="application/yaml", **headers)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def advance(http, seconds):
    response = http.post("/sim/clusters/test/clock/advance", data=json.dumps({"seconds": seconds}),
                         content_type="application/json")
    assert response.status_code == 200, response.content


def history(http, **params):
    response = http.get("/sim/clusters/test/history", params)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def job_json(name):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}}


def test_a_new_clusters_objects_are_the_bootstrap(http, cluster):
    body = history(http)
    nodes = [c for c in body["changes"] if c["kind"] == "Node"]
    assert [c["name"] for c in nodes] == ["control-plane", "node-1", "node-2", "node-3"]
    assert {json.dumps(c["actor"]) for c in body["changes"]} == {
        json.dumps({"type": "system", "what": "cluster bootstrap"})}
    assert {c["time"] for c in body["changes"]} == {"2025-01-01T00:00:00.000000Z"}
    assert body["oldest"] == {"resourceVersion": 0, "time": "2025-01-01T00:00:00.000000Z"}
    assert body["compactedVersion"] == 0 and body["continue"] is None
    assert body["resourceVersion"] == body["changes"][-1]["resourceVersion"]


@pytest.mark.parametrize("headers, door", [
    ({"HTTP_USER_AGENT": "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07"}, "kubectl"),
    ({"HTTP_USER_AGENT": "OpenAPI-Generator/31.0.0/python"}, "client"),
    ({"HTTP_USER_AGENT": "curl/8.5.0"}, "api"),
    ({}, "api"),
], ids=["kubectl", "official client", "curl", "no user agent"])
def test_a_write_through_the_kubernetes_api_names_its_door(http, cluster, headers, door):
    advance(http, 90)
    response = http.post("/clusters/test/apis/batch/v1/namespaces/default/jobs", data=json.dumps(job_json("j")),
                         content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    (change,) = history(http, kind="Job", namespace="default", name="j")["changes"]
    assert change["type"] == "ADDED"
    assert change["actor"] == {"type": "user", "door": door, "who": None}
    assert change["time"] == "2025-01-01T00:01:30.000000Z"  # the simulated instant of the write
    assert change["object"]["metadata"]["resourceVersion"] == str(change["resourceVersion"])


@pytest.mark.parametrize("sent, door", [("editor", "editor"), ("upload", "upload"), ("kubectl", "api"), (None, "api")])
def test_the_apply_endpoint_takes_the_pages_door(http, cluster, sent, door):
    headers = {"HTTP_X_KUBEVIZ_DOOR": sent} if sent else {}
    apply(http, PI, **headers)
    (change,) = history(http, kind="Job", name="pi")["changes"]
    assert change["actor"] == {"type": "user", "door": door, "who": None}


def test_a_controllers_writes_name_it_and_the_trace_that_decided_them(http, cluster):
    apply(http, PI)
    advance(http, 120)
    changes = history(http, kind="Pod")["changes"]
    created = next(c for c in changes if c["type"] == "ADDED")
    assert created["actor"]["type"] == "controller"
    assert created["actor"]["controller"] == "job"
    trace = TraceRecord.objects.get(cluster=cluster, sequence=created["actor"]["trace"])
    assert trace.controller == "job" and trace.object_key == "default/pi"
    assert "create" in " ".join(trace.data["actions"]).lower()
    assert created["time"] == trace.data["time"]
    # every change the engine made is some controller's, a trace kept for each, or an Event's TTL running out
    for change in history(http, after=created["resourceVersion"] - 1)["changes"]:
        actor = change["actor"]
        assert actor["type"] == "controller" or actor == {"type": "system", "what": "event TTL"}, change
        if actor["type"] == "controller":
            assert TraceRecord.objects.filter(cluster=cluster, sequence=actor["trace"],
                                              controller=actor["controller"]).exists()


def test_history_pages_join_up_to_the_whole_history(http, cluster):
    apply(http, PI)
    advance(http, 120)
    whole = history(http)
    assert whole["continue"] is None
    pages, token = [], None
    while True:
        page = history(http, limit=7, **({"continue": token} if token else {}))
        assert len(page["changes"]) <= 7
        pages.extend(page["changes"])
        token = page["continue"]
        if token is None:
            break
    assert pages == whole["changes"]
    assert [c["resourceVersion"] for c in pages] == sorted(c["resourceVersion"] for c in pages)
    later = history(http, after=pages[10]["resourceVersion"])
    assert later["changes"] == pages[11:]


def test_per_object_history_is_that_objects_revisions(http, cluster):
    apply(http, PI)
    advance(http, 120)
    revisions = history(http, kind="Job", namespace="default", name="pi")["changes"]
    assert [c["type"] for c in revisions][0] == "ADDED"
    assert len(revisions) > 2
    assert {(c["kind"], c["namespace"], c["name"]) for c in revisions} == {("Job", "default", "pi")}
    assert revisions[-1]["object"]["status"]["succeeded"] == 1
    assert revisions[0]["actor"]["type"] == "user"
    assert {c["actor"]["controller"] for c in revisions[1:]} == {"job"}


@pytest.mark.parametrize("params, message", [
    ({"limit": "0"}, 'limit: Invalid value: "0": must be an integer from 1 to 10000'),
    ({"limit": "many"}, 'limit: Invalid value: "many": must be an integer from 1 to 10000'),
    ({"after": "-1"}, 'after: Invalid value: "-1": must be an integer from 0 to 9223372036854775807'),
    ({"continue": "not-a-token"}, "continue: Invalid value: the continue token is not one this server gave"),
])
def test_a_bad_history_request_is_a_status(http, cluster, params, message):
    response = http.get("/sim/clusters/test/history", params)
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["kind"] == "Status" and body["reason"] == "BadRequest" and body["message"] == message


def test_traces_in_a_range_of_simulated_time(http, cluster):
    apply(http, PI)
    advance(http, 120)
    every = json.loads(http.get("/sim/clusters/test/traces", {"from": "2025-01-01T00:00:00Z"}).content)
    times = [parse_rfc3339(t["time"]) for t in every["items"]]
    assert times == sorted(times) and len(times) > 3
    middle = times[len(times) // 2]
    start = format_rfc3339_micro(middle)
    end = format_rfc3339_micro(middle + timedelta(seconds=5))
    body = json.loads(http.get("/sim/clusters/test/traces", {"from": start, "to": end}).content)
    expected = [t for t in every["items"] if middle <= parse_rfc3339(t["time"]) <= middle + timedelta(seconds=5)]
    assert body["items"] == expected and body["continue"] is None
    first = json.loads(http.get("/sim/clusters/test/traces", {"from": "2025-01-01T00:00:00Z", "limit": 2}).content)
    assert first["items"] == every["items"][:2]
    rest = json.loads(http.get("/sim/clusters/test/traces", {"continue": first["continue"],
                                                              "from": "2025-01-01T00:00:00Z"}).content)
    assert first["items"] + rest["items"] == every["items"]
    bad = http.get("/sim/clusters/test/traces", {"from": "yesterday"})
    assert bad.status_code == 400
    assert json.loads(bad.content)["message"] == 'from: Invalid value: "yesterday": must be an RFC 3339 time'


def test_a_restarted_engine_numbers_its_traces_on(http, cluster):
    apply(http, PI)
    advance(http, 5)
    before = max(TraceRecord.objects.filter(cluster=cluster).values_list("sequence", flat=True))
    host.forget(cluster.name)  # as a server restart drops every engine
    apply(http, PI.replace("name: pi", "name: pi2"))
    advance(http, 5)
    sequences = list(TraceRecord.objects.filter(cluster=cluster).order_by("sequence").values_list("sequence",
                                                                                                  flat=True))
    assert len(sequences) == len(set(sequences)) and sequences[-1] > before
    pi2 = [c for c in history(http, kind="Pod")["changes"] if c["name"].startswith("pi2-")]
    assert pi2 and pi2[0]["actor"]["trace"] > before


def test_the_recent_traces_are_the_kept_ones(http, cluster):
    apply(http, PI)
    advance(http, 120)
    body = json.loads(http.get("/sim/clusters/test/traces", {"controller": "job", "limit": 3}).content)
    kept = TraceRecord.objects.filter(cluster=cluster, controller="job").order_by("-sequence")[:3]
    assert body["items"] == [t.data for t in reversed(kept)]


def test_compaction_keeps_the_state_and_says_how_far_back_it_goes(http, cluster):
    from kubeviz.store.storage import DatabaseStorage

    apply(http, PI)
    advance(http, 120)
    whole = history(http)["changes"]
    cut = whole[len(whole) // 2]
    DatabaseStorage(cluster).compact(cut["resourceVersion"])
    body = history(http)
    assert body["compactedVersion"] == cut["resourceVersion"]
    assert body["oldest"] == {"resourceVersion": cut["resourceVersion"], "time": cut["time"]}
    # every change after the compacted revision is kept; before it, each object's last version
    assert [c for c in body["changes"] if c["resourceVersion"] > cut["resourceVersion"]] == \
        [c for c in whole if c["resourceVersion"] > cut["resourceVersion"]]
    kept = [c for c in body["changes"] if c["resourceVersion"] <= cut["resourceVersion"]]
    assert all(c["type"] != "DELETED" for c in kept)
    assert len({(c["kind"], c["namespace"], c["name"]) for c in kept}) == len(kept)
    # traces from before the oldest kept instant went with the changes
    assert not TraceRecord.objects.filter(cluster=cluster, sim_time__lt=parse_rfc3339(cut["time"])).exists()
    assert TraceRecord.objects.filter(cluster=cluster).exists()


def test_changes_record_when_the_clock_had_moved_since_the_request_read_it(http, cluster):
    from kubeviz.store.services import registry_for
    from apiserver.kinds import resource_for_kind

    registry = registry_for(cluster)  # read the cluster at 00:00:00
    advance(http, 42)  # another request moves the clock
    registry.create(resource_for_kind("batch", "Job"), "default", job_json("late"))
    change = Change.objects.get(cluster=cluster, kind="Job", name="late")
    assert change.sim_time == START + timedelta(seconds=42)
    assert change.actor == {"type": "system", "what": "unattributed"}
