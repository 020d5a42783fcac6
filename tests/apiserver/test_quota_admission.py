"""ResourceQuota admission through the HTTP API (apiserver/quota.py behind the registry): the 403 Status a refused
create gets, with upstream's exact message (``controller.go`` CheckRequest wrapped by admission.NewForbidden), and
the usage an admitted create charges at once."""

import json

import pytest

from .test_api import BASE, Api, job, pod

PODS = f"{BASE}/api/v1/namespaces/default/pods"
QUOTAS = f"{BASE}/api/v1/namespaces/default/resourcequotas"


@pytest.fixture
def api(cluster):
    return Api()


def advance(api, seconds=0):
    """Let the cluster's controllers run (the quota controller fills in a new quota's status)."""
    code, _ = api.call("POST", "/sim/clusters/test/clock/advance", {"seconds": seconds})
    assert code == 200


def make_quota(api, hard, name="q", sync=True):
    code, created = api.post(QUOTAS, {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
                                      "spec": {"hard": hard}})
    assert code == 201, created
    if sync:
        advance(api)
    return created


def status_of(api, name="q"):
    code, obj = api.get(f"{QUOTAS}/{name}")
    assert code == 200
    return obj["status"]


def test_a_pod_over_the_pods_quota_is_forbidden(api):
    make_quota(api, {"pods": "1"})
    assert status_of(api) == {"hard": {"pods": "1"}, "used": {"pods": "0"}}
    assert api.post(PODS, pod("one"))[0] == 201
    assert status_of(api)["used"] == {"pods": "1"}  # charged by admission, before any controller runs
    code, status = api.post(PODS, pod("two"))
    assert code == 403
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "two" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1',
        "reason": "Forbidden", "details": {"name": "two", "kind": "pods"}, "code": 403,
    }
    assert status_of(api)["used"] == {"pods": "1"}


def test_a_generated_name_is_in_the_message(api):
    make_quota(api, {"count/pods": "0"})
    code, status = api.post(PODS, dict(pod(""), metadata={"generateName": "web-"}))
    assert code == 403
    name = status["details"]["name"]
    assert name.startswith("web-") and len(name) == len("web-") + 5
    assert status["message"] == (f'pods "{name}" is forbidden: exceeded quota: q, requested: count/pods=1, '
                                 "used: count/pods=0, limited: count/pods=0")


def test_object_counts_of_other_groups(api):
    make_quota(api, {"count/jobs.batch": "1"})
    jobs = f"{BASE}/apis/batch/v1/namespaces/default/jobs"
    assert api.post(jobs, job("first"))[0] == 201
    code, status = api.post(jobs, job("second"))
    assert (code, status["message"], status["details"]) == (
        403, 'jobs.batch "second" is forbidden: exceeded quota: q, requested: count/jobs.batch=1, '
             "used: count/jobs.batch=1, limited: count/jobs.batch=1",
        {"name": "second", "group": "batch", "kind": "jobs"})


def test_compute_quota_requires_pods_to_say_what_they_ask_for(api):
    make_quota(api, {"requests.cpu": "1", "requests.memory": "1Gi"})
    code, status = api.post(PODS, pod("bare"))
    assert (code, status["message"]) == (
        403, 'pods "bare" is forbidden: failed quota: q: must specify requests.cpu for: c; requests.memory for: c')
    sized = pod("sized")
    sized["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "600m", "memory": "512Mi"}}
    assert api.post(PODS, sized)[0] == 201
    assert status_of(api)["used"] == {"requests.cpu": "600m", "requests.memory": "512Mi"}
    sized["metadata"]["name"] = "sized-2"
    code, status = api.post(PODS, sized)
    assert (code, status["message"]) == (
        403, 'pods "sized-2" is forbidden: exceeded quota: q, requested: requests.cpu=600m, used: requests.cpu=600m, '
             "limited: requests.cpu=1")


def test_a_quota_not_synced_yet_enforces_nothing(api):
    make_quota(api, {"pods": "0"}, sync=False)
    assert api.post(PODS, pod("early"))[0] == 201  # status.hard is empty until the quota controller runs
    advance(api)
    assert status_of(api) == {"hard": {"pods": "0"}, "used": {"pods": "1"}}
    assert api.post(PODS, pod("late"))[0] == 403


def test_dry_run_is_checked_but_charges_nothing(api):
    make_quota(api, {"pods": "1"})
    assert api.post(f"{PODS}?dryRun=All", pod("dry"))[0] == 201
    assert status_of(api)["used"] == {"pods": "0"}
    assert api.post(PODS, pod("real"))[0] == 201
    code, status = api.post(f"{PODS}?dryRun=All", pod("dry"))
    assert code == 403 and "exceeded quota" in status["message"]


def test_admission_refuses_before_storage_finds_a_namesake_and_a_namesake_is_not_charged(api):
    make_quota(api, {"pods": "2"})
    assert api.post(PODS, pod("same"))[0] == 201
    code, status = api.post(PODS, pod("same"))
    assert (code, status["reason"]) == (409, "AlreadyExists")
    assert status_of(api)["used"] == {"pods": "1"}
    assert api.post(PODS, pod("other"))[0] == 201
    code, status = api.post(PODS, pod("same"))
    assert (code, status["reason"]) == (403, "Forbidden")  # the quota is full: admission answers first


def test_a_quota_counts_quotas(api):
    make_quota(api, {"resourcequotas": "1"})
    code, status = api.post(QUOTAS, {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "more"},
                                     "spec": {"hard": {"pods": "1"}}})
    assert (code, status["message"]) == (
        403, 'resourcequotas "more" is forbidden: exceeded quota: q, requested: resourcequotas=1, '
             "used: resourcequotas=1, limited: resourcequotas=1")


def test_get_quota_as_a_table(api):
    make_quota(api, {"pods": "3", "limits.memory": "1Gi"})
    code, table = api.call("GET", QUOTAS, HTTP_ACCEPT="application/json;as=Table;v=v1;g=meta.k8s.io")
    assert code == 200
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age", "Request", "Limit"]
    assert table["rows"][0]["cells"] == ["q", "0s", "pods: 0/3", "limits.memory: 0/1Gi"]
    assert json.dumps(table["rows"][0]["object"]["kind"]) == '"PartialObjectMetadata"'


def test_a_quota_whose_usage_is_unknown_refuses_what_it_tracks():
    """hasUsageStats: a quota that enforces pods but has no usage recorded for them refuses pods until the quota
    controller has counted them (a status written by hand, say)."""
    from datetime import datetime, timezone

    from apiserver.quota import EVALUATORS, QuotaExceeded, check_request

    quota = {"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": {"pods": "2"}},
             "status": {"hard": {"pods": "2", "count/jobs.batch": "1"}, "used": {"count/jobs.batch": "0"}}}
    with pytest.raises(QuotaExceeded) as refused:
        check_request([quota], EVALUATORS["Pod"], pod("p"), datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert str(refused.value) == "status unknown for quota: q, resources: pods"
    charged = check_request([quota], EVALUATORS["Job"], job("j"), datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert [(q["metadata"]["name"], {k: v.canonical() for k, v in used.items()}) for q, used in charged] == [
        ("q", {"count/jobs.batch": "1"})]
