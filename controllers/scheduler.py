"""The default scheduler (kube-scheduler, default profile) for one pending pod, as a pure function.

``schedule_pod(pod, nodes, pods_on_nodes, now, rng=...)`` is one scheduling cycle of upstream's
``pkg/scheduler/schedule_one.go``: PreFilter, Filter on every node, PostFilter (the preemption dry run, only to
word the message), Score, select, bind. It returns a ``SyncResult`` whose trace says, node by node, why the pod
can or cannot go there ("control-plane: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule",
"node-1: fits, score 287 (...)").

Filter plugins, in the default profile's order (``pkg/scheduler/apis/config/v1/default_plugins.go``); a node
stops at the first plugin that rejects it, so it contributes that plugin's reasons only:

1. ``NodeUnschedulable`` — ``spec.unschedulable`` (cordoned), unless the pod tolerates
   ``node.kubernetes.io/unschedulable:NoSchedule``;
2. ``NodeName`` — ``spec.nodeName`` names another node (never true here: bound pods are not scheduled);
3. ``TaintToleration`` — the first untolerated ``NoSchedule``/``NoExecute`` taint (``PreferNoSchedule`` only
   scores);
4. ``NodeAffinity`` — ``nodeSelector`` and the required node affinity. Its PreFilter narrows the candidates to
   the nodes named by ``matchFields: metadata.name In [...]`` (how DaemonSet pods are pinned); the others count
   as "node(s) didn't satisfy plugin(s) [NodeAffinity]";
5. ``NodePorts`` — a requested ``hostPort`` is taken;
6. ``NodeResourcesFit`` — allocatable minus the requests of the non-terminal pods bound to the node
   (``pods`` count included), reasons "Too many pods", "Insufficient cpu", "Insufficient memory", ...

Scores (weights of the default profile): ``TaintToleration`` ×3 (fewer untolerated ``PreferNoSchedule`` taints),
``NodeAffinity`` ×2 (preferred terms; skipped without them), ``NodeResourcesFit`` ×1 (LeastAllocated over cpu and
memory, with 100m/200Mi assumed for request-less containers) and ``NodeResourcesBalancedAllocation`` ×1. With a
single feasible node upstream skips scoring, and so do we. Among the nodes with the top score, upstream picks one
at random (reservoir sampling in ``selectHost``); here the candidates are taken in name order and the caller's
seeded ``rng`` decides, so the same seed gives the same placement.

Not modelled: ``PodTopologySpread`` (its system default constraints apply only to pods selected by a Service,
ReplicaSet or StatefulSet), ``InterPodAffinity``, ``ImageLocality``, volume plugins, and preemption itself (the
dry run only words the message: with every pod at the default priority 0 there are never victims).

How many nodes are examined is upstream's too (``numFeasibleNodesToFind`` with the default adaptive
``percentageOfNodesToScore``): every node in clusters of up to 100 nodes; in larger ones the filters stop once
``max(100, n × max(5, 50 − n/125) / 100)`` feasible nodes are found (420 of 1,000 nodes, 500 of 5,000), and the
next cycle starts where this one stopped (``nextStartNodeIndex``, kept in a :class:`SchedulerState`). Only those
feasible nodes are scored. A pod pinned by its node affinity (a DaemonSet pod) is filtered on its node alone.

Requeue (for the engine's informer handlers). Upstream parks an unschedulable pod until a cluster event that
may help, and retries it at the latest after ``podMaxInUnschedulablePodsDuration`` (5 minutes). So a failed
attempt asks for ``requeue_after = 300``, and the engine should also requeue every pending, unscheduled pod of
``default-scheduler`` when:

* a Node is added, or a Node's ``spec.unschedulable``, taints, labels, allocatable or conditions change;
* a pod bound to a node is deleted, becomes terminal (Succeeded/Failed), or lowers its requests;
* the pending pod itself is created or updated (tolerations, nodeSelector/affinity, scheduling gates removed).

A successful attempt needs no requeue.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Mapping

from controllers.objects import meta as _meta, object_reference, spec as _spec
from controllers.plan import BindPod, EmitEvent, SyncResult, Trace
from controllers.pods import is_pod_terminal
from controllers.scheduling import (
    RESOURCE_CPU,
    RESOURCE_EPHEMERAL_STORAGE,
    RESOURCE_MEMORY,
    RESOURCE_PODS,
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_EFFECT_PREFER_NO_SCHEDULE,
    TAINT_NODE_UNSCHEDULABLE,
    find_matching_untolerated_taint,
    format_resource,
    format_taint,
    int_value,
    is_scalar_resource_name,
    milli_value,
    node_allocatable,
    pod_matches_node_selector_and_affinity,
    pod_non_zero_requests,
    preferred_node_affinity_score,
    tolerations_tolerate_taint,
    update_pod_condition,
)
from controllers.scheduling import pod_requests as _pod_requests_with_pods

CONTROLLER = "scheduler"
COMPONENT = "default-scheduler"
DEFAULT_SCHEDULER_NAME = "default-scheduler"

# --- plugin names -----------------------------------------------------------------------------------------

NODE_UNSCHEDULABLE = "NodeUnschedulable"
NODE_NAME = "NodeName"
TAINT_TOLERATION = "TaintToleration"
NODE_AFFINITY = "NodeAffinity"
NODE_PORTS = "NodePorts"
NODE_RESOURCES_FIT = "NodeResourcesFit"
NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation"

#: Score plugin weights of the default profile.
SCORE_WEIGHTS = {TAINT_TOLERATION: 3, NODE_AFFINITY: 2, NODE_RESOURCES_FIT: 1, NODE_RESOURCES_BALANCED_ALLOCATION: 1}
MAX_NODE_SCORE = 100
#: 1.33+ skips BalancedAllocation for pods that request nothing (kubernetes#130260); 1.31 and 1.32 score them.
SKIP_BALANCED_ALLOCATION_FOR_BEST_EFFORT = False

# --- status codes, reasons and messages (plugin files and framework/types.go) --------------------------------

UNSCHEDULABLE = "Unschedulable"
UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name"
#: TaintToleration's reason in 1.31-1.34.x. Patch releases from late 2025 (kubernetes#134740) drop the key and
#: value from pod statuses: "node(s) had untolerated taint(s)".
ERR_REASON_UNTOLERATED_TAINT = "node(s) had untolerated taint {{{key}: {value}}}"
ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_AFFINITY_CONFLICT = "pod affinity terms conflict"
ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_REASON_TOO_MANY_PODS = "Too many pods"
ERR_REASON_INSUFFICIENT = "Insufficient {resource}"
ERR_REASON_PREFILTER_ABSENT = "node(s) didn't satisfy plugin(s) [{plugins}]"
NO_NODE_AVAILABLE_MSG = "0/{count} nodes are available"
ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
PREEMPTION_NO_VICTIMS = "No preemption victims found for incoming pod"
PREEMPTION_POLICY_NEVER = "not eligible due to preemptionPolicy=Never."

#: ``minFeasibleNodesToFind`` and ``minFeasibleNodesPercentageToFind`` (pkg/scheduler/schedule_one.go).
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
#: The trace lists nodes one by one up to this many; beyond, it summarises.
TRACE_NODES = 12

POD_SCHEDULED = "PodScheduled"
POD_REASON_UNSCHEDULABLE = "Unschedulable"
POD_REASON_SCHEDULING_GATED = "SchedulingGated"
SCHEDULING_GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"

EVENT_SCHEDULED = "Scheduled"
EVENT_MESSAGE_SCHEDULED = "Successfully assigned {namespace}/{name} to {node}"
EVENT_FAILED_SCHEDULING = "FailedScheduling"
EVENT_MESSAGE_SKIP_DELETING = "skip schedule deleting pod: {namespace}/{name}"
#: How a failed pods/binding call reads in the FailedScheduling event (``{error}`` = the API error).
EVENT_MESSAGE_BINDING_REJECTED = 'binding rejected: running Bind plugin "DefaultBinder": {error}'
#: ``validation.NoteLengthLimit``: longer event messages are cut and end in " ...".
NOTE_LENGTH_LIMIT = 1024

#: ``podMaxInUnschedulablePodsDuration``: an unschedulable pod is retried at least this often (seconds).
POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0


# --- per-node view (framework.NodeInfo) ---------------------------------------------------------------------


def _units(requests: Mapping[str, Fraction]) -> dict[str, int]:
    """Requests in the scheduler's integer units: milli-cpu, bytes, counts (``Resource.Add``)."""
    out: dict[str, int] = {}
    for name, amount in requests.items():
        if name == RESOURCE_PODS:
            continue
        out[name] = milli_value(amount) if name == RESOURCE_CPU else int_value(amount)
    return out


