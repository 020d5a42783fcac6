"""Tests for the shared scheduling predicates (``controllers.scheduling``).

Case names follow upstream's tables: ``TestTolerationToleratesTaint`` (k8s.io/api core/v1 toleration_test.go),
``TestMatchNodeSelectorTerms`` (component-helpers nodeaffinity_test.go), ``TestParse`` (apimachinery
resource/quantity_test.go) and ``TestPodRequests`` (component-helpers resource helpers_test.go).
"""

from __future__ import annotations

from datetime import datetime, timezone
from fractions import Fraction

import pytest

from controllers.scheduling import (
    QUANTITY_FORMAT_ERROR,
    find_matching_untolerated_taint,
    get_matching_tolerations,
    is_node_ready,
    node_allocatable,
    node_matches_node_selector_terms,
    parse_quantity,
    pod_matches_node_selector_and_affinity,
    pod_non_zero_requests,
    pod_requests,
    tolerates_taint,
    update_pod_condition,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
TAINT = {"key": "foo", "value": "bar", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    "toleration, taint, expected",
    [
        pytest.param({"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"}, TAINT, True,
                     id="toleration and taint have the same key and effect, and operator is Equal, and values are equal"),
        pytest.param({"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"},
                     {"key": "foo", "value": "different", "effect": "NoSchedule"}, False,
                     id="toleration and taint have the same key and effect, and operator is Equal, but values are different"),
        pytest.param({"key": "foo", "operator": "Exists", "effect": "NoSchedule"}, TAINT, True,
                     id="toleration and taint have the same key and effect, and operator is Exists"),
        pytest.param({"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoExecute"}, TAINT, False,
                     id="toleration and taint have the same key and value, but effects are different"),
        pytest.param({"key": "foo", "operator": "Equal", "value": "bar"}, TAINT, True,
                     id="toleration with empty effect tolerates every effect"),
        pytest.param({"operator": "Exists"}, TAINT, True, id="empty key with Exists tolerates everything"),
        pytest.param({"key": "foo", "value": "bar", "effect": "NoSchedule"}, TAINT, True,
                     id="empty operator means Equal"),
        pytest.param({"key": "other", "operator": "Exists"}, TAINT, False, id="different key"),
        pytest.param({"key": "foo", "operator": "Gt", "value": "1"}, TAINT, False,
                     id="unknown operator tolerates nothing"),
        pytest.param({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}, True,
                     id="control-plane toleration"),
    ],
)
def test_tolerates_taint(toleration, taint, expected):
    assert tolerates_taint(toleration, taint) is expected


def test_find_matching_untolerated_taint_returns_first_in_node_order_and_filters_effects():
    taints = [
        {"key": "soft", "effect": "PreferNoSchedule"},
        {"key": "a", "effect": "NoSchedule"},
        {"key": "b", "effect": "NoExecute"},
    ]
    assert find_matching_untolerated_taint(taints, [], ("NoSchedule", "NoExecute")) == {"key": "a", "effect": "NoSchedule"}
    assert find_matching_untolerated_taint(taints, [{"key": "a", "operator": "Exists"}], ("NoSchedule", "NoExecute")) == {
        "key": "b", "effect": "NoExecute"}
    assert find_matching_untolerated_taint(taints, [{"operator": "Exists"}], None) is None
    assert find_matching_untolerated_taint(taints, [], lambda t: t["effect"] == "PreferNoSchedule") == taints[0]


def test_get_matching_tolerations():
    taints = [{"key": "a", "effect": "NoExecute"}, {"key": "b", "effect": "NoExecute"}]
    ta = {"key": "a", "operator": "Exists", "tolerationSeconds": 30}
    tb = {"key": "b", "operator": "Exists"}
    assert get_matching_tolerations([], []) == (True, [])
    assert get_matching_tolerations(taints, []) == (False, [])
    assert get_matching_tolerations(taints, [ta]) == (False, [])
    assert get_matching_tolerations(taints, [tb, ta]) == (True, [ta, tb])


def _node(name="node-1", labels=None):
    return {"metadata": {"name": name, "labels": labels or {}}}


@pytest.mark.parametrize(
    "terms, labels, expected",
    [
        pytest.param([], {}, False, id="nil terms"),
        pytest.param([{}], {}, False, id="node label matches empty term: an empty term selects nothing"),
        pytest.param([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}],
                     {"zone": "a"}, True, id="In matches"),
        pytest.param([{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}],
                     {}, True, id="NotIn on a missing label matches"),
        pytest.param([{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}], {"gpu": ""}, True, id="Exists"),
        pytest.param([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}], {"gpu": "1"}, False,
                     id="DoesNotExist"),
        pytest.param([{"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}], {"cores": "8"},
                     True, id="Gt"),
        pytest.param([{"matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["4"]}]}], {"cores": "8"},
                     False, id="Lt"),
        pytest.param([{"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["x"]}]},
                      {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}], {"zone": "a", "cores": "8"},
                     True, id="invalid term is skipped, later term matches"),
        pytest.param([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}],
                       "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}],
                     {"zone": "a"}, False, id="expressions and fields are ANDed"),
        pytest.param([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}], {},
                     True, id="matchFields metadata.name In"),
        pytest.param([{"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-1"]}]}], {},
                     False, id="matchFields metadata.name NotIn"),
        pytest.param([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1", "node-2"]}]}],
                     {}, False, id="matchFields with two values is invalid"),
    ],
)
def test_node_matches_node_selector_terms(terms, labels, expected):
    assert node_matches_node_selector_terms(_node(labels=labels), terms) is expected


