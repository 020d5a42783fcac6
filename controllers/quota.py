"""Quota evaluation: what an object costs a ResourceQuota, and what a namespace uses.

Upstream keeps this in ``pkg/quota/v1`` (resource-list arithmetic, ``CalculateUsage``), ``pkg/quota/v1/generic``
(the object count evaluator, ``CalculateUsageStats``) and ``pkg/quota/v1/evaluator/core/pods.go`` (the pod
evaluator), and two callers share it: the ResourceQuota admission plugin of the API server, which charges each create
to the matching quotas and refuses what would exceed one (``apiserver.quota``), and the resource quota controller,
which recalculates ``status.used`` from the objects (``controllers.resourcequota``). So does kubeviz: this module is
pure and knows no storage; its callers hand it the objects.

A resource list is a ``dict`` of resource name to :class:`Quantity`. Arithmetic follows Go's ``Quantity.Add``: the
sum keeps the format of its first non-zero term, so ``128Mi + 128Mi`` is written ``256Mi`` and ``500m + 500m`` is
``1``, as a real cluster's ``status.used`` shows them.

Which objects count (``PodUsageFunc``): ``count/pods`` counts every pod in storage; ``pods``, ``cpu``, ``memory``,
``requests.*`` and ``limits.*`` count only the pods that are not terminal (``Succeeded`` or ``Failed``) and not
stuck terminating past their grace period. ``count/<resource>.<group>`` counts every object of that resource.
Events are never counted (upstream's ignored resources).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from .apimachinery.labels import is_qualified_name
from .apimachinery.quantity import DECIMAL_SI, ZERO, Quantity, QuantityError, new_quantity, parse_quantity
from .apimachinery.timeutil import parse_rfc3339
from .client import APIResource

ResourceList = dict[str, Quantity]

# corev1 resource names used by quota.
PODS = "pods"
CPU, MEMORY, EPHEMERAL_STORAGE = "cpu", "memory", "ephemeral-storage"
REQUESTS_CPU, REQUESTS_MEMORY, REQUESTS_EPHEMERAL_STORAGE = \
    "requests.cpu", "requests.memory", "requests.ephemeral-storage"
LIMITS_CPU, LIMITS_MEMORY, LIMITS_EPHEMERAL_STORAGE = "limits.cpu", "limits.memory", "limits.ephemeral-storage"
RESOURCE_QUOTAS = "resourcequotas"
REQUESTS_PREFIX = "requests."
HUGE_PAGES_PREFIX = "hugepages-"
REQUESTS_HUGE_PAGES_PREFIX = "requests.hugepages-"

#: The pod evaluator's resources (``podResources``): the object count, and the compute resources of live pods.
POD_RESOURCES = (
    "count/pods", CPU, MEMORY, EPHEMERAL_STORAGE, REQUESTS_CPU, REQUESTS_MEMORY, REQUESTS_EPHEMERAL_STORAGE,
    LIMITS_CPU, LIMITS_MEMORY, LIMITS_EPHEMERAL_STORAGE, PODS,
)
# "it was a mistake, but if a quota tracks cpu or memory related resources, the incoming pod is required to have
# those values set" (validationSet).
VALIDATION_SET = frozenset({CPU, MEMORY, REQUESTS_CPU, REQUESTS_MEMORY, LIMITS_CPU, LIMITS_MEMORY})

#: Resources the quota system ignores (``pkg/quota/v1/install``): "events haven't been quota-ed before".
IGNORED_RESOURCES = frozenset({("", "events"), ("events.k8s.io", "events")})
#: Object counts known by their pre-``count/`` names (``legacyObjectCountAliases``).
LEGACY_OBJECT_COUNT_ALIASES = {("", "configmaps"): "configmaps", ("", "resourcequotas"): RESOURCE_QUOTAS,
                               ("", "replicationcontrollers"): "replicationcontrollers", ("", "secrets"): "secrets"}

# Scopes (corev1.ResourceQuotaScope) and scope selector operators.
SCOPE_TERMINATING, SCOPE_NOT_TERMINATING = "Terminating", "NotTerminating"
SCOPE_BEST_EFFORT, SCOPE_NOT_BEST_EFFORT = "BestEffort", "NotBestEffort"
SCOPE_PRIORITY_CLASS, SCOPE_CROSS_NAMESPACE_POD_AFFINITY = "PriorityClass", "CrossNamespacePodAffinity"
OP_IN, OP_NOT_IN, OP_EXISTS, OP_DOES_NOT_EXIST = "In", "NotIn", "Exists", "DoesNotExist"


# --- resource lists (pkg/quota/v1/resources.go) ------------------------------------------------------------

def parse_resource_list(raw: Mapping | None) -> ResourceList:
    """A stored ``ResourceList`` (name to quantity text) as quantities; unreadable entries are left out (the
    API server refused them already)."""
    out: ResourceList = {}
    for name, value in (raw or {}).items():
        try:
            out[name] = parse_quantity(value if isinstance(value, str) else str(value))
        except QuantityError:
            continue
    return out


def format_resource_list(resources: Mapping[str, Quantity]) -> dict[str, str]:
    """A resource list as the API server writes it: canonical quantity text, names in order."""
    return {name: resources[name].canonical() for name in sorted(resources)}


def add(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """``quota.Add``: every name of either, summed where both have it (in ``a``'s format unless ``a``'s is 0)."""
    result = {name: value.add(b[name]) if name in b else value for name, value in a.items()}
    for name, value in b.items():
        result.setdefault(name, value)
    return result


def mask(resources: Mapping[str, Quantity], names: Iterable[str]) -> ResourceList:
    """``quota.Mask``: only the named resources."""
    keep = set(names)
    return {name: value for name, value in resources.items() if name in keep}


def equals(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> bool:
    """``quota.Equals``: the same names with equal values (formats aside)."""
    return a.keys() == b.keys() and all(a[name].value == b[name].value for name in a)


def less_than_or_equal(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> tuple[bool, list[str]]:
    """``quota.LessThanOrEqual``: whether each resource of ``b`` that ``a`` has is within ``b``; the names that
    are not."""
    exceeded = [name for name, limit in b.items() if name in a and a[name].value > limit.value]
    return not exceeded, exceeded


def remove_zeros(resources: Mapping[str, Quantity]) -> ResourceList:
    return {name: value for name, value in resources.items() if value.value != 0}


def is_negative(resources: Mapping[str, Quantity]) -> list[str]:
    return [name for name, value in resources.items() if value.value < 0]


def subtract_with_non_negative_result(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """``quota.SubtractWithNonNegativeResult``."""
    zero = parse_quantity("0")
    result: ResourceList = {}
    for name, value in a.items():
        difference = value.sub(b[name]) if name in b else value
        result[name] = difference if difference.value > 0 else zero
    for name in b:
        result.setdefault(name, zero)
    return result


def pretty_print(resources: Mapping[str, Quantity]) -> str:
    """``prettyPrint``: ``name=value`` pairs in name order, comma-separated (the admission messages' form)."""
    return ",".join(f"{name}={resources[name].canonical()}" for name in sorted(resources))


def pretty_print_resource_names(names: Iterable[str]) -> str:
    return ",".join(sorted(names))


# --- helpers of pkg/apis/core/v1/helper ----------------------------------------------------------------------

def is_native_resource(name: str) -> bool:
    """Unprefixed names, and those in the ``kubernetes.io/`` namespace."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource_name(name: str) -> bool:
    """An extended resource (``example.com/gpu``): not native, not ``requests.``-prefixed, and a qualified name as
    ``requests.<name>``."""
    if is_native_resource(name) or name.startswith(REQUESTS_PREFIX):
        return False
    return not is_qualified_name(REQUESTS_PREFIX + name)


def object_count_resource_name(group: str, resource: str) -> str:
    """``generic.ObjectCountQuotaResourceNameFor``: ``count/pods``, ``count/jobs.batch``."""
    return f"count/{resource}.{group}" if group else f"count/{resource}"


# --- pods (pkg/quota/v1/evaluator/core/pods.go) --------------------------------------------------------------

def _container_lists(pod: Mapping) -> tuple[list, list]:
    spec = pod.get("spec") or {}
    return list(spec.get("containers") or []), list(spec.get("initContainers") or [])


def _add_resource_list(target: ResourceList, new: Mapping[str, Quantity]) -> None:
    for name, quantity in new.items():
        target[name] = target[name].add(quantity) if name in target else quantity


def _max_resource_list(target: ResourceList, new: Mapping[str, Quantity]) -> None:
    for name, quantity in new.items():
        if name not in target or quantity.value > target[name].value:
            target[name] = quantity


def _aggregate(pod: Mapping, key: str) -> ResourceList:
    """``AggregateContainerRequests`` / ``AggregateContainerLimits``: the containers' sum, at least any init
    container's (restartable init containers, sidecars, run beside the rest and add up)."""
    containers, init_containers = _container_lists(pod)
    total: ResourceList = {}
    for container in containers:
        _add_resource_list(total, parse_resource_list(((container or {}).get("resources") or {}).get(key)))
    sidecars: ResourceList = {}
    init_total: ResourceList = {}
    for container in init_containers:
        own = parse_resource_list(((container or {}).get("resources") or {}).get(key))
        if (container or {}).get("restartPolicy") == "Always":
            _add_resource_list(total, own)
            _add_resource_list(sidecars, own)
            during = dict(sidecars)
        else:
            during = {}
            _add_resource_list(during, own)
            _add_resource_list(during, sidecars)
        _max_resource_list(init_total, during)
    _max_resource_list(total, init_total)
    return total


def pod_requests(pod: Mapping) -> ResourceList:
    """``resourcehelper.PodRequests``: aggregated container requests plus the pod's overhead."""
    requests = _aggregate(pod, "requests")
    _add_resource_list(requests, parse_resource_list((pod.get("spec") or {}).get("overhead")))
    return requests


def pod_limits(pod: Mapping) -> ResourceList:
    """``resourcehelper.PodLimits``: aggregated container limits; overhead is added only to limits that are set."""
    limits = _aggregate(pod, "limits")
    for name, quantity in parse_resource_list((pod.get("spec") or {}).get("overhead")).items():
        if name in limits:
            limits[name] = limits[name].add(quantity)
    return limits


def pod_compute_usage(requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]) -> ResourceList:
    """``podComputeUsageHelper``: ``pods: 1`` and the compute resources under their quota names."""
    result: ResourceList = {PODS: new_quantity(1)}
    for base, request_name, limit_name in ((CPU, REQUESTS_CPU, LIMITS_CPU),
                                           (MEMORY, REQUESTS_MEMORY, LIMITS_MEMORY),
                                           (EPHEMERAL_STORAGE, REQUESTS_EPHEMERAL_STORAGE, LIMITS_EPHEMERAL_STORAGE)):
        if base in requests:
            result[base] = requests[base]
            result[request_name] = requests[base]
        if base in limits:
            result[limit_name] = limits[base]
    for name, request in requests.items():
        if name.startswith(HUGE_PAGES_PREFIX):
            result[name] = request
            result[REQUESTS_PREFIX + name] = request
        if is_extended_resource_name(name):
            result[REQUESTS_PREFIX + name] = request
    return result