def _host_ports(pod: Mapping) -> list[tuple[str, str, int]]:
    ports = []
    for container in _spec(pod).get("containers") or []:
        for port in container.get("ports") or []:
            host_port = int(port.get("hostPort") or 0)
            if host_port > 0:
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))
    return ports


def _priority(pod: Mapping) -> int:
    return int(_spec(pod).get("priority") or 0)


_FOOTPRINTS: dict[int, tuple[Mapping, tuple, tuple]] = {}
_FOOTPRINTS_MAX = 100_000


def _pod_footprint(pod: Mapping) -> tuple[dict[str, int], dict[str, int], tuple]:
    """What a bound pod takes from its node: requests, non-zero cpu/memory requests, host ports.

    Remembered per pod object (by identity: the engine's cached objects are never changed in place, and the
    entry holds the pod so its id cannot be reused meanwhile) — upstream's NodeInfo cache does the same job."""
    found = _FOOTPRINTS.get(id(pod))
    if found is not None and found[0] is pod and found[1] == _footprint_key(pod):
        return found[2]
    non_zero = {name: amount for name, amount in _units(pod_non_zero_requests(pod)).items()
                if name in (RESOURCE_CPU, RESOURCE_MEMORY)}
    footprint = (_units(_pod_requests_with_pods(pod)), non_zero, tuple(_host_ports(pod)))
    if len(_FOOTPRINTS) >= _FOOTPRINTS_MAX:
        _FOOTPRINTS.clear()
    _FOOTPRINTS[id(pod)] = (pod, _footprint_key(pod), footprint)
    return footprint


def _footprint_key(pod: Mapping) -> tuple:
    # a pod handed over again after an in-place change (only tests do that) is not mistaken for the old one
    return (_meta(pod).get("resourceVersion"), id(pod.get("spec")))