@pytest.mark.parametrize(
    "spec, labels, expected",
    [
        pytest.param({}, {}, True, id="no selector, no affinity"),
        pytest.param({"nodeSelector": {"disktype": "ssd"}}, {"disktype": "ssd"}, True, id="nodeSelector matches"),
        pytest.param({"nodeSelector": {"disktype": "ssd"}}, {}, False, id="nodeSelector mismatch"),
        pytest.param({"nodeSelector": {"disktype": "ssd"},
                      "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                          "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}},
                     {"disktype": "ssd", "zone": "b"}, False, id="selector and affinity are ANDed"),
        pytest.param({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                          "nodeSelectorTerms": []}}}}, {}, False, id="required affinity with no terms matches nothing"),
        pytest.param({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                          {"weight": 1, "preference": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}}]}}},
                     {}, True, id="preferred affinity does not filter"),
    ],
)
def test_pod_matches_node_selector_and_affinity(spec, labels, expected):
    assert pod_matches_node_selector_and_affinity(spec, _node(labels=labels)) is expected


QUANTITIES = [
    ("100m", Fraction(1, 10)),
    ("0.5", Fraction(1, 2)),
    ("2", Fraction(2)),
    (2, Fraction(2)),
    (0.25, Fraction(1, 4)),
    ("200Mi", Fraction(200 * 2**20)),
    ("1Gi", Fraction(2**30)),
    ("128974848", Fraction(128974848)),
    ("129e6", Fraction(129_000_000)),
    ("123M", Fraction(123_000_000)),
    ("64Ki", Fraction(65536)),
    ("1.5Gi", Fraction(3 * 2**29)),
    ("1k", Fraction(1000)),
    ("1E", Fraction(10**18)),
    ("1E3", Fraction(1000)),
    ("5e-3", Fraction(5, 1000)),
    ("250u", Fraction(1, 4000)),
    ("10n", Fraction(1, 10**8)),
    (".5", Fraction(1, 2)),
    ("+1", Fraction(1)),
]


@pytest.mark.parametrize("text, expected", QUANTITIES, ids=[repr(text) for text, _ in QUANTITIES])
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1Mib", "1.2.3", "1e", "1 Gi", "Gi", "."])
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError) as error:
        parse_quantity(text)
    assert str(error.value) == QUANTITY_FORMAT_ERROR