def quota_v1_pod(pod: Mapping, now: datetime) -> bool:
    """``QuotaV1Pod``: whether a pod is charged its compute resources. Not when it is terminal, nor when it has
    been terminating longer than its grace period (its node may be lost: it must not block new pods)."""
    if ((pod.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deletion, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if deletion and grace is not None:
        if now > parse_rfc3339(deletion) + timedelta(seconds=int(grace)):
            return False
    return True


def quota_v1_pod_expiry(pod: Mapping) -> datetime | None:
    """When a terminating pod stops counting by the clock (``QuotaV1Pod``'s grace test), or None."""
    meta = pod.get("metadata") or {}
    deletion, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if not deletion or grace is None:
        return None
    return parse_rfc3339(deletion) + timedelta(seconds=int(grace))


def pod_usage(pod: Mapping, now: datetime) -> ResourceList:
    """``PodUsageFunc``: ``count/pods: 1`` always; the compute usage while the pod is charged."""
    result: ResourceList = {"count/pods": new_quantity(1, DECIMAL_SI)}
    if not quota_v1_pod(pod, now):
        return result
    return add(result, pod_compute_usage(pod_requests(pod), pod_limits(pod)))


def _is_best_effort(pod: Mapping) -> bool:
    """QoS BestEffort: no container asks for or limits cpu or memory."""
    containers, init_containers = _container_lists(pod)
    for container in containers + init_containers:
        resources = (container or {}).get("resources") or {}
        for key in ("requests", "limits"):
            if any(name in (CPU, MEMORY) for name in (resources.get(key) or {})):
                return False
    return True


def _is_terminating(pod: Mapping) -> bool:
    deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
    return isinstance(deadline, int) and deadline >= 0


def _uses_cross_namespace_pod_affinity(pod: Mapping) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind) or {}
        for term in terms.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
            if (term or {}).get("namespaces") or (term or {}).get("namespaceSelector") is not None:
                return True
        for weighted in terms.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            term = (weighted or {}).get("podAffinityTerm") or {}
            if term.get("namespaces") or term.get("namespaceSelector") is not None:
                return True
    return False


def pod_matches_scope(selector: Mapping, pod: Mapping) -> bool:
    """``podMatchesScopeFunc``."""
    scope = selector.get("scopeName")
    if scope == SCOPE_TERMINATING:
        return _is_terminating(pod)
    if scope == SCOPE_NOT_TERMINATING:
        return not _is_terminating(pod)
    if scope == SCOPE_BEST_EFFORT:
        return _is_best_effort(pod)
    if scope == SCOPE_NOT_BEST_EFFORT:
        return not _is_best_effort(pod)
    if scope == SCOPE_PRIORITY_CLASS:
        priority_class = (pod.get("spec") or {}).get("priorityClassName") or ""
        operator, values = selector.get("operator"), list(selector.get("values") or [])
        if operator == OP_EXISTS:
            return bool(priority_class)
        if operator == OP_DOES_NOT_EXIST:
            return not priority_class
        if operator == OP_IN:
            return bool(priority_class) and priority_class in values
        if operator == OP_NOT_IN:
            return not priority_class or priority_class not in values
        return False
    if scope == SCOPE_CROSS_NAMESPACE_POD_AFFINITY:
        return _uses_cross_namespace_pod_affinity(pod)
    return False


def pod_constraints(required: Iterable[str], pod: Mapping) -> str | None:
    """``podEvaluator.Constraints``: a pod in a namespace whose quota tracks cpu or memory must say it for every
    container. The error text (``must specify requests.cpu for: pi; requests.memory for: pi``), or None."""
    required_set = set(required) & VALIDATION_SET
    missing: dict[str, set[str]] = {}
    containers, init_containers = _container_lists(pod)
    for container in containers + init_containers:
        resources = (container or {}).get("resources") or {}
        usage = pod_compute_usage(parse_resource_list(resources.get("requests")),
                                  parse_resource_list(resources.get("limits")))
        for name in required_set - set(usage):
            missing.setdefault(name, set()).add((container or {}).get("name") or "")
    if not missing:
        return None
    return "must specify " + "; ".join(f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))


