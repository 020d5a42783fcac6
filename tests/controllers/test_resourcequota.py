"""The resource quota controller's sync (controllers/resourcequota.py), after upstream's
``pkg/controller/resourcequota/resource_quota_controller_test.go`` (TestSyncResourceQuota: its case names), and the
differential test of its fast path (controllers/quota_index.py) against the reference calculation."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from controllers.cache import Cache
from controllers.client import APIResource
from controllers.pods import format_time
from controllers.quota import calculate_usage, evaluators_for, parse_resource_list
from controllers.quota_index import calculate_usage_indexed
from controllers.resourcequota import sync_resource_quota

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
REGISTRY = evaluators_for([APIResource("", "pods", "Pod", True), APIResource("batch", "jobs", "Job", True),
                           APIResource("", "resourcequotas", "ResourceQuota", True)])


def quota(hard, status=None, **spec):
    obj = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "quota", "namespace": "testing"},
           "spec": {"hard": hard, **spec}}
    if status is not None:
        obj["status"] = status
    return obj


def usage(**values):
    return parse_resource_list({name.replace("_", "."): value for name, value in values.items()})


SYNC_CASES = [
    ("pods", quota({"cpu": "3", "memory": "100Gi", "pods": "5"}),
     usage(cpu="200m", memory="1Gi", pods="2"),
     {"hard": {"cpu": "3", "memory": "100Gi", "pods": "5"}, "used": {"cpu": "200m", "memory": "1Gi", "pods": "2"}}),
    ("quota-spec-hard-updated", quota({"cpu": "4"}, {"hard": {"cpu": "3"}, "used": {"cpu": "0"}}),
     usage(cpu="0"), {"hard": {"cpu": "4"}, "used": {"cpu": "0"}}),
    ("quota-unchanged", quota({"cpu": "4"}, {"hard": {"cpu": "4"}, "used": {"cpu": "0"}}), usage(cpu="0"), None),
    ("usage went down", quota({"pods": "2"}, {"hard": {"pods": "2"}, "used": {"pods": "2"}}), usage(pods="1"),
     {"hard": {"pods": "2"}, "used": {"pods": "1"}}),
    ("resource no longer in hard drops out of used",
     quota({"pods": "2"}, {"hard": {"pods": "2", "count/jobs.batch": "1"}, "used": {"pods": "0",
                                                                                  "count/jobs.batch": "1"}}),
     usage(pods="0"), {"hard": {"pods": "2"}, "used": {"pods": "0"}}),
    ("usage nobody can calculate keeps its last value",
     quota({"services": "2"}, {"hard": {"services": "2"}, "used": {"services": "1"}}), {}, None),
]


@pytest.mark.parametrize("obj, observed, expected", [pytest.param(q, u, e, id=i) for i, q, u, e in SYNC_CASES])
def test_sync_resource_quota(obj, observed, expected):
    result = sync_resource_quota(obj, observed, NOW)
    assert result.status == expected
    assert result.actions == () and result.requeue_after is None
    assert result.trace.object_key == "testing/quota"


def test_first_sync_says_the_quota_is_enforced_from_now_on():
    trace = sync_resource_quota(quota({"pods": "2"}), usage(pods="0"), NOW).trace
    assert trace.observed == "hard pods=2; used pods=0"
    assert trace.decision == "first sync: write status.hard and status.used, from now on the quota is enforced"


# --- the fast path against the reference -------------------------------------------------------------------------

def _pod(rng, name, namespace):
    phase = rng.choice(["Pending", "Running", "Running", "Succeeded", "Failed"])
    containers = [{"name": "c", "image": "busybox", "resources": {
        "requests": {"cpu": rng.choice(["100m", "250m", "1"]), "memory": rng.choice(["64Mi", "100M", "1Gi"])}}}]
    if rng.random() < 0.3:
        containers = [{"name": "c", "image": "busybox"}]
    obj = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}",
                        "resourceVersion": "1"},
           "spec": {"containers": containers}, "status": {"phase": phase}}
    if rng.random() < 0.2:
        obj["spec"]["activeDeadlineSeconds"] = 60
    if rng.random() < 0.2:
        obj["metadata"]["deletionTimestamp"] = format_time(NOW - timedelta(seconds=rng.choice([10, 100])))
        obj["metadata"]["deletionGracePeriodSeconds"] = 30
    return obj


QUOTAS = [
    {"pods": "10", "count/pods": "20", "requests.cpu": "4", "memory": "8Gi", "count/jobs.batch": "3",
     "resourcequotas": "2"},
    {"pods": "10", "count/pods": "20", "count/jobs.batch": "1"},
]
SCOPES = [{}, {"scopes": ["NotBestEffort"]}, {"scopes": ["Terminating"]},
          {"scopeSelector": {"matchExpressions": [{"scopeName": "BestEffort", "operator": "Exists"}]}}]


@pytest.mark.parametrize("seed", range(12))
def test_indexed_usage_is_the_reference_usage(seed):
    rng = random.Random(seed)
    cache = Cache()
    objects: dict[str, list] = {"Pod": [], "Job": [], "ResourceQuota": []}
    for namespace in ("testing", "other"):
        for i in range(rng.randrange(0, 30)):
            obj = _pod(rng, f"p-{i:02d}", namespace)
            cache.apply_change("ADDED", "Pod", obj)
            if namespace == "testing":
                objects["Pod"].append(obj)
        for i in range(rng.randrange(0, 3)):
            job = {"metadata": {"name": f"j-{i}", "namespace": namespace, "uid": f"j-{namespace}-{i}",
                                "resourceVersion": "1"}}
            cache.apply_change("ADDED", "Job", job)
            if namespace == "testing":
                objects["Job"].append(job)
    for hard in QUOTAS:
        for scope in SCOPES:
            obj = quota(hard, **scope)
            obj["metadata"].update(uid="q", resourceVersion="1")
            cache.apply_change("ADDED", "ResourceQuota", obj)
            reference = dict(objects, ResourceQuota=[obj])
            expected = calculate_usage(obj, REGISTRY, reference, NOW)
            got = calculate_usage_indexed(obj, REGISTRY, cache, NOW)
            assert {k: (v.canonical(), v.format) for k, v in got.items()} == {
                k: (v.canonical(), v.format) for k, v in expected.items()}, (hard, scope)