@dataclass
class NodeInfo:
    """What the scheduler knows about one node: its pods and what they request (``framework.NodeInfo``)."""

    node: Mapping
    pods: list[Mapping]
    requested: dict[str, int] = field(default_factory=dict)
    non_zero_requested: dict[str, int] = field(default_factory=dict)
    used_ports: set[tuple[str, str, int]] = field(default_factory=set)
    allocatable: dict[str, int] = field(default_factory=dict)
    allowed_pods: int = 0
    #: Filter and score results per pod signature (see ``_signature``): pods of one template ask the same
    #: questions of a node, and a NodeInfo is rebuilt whenever the node or its pods change.
    memo: dict = field(default_factory=dict, repr=False, compare=False)
    name: str = field(init=False, default="")

    def __post_init__(self):
        self.name = _meta(self.node).get("name") or ""

    @classmethod
    def build(cls, node: Mapping, pods: list[Mapping]) -> "NodeInfo":
        info = cls(node=node, pods=[p for p in pods if not is_pod_terminal(p)])
        for pod in info.pods:
            requested, non_zero, ports = _pod_footprint(pod)
            for name, amount in requested.items():
                info.requested[name] = info.requested.get(name, 0) + amount
            for name, amount in non_zero.items():
                info.non_zero_requested[name] = info.non_zero_requested.get(name, 0) + amount
            info.used_ports.update(ports)
        allocatable = node_allocatable(node)
        info.allowed_pods = int_value(allocatable.get(RESOURCE_PODS, Fraction(0)))
        info.allocatable = _units(allocatable)
        return info

    def without(self, victims: list[Mapping]) -> "NodeInfo":
        gone = {id(v) for v in victims}
        return NodeInfo.build(self.node, [p for p in self.pods if id(p) not in gone])


@dataclass(frozen=True)
class NodeStatus:
    """Why a plugin rejected a node: upstream's ``framework.Status`` plus a sentence for the trace."""

    plugin: str
    code: str
    reasons: tuple[str, ...]
    detail: str


# --- filter plugins ------------------------------------------------------------------------------------------


def _filter_node_unschedulable(pod: Mapping, info: NodeInfo) -> NodeStatus | None:
    if not _spec(info.node).get("unschedulable"):
        return None
    if tolerations_tolerate_taint(_spec(pod).get("tolerations"),
                                  {"key": TAINT_NODE_UNSCHEDULABLE, "effect": TAINT_EFFECT_NO_SCHEDULE}):
        return None
    return NodeStatus(NODE_UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_UNSCHEDULABLE,),
                      "unschedulable (cordoned: spec.unschedulable is true)")


def _filter_node_name(pod: Mapping, info: NodeInfo) -> NodeStatus | None:
    wanted = _spec(pod).get("nodeName")
    if not wanted or wanted == info.name:
        return None
    return NodeStatus(NODE_NAME, UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_NODE_NAME,),
                      f"the pod asks for node {wanted}")


def _filter_taint_toleration(pod: Mapping, info: NodeInfo) -> NodeStatus | None:
    taint = find_matching_untolerated_taint(_spec(info.node).get("taints"), _spec(pod).get("tolerations"),
                                            (TAINT_EFFECT_NO_SCHEDULE, TAINT_EFFECT_NO_EXECUTE))
    if taint is None:
        return None
    reason = ERR_REASON_UNTOLERATED_TAINT.format(key=taint.get("key") or "", value=taint.get("value") or "")
    return NodeStatus(TAINT_TOLERATION, UNSCHEDULABLE_AND_UNRESOLVABLE, (reason,),
                      f"untolerated taint {format_taint(taint)}")


def _filter_node_affinity(pod: Mapping, info: NodeInfo) -> NodeStatus | None:
    if pod_matches_node_selector_and_affinity(_spec(pod), info.node):
        return None
    return NodeStatus(NODE_AFFINITY, UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_NODE_AFFINITY,),
                      "labels do not match the pod's nodeSelector / required node affinity")


def _filter_node_ports(pod: Mapping, info: NodeInfo, ports=None) -> NodeStatus | None:
    for ip, protocol, port in (_host_ports(pod) if ports is None else ports):
        if not info.used_ports:
            return None
        taken = any(
            used_protocol == protocol and used_port == port and (ip == "0.0.0.0" or used_ip in (ip, "0.0.0.0"))
            for used_ip, used_protocol, used_port in info.used_ports
        )
        if taken:
            return NodeStatus(NODE_PORTS, UNSCHEDULABLE, (ERR_REASON_NODE_PORTS,),
                              f"host port {port}/{protocol} is already in use")
    return None


