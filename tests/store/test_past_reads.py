"""Reads at a past revision through the Kubernetes API, as the API server serves them: lists with
``resourceVersionMatch=Exact`` (whole, in chunks, or one object by ``metadata.name``) read the cluster as it was;
``NotOlderThan`` and gets with a resourceVersion are served by the newest state; 410 Expired past the kept history,
504 Too large resource version before the cluster got there, and upstream's refusals of bad combinations.
History kept on purpose: the settings say how many changes and how many simulated seconds are kept."""

import json

import pytest
from django.test import Client

from kubeviz.runtime.host import host
from kubeviz.store.models import Change
from kubeviz.store.storage import DatabaseStorage
from tests.manifests import PI

PODS = "/clusters/test/api/v1/namespaces/default/pods"
JOBS = "/clusters/test/apis/batch/v1/namespaces/default/jobs"


@pytest.fixture
def http(cluster):
    yield Client()
    host.forget(cluster.name)


def get(http, path, **params):
    response = http.get(path, params)
    return response.status_code, json.loads(response.content)


def run_pi(http, seconds):
    response = http.post("/sim/clusters/test/apply", data=PI, content_type="application/yaml")
    assert response.status_code == 200, response.content
    advance(http, seconds)


def advance(http, seconds):
    response = http.post("/sim/clusters/test/clock/advance", data=json.dumps({"seconds": seconds}),
                         content_type="application/json")
    assert response.status_code == 200, response.content


def moment(cluster, predicate):
    """The resourceVersion of the first change that ``predicate`` accepts."""
    for change in Change.objects.filter(cluster=cluster).order_by("resource_version"):
        if predicate(change):
            return change.resource_version
    raise AssertionError("no such change")


def running_pod(change):
    return change.kind == "Pod" and change.type == "MODIFIED" and \
        (change.data.get("status") or {}).get("phase") == "Running"


def test_an_exact_list_is_the_cluster_as_it_was(http, cluster):
    run_pi(http, 120)
    running = moment(cluster, running_pod)
    code, now = get(http, PODS)
    assert code == 200 and [p["status"]["phase"] for p in now["items"]] == ["Succeeded"]
    code, then = get(http, PODS, resourceVersion=str(running), resourceVersionMatch="Exact")
    assert code == 200, then
    assert then["metadata"]["resourceVersion"] == str(running)
    (pod,) = then["items"]
    assert pod["status"]["phase"] == "Running"
    assert pod["metadata"]["resourceVersion"] == str(running)
    assert pod["metadata"]["uid"] == now["items"][0]["metadata"]["uid"]
    # before the Job existed: nothing
    code, before = get(http, JOBS, resourceVersion=str(moment(cluster, lambda c: c.kind == "Job") - 1),
                       resourceVersionMatch="Exact")
    assert code == 200 and before["items"] == []


def test_an_exact_list_in_chunks_stays_at_its_revision(http, cluster):
    for name in ("a", "b", "c"):
        response = http.post("/sim/clusters/test/apply", data=PI.replace("name: pi", f"name: {name}", 1),
                             content_type="application/yaml")
        assert response.status_code == 200
    revision = cluster.__class__.objects.get(pk=cluster.pk).resource_version
    advance(http, 120)  # every Job changes after the revision
    code, first = get(http, JOBS, resourceVersion=str(revision), resourceVersionMatch="Exact", limit="2")
    assert code == 200, first
    assert [j["metadata"]["name"] for j in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 1
    code, rest = get(http, JOBS, limit="2", **{"continue": first["metadata"]["continue"]})
    assert code == 200, rest
    assert [j["metadata"]["name"] for j in rest["items"]] == ["c"]
    assert rest["metadata"]["resourceVersion"] == str(revision)
    assert all("status" not in j or not j["status"].get("succeeded") for j in first["items"] + rest["items"])
    # the legacy way: a resourceVersion with a limit and no match reads exactly there too
    code, legacy = get(http, JOBS, resourceVersion=str(revision), limit="5")
    assert code == 200 and legacy["metadata"]["resourceVersion"] == str(revision)
    assert [j["metadata"]["resourceVersion"] for j in legacy["items"]] == \
        [j["metadata"]["resourceVersion"] for j in first["items"] + rest["items"]]


def test_one_object_at_a_revision_by_its_name(http, cluster):
    run_pi(http, 120)
    created = moment(cluster, lambda c: c.kind == "Job" and c.type == "ADDED")
    code, body = get(http, JOBS, resourceVersion=str(created), resourceVersionMatch="Exact",
                     fieldSelector="metadata.name=pi")
    assert code == 200, body
    (job,) = body["items"]
    assert job["metadata"]["resourceVersion"] == str(created)
    assert "status" not in job or not job["status"].get("conditions")
    code, other = get(http, JOBS, resourceVersion=str(created), resourceVersionMatch="Exact",
                      fieldSelector="metadata.name=nope")
    assert code == 200 and other["items"] == []


def test_not_older_than_and_gets_are_served_by_the_newest_state(http, cluster):
    run_pi(http, 120)
    running = moment(cluster, running_pod)
    code, body = get(http, PODS, resourceVersion=str(running), resourceVersionMatch="NotOlderThan")
    assert code == 200 and [p["status"]["phase"] for p in body["items"]] == ["Succeeded"]
    code, job = get(http, JOBS + "/pi", resourceVersion=str(running))
    assert code == 200 and job["status"]["succeeded"] == 1


def test_past_the_kept_history_is_410_expired(http, cluster):
    run_pi(http, 120)
    running = moment(cluster, running_pod)
    DatabaseStorage(cluster).compact(running + 5)
    code, body = get(http, PODS, resourceVersion=str(running), resourceVersionMatch="Exact")
    assert code == 410
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "The resourceVersion for the provided list is too old.", "reason": "Expired",
                    "code": 410}
    code, chunk = get(http, PODS, resourceVersion=str(running), limit="1")
    assert code == 410 and chunk["reason"] == "Expired"
    code, kept = get(http, PODS, resourceVersion=str(running + 5), resourceVersionMatch="Exact")
    assert code == 200 and kept["metadata"]["resourceVersion"] == str(running + 5)


