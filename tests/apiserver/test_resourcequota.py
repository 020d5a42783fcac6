"""The ResourceQuota kind (core/v1): defaulting, validation with 1.32's messages, ``kubectl get quota``'s cells and
the protobuf body ``kubectl create quota`` sends. Admission and the quota controller have their own tests
(``test_quota_admission.py``, ``tests/controllers/test_resourcequota.py``)."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from apiserver.kinds import apply_defaults, decode_protobuf, prepare_for_create, prepare_for_update, table
from apiserver.kinds import validate_create, validate_update
from controllers.apimachinery.timeutil import format_rfc3339

from .test_protobuf import envelope, f_bytes, f_map, object_meta

UID = "3c4b2f1e-0000-4000-8000-000000000002"
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def quota(hard=None, name="q", **spec):
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": "default"},
            "spec": {"hard": {"pods": "2"} if hard is None else hard, **spec}}


def created(obj):
    return prepare_for_create(apply_defaults(obj), uid=UID)


def create_errors(obj):
    return [str(e) for e in validate_create(created(obj))]


# --- defaults and the strategy ------------------------------------------------------------------------------

def test_hard_limits_are_stored_in_canonical_form_and_status_starts_empty():
    obj = created(quota({"pods": 10, "requests.memory": "1024Mi", "cpu": "0.5", "limits.cpu": "0.0001"}))
    obj_with_status = created(dict(quota(), status={"hard": {"pods": "2"}, "used": {"pods": "1"}}))
    assert obj["spec"]["hard"] == {"pods": "10", "requests.memory": "1Gi", "cpu": "500m", "limits.cpu": "1m"}
    assert obj["status"] == {} and obj_with_status["status"] == {}  # PrepareForCreate resets the status


def test_an_update_keeps_the_status_and_a_status_update_keeps_the_spec():
    old = created(quota())
    old["status"] = {"hard": {"pods": "2"}, "used": {"pods": "1"}}
    new = copy.deepcopy(old)
    new["spec"]["hard"]["pods"] = "5"
    new["status"] = {"hard": {"pods": "9"}}
    assert prepare_for_update(apply_defaults(new), old)["status"] == old["status"]
    status = prepare_for_update(apply_defaults(new), old, status_update=True)
    assert status["spec"] == old["spec"] and status["status"] == {"hard": {"pods": "9"}}


# --- validation (ValidateResourceQuota and friends) ---------------------------------------------------------

@pytest.mark.parametrize("hard", [
    {"pods": "2", "count/jobs.batch": "3", "count/cronjobs.batch": "1", "count/daemonsets.apps": "1",
     "count/pods": "4", "requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi",
     "cpu": "1", "memory": "1Gi", "resourcequotas": "1", "requests.nvidia.com/gpu": "1"},
], ids=["every resource kubeviz counts"])
def test_valid_quota(hard):
    assert create_errors(quota(hard)) == []


QUOTA_CASES = [
    ("not a quota resource", {"pod": "1"}, [
        "spec.hard[pod]: Invalid value: pod: must be a standard resource type or fully qualified",
        "spec.hard[pod]: Invalid value: pod: must be a standard resource for quota"]),
    ("standard but not for quota", {"storage": "1Gi"}, [
        "spec.hard[storage]: Invalid value: storage: must be a standard resource for quota"]),
    ("negative", {"requests.cpu": "-1"}, [
        'spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0']),
    ("fractional count", {"pods": "1.5"}, [
        "spec.hard[pods]: Invalid value: resource.Quantity{i:resource.int64Amount{value:1500, scale:-3}, "
        'd:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"1500m", Format:"DecimalSI"}: must be an integer']),
]


@pytest.mark.parametrize("hard, expected", [pytest.param(h, e, id=i) for i, h, e in QUOTA_CASES])
def test_hard_limit_rules(hard, expected):
    assert create_errors(quota(hard)) == expected


def test_scopes():
    assert create_errors(quota({"pods": "1"}, scopes=["BestEffort", "NotBestEffort"])) == [
        'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort", "NotBestEffort"}: conflicting scopes']
    assert create_errors(quota({"requests.cpu": "1"}, scopes=["BestEffort"])) == [
        'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: unsupported scope applied to '
        "resource"]
    assert create_errors(quota({"pods": "1"}, scopes=["Cheap"])) == [
        'spec.scopes: Invalid value: []core.ResourceQuotaScope{"Cheap"}: unsupported scope']
    assert create_errors(quota({"pods": "1"}, scopes=["NotTerminating"])) == []


def test_scope_selector():
    selector = {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]}
    assert create_errors(quota({"pods": "1"}, scopeSelector=selector)) == [
        "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is "
        "'In' or 'NotIn' for scope selector"]
    selector = {"matchExpressions": [{"scopeName": "BestEffort", "operator": "In", "values": ["x"]}]}
    assert create_errors(quota({"pods": "1"}, scopeSelector=selector)) == [
        'spec.scopeSelector.matchExpressions.operator: Invalid value: "In": must be \'Exist\' only operator when '
        "scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
        "ResourceQuotaScopeBestEffort and ResourceQuotaScopeNotBestEffort"]


def test_scopes_are_immutable_and_the_spec_is_validated_on_update():
    old = created(quota({"pods": "1"}, scopes=["NotTerminating"]))
    old["metadata"]["resourceVersion"] = "1"
    new = copy.deepcopy(old)
    new["spec"]["scopes"] = ["Terminating"]
    new["spec"]["hard"]["pods"] = "-3"
    new = prepare_for_update(apply_defaults(new), old)
    assert [str(e) for e in validate_update(new, old)] == [
        'spec.hard[pods]: Invalid value: "-3": must be greater than or equal to 0',
        'spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating"}: field is immutable',
    ]


def test_status_update_checks_the_status():
    old = created(quota())
    old["metadata"]["resourceVersion"] = "1"
    new = copy.deepcopy(old)
    new["status"] = {"hard": {"pods": "2"}, "used": {"pods": "-1"}}
    new = prepare_for_update(apply_defaults(new), old, status_update=True)
    assert [str(e) for e in validate_update(new, old, status_update=True)] == [
        'status.used[pods]: Invalid value: "-1": must be greater than or equal to 0']


# --- kubectl get quota (printResourceQuota) -----------------------------------------------------------------

def printed(status, age=90):
    obj = quota()
    obj["metadata"]["creationTimestamp"] = format_rfc3339(NOW - timedelta(seconds=age))
    obj["status"] = status
    return table("ResourceQuota", [obj], NOW)["rows"][0]["cells"]


def test_request_and_limit_columns_list_status_hard_in_name_order():
    status = {"hard": {"pods": "2", "limits.memory": "2Gi", "count/jobs.batch": "5", "requests.cpu": "1",
                       "limits.cpu": "2"},
              "used": {"pods": "1", "limits.memory": "256Mi", "count/jobs.batch": "1", "requests.cpu": "500m",
                       "limits.cpu": "0"}}
    assert printed(status) == ["q", "90s", "count/jobs.batch: 1/5, pods: 1/2, requests.cpu: 500m/1",
                               "limits.cpu: 0/2, limits.memory: 256Mi/2Gi"]


def test_a_quota_not_synced_yet_prints_empty_columns_and_a_missing_usage_prints_zero():
    assert printed({}) == ["q", "90s", "", ""]
    assert printed({"hard": {"pods": "2"}}) == ["q", "90s", "pods: 0/2", ""]


# --- kubectl create quota sends protobuf ----------------------------------------------------------------------

def test_protobuf_quota_as_kubectl_create_quota_sends_it():
    spec = f_map(1, {"pods": f_bytes(1, "2"), "count/jobs.batch": f_bytes(1, "3")})
    selector = f_bytes(1, f_bytes(1, "PriorityClass") + f_bytes(2, "In") + f_bytes(3, "high"))
    body = envelope("v1", "ResourceQuota", f_bytes(1, object_meta("q")) + f_bytes(2, spec + f_bytes(3, selector))
                    + f_bytes(3, b""))
    assert decode_protobuf(body) == {
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"},
        "spec": {"hard": {"pods": "2", "count/jobs.batch": "3"},
                 "scopeSelector": {"matchExpressions": [
                     {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}},
    }