def _filter_node_resources_fit(pod: Mapping, info: NodeInfo, request: Mapping[str, int]) -> NodeStatus | None:
    reasons: list[str] = []
    details: list[str] = []
    if len(info.pods) + 1 > info.allowed_pods:
        reasons.append(ERR_REASON_TOO_MANY_PODS)
        details.append(f"Too many pods ({len(info.pods)} of {info.allowed_pods} pod slots used)")
    ordered = [RESOURCE_CPU, RESOURCE_MEMORY, RESOURCE_EPHEMERAL_STORAGE]
    ordered += sorted(name for name in request if is_scalar_resource_name(name))
    if any(request.get(name, 0) for name in ordered):
        for name in ordered:
            wanted = request.get(name, 0)
            free = info.allocatable.get(name, 0) - info.requested.get(name, 0)
            if wanted > 0 and wanted > free:
                reasons.append(ERR_REASON_INSUFFICIENT.format(resource=name))
                details.append(
                    f"Insufficient {name} (pod requests {format_resource(name, wanted)}, "
                    f"{format_resource(name, max(free, 0))} of {format_resource(name, info.allocatable.get(name, 0))} free)"
                )
    if not reasons:
        return None
    return NodeStatus(NODE_RESOURCES_FIT, UNSCHEDULABLE, tuple(reasons), "; ".join(details))


def run_filter_plugins(pod: Mapping, info: NodeInfo, request: Mapping[str, int], ports=None) -> NodeStatus | None:
    """``RunFilterPlugins``: the first rejecting plugin's status, or ``None`` when the node fits. ``ports``: the
    pod's host ports, when the caller has them already."""
    return (
        _filter_node_unschedulable(pod, info)
        or _filter_node_name(pod, info)
        or _filter_taint_toleration(pod, info)
        or _filter_node_affinity(pod, info)
        or _filter_node_ports(pod, info, ports)
        or _filter_node_resources_fit(pod, info, request)
    )


#: How many pod signatures a NodeInfo remembers answers for.
_MEMO_SIGNATURES = 64