@pytest.mark.parametrize("params", [
    {"resourceVersionMatch": "Exact"},
    {"resourceVersionMatch": "NotOlderThan", "limit": "5"},
], ids=["exact list", "not older than"])
def test_a_revision_the_cluster_has_not_reached_is_504(http, cluster, params):
    current = cluster.__class__.objects.get(pk=cluster.pk).resource_version
    code, body = get(http, PODS, resourceVersion=str(current + 100), **params)
    assert code == 504
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": f"Timeout: Too large resource version: {current + 100}, current: {current}",
                    "reason": "Timeout", "code": 504,
                    "details": {"causes": [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}], "retryAfterSeconds": 1}}


def test_a_get_at_a_revision_the_cluster_has_not_reached_is_504(http, cluster):
    current = cluster.__class__.objects.get(pk=cluster.pk).resource_version
    code, body = get(http, "/clusters/test/api/v1/nodes/node-1", resourceVersion=str(current + 1))
    assert code == 504 and body["reason"] == "Timeout"
    assert body["message"] == f"Timeout: Too large resource version: {current + 1}, current: {current}"


@pytest.mark.parametrize("params, code, message", [
    ({"resourceVersionMatch": "Exact"}, 422,
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden '
     "unless resourceVersion is provided"),
    ({"resourceVersion": "0", "resourceVersionMatch": "Exact"}, 422,
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is '
     'forbidden for resourceVersion "0"'),
    ({"resourceVersion": "5", "resourceVersionMatch": "Latest"}, 422,
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Latest": supported values: '
     '"Exact", "NotOlderThan", ""'),
    ({"resourceVersion": "abc", "resourceVersionMatch": "Exact"}, 400,
     'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": '
     "invalid syntax"),
    ({"resourceVersion": "-3"}, 400,
     'invalid resource version: resourceVersion: Invalid value: "-3": strconv.ParseUint: parsing "-3": '
     "invalid syntax"),
], ids=["match without a version", "exact at 0", "unknown match", "not a number", "negative"])
def test_bad_combinations_are_refused_as_upstream_refuses_them(http, cluster, params, code, message):
    got, body = get(http, PODS, **params)
    assert (got, body["message"]) == (code, message)
    if code == 422:
        assert body["details"]["kind"] == "ListOptions" and body["details"]["group"] == "meta.k8s.io"
        assert body["details"]["causes"][0]["field"] == "resourceVersionMatch"


def test_a_match_with_continue_is_refused(http, cluster):
    code, first = get(http, "/clusters/test/api/v1/nodes", limit="1")
    assert code == 200 and first["metadata"]["continue"]
    code, body = get(http, "/clusters/test/api/v1/nodes", resourceVersion="5", resourceVersionMatch="Exact",
                     **{"continue": first["metadata"]["continue"]})
    assert code == 422
    assert "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided" in \
        body["message"]


def test_the_history_keeps_what_the_settings_say(http, cluster, settings):
    settings.KUBEVIZ_HISTORY_CHANGES = 10
    settings.KUBEVIZ_HISTORY_SECONDS = 0
    run_pi(http, 120)
    body = json.loads(http.get("/sim/clusters/test/history").content)
    compacted = body["compactedVersion"]
    assert compacted > 0, "the pi Job's run makes 30 changes"
    assert body["resourceVersion"] - compacted >= 10
    oldest = body["oldest"]
    assert oldest["resourceVersion"] == compacted
    # the state at the oldest revision reads; before it, 410
    code, then = get(http, PODS, resourceVersion=str(compacted), resourceVersionMatch="Exact")
    assert code == 200
    code, gone = get(http, PODS, resourceVersion=str(compacted - 1), resourceVersionMatch="Exact")
    assert code == 410


def test_time_keeps_more_than_the_count_when_it_reaches_further_back(http, cluster, settings):
    settings.KUBEVIZ_HISTORY_CHANGES = 10
    settings.KUBEVIZ_HISTORY_SECONDS = 3600  # the pi Job's 30 changes take 9 simulated seconds
    run_pi(http, 120)
    body = json.loads(http.get("/sim/clusters/test/history").content)
    assert body["compactedVersion"] == 0 and body["oldest"]["resourceVersion"] == 0
