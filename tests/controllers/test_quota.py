"""The quota evaluators (controllers/quota.py) against upstream's tables: ``pkg/quota/v1/evaluator/core/pods_test.go``
(TestPodEvaluatorUsage, TestPodConstraintsFunc, TestPodEvaluatorMatchingScopes) and ``pkg/quota/v1/resources_test.go``.
Case ids are upstream's where it has them."""

from datetime import datetime, timedelta, timezone

import pytest

from controllers.apimachinery.quantity import parse_quantity
from controllers.client import APIResource
from controllers.pods import format_time
from controllers.quota import (
    add,
    calculate_usage,
    evaluators_for,
    format_resource_list,
    less_than_or_equal,
    object_count_resource_name,
    parse_resource_list,
    pod_constraints,
    pod_matches_scope,
    pod_usage,
    pretty_print,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
RESOURCES = [APIResource("", "namespaces", "Namespace", False), APIResource("", "pods", "Pod", True),
             APIResource("", "events", "Event", True), APIResource("", "resourcequotas", "ResourceQuota", True),
             APIResource("batch", "jobs", "Job", True), APIResource("apps", "daemonsets", "DaemonSet", True)]
REGISTRY = evaluators_for(RESOURCES)


def q(**resources) -> dict:
    return {name.replace("_", "."): parse_quantity(value) for name, value in resources.items()}


def container(name="c", requests=None, limits=None, **extra):
    resources = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "image": "busybox", "resources": resources, **extra}


def pod(*containers, init=(), phase="Running", name="p", **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": list(containers) or [container()], "initContainers": list(init), **spec},
            "status": {"phase": phase}}


def usage_text(obj) -> dict:
    return format_resource_list(pod_usage(obj, NOW))


USAGE_CASES = [
    ("init container CPU", pod(container(requests={"cpu": "1m"}, limits={"cpu": "2m"}),
                               init=[container("i", requests={"cpu": "1m"}, limits={"cpu": "2m"})]),
     {"count/pods": "1", "cpu": "1m", "limits.cpu": "2m", "pods": "1", "requests.cpu": "1m"}),
    ("container MEM", pod(container(requests={"memory": "1m"}, limits={"memory": "2m"})),
     {"count/pods": "1", "limits.memory": "2m", "memory": "1m", "pods": "1", "requests.memory": "1m"}),
    ("container extended resources", pod(container(requests={"example.com/dongle": "3"},
                                                   limits={"example.com/dongle": "3"})),
     {"count/pods": "1", "pods": "1", "requests.example.com/dongle": "3"}),
    ("terminated generic count still appears", pod(container(requests={"cpu": "1"}), phase="Succeeded"),
     {"count/pods": "1"}),
    ("init container maximums override sum of containers",
     pod(container("a", requests={"cpu": "1", "memory": "100Mi"}), container("b", requests={"cpu": "1"}),
         init=[container("i", requests={"cpu": "4", "memory": "50Mi"})]),
     {"count/pods": "1", "cpu": "4", "memory": "100Mi", "pods": "1", "requests.cpu": "4",
      "requests.memory": "100Mi"}),
    ("sidecars add up with the containers",
     pod(container("a", requests={"cpu": "1"}),
         init=[container("s", requests={"cpu": "500m"}, restartPolicy="Always")]),
     {"count/pods": "1", "cpu": "1500m", "pods": "1", "requests.cpu": "1500m"}),
    ("count pod overhead as usage", pod(container(requests={"cpu": "1"}, limits={"cpu": "2"}),
                                        overhead={"cpu": "250m"}),
     {"count/pods": "1", "cpu": "1250m", "limits.cpu": "2250m", "pods": "1", "requests.cpu": "1250m"}),
    ("memory sums keep the first term's format", pod(container("a", requests={"memory": "128Mi"}),
                                                     container("b", requests={"memory": "128Mi"})),
     {"count/pods": "1", "memory": "256Mi", "pods": "1", "requests.memory": "256Mi"}),
]


@pytest.mark.parametrize("obj, expected", [pytest.param(o, e, id=i) for i, o, e in USAGE_CASES])
def test_pod_evaluator_usage(obj, expected):
    assert usage_text(obj) == expected


def test_pod_deletion_timestamp_exceeded():
    deleting = pod(container(requests={"cpu": "1"}))
    deleting["metadata"].update(deletionTimestamp=format_time(NOW - timedelta(seconds=60)),
                                deletionGracePeriodSeconds=30)
    assert usage_text(deleting) == {"count/pods": "1"}


def test_pod_deletion_timestamp_not_exceeded():
    deleting = pod(container(requests={"cpu": "1"}))
    deleting["metadata"].update(deletionTimestamp=format_time(NOW + timedelta(seconds=30)),
                                deletionGracePeriodSeconds=30)
    assert usage_text(deleting)["pods"] == "1"