def _signature(pod: Mapping, request: Mapping[str, int], ports) -> tuple:
    """Everything of a pending pod that the filter and score plugins look at: pods with equal signatures get
    the same answers from a node (spec.nodeName is never set on a pod being scheduled)."""
    spec = _spec(pod)
    return (
        tuple(sorted(request.items())),
        tuple(sorted(_units(pod_non_zero_requests(pod)).items())),
        tuple(ports),
        repr(spec.get("tolerations")),
        repr(spec.get("nodeSelector")),
        repr(spec.get("affinity")),
    )


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int = 0) -> int:
    """``numFeasibleNodesToFind``: how many feasible nodes the filters look for before they stop."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass
class SchedulerState:
    """What the scheduler remembers between cycles: where the next search over the nodes starts."""

    next_start_node_index: int = 0


class NodeSnapshot(list):
    """Every node's :class:`NodeInfo` in name order, and where each name stands (``position``): a pod pinned to
    one node (a DaemonSet's) finds it without a walk over the others."""

    __slots__ = ("position",)

    def __init__(self, infos, position: dict[str, int]):
        super().__init__(infos)
        self.position = position


class NodeInfoCache:
    """The scheduler cache's snapshot, brought up to date by rebuilding only the nodes that changed since the
    last cycle (upstream's ``UpdateSnapshot`` walks its most-recently-updated list the same way).

    It reads a :class:`~controllers.cache.Cache`: ``nodes_changed_since``, ``get`` and
    ``unfinished_pods_on_node``; a different cache (the engine relisted) starts it afresh."""

    def __init__(self):
        self._start(None)

    def _start(self, cache) -> None:
        self._cache = cache
        self._generation = -1
        self._infos: dict[str, NodeInfo] = {}
        self._list = NodeSnapshot((), {})

    def infos(self, cache) -> NodeSnapshot:
        """Every node's ``NodeInfo``, in name order: a list the caller must not change, good until the next call
        (which updates it in place when only some nodes changed: a scheduling cycle reads it, then lets it go)."""
        if cache is not self._cache:
            self._start(cache)
        generation, changed = cache.nodes_changed_since(self._generation)
        self._generation = generation
        if not changed:
            return self._list
        rebuilt = {}
        names_changed = False
        for name in changed:
            node = cache.get("Node", "", name)
            if node is None:
                names_changed |= self._infos.pop(name, None) is not None
                continue
            names_changed |= name not in self._infos
            rebuilt[name] = self._infos[name] = NodeInfo.build(node, cache.unfinished_pods_on_node(name))
        if names_changed:
            names = sorted(self._infos)
            self._list = NodeSnapshot((self._infos[name] for name in names),
                                      {name: i for i, name in enumerate(names)})
        else:
            position = self._list.position
            for name, info in rebuilt.items():
                self._list[position[name]] = info
        return self._list


def node_affinity_pre_filter(pod: Mapping) -> tuple[set[str] | None, str | None]:
    """``NodeAffinity.PreFilter``: the node names the required terms pin (``None`` = all nodes), or a conflict.

    Only ``matchFields`` on ``metadata.name`` with ``In`` pin nodes. Within a term they intersect; across terms
    they are united; a term without such a field makes every node eligible again.
    """
    terms = (((_spec(pod).get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    if not terms:
        return None, None
    names: set[str] | None = None
    for term in terms:
        term_names: set[str] | None = None
        for requirement in term.get("matchFields") or []:
            if requirement.get("key") == "metadata.name" and requirement.get("operator") == "In":
                values = set(requirement.get("values") or [])
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return None, None
        names = term_names if names is None else names | term_names
    if names is not None and not names:
        return None, ERR_REASON_AFFINITY_CONFLICT
    return names, None


# --- messages -----------------------------------------------------------------------------------------------


def fit_error_message(num_all_nodes: int, statuses: Mapping[str, NodeStatus], pre_filter_msg: str = "",
                      post_filter_msg: str = "", absent: tuple[NodeStatus, int] | None = None) -> str:
    """``FitError.Error``: "0/N nodes are available: <count reason, sorted>. <post-filter message>".

    Each node contributes every reason of the plugin that rejected it; reasons are counted, written as
    "<count> <reason>" and sorted as strings (so "10 ..." sorts before "2 ..."), as upstream does. ``absent``:
    one status shared by that many nodes not in ``statuses`` (``SetAbsentNodesStatus``).
    """
    message = NO_NODE_AVAILABLE_MSG.format(count=num_all_nodes) + ":"
    if pre_filter_msg:
        message += f" {pre_filter_msg}."
    else:
        counts: dict[str, int] = {}
        for status in statuses.values():
            for reason in status.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        if absent is not None and absent[1]:
            for reason in absent[0].reasons:
                counts[reason] = counts.get(reason, 0) + absent[1]
        histogram = sorted(f"{count} {reason}" for reason, count in counts.items())
        if histogram:
            message += " " + ", ".join(histogram) + "."
    if post_filter_msg:
        message += f" {post_filter_msg}"
    return message


def truncate_message(message: str) -> str:
    """``truncateMessage``: keep event messages within ``NoteLengthLimit``."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return message[: NOTE_LENGTH_LIMIT - len(suffix)] + suffix


def _preemption_message(pod: Mapping, infos: list[NodeInfo], statuses: Mapping[str, NodeStatus],
                        request: Mapping[str, int], absent: int = 0) -> tuple[str, list[str]]:
    """The DefaultPreemption PostFilter's message (``"preemption: ..."``) and trace notes.

    Returns ``""`` when some node would fit after evicting lower-priority pods: upstream then preempts (not
    simulated here) and the FailedScheduling message carries no preemption part.
    """
    if _spec(pod).get("preemptionPolicy") == "Never":
        return "preemption: " + PREEMPTION_POLICY_NEVER, ["preemption: the pod has preemptionPolicy Never"]
    results: dict[str, NodeStatus] = {}
    candidates: list[str] = []
    for info in infos:
        status = statuses[info.name]
        if status.code == UNSCHEDULABLE_AND_UNRESOLVABLE:
            results[info.name] = NodeStatus("DefaultPreemption", UNSCHEDULABLE_AND_UNRESOLVABLE,
                                            (PREEMPTION_NOT_HELPFUL,), "")
            continue
        victims = [p for p in info.pods if _priority(p) < _priority(pod)]
        if not victims:
            results[info.name] = NodeStatus("DefaultPreemption", UNSCHEDULABLE_AND_UNRESOLVABLE,
                                            (PREEMPTION_NO_VICTIMS,), "")
            continue
        after = run_filter_plugins(pod, info.without(victims), request)
        if after is None:
            candidates.append(info.name)
        else:
            results[info.name] = after
    if candidates:
        return "", [f"preemption: evicting lower-priority pods would make room on {', '.join(candidates)} "
                    "(preemption is not simulated)"]
    not_helpful = NodeStatus("DefaultPreemption", UNSCHEDULABLE_AND_UNRESOLVABLE, (PREEMPTION_NOT_HELPFUL,), "")
    return "preemption: " + fit_error_message(len(infos) + absent, results, absent=(not_helpful, absent)), []


# --- scoring ------------------------------------------------------------------------------------------------


def _least_allocated_score(info: NodeInfo, pod_request: Mapping[str, int]) -> int:
    node_score = weight_sum = 0
    for resource in (RESOURCE_CPU, RESOURCE_MEMORY):
        allocatable = info.allocatable.get(resource, 0)
        if allocatable == 0:
            continue
        requested = info.non_zero_requested.get(resource, 0) + pod_request.get(resource, 0)
        score = 0 if requested > allocatable else (allocatable - requested) * MAX_NODE_SCORE // allocatable
        node_score += score
        weight_sum += 1
    return node_score // weight_sum if weight_sum else 0


def _balanced_allocation_score(info: NodeInfo, pod_request: Mapping[str, int]) -> int:
    fractions = []
    for resource in (RESOURCE_CPU, RESOURCE_MEMORY):
        allocatable = info.allocatable.get(resource, 0)
        if allocatable == 0:
            continue
        requested = info.requested.get(resource, 0) + pod_request.get(resource, 0)
        fractions.append(min(float(requested) / float(allocatable), 1.0))
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:  # pragma: no cover - only cpu and memory are scored
        mean = sum(fractions) / len(fractions)
        std = (sum((f - mean) ** 2 for f in fractions) / len(fractions)) ** 0.5
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class _ScoreInputs:
    """What the score plugins need of the pod, worked out once per cycle."""

    def __init__(self, pod: Mapping):
        spec = _spec(pod)
        self.spec = spec
        self.prefer_tolerations = [t for t in spec.get("tolerations") or []
                                   if (t.get("effect") or "") in ("", TAINT_EFFECT_PREFER_NO_SCHEDULE)]
        self.preferred = bool(((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution"))
        self.non_zero = _units(pod_non_zero_requests(pod))
        self.actual = _units(_pod_requests_with_pods(pod))
        best_effort = not self.actual.get(RESOURCE_CPU) and not self.actual.get(RESOURCE_MEMORY)
        self.balanced = not (SKIP_BALANCED_ALLOCATION_FOR_BEST_EFFORT and best_effort)

    def raw(self, info: NodeInfo) -> tuple[int, int, int, int]:
        """Per node, before normalization: untolerated PreferNoSchedule taints, preferred node affinity,
        LeastAllocated and BalancedAllocation."""
        taints = sum(
            1 for taint in _spec(info.node).get("taints") or ()
            if taint.get("effect") == TAINT_EFFECT_PREFER_NO_SCHEDULE
            and not tolerations_tolerate_taint(self.prefer_tolerations, taint)
        )
        affinity = preferred_node_affinity_score(self.spec, info.node) if self.preferred else 0
        balanced = _balanced_allocation_score(info, self.actual) if self.balanced else 0
        return taints, affinity, _least_allocated_score(info, self.non_zero), balanced


def score_nodes(pod: Mapping, infos: list[NodeInfo], signature=None) -> "ScoreTable":
    """Weighted plugin scores per node (``RunScorePlugins`` after normalization and weights). With the pod's
    ``signature``, each node's raw scores are remembered on its NodeInfo."""
    inputs = _ScoreInputs(pod)
    raws = []
    for info in infos:
        if signature is None:
            raws.append(inputs.raw(info))
            continue
        memo = info.memo.setdefault(signature, {})
        raw = memo.get("score")
        if raw is None:
            raw = memo["score"] = inputs.raw(info)
        raws.append(raw)
    names = [info.name for info in infos]
    per_plugin: dict[str, list[int]] = {
        TAINT_TOLERATION: _normalized([r[0] for r in raws], reverse=True)}
    if inputs.preferred:
        per_plugin[NODE_AFFINITY] = _normalized([r[1] for r in raws], reverse=False)
    per_plugin[NODE_RESOURCES_FIT] = [r[2] for r in raws]
    if inputs.balanced:
        per_plugin[NODE_RESOURCES_BALANCED_ALLOCATION] = [r[3] for r in raws]
    return ScoreTable(names, [(plugin, SCORE_WEIGHTS[plugin], values) for plugin, values in per_plugin.items()])


class ScoreTable(Mapping):
    """Weighted scores per node name: ``table[name]`` is the plugin breakdown (built when asked for), and
    ``totals`` what selectHost compares."""

    def __init__(self, names: list[str], weighted: list[tuple[str, int, list[int]]]):
        self._index = {name: i for i, name in enumerate(names)}
        self._weighted = weighted
        totals = [0] * len(names)
        for _, weight, values in weighted:  # plugin by plugin: a few list passes, not a generator per node
            totals = [total + value * weight for total, value in zip(totals, values)]
        self.totals = dict(zip(names, totals))

    def __getitem__(self, name: str) -> dict[str, int]:
        i = self._index[name]
        return {plugin: values[i] * weight for plugin, weight, values in self._weighted}

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, name) -> bool:
        return name in self._index


def _normalized(scores: list[int], reverse: bool) -> list[int]:
    """``helper.DefaultNormalizeScore`` to 0..100 (integer arithmetic)."""
    highest = max(scores, default=0)
    if highest == 0:
        return [MAX_NODE_SCORE if reverse else 0] * len(scores)
    out = [MAX_NODE_SCORE * score // highest for score in scores]
    return [MAX_NODE_SCORE - score for score in out] if reverse else out


def select_host(totals: Mapping[str, int], rng: random.Random) -> str:
    """``selectHost``: a node with the top score; ties by reservoir sampling over the names in order."""
    best = max(totals.values())
    selected, count = None, 0
    for name in sorted(name for name, total in totals.items() if total == best):
        count += 1
        if count == 1 or rng.randrange(count) == 0:
            selected = name
    assert selected is not None
    return selected


# --- the scheduling cycle -----------------------------------------------------------------------------------


def _result(pod: Mapping, *, actions=(), status=None, requeue_after=None, trigger: str, observed: str,
            decision: str, notes=()) -> SyncResult:
    meta = _meta(pod)
    key = f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"
    return SyncResult(tuple(actions), status, requeue_after,
                      Trace(CONTROLLER, key, trigger, observed, decision, tuple(notes)))


def schedule_pod(
    pod: dict,
    nodes: list[dict],
    pods_on_nodes: Mapping[str, list[dict]],
    now: datetime,
    *,
    rng: random.Random,
    state: SchedulerState | None = None,
    node_infos: list[NodeInfo] | None = None,
) -> SyncResult:
    """One scheduling cycle for ``pod``; the plan binds it or records why it cannot be placed.

    ``nodes`` are every Node; ``pods_on_nodes`` maps a node name to the pods bound to it (terminal pods are
    ignored, as the scheduler's informer filters them out). Only pods of ``default-scheduler`` without
    ``spec.nodeName`` are scheduled; others give an empty plan. ``state`` carries where the search over the
    nodes starts from one cycle to the next (a fresh one starts at the first node); ``node_infos``, the nodes'
    ``NodeInfo`` in name order, saves building them from ``nodes`` and ``pods_on_nodes``.

    * Placed: ``BindPod`` only (event Normal ``Scheduled`` "Successfully assigned <ns>/<pod> to <node>" once
      bound; Warning ``FailedScheduling`` "binding rejected: ..." if not). The binding itself sets
      ``PodScheduled=True``, as upstream's ``pods/binding`` does: the scheduler writes no status on success.
    * Not placed: status with ``PodScheduled=False``, reason ``Unschedulable`` and the FitError message (``None``
      when that is already the condition), Warning ``FailedScheduling`` with the same message, and
      ``requeue_after = 300``.
    * Scheduling gates: ``PodScheduled=False`` / ``SchedulingGated``, nothing else (wait for the gates to go).
    * Being deleted: only the Warning ``FailedScheduling`` "skip schedule deleting pod: <ns>/<pod>".
    """
    meta, spec = _meta(pod), _spec(pod)
    namespace, name = meta.get("namespace") or "default", meta.get("name") or ""
    trigger = "pending pod without spec.nodeName"
    if spec.get("nodeName"):
        return _result(pod, trigger=trigger, observed=f"already bound to {spec['nodeName']}", decision="nothing to do")
    scheduler_name = spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    if scheduler_name != DEFAULT_SCHEDULER_NAME:
        return _result(pod, trigger=trigger, observed=f"schedulerName is {scheduler_name}",
                       decision="not ours: left to that scheduler")
    if is_pod_terminal(pod):
        return _result(pod, trigger=trigger, observed="pod is terminal", decision="nothing to do")
    if meta.get("deletionTimestamp"):
        event = EmitEvent(object_reference(pod, "v1", "Pod"), "Warning", EVENT_FAILED_SCHEDULING,
                          EVENT_MESSAGE_SKIP_DELETING.format(namespace=namespace, name=name), COMPONENT)
        return _result(pod, actions=(event,), trigger=trigger, observed="pod is being deleted",
                       decision="skip: a deleting pod is not scheduled")
    if spec.get("schedulingGates"):
        gates = ", ".join(g.get("name") or "" for g in spec["schedulingGates"])
        status, changed = update_pod_condition(pod.get("status"), {
            "type": POD_SCHEDULED, "status": "False", "reason": POD_REASON_SCHEDULING_GATED,
            "message": SCHEDULING_GATED_MESSAGE}, now)
        return _result(pod, status=status if changed else None, trigger=trigger,
                       observed=f"scheduling gates: {gates}",
                       decision="wait: the pod is not scheduled until its scheduling gates are removed")

    if node_infos is None:
        ordered_nodes = sorted(nodes, key=lambda n: _meta(n).get("name") or "")
        node_infos = [NodeInfo.build(node, list(pods_on_nodes.get(_meta(node).get("name") or "", [])))
                      for node in ordered_nodes]
    infos = node_infos
    if not infos:
        return _unschedulable(pod, now, ERR_NO_NODES_AVAILABLE, trigger, "no nodes in the cluster", ())
    state = state if state is not None else SchedulerState()

    request = _units(_pod_requests_with_pods(pod))
    statuses: dict[str, NodeStatus] = {}
    notes: list[str] = []

    pinned, conflict = node_affinity_pre_filter(pod)
    if conflict:
        for info in infos:
            statuses[info.name] = NodeStatus(NODE_AFFINITY, UNSCHEDULABLE_AND_UNRESOLVABLE, (conflict,),
                                             "the pod's required node affinity names no node in every term")
        post, extra = _preemption_message(pod, infos, statuses, request)
        message = fit_error_message(len(infos), statuses, pre_filter_msg=conflict, post_filter_msg=post)
        return _unschedulable(pod, now, message, trigger, _observed(infos, statuses), extra)

    # PreFilter may narrow the nodes (matchFields on metadata.name); the rest share one "absent" status.
    if pinned is None:
        candidates = infos
    elif isinstance(infos, NodeSnapshot):
        candidates = [infos[i] for i in sorted(infos.position[name] for name in pinned if name in infos.position)]
    else:
        candidates = [info for info in infos if info.name in pinned]
    absent = None
    if len(candidates) < len(infos):
        absent = (NodeStatus(NODE_AFFINITY, UNSCHEDULABLE_AND_UNRESOLVABLE,
                             (ERR_REASON_PREFILTER_ABSENT.format(plugins=NODE_AFFINITY),),
                             f"not among the nodes the pod's node affinity names ({', '.join(sorted(pinned))})"),
                  len(infos) - len(candidates))

    # findNodesThatPassFilters: from nextStartNodeIndex, until enough feasible nodes are found.
    feasible: list[NodeInfo] = []
    count = len(candidates)
    wanted = num_feasible_nodes_to_find(count)
    start = state.next_start_node_index % count if count else 0
    ports = _host_ports(pod)
    signature = _signature(pod, request, ports)
    processed = 0
    examined: list[NodeInfo] = []
    for i in range(count):
        info = candidates[(start + i) % count]
        examined.append(info)
        memo = info.memo.get(signature)
        if memo is None:
            if len(info.memo) >= _MEMO_SIGNATURES:
                info.memo.clear()
            memo = info.memo[signature] = {"filter": run_filter_plugins(pod, info, request, ports)}
        status = memo["filter"]
        processed += 1
        if status is None:
            feasible.append(info)
            if len(feasible) >= wanted:
                break
        else:
            statuses[info.name] = status
    if count:
        state.next_start_node_index = (start + processed) % count
    if processed < count:
        notes.append(f"{wanted} feasible nodes found after examining {processed} of {count} nodes: "
                     f"the rest were not examined (percentageOfNodesToScore)")

    if not feasible:
        post, extra = _preemption_message(pod, candidates, statuses, request, absent[1] if absent else 0)
        message = fit_error_message(len(infos), statuses, post_filter_msg=post, absent=absent)
        return _unschedulable(pod, now, message, trigger, _observed(candidates, statuses, None, absent), extra)

    scores: ScoreTable | None = None
    if len(feasible) == 1:
        host = feasible[0].name
        notes.append(f"{host} is the only feasible node: scoring skipped")
    else:
        scores = score_nodes(pod, feasible, signature)
        totals = scores.totals
        host = select_host(totals, rng)
        best = totals[host]
        tied = sorted(n for n, total in totals.items() if total == best)
        if len(tied) > 1:
            shown = (", ".join(tied) if len(tied) <= TRACE_NODES
                     else f"{len(tied)} nodes ({', '.join(tied[:3])} … {tied[-1]})")
            notes.append(f"top score {best} shared by {shown}: picked {host} at random (seeded)")

    ref = object_reference(pod, "v1", "Pod")
    bind = BindPod(
        namespace, name, meta.get("uid") or "", host,
        success_event=EmitEvent(ref, "Normal", EVENT_SCHEDULED,
                                EVENT_MESSAGE_SCHEDULED.format(namespace=namespace, name=name, node=host), COMPONENT),
        failure_event=EmitEvent(ref, "Warning", EVENT_FAILED_SCHEDULING, EVENT_MESSAGE_BINDING_REJECTED, COMPONENT),
    )
    if processed == count:
        examined = candidates  # in name order
    return _result(pod, actions=(bind,), trigger=trigger,
                   observed=_observed(examined, statuses, scores, absent, host),
                   decision=f"bind {namespace}/{name} to {host}", notes=[f"bind to {host}", *notes])


def _score_text(name: str, breakdown: Mapping[str, int]) -> str:
    total = sum(breakdown.values())
    shown = ", ".join(
        f"{plugin} {value // SCORE_WEIGHTS[plugin]}" + (f"×{SCORE_WEIGHTS[plugin]}" if SCORE_WEIGHTS[plugin] > 1 else "")
        for plugin, value in breakdown.items()
    )
    return f"{name}: fits, score {total} ({shown})"


def _observed(infos: list[NodeInfo], statuses: Mapping[str, NodeStatus], scores: ScoreTable | None = None,
              absent: tuple[NodeStatus, int] | None = None, chosen: str | None = None) -> str:
    """Node by node, why the pod can or cannot go there; past :data:`TRACE_NODES` nodes, a summary: rejections
    counted by reason with an example each, and the best-scored nodes (the chosen one first)."""
    parts = []
    if len(infos) <= TRACE_NODES:
        for info in infos:
            status = statuses.get(info.name)
            if status is not None:
                parts.append(f"{info.name}: {status.detail}")
            elif scores is not None and info.name in scores:
                parts.append(_score_text(info.name, scores[info.name]))
            else:
                parts.append(f"{info.name}: fits")
    else:
        rejected: dict[tuple[str, ...], list[str]] = {}
        for info in infos:
            status = statuses.get(info.name)
            if status is not None:
                rejected.setdefault(status.reasons, []).append(info.name)
        for reasons, names in sorted(rejected.items(), key=lambda item: (-len(item[1]), item[0])):
            parts.append(f"{len(names)} node(s) rejected: {', '.join(reasons)} "
                         f"(e.g. {names[0]}: {statuses[names[0]].detail})")
        fitting = [info.name for info in infos if info.name not in statuses]
        if scores:
            totals = scores.totals
            ranked = [chosen] if chosen in totals else []
            ranked += [n for _, n in heapq.nsmallest(3 - len(ranked), ((-t, n) for n, t in totals.items()
                                                                            if n != chosen))]
            parts.extend(_score_text(name, scores[name]) for name in ranked)
            if len(scores) > 3:
                parts.append(f"{len(scores) - 3} more feasible node(s) scored")
        elif fitting:
            parts.append(f"{len(fitting)} node(s) fit ({fitting[0]}, ...)")
    if absent is not None and absent[1]:
        parts.append(f"{absent[1]} other node(s): {absent[0].detail}")
    return "; ".join(parts)


def _unschedulable(pod: Mapping, now: datetime, message: str, trigger: str, observed: str, notes) -> SyncResult:
    status, changed = update_pod_condition(pod.get("status"), {
        "type": POD_SCHEDULED, "status": "False", "reason": POD_REASON_UNSCHEDULABLE, "message": message}, now)
    event = EmitEvent(object_reference(pod, "v1", "Pod"), "Warning", EVENT_FAILED_SCHEDULING, truncate_message(message),
                      COMPONENT)
    return _result(pod, actions=(event,), status=status if changed else None,
                   requeue_after=POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION, trigger=trigger, observed=observed,
                   decision=f"unschedulable: {message}",
                   notes=[*notes, f"retry when nodes or pods change, at the latest in "
                                  f"{int(POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION)}s"])