def _container(name, requests=None, limits=None, restart_policy=None):
    container = {"name": name, "resources": {}}
    if requests:
        container["resources"]["requests"] = requests
    if limits:
        container["resources"]["limits"] = limits
    if restart_policy:
        container["restartPolicy"] = restart_policy
    return container


@pytest.mark.parametrize(
    "spec, expected",
    [
        pytest.param({"containers": [_container("a", {"cpu": "1"}), _container("b", {"cpu": "500m", "memory": "1Gi"})]},
                     {"cpu": Fraction(3, 2), "memory": Fraction(2**30), "pods": 1}, id="sum of containers"),
        pytest.param({"containers": [_container("a", {"cpu": "1"})],
                      "initContainers": [_container("init", {"cpu": "2"})]},
                     {"cpu": Fraction(2), "pods": 1}, id="init container larger than the sum"),
        pytest.param({"containers": [_container("a", {"cpu": "1"})],
                      "initContainers": [_container("sidecar", {"cpu": "500m"}, restart_policy="Always"),
                                         _container("init", {"cpu": "1"})]},
                     {"cpu": Fraction(3, 2), "pods": 1}, id="restartable init container adds to the sum"),
        pytest.param({"containers": [_container("a", {"cpu": "100m"})],
                      "initContainers": [_container("sidecar", {"cpu": "500m"}, restart_policy="Always"),
                                         _container("init", {"cpu": "2"})]},
                     {"cpu": Fraction(5, 2), "pods": 1}, id="init container runs beside earlier sidecars"),
        pytest.param({"containers": [_container("a", limits={"cpu": "1", "memory": "1Gi"})]},
                     {"cpu": Fraction(1), "memory": Fraction(2**30), "pods": 1}, id="limits default the requests"),
        pytest.param({"containers": [_container("a", {"cpu": "1"})], "overhead": {"cpu": "250m"}},
                     {"cpu": Fraction(5, 4), "pods": 1}, id="pod overhead"),
        pytest.param({"containers": [_container("a")]}, {"pods": 1}, id="best effort"),
    ],
)
def test_pod_requests(spec, expected):
    pod = {"spec": spec}
    assert pod_requests(pod) == expected


def test_pod_non_zero_requests_defaults_missing_cpu_and_memory():
    pod = {"spec": {"containers": [_container("a"), _container("b", {"cpu": "0"})]}}
    assert pod_non_zero_requests(pod) == {"cpu": Fraction(1, 10), "memory": Fraction(400 * 2**20)}


def test_node_allocatable_and_readiness():
    node = {"status": {"capacity": {"cpu": "4", "pods": "110"}, "allocatable": {"cpu": "3800m", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}
    assert node_allocatable(node) == {"cpu": Fraction(19, 5), "pods": Fraction(110)}
    assert node_allocatable({"status": {"capacity": {"cpu": "2"}}}) == {"cpu": Fraction(2)}
    assert is_node_ready(node) is True
    assert is_node_ready({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}) is False
    assert is_node_ready({}) is False


def test_update_pod_condition_keeps_transition_time_when_status_is_unchanged():
    status = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                   "message": "old", "lastProbeTime": None,
                                                   "lastTransitionTime": "2024-06-01T11:00:00Z"}]}
    new, changed = update_pod_condition(status, {"type": "PodScheduled", "status": "False",
                                                 "reason": "Unschedulable", "message": "new"}, NOW)
    assert changed is True
    assert new["conditions"] == [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                  "lastTransitionTime": "2024-06-01T11:00:00Z", "reason": "Unschedulable",
                                  "message": "new"}]
    assert status["conditions"][0]["message"] == "old"  # input untouched
    same, changed = update_pod_condition(new, {"type": "PodScheduled", "status": "False",
                                               "reason": "Unschedulable", "message": "new"}, NOW)
    assert changed is False and same == new
