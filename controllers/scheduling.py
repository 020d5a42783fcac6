"""Scheduling predicates shared by the scheduler, the DaemonSet controller and the node lifecycle controller.

Each function is named after its upstream counterpart so a learner can read the Go beside it:

* taints and tolerations: ``ToleratesTaint`` / ``TolerationsTolerateTaint`` / ``FindMatchingUntoleratedTaint`` /
  ``GetMatchingTolerations`` (``k8s.io/api/core/v1/toleration.go``, ``k8s.io/component-helpers/scheduling/corev1``);
* node affinity: ``MatchNodeSelectorTerms`` and ``GetRequiredNodeAffinity`` (``component-helpers/scheduling/
  corev1/nodeaffinity``): ``nodeSelector`` AND the required node-selector terms, terms ORed, requirements ANDed;
* resources: ``resource.ParseQuantity`` (``k8s.io/apimachinery/pkg/api/resource``) and ``PodRequests``
  (``k8s.io/component-helpers/resource``): the sum of the containers, the max with each init container, sidecars
  (restartable init containers) added cumulatively, plus ``spec.overhead``;
* node state: ``IsNodeReady`` (``pkg/util/node``) and the node's allocatable resources.

Pure functions over plain Kubernetes JSON dicts; nothing here reads the clock or mutates its inputs.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime
from fractions import Fraction
from typing import Callable, Iterable, Mapping

from controllers.apimachinery.labels import (
    DOES_NOT_EXIST,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_IN,
    SelectorError,
    new_requirement,
)
from controllers.apimachinery.objcopy import deep_copy
from controllers.pods import format_time

# --- well-known names (k8s.io/api/core/v1 well_known_taints.go, types.go) ---------------------------------

TAINT_EFFECT_NO_SCHEDULE = "NoSchedule"
TAINT_EFFECT_PREFER_NO_SCHEDULE = "PreferNoSchedule"
TAINT_EFFECT_NO_EXECUTE = "NoExecute"

TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

TOLERATION_OP_EXISTS = "Exists"
TOLERATION_OP_EQUAL = "Equal"

NODE_READY = "Ready"
OBJECT_NAME_FIELD = "metadata.name"

RESOURCE_CPU = "cpu"
RESOURCE_MEMORY = "memory"
RESOURCE_EPHEMERAL_STORAGE = "ephemeral-storage"
RESOURCE_PODS = "pods"

# --- taints and tolerations ------------------------------------------------------------------------------


def tolerates_taint(toleration: Mapping, taint: Mapping) -> bool:
    """``Toleration.ToleratesTaint``: does this one toleration match this taint?

    An empty toleration effect matches every effect, an empty key (only valid with ``Exists``) every key. The
    operator ``Exists`` ignores the value; ``Equal`` (also the default when empty) compares it. Any other
    operator matches nothing (1.35 adds ``Gt``/``Lt``; 1.31-1.34 do not have them).
    """
    effect = toleration.get("effect") or ""
    if effect and effect != (taint.get("effect") or ""):
        return False
    key = toleration.get("key") or ""
    if key and key != (taint.get("key") or ""):
        return False
    operator = toleration.get("operator") or ""
    if operator in ("", TOLERATION_OP_EQUAL):
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return operator == TOLERATION_OP_EXISTS


def tolerations_tolerate_taint(tolerations: Iterable[Mapping] | None, taint: Mapping) -> bool:
    """``TolerationsTolerateTaint``: some toleration in the list tolerates the taint."""
    return any(tolerates_taint(t or {}, taint) for t in tolerations or ())


def find_matching_untolerated_taint(
    taints: Iterable[Mapping] | None,
    tolerations: Iterable[Mapping] | None,
    effects: Iterable[str] | Callable[[Mapping], bool] | None = None,
) -> dict | None:
    """``FindMatchingUntoleratedTaint``: the first taint (in the node's order) that passes the filter and that
    no toleration tolerates, or ``None``.

    ``effects`` is the inclusion filter: a collection of taint effects (the scheduler passes ``NoSchedule`` and
    ``NoExecute``), a predicate over a taint, or ``None`` for every taint.
    """
    if effects is None:
        included: Callable[[Mapping], bool] = lambda taint: True  # noqa: E731
    elif callable(effects):
        included = effects
    else:
        wanted = frozenset(effects)
        included = lambda taint: (taint.get("effect") or "") in wanted  # noqa: E731
    tolerations = list(tolerations or ())
    for taint in taints or ():
        if included(taint) and not tolerations_tolerate_taint(tolerations, taint):
            return dict(taint)
    return None


def get_matching_tolerations(
    taints: Iterable[Mapping] | None, tolerations: Iterable[Mapping] | None
) -> tuple[bool, list[dict]]:
    """``GetMatchingTolerations``: (all taints tolerated, the first toleration used for each taint).

    No taints: ``(True, [])``. Taints but no tolerations: ``(False, [])``.
    """
    taints = list(taints or ())
    tolerations = list(tolerations or ())
    if not taints:
        return True, []
    if not tolerations:
        return False, []
    used: list[dict] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates_taint(t or {}, taint)), None)
        if match is None:
            return False, []
        used.append(dict(match))
    return True, used


def format_taint(taint: Mapping) -> str:
    """``Taint.ToString``: ``key=value:Effect``, or ``key:Effect`` when the value is empty."""
    key, value, effect = taint.get("key") or "", taint.get("value") or "", taint.get("effect") or ""
    text = f"{key}={value}" if value else key
    return f"{text}:{effect}" if effect else text


# --- node affinity ---------------------------------------------------------------------------------------

_NODE_SELECTOR_OPERATORS = {
    "In": IN,
    "NotIn": NOT_IN,
    "Exists": EXISTS,
    "DoesNotExist": DOES_NOT_EXIST,
    "Gt": GREATER_THAN,
    "Lt": LESS_THAN,
}


def _node_name(node: Mapping) -> str:
    return (node.get("metadata") or {}).get("name") or ""


def _node_labels(node: Mapping) -> Mapping[str, str]:
    return (node.get("metadata") or {}).get("labels") or {}


def _match_expressions(expressions: list, labels: Mapping[str, str]) -> bool:
    """``nodeSelectorRequirementsAsSelector(...).Matches``; an invalid requirement raises ``SelectorError``."""
    for expr in expressions:
        operator = _NODE_SELECTOR_OPERATORS.get(expr.get("operator") or "")
        if operator is None:
            raise SelectorError(f"{expr.get('operator')!r} is not a valid node selector operator")
        requirement = new_requirement(expr.get("key") or "", operator, expr.get("values") or [])
        if not requirement.matches(labels):
            return False
    return True


def _match_fields(expressions: list, node: Mapping) -> bool:
    """``nodeSelectorRequirementsAsFieldSelector(...).Matches`` against ``{metadata.name: <node>}``."""
    fields = {OBJECT_NAME_FIELD: _node_name(node)}
    for expr in expressions:
        values = expr.get("values") or []
        operator = expr.get("operator") or ""
        if operator not in ("In", "NotIn") or len(values) != 1:
            raise SelectorError(f"unexpected node field selector {operator!r} with {len(values)} value(s)")
        # fields.Set lookup: a key other than metadata.name reads as "" (validation forbids such keys).
        have = fields.get(expr.get("key") or "", "")
        if (have == values[0]) != (operator == "In"):
            return False
    return True


def _term_matches(term: Mapping, node: Mapping) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term selects no node
    try:
        return _match_expressions(expressions, _node_labels(node)) and _match_fields(fields, node)
    except SelectorError:
        return False  # upstream skips a term it cannot parse


def node_matches_node_selector_terms(node: Mapping, terms: Iterable[Mapping] | None) -> bool:
    """``MatchNodeSelectorTerms``: some term matches (terms are ORed; a term's requirements are ANDed).

    ``matchExpressions`` use In/NotIn/Exists/DoesNotExist/Gt/Lt on the node's labels; ``matchFields`` support
    ``metadata.name`` with In/NotIn and exactly one value. An empty or invalid term matches nothing.
    """
    return any(_term_matches(term or {}, node) for term in terms or ())


def _required_affinity_terms(pod_spec: Mapping) -> list | None:
    """The required node-selector terms, or ``None`` when the pod has no required node affinity."""
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or [])


def pod_matches_node_selector_and_affinity(pod_spec: Mapping, node: Mapping) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: ``nodeSelector`` and the required node affinity both match.

    ``pod_spec`` is ``pod["spec"]`` (or a template's spec). A required affinity with an empty term list matches
    no node, as upstream.
    """
    labels = _node_labels(node)
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    terms = _required_affinity_terms(pod_spec)
    if terms is None:
        return True
    return node_matches_node_selector_terms(node, terms)


def preferred_node_affinity_score(pod_spec: Mapping, node: Mapping) -> int:
    """Sum of the weights of the ``preferredDuringScheduling`` terms the node matches (NodeAffinity Score)."""
    preferred = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                 .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
    score = 0
    for term in preferred:
        weight = int(term.get("weight") or 0)
        if weight and _term_matches(term.get("preference") or {}, node):
            score += weight
    return score


# --- quantities ------------------------------------------------------------------------------------------

_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_EXPONENT_RE = re.compile(r"[eE][+-]?[0-9]+")
_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
#: ``resource.ErrFormatWrong``'s text.
QUANTITY_FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


def parse_quantity(value: str | int | float | Fraction) -> Fraction:
    """Kubernetes quantity syntax to an exact value (memoised for strings: they repeat across pods)."""
    if isinstance(value, str):
        return _parse_quantity_text(value)
    return _parse_quantity(value)


@functools.lru_cache(maxsize=4096)
def _parse_quantity_text(value: str) -> Fraction:
    return _parse_quantity(value)


def _parse_quantity(value: str | int | float | Fraction) -> Fraction:
    """``resource.ParseQuantity``, exactly: ``100m`` → 1/10, ``1Gi`` → 1073741824, ``129e6``, ``123M``, ``0.5``.

    Suffixes: binary ``Ki Mi Gi Ti Pi Ei``, decimal ``n u m "" k M G T P E``, or an exponent ``e<n>``/``E<n>``.
    YAML numbers (``cpu: 2``) are accepted too. Raises ``ValueError`` with upstream's message when malformed.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(QUANTITY_FORMAT_ERROR)
        value = repr(value)
    text = str(value).strip()
    match = _QUANTITY_RE.match(text)
    if not match:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    number, suffix = match.groups()
    if not _NUMBER_RE.fullmatch(number):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    amount = Fraction(number)
    if suffix in _BINARY_SUFFIXES:
        return amount * _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return amount * _DECIMAL_SUFFIXES[suffix]
    if _EXPONENT_RE.fullmatch(suffix):
        return amount * Fraction(10) ** int(suffix[1:])
    raise ValueError(QUANTITY_FORMAT_ERROR)


def milli_value(quantity: Fraction) -> int:
    """``Quantity.MilliValue``: thousandths, rounded up (``0.0001`` cpu counts as ``1m``)."""
    return math.ceil(quantity * 1000)


def int_value(quantity: Fraction) -> int:
    """``Quantity.Value``: rounded up to a whole unit."""
    return math.ceil(quantity)


def format_cpu(milli: int) -> str:
    """``1500`` → ``1500m``; whole cores print without the suffix (``2000`` → ``2``)."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(amount: int) -> str:
    """Bytes in the largest binary unit that divides them exactly: ``209715200`` → ``200Mi``."""
    for suffix, factor in (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if amount and amount % factor == 0:
            return f"{amount // factor}{suffix}"
    return str(amount)


def format_resource(resource: str, amount: int) -> str:
    """An amount as the scheduler counts it (milli-cpu, bytes, counts), in the unit a learner would write."""
    if resource == RESOURCE_CPU:
        return format_cpu(amount)
    if resource in (RESOURCE_MEMORY, RESOURCE_EPHEMERAL_STORAGE) or resource.startswith("hugepages-"):
        return format_bytes(amount)
    return str(amount)


# --- requests and allocatable ----------------------------------------------------------------------------


def _quantities(resource_list: Mapping | None) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for name, raw in (resource_list or {}).items():
        try:
            out[name] = parse_quantity(raw)
        except ValueError:
            continue  # validation rejects such a pod; a hand-made object simply does not count it
    return out


def _container_requests(container: Mapping, non_missing: Mapping[str, Fraction] | None) -> dict[str, Fraction]:
    resources = container.get("resources") or {}
    requests = _quantities(resources.get("requests"))
    # The API server defaults a missing request to the limit (SetDefaults_Pod); do it here too so that objects
    # that skipped defaulting are counted the same way.
    for name, limit in _quantities(resources.get("limits")).items():
        requests.setdefault(name, limit)
    if non_missing:
        for name, default in non_missing.items():
            requests.setdefault(name, default)
    return requests


def _add(into: dict[str, Fraction], other: Mapping[str, Fraction]) -> None:
    for name, amount in other.items():
        into[name] = into.get(name, Fraction(0)) + amount


def _max(into: dict[str, Fraction], other: Mapping[str, Fraction]) -> None:
    for name, amount in other.items():
        if name not in into or amount > into[name]:
            into[name] = amount


def _pod_requests(pod: Mapping, non_missing: Mapping[str, Fraction] | None = None) -> dict[str, Fraction]:
    spec = pod.get("spec") or {}
    requests: dict[str, Fraction] = {}
    for container in spec.get("containers") or []:
        _add(requests, _container_requests(container, non_missing))
    sidecars: dict[str, Fraction] = {}
    init_max: dict[str, Fraction] = {}
    for container in spec.get("initContainers") or []:
        container_requests = _container_requests(container, non_missing)
        if container.get("restartPolicy") == "Always":
            # A sidecar keeps running beside everything started after it.
            _add(requests, container_requests)
            _add(sidecars, container_requests)
            effective = dict(sidecars)
        else:
            effective = dict(container_requests)
            _add(effective, sidecars)
        _max(init_max, effective)
    _max(requests, init_max)
    _add(requests, _quantities(spec.get("overhead")))
    return requests


def pod_requests(pod: Mapping) -> dict[str, Fraction]:
    """``resourcehelper.PodRequests`` plus ``pods: 1``: what a pod takes from a node.

    Sum of the containers' requests (a missing request defaults to the limit, as the API server does); then the
    max with each init container (a regular init container runs alone beside the sidecars started before it;
    sidecars add to the sum); then ``spec.overhead``. Values are exact ``Fraction`` s in base units (cores,
    bytes). ``pods`` is 1: every pod uses one of the node's pod slots.
    """
    requests = _pod_requests(pod)
    requests[RESOURCE_PODS] = Fraction(1)
    return requests


#: ``schedutil.DefaultMilliCPURequest`` / ``DefaultMemoryRequest``: what scoring assumes for a container
#: without a cpu / memory request, so that many request-less pods do not pile onto one node.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


def pod_non_zero_requests(pod: Mapping) -> dict[str, Fraction]:
    """``PodRequests`` with ``NonMissingContainerRequests``: cpu 100m / memory 200Mi for containers without."""
    return _pod_requests(
        pod,
        {RESOURCE_CPU: Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000), RESOURCE_MEMORY: Fraction(DEFAULT_MEMORY_REQUEST)},
    )


def node_allocatable(node: Mapping) -> dict[str, Fraction]:
    """``status.allocatable`` as exact quantities (``status.capacity`` when a node reports no allocatable)."""
    status = node.get("status") or {}
    allocatable = status.get("allocatable")
    if allocatable is None:
        allocatable = status.get("capacity")
    return _quantities(allocatable)


def get_node_condition(node: Mapping, condition_type: str) -> dict | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_node_ready(node: Mapping) -> bool:
    """``nodeutil.IsNodeReady``: the node's ``Ready`` condition is ``True``."""
    condition = get_node_condition(node, NODE_READY)
    return condition is not None and condition.get("status") == "True"


def is_scalar_resource_name(name: str) -> bool:
    """``schedutil.IsScalarResourceName``: extended resources (``example.com/gpu``), hugepages, attachable volumes."""
    if name.startswith(("hugepages-", "attachable-volumes-")):
        return True
    if "/" not in name:
        return False
    domain = name.split("/", 1)[0]
    native = domain == "kubernetes.io" or domain.endswith(".kubernetes.io")
    return not native and not name.startswith("requests.")


# --- pod conditions ------------------------------------------------------------------------------------------


def update_pod_condition(status: Mapping | None, condition: Mapping, now: datetime) -> tuple[dict, bool]:
    """``podutil.UpdatePodCondition`` on a copy: (new status, changed?).

    ``lastTransitionTime`` becomes ``now`` unless the condition keeps its status.
    """
    new_status = deep_copy(dict(status or {}))
    conditions = list(new_status.get("conditions") or [])
    wanted = {"type": condition["type"], "status": condition["status"], "lastProbeTime": None,
              "lastTransitionTime": format_time(now)}
    for key in ("reason", "message"):
        if condition.get(key):
            wanted[key] = condition[key]
    for index, old in enumerate(conditions):
        if old.get("type") != condition["type"]:
            continue
        if old.get("status") == wanted["status"]:
            wanted["lastTransitionTime"] = old.get("lastTransitionTime")
        same = all(old.get(k) == wanted.get(k) for k in ("status", "reason", "message", "lastTransitionTime")) and \
            old.get("lastProbeTime") is None
        conditions[index] = wanted
        new_status["conditions"] = conditions
        return new_status, not same
    conditions.append(wanted)
    new_status["conditions"] = conditions
    return new_status, True