CONSTRAINT_CASES = [
    ("init container resource missing", ["requests.cpu"],
     pod(container(requests={"cpu": "1"}), init=[container("init")]), "must specify requests.cpu for: init"),
    ("container resource missing", ["requests.cpu", "requests.memory", "pods"], pod(container("pi")),
     "must specify requests.cpu for: pi; requests.memory for: pi"),
    ("container resource missing multiple", ["limits.cpu"], pod(container("a"), container("b")),
     "must specify limits.cpu for: a,b"),
    ("limits default the requests", ["requests.cpu", "limits.cpu"],
     pod(container(requests={"cpu": "1"}, limits={"cpu": "1"})), None),
    ("only cpu and memory are required", ["pods", "count/pods", "requests.ephemeral-storage"], pod(container()), None),
]


@pytest.mark.parametrize("required, obj, expected", [pytest.param(r, o, e, id=i) for i, r, o, e in CONSTRAINT_CASES])
def test_pod_constraints(required, obj, expected):
    assert pod_constraints(required, obj) == expected


@pytest.mark.parametrize("selector, obj, expected", [
    ({"scopeName": "BestEffort", "operator": "Exists"}, pod(container()), True),
    ({"scopeName": "BestEffort", "operator": "Exists"}, pod(container(requests={"cpu": "1"})), False),
    ({"scopeName": "NotBestEffort", "operator": "Exists"}, pod(container(limits={"memory": "1Gi"})), True),
    ({"scopeName": "Terminating", "operator": "Exists"}, pod(activeDeadlineSeconds=60), True),
    ({"scopeName": "NotTerminating", "operator": "Exists"}, pod(activeDeadlineSeconds=60), False),
    ({"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}, pod(priorityClassName="high"), True),
    ({"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}, pod(priorityClassName="high"), False),
    ({"scopeName": "PriorityClass", "operator": "DoesNotExist"}, pod(), True),
], ids=["best effort", "burstable is not best effort", "not best effort", "terminating", "not terminating",
        "priority class in", "priority class not in", "no priority class"])
def test_pod_matches_scope(selector, obj, expected):
    assert pod_matches_scope(selector, obj) is expected


def test_registry_counts_namespaced_kinds_but_events():
    assert set(REGISTRY) == {"Pod", "ResourceQuota", "Job", "DaemonSet"}
    assert REGISTRY["ResourceQuota"].resource_names == ("count/resourcequotas", "resourcequotas")
    assert REGISTRY["Job"].resource_names == ("count/jobs.batch",)
    assert object_count_resource_name("apps", "daemonsets") == "count/daemonsets.apps"
    assert REGISTRY["Pod"].matching_resources(["pods", "count/jobs.batch", "requests.cpu", "requests.example.com/x",
                                               "count/pods"]) == [
        "count/pods", "pods", "requests.cpu", "requests.example.com/x"]


def test_resource_list_arithmetic_and_printing():
    assert format_resource_list(add(q(memory="128Mi"), q(memory="128Mi", cpu="500m"))) == {
        "cpu": "500m", "memory": "256Mi"}
    assert format_resource_list(add(q(cpu="500m"), q(cpu="500m"))) == {"cpu": "1"}
    assert format_resource_list(add(q(pods="0"), q(memory="1Gi"))) == {"memory": "1Gi", "pods": "0"}
    # a BinarySI sum that is no whole number of Ki is written bare, as Go's CanonicalizeBytes does
    assert format_resource_list(add(q(memory="64Mi"), q(memory="100M"))) == {"memory": "167108864"}
    assert less_than_or_equal(q(pods="3", cpu="1"), q(pods="2", cpu="2")) == (False, ["pods"])
    assert pretty_print(q(pods="1", requests_cpu="100m")) == "pods=1,requests.cpu=100m"
    assert parse_resource_list({"pods": 2, "bad": "x"}) == q(pods="2")


def test_calculate_usage_counts_live_pods_and_every_object():
    quota = {"metadata": {"name": "q", "namespace": "default"},
             "spec": {"hard": {"pods": "10", "count/pods": "10", "requests.memory": "1Gi", "count/jobs.batch": "3",
                               "services": "1"}}}
    objects = {"Pod": [pod(container(requests={"memory": "100Mi"}), name="a"),
                       pod(container(requests={"memory": "100Mi"}), name="b", phase="Failed")],
               "Job": [{"metadata": {"name": "j", "namespace": "default"}}]}
    assert format_resource_list(calculate_usage(quota, REGISTRY, objects, NOW)) == {
        "count/jobs.batch": "1", "count/pods": "2", "pods": "1", "requests.memory": "100Mi"}