# --- evaluators -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluator:
    """``quota.Evaluator`` for one group/resource: the pod evaluator (``pods``) or an object count evaluator."""

    group: str
    resource: str
    kind: str
    #: The names this evaluator counts (an object count evaluator's ``count/...`` and legacy alias).
    resource_names: tuple[str, ...] = field(default=())

    @property
    def is_pods(self) -> bool:
        return self.group == "" and self.resource == "pods"

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        """``MatchingResources``: which of ``names`` this evaluator accounts for, sorted."""
        names = list(names)
        if not self.is_pods:
            return sorted(set(names) & set(self.resource_names))
        matched = set(names) & set(POD_RESOURCES)
        for name in names:
            if name.startswith((HUGE_PAGES_PREFIX, REQUESTS_HUGE_PAGES_PREFIX)):
                matched.add(name)
            if not is_native_resource(name) and name.startswith(REQUESTS_PREFIX):
                matched.add(name)
        return sorted(matched)

    def matches_scope(self, selector: Mapping, obj: Mapping) -> bool:
        """The scope function: pods have scopes; other objects match none (``MatchesNoScopeFunc``)."""
        return pod_matches_scope(selector, obj) if self.is_pods else False

    def matching_scopes(self, obj: Mapping, selectors: list[dict]) -> list[dict]:
        return [s for s in selectors if self.matches_scope(s, obj)] if self.is_pods else []

    def usage(self, obj: Mapping, now: datetime) -> ResourceList:
        """``Usage``: what ``obj`` costs."""
        if self.is_pods:
            return pod_usage(obj, now)
        return {name: new_quantity(1, DECIMAL_SI) for name in self.resource_names}

    def constraints(self, required: Iterable[str], obj: Mapping) -> str | None:
        return pod_constraints(required, obj) if self.is_pods else None

    def matches(self, quota: Mapping, obj: Mapping) -> bool:
        """``generic.Matches``: the quota enforces one of this evaluator's resources (by ``status.hard``) and every
        scope of the quota matches ``obj``."""
        hard = ((quota.get("status") or {}).get("hard") or {}).keys()
        if not self.matching_resources(hard):
            return False
        return all(self.matches_scope(selector, obj) for selector in scope_selectors(quota))


def scope_selectors(quota: Mapping) -> list[dict]:
    """``getScopeSelectorsFromQuota``: ``spec.scopes`` as Exists requirements, then ``spec.scopeSelector``'s."""
    spec = quota.get("spec") or {}
    selectors = [{"scopeName": scope, "operator": OP_EXISTS} for scope in spec.get("scopes") or []]
    selectors += list(((spec.get("scopeSelector") or {}).get("matchExpressions")) or [])
    return selectors


def evaluators_for(resources: Iterable[APIResource]) -> dict[str, Evaluator]:
    """The quota registry for the served resources, by kind: the pod evaluator, and an object count evaluator for
    every other namespaced resource that quota does not ignore."""
    out: dict[str, Evaluator] = {}
    for r in resources:
        if not r.namespaced or (r.group, r.resource) in IGNORED_RESOURCES:
            continue
        names = [object_count_resource_name(r.group, r.resource)]
        alias = LEGACY_OBJECT_COUNT_ALIASES.get((r.group, r.resource))
        if alias:
            names.append(alias)
        out[r.kind] = Evaluator(r.group, r.resource, r.kind, tuple(names))
    return out


# --- usage of a namespace (quota.CalculateUsage, generic.CalculateUsageStats) -----------------------------------

def calculate_usage(quota: Mapping, registry: Mapping[str, Evaluator], objects: Mapping[str, list[dict]],
                    now: datetime) -> ResourceList:
    """``quota.CalculateUsage`` for one quota: every resource of ``spec.hard`` some evaluator accounts for,
    summed over ``objects`` (by kind, already limited to the quota's namespace) that match the quota's scopes.
    A tracked resource nothing uses is ``0``."""
    spec = quota.get("spec") or {}
    hard_names = list((spec.get("hard") or {}).keys())
    scopes = list(spec.get("scopes") or [])
    selector_expressions = list(((spec.get("scopeSelector") or {}).get("matchExpressions")) or [])
    matched: set[str] = set()
    for evaluator in registry.values():
        matched.update(evaluator.matching_resources(hard_names))
    usage: ResourceList = {}
    for kind, evaluator in registry.items():
        intersection = evaluator.matching_resources(matched)
        if not intersection:
            continue
        used: ResourceList = {name: ZERO for name in intersection}
        for obj in objects.get(kind, ()):
            if not all(evaluator.matches_scope({"scopeName": s, "operator": OP_EXISTS}, obj) for s in scopes):
                continue
            if not all(evaluator.matches_scope(selector, obj) for selector in selector_expressions):
                continue
            used = add(used, evaluator.usage(obj, now))
        usage = add(usage, used)
    return mask(usage, matched)
