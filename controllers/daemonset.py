"""The DaemonSet controller (apps/v1), as a pure function from observed state to a plan.

It follows upstream's ``pkg/controller/daemon/daemon_controller.go``, ``update.go`` and
``util/daemonset_util.go`` as of Kubernetes 1.31-1.34 (DaemonSetUpdateSurge is GA, pods are placed by the
default scheduler through node affinity). ``sync_daemonset(ds, nodes, pods, revisions, now)`` is upstream's
``syncDaemonSet``:

1. a DaemonSet being deleted is left alone; one selecting every pod only gets the ``SelectingAll`` warning;
2. ``construct_history``: find the ControllerRevision holding the current template, create it (revision
   ``max+1``) or renumber it to ``max+1`` (a ``rollout undo``), drop duplicates; its hash labels new pods;
3. ``manage``: per node, ``pods_should_be_on_node`` decides what to create and delete (failed pods with a
   per-node backoff, succeeded pods, surplus pods, pods on nodes that no longer qualify), then ``sync_nodes``
   plans the creates (slow-start batches) and deletes;
4. ``rolling_update`` for ``RollingUpdate`` DaemonSets, with ``maxSurge == 0`` (delete old pods within the
   ``maxUnavailable`` budget; the next ``manage`` recreates them) or ``maxSurge > 0`` (create the new pod
   first, delete the old one once the new one is available);
5. ``cleanup_history``: drop old revisions beyond ``revisionHistoryLimit`` that no live pod carries;
6. ``update_daemonset_status``: the counts ``kubectl get ds`` shows.

Steps 3-5 only run when ``expectations_satisfied`` (the engine has observed the effects of earlier plans);
otherwise only the counts are refreshed and ``observedGeneration`` is not raised.

One sync, one plan
------------------
Upstream's ``manage`` writes through the API and ``rollingUpdate`` then reads the informer cache, which (in
upstream's unit tests, whose fake pod control updates the cache at once) already holds manage's pods. A plan is
applied only after the sync, so this controller *projects* its own actions instead: pods it plans to create
are added to its working list as pending, unscheduled pods with the new hash, and pods it plans to delete get a
``deletionTimestamp`` (as a graceful delete does). ``rolling_update``, ``cleanup_history`` and the status then
see that projected state. This is what makes a surge rollout step "delete 2 old pods, create 2 new ones" happen
in one sync, exactly as upstream's ``update_test.go`` sequences expect, and why the first sync of a new
DaemonSet already reports ``currentNumberScheduled`` for the pods it is creating.

Pure Python over plain Kubernetes JSON dicts; inputs are never mutated; the only state kept between syncs is
the failed-pod backoff, returned in ``SyncResult.memory`` as a ``DaemonSetMemory``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from controllers.objects import (
    meta as _meta,
    spec as _spec,
    status as _status,
    name as _name,
    namespace as _namespace,
)
from controllers.apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.apimachinery.ownerrefs import is_controlled_by, new_controller_ref
from controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    compute_hash,
    get_patch,
    match,
    max_revision,
    new_controller_revision,
    revision_hash,
    revision_number,
    sort_by_revision,
)
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from controllers.pods import (
    POD_FAILED,
    POD_PENDING,
    POD_SUCCEEDED,
    ZERO_TIME,
    creation_time,
    format_time,
    get_pod_condition,
    is_pod_ready,
    is_pod_terminal,
    parse_time,
    pod_phase,
    POD_READY,
)
from controllers.scheduling import (
    OBJECT_NAME_FIELD,
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_NODE_DISK_PRESSURE,
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NETWORK_UNAVAILABLE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_PID_PRESSURE,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
    TOLERATION_OP_EXISTS,
    find_matching_untolerated_taint,
    format_taint,
    pod_matches_node_selector_and_affinity,
)

# --- names and limits (upstream constants) -----------------------------------------------------------------

CONTROLLER = "daemonset"
COMPONENT = "daemonset-controller"

#: ``BurstReplicas``: at most this many creates and this many deletes per ``syncNodes`` call.
BURST_REPLICAS = 250
#: ``controller.SlowStartInitialBatchSize``.
SLOW_START_INITIAL_BATCH_SIZE = 1
#: ``flowcontrol.NewBackOff(1*time.Second, 15*time.Minute)`` for failed daemon pods (cmd/kube-controller-manager).
FAILED_POD_BACKOFF_INITIAL = 1.0
FAILED_POD_BACKOFF_MAX = 15 * 60.0
#: Defaults the API server applies (``SetDefaults_DaemonSet``); repeated here for objects that skipped it.
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_MAX_UNAVAILABLE = 1
DEFAULT_MAX_SURGE = 0

ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"

#: ``apps.DeprecatedTemplateGeneration`` (set by the API server) and ``extensions.DaemonSetTemplateGenerationKey``.
DAEMONSET_TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
DAEMONSET_TEMPLATE_GENERATION_LABEL = "pod-template-generation"

# --- events (daemon_controller.go and controller_utils.go RealPodControl) -----------------------------------

EVENT_SELECTING_ALL = "SelectingAll"
EVENT_MESSAGE_SELECTING_ALL = "This daemon set is selecting all pods. A non-empty selector is required."
EVENT_FAILED_DAEMON_POD = "FailedDaemonPod"
EVENT_MESSAGE_FAILED_DAEMON_POD = "Found failed daemon pod {namespace}/{pod} on node {node}, will try to kill it"
EVENT_SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"
EVENT_MESSAGE_SUCCEEDED_DAEMON_POD = (
    "Found succeeded daemon pod {namespace}/{pod} on node {node}, will try to delete it"
)
EVENT_SUCCESSFUL_CREATE = "SuccessfulCreate"
EVENT_MESSAGE_SUCCESSFUL_CREATE = "Created pod: {name}"
EVENT_FAILED_CREATE = "FailedCreate"
EVENT_MESSAGE_FAILED_CREATE = "Error creating: {error}"
EVENT_SUCCESSFUL_DELETE = "SuccessfulDelete"
EVENT_MESSAGE_SUCCESSFUL_DELETE = "Deleted pod: {name}"
EVENT_FAILED_DELETE = "FailedDelete"
EVENT_MESSAGE_FAILED_DELETE = "Error deleting: {error}"

#: ``AddOrUpdateDaemonPodTolerations``: every daemon pod tolerates these (operator Exists, no tolerationSeconds).
DEFAULT_DAEMON_TOLERATIONS = (
    (TAINT_NODE_NOT_READY, TAINT_EFFECT_NO_EXECUTE),
    (TAINT_NODE_UNREACHABLE, TAINT_EFFECT_NO_EXECUTE),
    (TAINT_NODE_DISK_PRESSURE, TAINT_EFFECT_NO_SCHEDULE),
    (TAINT_NODE_MEMORY_PRESSURE, TAINT_EFFECT_NO_SCHEDULE),
    (TAINT_NODE_PID_PRESSURE, TAINT_EFFECT_NO_SCHEDULE),
    (TAINT_NODE_UNSCHEDULABLE, TAINT_EFFECT_NO_SCHEDULE),
)
#: Added only for ``hostNetwork: true`` pods.
HOST_NETWORK_TOLERATION = (TAINT_NODE_NETWORK_UNAVAILABLE, TAINT_EFFECT_NO_SCHEDULE)


# --- small accessors ---------------------------------------------------------------------------------------


def _labels(obj: Mapping) -> Mapping[str, str]:
    return _meta(obj).get("labels") or {}


def daemonset_key(ds: Mapping) -> str:
    return f"{_namespace(ds)}/{_name(ds)}"


def daemonset_reference(ds: Mapping) -> dict:
    """The ``involvedObject`` of events about this DaemonSet."""
    return {
        "apiVersion": ds.get("apiVersion") or "apps/v1",
        "kind": "DaemonSet",
        "namespace": _namespace(ds),
        "name": _name(ds),
        "uid": _meta(ds).get("uid") or "",
    }


def _template(ds: Mapping) -> Mapping:
    return _spec(ds).get("template") or {}


def _min_ready_seconds(ds: Mapping) -> int:
    return int(_spec(ds).get("minReadySeconds") or 0)


def _update_strategy(ds: Mapping) -> Mapping:
    return _spec(ds).get("updateStrategy") or {}


def update_strategy_type(ds: Mapping) -> str:
    """``spec.updateStrategy.type``, defaulted to RollingUpdate."""
    return _update_strategy(ds).get("type") or ROLLING_UPDATE


def revision_history_limit(ds: Mapping) -> int:
    value = _spec(ds).get("revisionHistoryLimit")
    return DEFAULT_REVISION_HISTORY_LIMIT if value is None else int(value)


def _short(hash_: str) -> str:
    return hash_ or "<none>"


# --- pods (pkg/api/v1/pod, util/daemonset_util.go) ---------------------------------------------------------


def is_pod_available(pod: Mapping, min_ready_seconds: int, now: datetime) -> bool:
    """``podutil.IsPodAvailable``: Ready, and Ready for *more than* ``min_ready_seconds`` (0: at once)."""
    if not is_pod_ready(pod):
        return False
    if int(min_ready_seconds or 0) == 0:
        return True
    condition = get_pod_condition(pod, POD_READY) or {}
    since = parse_time(condition.get("lastTransitionTime"))
    if since is None or since == ZERO_TIME:
        return False
    return since + timedelta(seconds=int(min_ready_seconds)) < now


def get_template_generation(ds: Mapping) -> int | None:
    """``util.GetTemplateGeneration``: the deprecated template-generation annotation, None if absent or bad."""
    value = (_meta(ds).get("annotations") or {}).get(DAEMONSET_TEMPLATE_GENERATION_ANNOTATION)
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def is_pod_updated(pod: Mapping, hash: str, template_generation: int | None) -> bool:
    """``util.IsPodUpdated``: the pod carries the current revision hash, or the current template generation."""
    labels = _labels(pod)
    template_matches = template_generation is not None and labels.get(DAEMONSET_TEMPLATE_GENERATION_LABEL) == str(
        template_generation
    )
    hash_matches = bool(hash) and labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash
    return hash_matches or template_matches


def get_target_node_name(pod: Mapping) -> str | None:
    """``util.GetTargetNodeName``: ``spec.nodeName``, else the node named by the required node affinity's
    ``matchFields metadata.name In [node]`` (a daemon pod not yet bound); None when neither says."""
    spec = _spec(pod)
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if not required:
        return None
    for term in required.get("nodeSelectorTerms") or []:
        for expr in (term or {}).get("matchFields") or []:
            if expr.get("key") == OBJECT_NAME_FIELD and expr.get("operator") == "In":
                values = expr.get("values") or []
                return values[0] if len(values) == 1 else None
    return None


def _pod_sort_key(pod: Mapping) -> tuple:
    """``podByCreationTimestampAndPhase``: scheduled pods first, then oldest creation, then name."""
    return (not _spec(pod).get("nodeName"), creation_time(dict(pod)), _name(pod))


def sort_pods_by_creation(pods: Iterable[Mapping]) -> list:
    return sorted(pods, key=_pod_sort_key)


# --- tolerations, template, placement (util/daemonset_util.go) ----------------------------------------------


def _toleration(key: str, effect: str) -> dict:
    return {"key": key, "operator": TOLERATION_OP_EXISTS, "effect": effect}


def _same_toleration(a: Mapping, b: Mapping) -> bool:
    """``Toleration.MatchToleration``: same key, operator, value and effect (tolerationSeconds may differ)."""
    return all((a.get(k) or "") == (b.get(k) or "") for k in ("key", "operator", "value", "effect"))


def add_or_update_toleration(tolerations: list, toleration: dict) -> list:
    """``AddOrUpdateTolerationInPodSpec``: replace a matching toleration (dropping its tolerationSeconds), or
    append; a list that already holds exactly this toleration is returned unchanged."""
    result, updated = [], False
    for existing in tolerations:
        if _same_toleration(toleration, existing or {}):
            if dict(existing) == toleration:
                return list(tolerations)
            result.append(dict(toleration))
            updated = True
            continue
        result.append(existing)
    if not updated:
        result.append(dict(toleration))
    return result


def add_or_update_daemon_pod_tolerations(pod_spec: Mapping) -> dict:
    """``AddOrUpdateDaemonPodTolerations`` on a copy: the six default daemon tolerations, plus
    ``network-unavailable:NoSchedule`` for ``hostNetwork`` pods."""
    spec = copy.deepcopy(dict(pod_spec))
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(DEFAULT_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(HOST_NETWORK_TOLERATION)
    for key, effect in wanted:
        tolerations = add_or_update_toleration(tolerations, _toleration(key, effect))
    spec["tolerations"] = tolerations
    return spec


def create_pod_template(template: Mapping, generation: int | None, hash: str) -> dict:
    """``util.CreatePodTemplate``: the template with the default tolerations, ``pod-template-generation``
    (when the DaemonSet has the deprecated annotation) and ``controller-revision-hash`` labels."""
    new_template = copy.deepcopy(dict(template))
    new_template["spec"] = add_or_update_daemon_pod_tolerations(new_template.get("spec") or {})
    metadata = dict(new_template.get("metadata") or {})
    labels = dict(metadata.get("labels") or {})
    if generation is not None:
        labels[DAEMONSET_TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash:
        labels[CONTROLLER_REVISION_HASH_LABEL] = hash
    metadata["labels"] = labels
    new_template["metadata"] = metadata
    return new_template


def replace_daemonset_pod_node_name_node_affinity(affinity: Mapping | None, node_name: str) -> dict:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity`` on a copy: the required node affinity becomes the single term
    ``matchFields: [{key: metadata.name, operator: In, values: [node]}]``; preferred terms and pod
    (anti-)affinity are kept. The default scheduler then binds the pod to exactly that node."""
    requirement = {"key": OBJECT_NAME_FIELD, "operator": "In", "values": [node_name]}
    selector = {"nodeSelectorTerms": [{"matchFields": [requirement]}]}
    if affinity is None:
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}
    result = copy.deepcopy(dict(affinity))
    node_affinity = result.get("nodeAffinity")
    if node_affinity is None:
        result["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": selector}
        return result
    node_affinity = dict(node_affinity)
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = selector
    else:
        required = dict(required)
        required["nodeSelectorTerms"] = selector["nodeSelectorTerms"]
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = required
    result["nodeAffinity"] = node_affinity
    return result


def new_daemon_pod(ds: Mapping, node_name: str, hash: str) -> dict:
    """The pod ``syncNodes`` creates for ``node_name``: ``CreatePodTemplate`` + ``GetPodFromTemplate``.

    ``generateName: <ds>-``, the template's labels (plus hash and generation), annotations and finalizers,
    a controller reference to the DaemonSet, the default tolerations, and no ``nodeName``: the node is named by
    the required node affinity, so the default scheduler binds it.
    """
    template = create_pod_template(_template(ds), get_template_generation(ds), hash)
    template_meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    spec["affinity"] = replace_daemonset_pod_node_name_node_affinity(spec.get("affinity"), node_name)
    metadata: dict = {"generateName": f"{_name(ds)}-", "namespace": _namespace(ds)}
    if template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    metadata["ownerReferences"] = [new_controller_ref(ds, "apps/v1", "DaemonSet")]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


# --- which nodes run a daemon pod (daemon_controller.go) ----------------------------------------------------


def new_pod(ds: Mapping, node_name: str) -> dict:
    """``NewPod``: the template as a pod bound to ``node_name``, with the default daemon tolerations."""
    template = _template(ds)
    spec = add_or_update_daemon_pod_tolerations(template.get("spec") or {})
    spec["nodeName"] = node_name
    return {"metadata": copy.deepcopy(dict(template.get("metadata") or {})), "spec": spec}


# The probe spec of the DaemonSet being synced: set for the length of one sync_daemonset call (whose private copy
# of the DaemonSet does not change), so the per-node checks of that sync share one copy of the template.
_SYNC_PROBE: list = []


def _probe_spec(ds: Mapping) -> dict:
    """The daemon pod's spec as ``NewPod`` makes it, minus ``nodeName`` (the same for every node)."""
    template_spec = _template(ds).get("spec") or {}
    if _SYNC_PROBE and _SYNC_PROBE[0] is template_spec:
        return _SYNC_PROBE[1]
    return add_or_update_daemon_pod_tolerations(template_spec)


def _should_run(node: Mapping, ds: Mapping) -> tuple[bool, bool, str]:
    """``NodeShouldRunDaemonPod`` plus the reason in words (empty when the pod should simply run)."""
    node_name = _name(node)
    wanted_name = _spec(_template(ds)).get("nodeName") or ""
    if wanted_name and wanted_name != node_name:
        return False, False, f"the template's nodeName is {wanted_name}"
    spec = _probe_spec(ds)
    if not pod_matches_node_selector_and_affinity(spec, node):
        return False, False, "nodeSelector / required node affinity do not match"
    taints = _spec(node).get("taints") or []
    tolerations = spec.get("tolerations") or []
    untolerated = find_matching_untolerated_taint(
        taints, tolerations, (TAINT_EFFECT_NO_SCHEDULE, TAINT_EFFECT_NO_EXECUTE))
    if untolerated is None:
        return True, True, ""
    no_execute = find_matching_untolerated_taint(taints, tolerations, (TAINT_EFFECT_NO_EXECUTE,))
    if no_execute is not None:
        return False, False, f"untolerated taint {format_taint(no_execute)}"
    return False, True, f"untolerated taint {format_taint(untolerated)}"


def node_should_run_daemon_pod(node: Mapping, ds: Mapping) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: ``(should_run, should_continue_running)``.

    ``(False, False)`` when the template's ``nodeName`` names another node, or ``nodeSelector`` / required node
    affinity do not match, or the node has a NoExecute taint the pod (with the default daemon tolerations) does
    not tolerate; ``(False, True)`` for an untolerated NoSchedule taint (no new pod, an existing one stays);
    ``(True, True)`` otherwise. Readiness, resources and host ports are the scheduler's business.
    """
    should_run, should_continue, _ = _should_run(node, ds)
    return should_run, should_continue


# --- update budget (update.go, util/daemonset_util.go) ------------------------------------------------------


def get_scaled_value_from_int_or_percent(value, total: int, round_up: bool = True) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int as is, ``"N%"`` of ``total`` rounded up (or down).

    Raises ``ValueError`` for a string that is not a percentage (upstream: "invalid value for IntOrString").
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if not value.endswith("%"):
            raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage")
        try:
            percent = int(value[:-1])
        except ValueError:
            raise ValueError(f"invalid value for IntOrString: invalid value {value!r}") from None
        scaled = percent * total / 100
        return int(math.ceil(scaled)) if round_up else int(math.floor(scaled))
    raise ValueError(f"invalid value for IntOrString: {value!r}")


def surge_count(ds: Mapping, number_to_schedule: int) -> int:
    """``util.SurgeCount``: 0 unless RollingUpdate with ``maxSurge``; percentages of ``number_to_schedule``."""
    if update_strategy_type(ds) != ROLLING_UPDATE:
        return 0
    rolling = _update_strategy(ds).get("rollingUpdate")
    if rolling is None or rolling.get("maxSurge") is None:
        return DEFAULT_MAX_SURGE
    return get_scaled_value_from_int_or_percent(rolling["maxSurge"], number_to_schedule, True)


def unavailable_count(ds: Mapping, number_to_schedule: int) -> int:
    """``util.UnavailableCount``: 0 unless RollingUpdate; ``maxUnavailable`` (defaulted to 1) scaled."""
    if update_strategy_type(ds) != ROLLING_UPDATE:
        return 0
    rolling = _update_strategy(ds).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable")
    if value is None:
        value = DEFAULT_MAX_UNAVAILABLE
    return get_scaled_value_from_int_or_percent(value, number_to_schedule, True)


def allows_surge(ds: Mapping) -> bool:
    """``util.AllowsSurge``: a surge of at least one pod per node is configured."""
    try:
        return surge_count(ds, 1) > 0
    except ValueError:
        return False


def updated_desired_node_counts(
    ds: Mapping, nodes: Iterable[Mapping], node_to_daemon_pods: Mapping[str, list]
) -> tuple[int, int, int, dict[str, list]]:
    """``updatedDesiredNodeCounts``: (maxSurge, maxUnavailable, desiredNumberScheduled, node→pods map).

    The returned map is a copy of ``node_to_daemon_pods`` with an empty list for every node that should run
    the pod and has none. When both budgets resolve to 0 on a non-empty DaemonSet, ``maxUnavailable`` is 1.
    Raises ``ValueError`` for an invalid ``maxUnavailable`` / ``maxSurge``.
    """
    result = {name: list(pods) for name, pods in node_to_daemon_pods.items()}
    desired = 0
    for node in nodes:
        if not node_should_run_daemon_pod(node, ds)[0]:
            continue
        desired += 1
        result.setdefault(_name(node), [])
    max_unavailable = unavailable_count(ds, desired)
    max_surge = surge_count(ds, desired)
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1
    return max_surge, max_unavailable, desired, result


def get_unavailable_numbers(
    ds: Mapping, nodes: Iterable[Mapping], node_to_daemon_pods: Mapping[str, list] | None = None
) -> tuple[int, int, int]:
    """(maxSurge, maxUnavailable, desiredNumberScheduled) as the rolling update computes them
    (``updatedDesiredNodeCounts``; upstream's test is still called TestGetUnavailableNumbers)."""
    max_surge, max_unavailable, desired, _ = updated_desired_node_counts(ds, nodes, node_to_daemon_pods or {})
    return max_surge, max_unavailable, desired


def find_updated_pods_on_node(ds: Mapping, pods_on_node: Iterable[Mapping], hash: str):
    """``findUpdatedPodsOnNode``: (new pod, old pod, ok) among the node's pods not being deleted; ``ok`` is
    False when there are two of a kind (then ``manage`` prunes the node first)."""
    generation = get_template_generation(ds)
    new, old = None, None
    for pod in pods_on_node:
        if _meta(pod).get("deletionTimestamp"):
            continue
        if is_pod_updated(pod, hash, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


# --- failed-pod backoff (client-go util/flowcontrol Backoff) ------------------------------------------------


@dataclass(frozen=True)
class BackoffEntry:
    """One ``flowcontrol.Backoff`` entry: the current delay and when it was last raised."""

    backoff: float
    last_update: datetime


@dataclass(frozen=True)
class DaemonSetMemory:
    """What the engine keeps for a DaemonSet between syncs (``SyncResult.memory``); opaque to the engine.

    ``failed_pods_backoff`` maps ``failedPodsBackoffKey`` = ``<ds uid>/<status.observedGeneration>/<node>`` to
    its entry, as sorted pairs so the memory compares and hashes by value.
    """

    failed_pods_backoff: tuple[tuple[str, BackoffEntry], ...] = ()

    def entries(self) -> dict[str, BackoffEntry]:
        return dict(self.failed_pods_backoff)


def failed_pods_backoff_key(ds: Mapping, node_name: str) -> str:
    """``failedPodsBackoffKey``: ``<uid>/<observedGeneration>/<node>`` (a new generation starts afresh)."""
    return f"{_meta(ds).get('uid') or ''}/{int(_status(ds).get('observedGeneration') or 0)}/{node_name}"


def _has_expired(now: datetime, last_update: datetime) -> bool:
    """``hasExpired``: an entry untouched for more than twice the maximum delay is forgotten."""
    return (now - last_update).total_seconds() > 2 * FAILED_POD_BACKOFF_MAX


def is_in_backoff_since_update(entries: Mapping[str, BackoffEntry], key: str, now: datetime) -> bool:
    """``Backoff.IsInBackOffSinceUpdate``: less than the current delay has passed since the last kill."""
    entry = entries.get(key)
    if entry is None or _has_expired(now, entry.last_update):
        return False
    return (now - entry.last_update).total_seconds() < entry.backoff


def next_backoff(entries: Mapping[str, BackoffEntry], key: str, now: datetime) -> BackoffEntry:
    """``Backoff.Next``: 1 s for a new (or expired) entry, else twice the delay, capped at 15 min."""
    entry = entries.get(key)
    if entry is None or _has_expired(now, entry.last_update):
        return BackoffEntry(FAILED_POD_BACKOFF_INITIAL, now)
    return BackoffEntry(min(entry.backoff * 2, FAILED_POD_BACKOFF_MAX), now)


# --- one sync's working state -------------------------------------------------------------------------------


def get_nodes_to_daemon_pods(pods: Iterable[Mapping], include_deleted_terminal: bool = False) -> dict[str, list]:
    """``getNodesToDaemonPods``: pods grouped by target node (``get_target_node_name``), in list order.

    Terminal pods that are already being deleted are left out unless ``include_deleted_terminal``: the DaemonSet
    has nothing more to do with them (history cleanup still counts their hashes).
    """
    result: dict[str, list] = {}
    for pod in pods:
        if not include_deleted_terminal and is_pod_terminal(dict(pod)) and _meta(pod).get("deletionTimestamp"):
            continue
        node = get_target_node_name(pod)
        if node is None:
            continue
        result.setdefault(node, []).append(pod)
    return result


@dataclass
class _SyncCtx:
    ds: dict
    nodes: list[dict]
    pods: list[dict]
    now: datetime
    backoff: dict[str, BackoffEntry]
    actions: list = field(default_factory=list)
    action_notes: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    requeues: list[float] = field(default_factory=list)
    next_batch: int = 0
    projected: int = 0

    @property
    def node_names(self) -> set[str]:
        return {_name(n) for n in self.nodes}

    def node(self, name: str) -> dict | None:
        for node in self.nodes:
            if _name(node) == name:
                return node
        return None

    def event(self, event_type: str, reason: str, message: str) -> EmitEvent:
        return EmitEvent(daemonset_reference(self.ds), event_type, reason, message, COMPONENT)

    def emit(self, event_type: str, reason: str, message: str) -> None:
        self.actions.append(self.event(event_type, reason, message))
        self.action_notes.append(f"event {event_type} {reason}: {message}")

    def note(self, text: str) -> None:
        self.decisions.append(text)


# --- history (update.go constructHistory / cleanupHistory) --------------------------------------------------


@dataclass
class _History:
    hash: str = ""
    current: dict | None = None
    old: list = field(default_factory=list)
    collision: bool = False


def construct_history(ctx: _SyncCtx, revisions: list[dict]) -> _History:
    """``constructHistory``: split the owned revisions into the current one and the old ones, creating the
    current revision (``max(old)+1``) when none matches, renumbering it when it is older than an old one (a
    ``rollout undo``), and deduplicating several matches (keep the highest, relabel pods, delete the rest)."""
    ds = ctx.ds
    namespace = _namespace(ds)
    history = _History()
    current: list[dict] = []
    for revision in sort_by_revision(revisions):
        labels = _labels(revision)
        if CONTROLLER_REVISION_HASH_LABEL not in labels:
            # Upstream labels such a revision with its own name (no hash to recompute, no collision to fear).
            ctx.actions.append(PatchObject("ControllerRevision", namespace, _name(revision),
                                           {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: _name(revision)}}}))
            ctx.action_notes.append(f"label ControllerRevision {_name(revision)} with its hash")
        if match(revision, ds):
            current.append(revision)
        else:
            history.old.append(revision)
    wanted = max_revision(history.old) + 1
    if not current:
        collision_count = _status(ds).get("collisionCount")
        hash_ = compute_hash(_template(ds), collision_count)
        name = f"{_name(ds)}-{hash_}"
        if any(_name(r) == name for r in history.old):
            # snapshot: AlreadyExists with a different template is a hash collision.
            history.collision = True
            history.hash = hash_
            ctx.note(f"revision name {name} is taken by a different template: hash collision, "
                     f"raise status.collisionCount to {int(collision_count or 0) + 1} and retry")
            return history
        revision = new_controller_revision(ds, wanted, hash_, get_patch(ds))
        ctx.actions.append(CreateObject(revision))
        ctx.action_notes.append(f"create ControllerRevision {name} (revision {wanted})")
        ctx.note(f"the template is new: record it as revision {wanted} ({hash_})")
        history.current, history.hash = revision, hash_
        return history
    keep = None
    for revision in current:
        if keep is None or revision_number(revision) >= revision_number(keep):
            keep = revision
    keep_hash = revision_hash(keep)
    if len(current) > 1:
        for pod in ctx.pods:
            if _labels(pod).get(CONTROLLER_REVISION_HASH_LABEL) != keep_hash:
                ctx.actions.append(PatchObject("Pod", _namespace(pod), _name(pod),
                                               {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: keep_hash}}}))
                ctx.action_notes.append(f"relabel pod {_name(pod)} with {CONTROLLER_REVISION_HASH_LABEL}={keep_hash}")
        for revision in current:
            if revision is keep:
                continue
            ctx.actions.append(DeleteObject("ControllerRevision", namespace, _name(revision),
                                            _meta(revision).get("uid") or ""))
            ctx.action_notes.append(f"delete duplicate ControllerRevision {_name(revision)}")
        ctx.note(f"{len(current)} revisions hold the current template: keep {_name(keep)}, delete the others")
    if revision_number(keep) < wanted:
        ctx.actions.append(PatchObject("ControllerRevision", namespace, _name(keep), {"revision": wanted}))
        ctx.action_notes.append(f"renumber ControllerRevision {_name(keep)} to revision {wanted}")
        ctx.note(f"the template returned to revision {revision_number(keep)} ({keep_hash}): renumber it {wanted}")
        keep = dict(keep, revision=wanted)
    history.current, history.hash = keep, keep_hash
    return history


def cleanup_history(ctx: _SyncCtx, old: list[dict]) -> None:
    """``cleanupHistory``: delete the oldest old revisions beyond ``revisionHistoryLimit``, skipping any whose
    hash a pod of this DaemonSet still carries."""
    to_kill = len(old) - revision_history_limit(ctx.ds)
    if to_kill <= 0:
        return
    live = set()
    for pods in get_nodes_to_daemon_pods(ctx.pods, include_deleted_terminal=True).values():
        for pod in pods:
            if _labels(pod).get(CONTROLLER_REVISION_HASH_LABEL):
                live.add(_labels(pod)[CONTROLLER_REVISION_HASH_LABEL])
    deleted = []
    for revision in sort_by_revision(old):
        if to_kill <= 0:
            break
        if revision_hash(revision) in live:
            continue
        ctx.actions.append(DeleteObject("ControllerRevision", _namespace(ctx.ds), _name(revision),
                                        _meta(revision).get("uid") or ""))
        ctx.action_notes.append(f"delete ControllerRevision {_name(revision)} (revision {revision_number(revision)})")
        deleted.append(str(revision_number(revision)))
        to_kill -= 1
    if deleted:
        ctx.note(f"revisionHistoryLimit {revision_history_limit(ctx.ds)}: delete old revision"
                 f"{'s' if len(deleted) > 1 else ''} {', '.join(deleted)}")


# --- manage (daemon_controller.go) --------------------------------------------------------------------------


#: Marks the pods ``sync_nodes`` projects into the working list (their real names come from the API server).
_PLANNED_MARK = "<planned-"


def _pod_words(pod: Mapping) -> str:
    if _PLANNED_MARK in _name(pod):
        return "pod (being created)"
    return f"pod {_name(pod)}"


def pods_should_be_on_node(ctx: _SyncCtx, node: dict, node_to_daemon_pods: Mapping[str, list], hash: str):
    """``podsShouldBeOnNode``: (create a pod on this node?, pods to delete). Emits ``FailedDaemonPod`` /
    ``SucceededDaemonPod``, keeps the failed-pod backoff, and explains the node's decision in the trace."""
    ds, now = ctx.ds, ctx.now
    node_name = _name(node)
    should_run, should_continue, reason = _should_run(node, ds)
    daemon_pods = node_to_daemon_pods.get(node_name)
    exists = daemon_pods is not None
    to_delete: list[dict] = []
    if should_run and not exists:
        ctx.note(f"{node_name}: should run the daemon pod and has none → create one")
        return True, to_delete
    if should_continue:
        running = []
        for pod in daemon_pods or []:
            if _meta(pod).get("deletionTimestamp"):
                continue
            phase = pod_phase(pod)
            if phase == POD_FAILED:
                key = failed_pods_backoff_key(ds, node_name)
                if is_in_backoff_since_update(ctx.backoff, key, now):
                    delay = ctx.backoff[key].backoff
                    ctx.requeues.append(delay)
                    ctx.note(f"{node_name}: {_pod_words(pod)} failed; deleting failed pods here backs off "
                             f"{delay:g}s → wait")
                    continue
                ctx.backoff[key] = next_backoff(ctx.backoff, key, now)
                ctx.emit("Warning", EVENT_FAILED_DAEMON_POD, EVENT_MESSAGE_FAILED_DAEMON_POD.format(
                    namespace=_namespace(pod), pod=_name(pod), node=node_name))
                ctx.note(f"{node_name}: {_pod_words(pod)} failed → delete it (next failure here backs off "
                         f"{ctx.backoff[key].backoff:g}s); its replacement comes in the next sync")
                to_delete.append(pod)
            elif phase == POD_SUCCEEDED:
                ctx.emit("Normal", EVENT_SUCCEEDED_DAEMON_POD, EVENT_MESSAGE_SUCCEEDED_DAEMON_POD.format(
                    namespace=_namespace(pod), pod=_name(pod), node=node_name))
                ctx.note(f"{node_name}: {_pod_words(pod)} succeeded → delete it")
                to_delete.append(pod)
            else:
                running.append(pod)
        if not should_run and running:
            ctx.note(f"{node_name}: {reason}; the existing pod keeps running (counted as misscheduled)")
        if not allows_surge(ds):
            if not running and should_run and any(_meta(p).get("deletionTimestamp") for p in daemon_pods or []):
                ctx.note(f"{node_name}: its daemon pod is terminating → wait until it is gone, then create one")
            if len(running) > 1:
                ordered = sort_pods_by_creation(running)
                to_delete.extend(ordered[1:])
                ctx.note(f"{node_name}: {len(running)} daemon pods → keep the oldest, {_name(ordered[0])}, "
                         f"delete {len(running) - 1}")
            return False, to_delete
        if len(running) <= 1:
            if not running and should_run:
                # Surging: the node needs at least one pod that is not being deleted.
                ctx.note(f"{node_name}: no daemon pod left that is not being deleted → create one")
                return True, to_delete
            return False, to_delete
        oldest_new, oldest_old = None, None
        for pod in sort_pods_by_creation(running):
            if _labels(pod).get(CONTROLLER_REVISION_HASH_LABEL) == hash:
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            to_delete.append(pod)
            ctx.note(f"{node_name}: surplus {_pod_words(pod)} → delete it")
        if oldest_new is not None and oldest_old is not None:
            if not is_pod_ready(oldest_old):
                to_delete.append(oldest_old)
                ctx.note(f"{node_name}: old {_pod_words(oldest_old)} is not ready and new "
                         f"{_pod_words(oldest_new)} exists → delete the old one")
            elif is_pod_available(oldest_new, _min_ready_seconds(ds), now):
                to_delete.append(oldest_old)
                ctx.note(f"{node_name}: new {_pod_words(oldest_new)} is available → delete old "
                         f"{_pod_words(oldest_old)}")
        return False, to_delete
    if exists:
        live = [p for p in daemon_pods if not _meta(p).get("deletionTimestamp")]
        to_delete.extend(live)
        if live:
            ctx.note(f"{node_name}: {reason} → delete its {len(live)} daemon pod{'s' if len(live) > 1 else ''}")
    return False, to_delete


def get_unscheduled_pods_without_node(nodes: Iterable[Mapping], node_to_daemon_pods: Mapping[str, list]) -> list:
    """``getUnscheduledPodsWithoutNode``: unbound pods aimed at a node that no longer exists (PodGC only
    collects pods that were bound)."""
    existing = {_name(n) for n in nodes}
    result = []
    for node_name in sorted(node_to_daemon_pods):
        if node_name in existing:
            continue
        result.extend(p for p in node_to_daemon_pods[node_name] if not _spec(p).get("nodeName"))
    return result


def _project_create(ctx: _SyncCtx, pod: dict) -> None:
    """Add a planned pod to the working list, as the informer will show it: pending, unbound, created now."""
    ctx.projected += 1
    projected = copy.deepcopy(pod)
    meta = projected["metadata"]
    meta["name"] = f"{meta.get('generateName', '')}{_PLANNED_MARK}{ctx.projected}>"
    meta["creationTimestamp"] = format_time(ctx.now)
    projected["status"] = {"phase": POD_PENDING}
    ctx.pods.append(projected)


def _project_delete(ctx: _SyncCtx, pod: Mapping) -> None:
    """Mark a pod this plan deletes as a graceful delete leaves it: with a deletionTimestamp."""
    for i, candidate in enumerate(ctx.pods):
        same = _name(candidate) == _name(pod) and _meta(candidate).get("uid") == _meta(pod).get("uid")
        if candidate is pod or same:
            marked = copy.deepcopy(candidate)
            marked["metadata"]["deletionTimestamp"] = format_time(ctx.now)
            ctx.pods[i] = marked
            return


def sync_nodes(ctx: _SyncCtx, pods_to_delete: list, nodes_needing_daemon_pods: list[str], hash: str) -> None:
    """``syncNodes``: plan up to 250 creates in slow-start batches (1, 2, 4, ...) and up to 250 deletes."""
    ds = ctx.ds
    create_diff = min(len(nodes_needing_daemon_pods), BURST_REPLICAS)
    delete_diff = min(len(pods_to_delete), BURST_REPLICAS)
    if len(nodes_needing_daemon_pods) > create_diff:
        ctx.note(f"{len(nodes_needing_daemon_pods)} nodes need a pod; at most {BURST_REPLICAS} are created per sync")
    if len(pods_to_delete) > delete_diff:
        ctx.note(f"{len(pods_to_delete)} pods to delete; at most {BURST_REPLICAS} are deleted per sync")
    position, batch_size = 0, min(create_diff, SLOW_START_INITIAL_BATCH_SIZE)
    batch = ctx.next_batch
    while position < create_diff:
        for node_name in nodes_needing_daemon_pods[position:position + batch_size]:
            pod = new_daemon_pod(ds, node_name, hash)
            ctx.actions.append(CreateObject(
                pod,
                batch=batch,
                success_event=ctx.event("Normal", EVENT_SUCCESSFUL_CREATE, EVENT_MESSAGE_SUCCESSFUL_CREATE),
                failure_event=ctx.event("Warning", EVENT_FAILED_CREATE, EVENT_MESSAGE_FAILED_CREATE),
            ))
            ctx.action_notes.append(f"create pod {pod['metadata']['generateName']}… for {node_name}")
            _project_create(ctx, pod)
        position += batch_size
        batch += 1
        batch_size = min(2 * batch_size, create_diff - position)
    if create_diff:
        ctx.next_batch = batch
    for pod in pods_to_delete[:delete_diff]:
        name = _name(pod)
        ctx.actions.append(DeleteObject(
            "Pod",
            _namespace(pod),
            name,
            _meta(pod).get("uid") or "",
            success_event=ctx.event("Normal", EVENT_SUCCESSFUL_DELETE, EVENT_MESSAGE_SUCCESSFUL_DELETE).bind(name=name),
            failure_event=ctx.event("Warning", EVENT_FAILED_DELETE, EVENT_MESSAGE_FAILED_DELETE),
        ))
        ctx.action_notes.append(f"delete pod {name}")
        _project_delete(ctx, pod)


def manage(ctx: _SyncCtx, hash: str) -> None:
    """``manage``: ``pods_should_be_on_node`` for every node, plus unbound pods whose node is gone."""
    node_to_pods = get_nodes_to_daemon_pods(ctx.pods)
    creates: list[str] = []
    deletes: list = []
    for node in ctx.nodes:
        create, delete = pods_should_be_on_node(ctx, node, node_to_pods, hash)
        if create:
            creates.append(_name(node))
        deletes.extend(delete)
    orphaned = get_unscheduled_pods_without_node(ctx.nodes, node_to_pods)
    for pod in orphaned:
        ctx.note(f"{_pod_words(pod)} waits for node {get_target_node_name(pod)}, which no longer exists → delete it")
    deletes.extend(orphaned)
    sync_nodes(ctx, deletes, creates, hash)


# --- rolling update (update.go) -----------------------------------------------------------------------------


def _ordered_node_names(ctx: _SyncCtx, node_to_pods: Mapping[str, list]) -> list[str]:
    """Nodes in node-list order, then nodes that only pods mention (sorted): upstream walks a Go map."""
    names = [_name(n) for n in ctx.nodes if _name(n) in node_to_pods]
    return names + sorted(set(node_to_pods) - set(names))


def _hash_of(pod: Mapping) -> str:
    return _short(_labels(pod).get(CONTROLLER_REVISION_HASH_LABEL, ""))


def rolling_update(ctx: _SyncCtx, hash: str) -> None:
    """``rollingUpdate``: replace old pods within the ``maxUnavailable`` / ``maxSurge`` budget."""
    ds, now = ctx.ds, ctx.now
    min_ready = _min_ready_seconds(ds)
    try:
        max_surge, max_unavailable, desired, node_to_pods = updated_desired_node_counts(
            ds, ctx.nodes, get_nodes_to_daemon_pods(ctx.pods))
    except ValueError as error:
        ctx.note(f"rolling update skipped: {error}")
        return

    if max_surge == 0:
        num_unavailable = 0
        allowed: list = []
        candidates: list = []
        for node_name in _ordered_node_names(ctx, node_to_pods):
            new, old, ok = find_updated_pods_on_node(ds, node_to_pods[node_name], hash)
            if not ok:
                num_unavailable += 1
                ctx.note(f"{node_name}: more than one pod of a revision; manage prunes it first "
                         "(counts as unavailable)")
                continue
            if (old is None and new is None) or (old is not None and new is not None):
                num_unavailable += 1
                continue
            if new is not None:
                if not is_pod_available(new, min_ready, now):
                    num_unavailable += 1
                    ctx.note(f"{node_name}: new {_pod_words(new)} not available yet (uses the unavailable budget)")
                continue
            if not is_pod_available(old, min_ready, now):
                allowed.append(old)
                num_unavailable += 1
                ctx.note(f"{node_name}: old revision {_hash_of(old)}, {_pod_words(old)} not available → delete it "
                         f"(an unavailable old pod is always replaced)")
            elif num_unavailable >= max_unavailable:
                ctx.note(f"{node_name}: old revision {_hash_of(old)}, unavailable budget {num_unavailable} of "
                         f"{max_unavailable} used → wait")
            else:
                candidates.append((node_name, old))
        remaining = max(0, max_unavailable - num_unavailable)
        remaining = min(remaining, len(candidates))
        for index, (node_name, old) in enumerate(candidates):
            if index < remaining:
                ctx.note(f"{node_name}: old revision {_hash_of(old)} → delete {_pod_words(old)} (unavailable "
                         f"{num_unavailable + index + 1} of {max_unavailable}); manage recreates it next sync")
            else:
                ctx.note(f"{node_name}: old revision {_hash_of(old)}, unavailable budget {max_unavailable} of "
                         f"{max_unavailable} used → wait")
        sync_nodes(ctx, allowed + [old for _, old in candidates[:remaining]], [], hash)
        return

    old_to_delete: list = []
    should_not_run_to_delete: list = []
    candidate_nodes: list[str] = []
    allowed_nodes: list[str] = []
    num_surge = 0
    num_available = 0
    for node_name in _ordered_node_names(ctx, node_to_pods):
        new, old, ok = find_updated_pods_on_node(ds, node_to_pods[node_name], hash)
        if not ok:
            num_surge += 1
            ctx.note(f"{node_name}: more than one pod of a revision; manage prunes it first (counts as surge)")
            continue
        if old is not None:
            if is_pod_available(old, min_ready, now):
                num_available += 1
        elif new is not None and is_pod_available(new, min_ready, now):
            num_available += 1
        if old is None:
            continue
        if new is None:
            node = ctx.node(node_name)
            if node is None:
                ctx.note(f"rolling update stopped: node {node_name} not found")
                return
            should_run = node_should_run_daemon_pod(node, ds)[0]
            if not is_pod_available(old, min_ready, now):
                if not should_run:
                    old_to_delete.append(old)
                    ctx.note(f"{node_name}: old {_pod_words(old)} not available and the node no longer qualifies "
                             f"→ delete it")
                    continue
                allowed_nodes.append(node_name)
                ctx.note(f"{node_name}: old {_pod_words(old)} not available → create the new pod now "
                         f"(outside the surge budget)")
                continue
            if not should_run:
                should_not_run_to_delete.append(old)
                continue
            if num_surge >= max_surge:
                ctx.note(f"{node_name}: old revision {_hash_of(old)}, surge budget {num_surge} of {max_surge} "
                         f"used → wait")
                continue
            candidate_nodes.append(node_name)
            continue
        if not is_pod_available(new, min_ready, now):
            num_surge += 1
            ctx.note(f"{node_name}: new {_pod_words(new)} not available yet; old {_pod_words(old)} keeps serving")
            continue
        old_to_delete.append(old)
        ctx.note(f"{node_name}: new {_pod_words(new)} is available → delete old {_pod_words(old)}")

    remaining = max_surge - num_surge
    deletable = num_available - desired
    if deletable > 0:
        for pod in should_not_run_to_delete[:min(deletable, len(should_not_run_to_delete))]:
            old_to_delete.append(pod)
            ctx.note(f"{get_target_node_name(pod)}: no longer qualifies and {num_available} pods are available "
                     f"for {desired} nodes → delete {_pod_words(pod)}")
    for pod in should_not_run_to_delete[max(deletable, 0):]:
        ctx.note(f"{get_target_node_name(pod)}: no longer qualifies; keep {_pod_words(pod)} until a replacement "
                 f"elsewhere is available")
    remaining = min(max(remaining, 0), len(candidate_nodes))
    for index, node_name in enumerate(candidate_nodes):
        if index < remaining:
            ctx.note(f"{node_name}: old pod available → surge a new pod (surge {num_surge + index + 1} of "
                     f"{max_surge})")
        else:
            ctx.note(f"{node_name}: old pod available, surge budget {max_surge} of {max_surge} used → wait")
    sync_nodes(ctx, old_to_delete, allowed_nodes + candidate_nodes[:remaining], hash)


# --- status (updateDaemonSetStatus / storeDaemonSetStatus) --------------------------------------------------

#: ``DaemonSetStatus`` fields in Go field order; the last four ints are ``omitempty``.
_STATUS_INTS = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady")
_STATUS_OMITEMPTY = ("observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable")


def _status_dict(counts: Mapping[str, int], old: Mapping) -> dict:
    status: dict = {}
    for key in _STATUS_INTS:
        status[key] = int(counts.get(key) or 0)
    for key in _STATUS_OMITEMPTY:
        if int(counts.get(key) or 0):
            status[key] = int(counts[key])
    if old.get("collisionCount") is not None:
        status["collisionCount"] = int(old["collisionCount"])
    if old.get("conditions"):
        status["conditions"] = copy.deepcopy(old["conditions"])
    return status


def calculate_status(ds: Mapping, nodes: Iterable[Mapping], pods: Iterable[Mapping], hash: str,
                     now: datetime) -> dict[str, int]:
    """The counts of ``updateDaemonSetStatus``; for each node that should run the pod, its *oldest* pod decides
    ready / available / updated; a pod on a node that should not run one is misscheduled."""
    node_to_pods = get_nodes_to_daemon_pods(pods)
    generation = get_template_generation(ds)
    min_ready = _min_ready_seconds(ds)
    counts = dict.fromkeys(_STATUS_INTS + _STATUS_OMITEMPTY[1:], 0)
    for node in nodes:
        should_run = node_should_run_daemon_pod(node, ds)[0]
        daemon_pods = node_to_pods.get(_name(node)) or []
        if should_run:
            counts["desiredNumberScheduled"] += 1
            if not daemon_pods:
                continue
            counts["currentNumberScheduled"] += 1
            pod = sort_pods_by_creation(daemon_pods)[0]
            if is_pod_ready(pod):
                counts["numberReady"] += 1
                if is_pod_available(pod, min_ready, now):
                    counts["numberAvailable"] += 1
            if is_pod_updated(pod, hash, generation):
                counts["updatedNumberScheduled"] += 1
        elif daemon_pods:
            counts["numberMisscheduled"] += 1
    counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    return counts


def update_daemonset_status(ctx: _SyncCtx, hash: str, update_observed_gen: bool) -> tuple[dict | None, str]:
    """``updateDaemonSetStatus``: (the new status, or None when nothing changed; a one-line summary)."""
    ds = ctx.ds
    old = _status(ds)
    counts = calculate_status(ds, ctx.nodes, ctx.pods, hash, ctx.now)
    generation = int(_meta(ds).get("generation") or 0)
    observed = int(old.get("observedGeneration") or 0)
    counts["observedGeneration"] = generation if update_observed_gen else observed
    summary = (f"desired {counts['desiredNumberScheduled']}, current {counts['currentNumberScheduled']}, "
               f"ready {counts['numberReady']}, up-to-date {counts['updatedNumberScheduled']}, "
               f"available {counts['numberAvailable']}, misscheduled {counts['numberMisscheduled']}")
    new_status = _status_dict(counts, old)
    if new_status == _status_dict({k: old.get(k) for k in _STATUS_INTS + _STATUS_OMITEMPTY}, old):
        return None, summary
    return new_status, summary


def _min_ready_requeue(ctx: _SyncCtx) -> float | None:
    """When a ready pod will have been ready for ``minReadySeconds``: upstream requeues after
    ``minReadySeconds`` (and one more second after a pod turns ready); we wait for the earliest such pod."""
    min_ready = _min_ready_seconds(ctx.ds)
    if not min_ready:
        return None
    waits = []
    for pods in get_nodes_to_daemon_pods(ctx.pods).values():
        for pod in pods:
            if _meta(pod).get("deletionTimestamp") or not is_pod_ready(pod):
                continue
            if is_pod_available(pod, min_ready, ctx.now):
                continue
            condition = get_pod_condition(pod, POD_READY) or {}
            since = parse_time(condition.get("lastTransitionTime"))
            if since is None or since == ZERO_TIME:
                waits.append(float(min_ready))
            else:
                waits.append(max((since + timedelta(seconds=min_ready) - ctx.now).total_seconds(), 0.0) + 1.0)
    return min(waits) if waits else None


# --- the sync -----------------------------------------------------------------------------------------------


def _selects_everything(selector) -> bool:
    return isinstance(selector, Mapping) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def _release_patch(pod: Mapping, ds: Mapping) -> dict:
    """Drop this DaemonSet's reference from a pod that no longer matches its selector (``ClaimPods`` release)."""
    uid = _meta(ds).get("uid")
    refs = [dict(r) for r in _meta(pod).get("ownerReferences") or [] if r.get("uid") != uid]
    return {"metadata": {"ownerReferences": refs}}


def _memory(backoff: Mapping[str, BackoffEntry], now: datetime) -> DaemonSetMemory | None:
    """Forget expired entries (upstream's ``Backoff.GC`` every minute); None when nothing is left."""
    kept = tuple(sorted((k, v) for k, v in backoff.items() if not _has_expired(now, v.last_update)))
    return DaemonSetMemory(kept) if kept else None


def sync_daemonset(
    ds: dict,
    nodes: list[dict],
    pods: list[dict],
    revisions: list[dict],
    now: datetime,
    *,
    memory: DaemonSetMemory | None = None,
    expectations_satisfied: bool = True,
    trigger: str = "",
) -> SyncResult:
    """Reconcile one DaemonSet at ``now``; upstream ``syncDaemonSet``.

    ``nodes`` are all the cluster's Nodes; ``pods`` the pods whose controller reference is this DaemonSet
    (others are ignored; those whose labels no longer match the selector are released); ``revisions`` the
    ControllerRevisions it controls. ``memory`` is the previous sync's ``SyncResult.memory``.
    ``expectations_satisfied`` is false while the engine has not yet observed an earlier plan's creates and
    deletes: then only the status counts are refreshed. Inputs are never mutated.
    """
    key = daemonset_key(ds)
    memory = memory or DaemonSetMemory()

    def trace(observed: str, decision: str, notes=()) -> Trace:
        return Trace(CONTROLLER, key, trigger, observed, decision, tuple(notes))

    selector = _spec(ds).get("selector")
    if _selects_everything(selector):
        event = EmitEvent(daemonset_reference(ds), "Warning", EVENT_SELECTING_ALL, EVENT_MESSAGE_SELECTING_ALL,
                          COMPONENT)
        return SyncResult((event,), None, None, trace(
            "spec.selector is empty", "a DaemonSet selecting every pod is not synced",
            (f"event Warning {EVENT_SELECTING_ALL}: {EVENT_MESSAGE_SELECTING_ALL}",)),
            memory if memory.failed_pods_backoff else None)
    if _meta(ds).get("deletionTimestamp"):
        return SyncResult((), None, None, trace("the DaemonSet is being deleted",
                                                "do nothing: its pods and revisions belong to the garbage collector"),
                          memory if memory.failed_pods_backoff else None)
    try:
        label_selector = selector_from_label_selector(selector)
    except SelectorError as error:
        return SyncResult((), None, None, trace(f"invalid selector: {error}", "cannot sync"),
                          memory if memory.failed_pods_backoff else None)

    ds = copy.deepcopy(ds)
    template_spec = _template(ds).get("spec") or {}
    _SYNC_PROBE[:] = [template_spec, add_or_update_daemon_pod_tolerations(template_spec)]
    try:
        return _sync_daemonset_copy(ds, nodes, pods, revisions, now, memory, label_selector, trace,
                                    expectations_satisfied)
    finally:
        _SYNC_PROBE.clear()


def _sync_daemonset_copy(ds, nodes, pods, revisions, now, memory, label_selector, trace,
                         expectations_satisfied):
    """The body of ``sync_daemonset`` on its private copy of the DaemonSet."""
    ctx = _SyncCtx(
        ds=ds,
        nodes=sorted(nodes, key=_name),  # nodes and pods are only read: no copies
        pods=[],
        now=now,
        backoff=memory.entries(),
    )
    for pod in sorted(pods, key=lambda p: (_name(p), _meta(p).get("uid") or "")):
        if not is_controlled_by(pod, ds):
            continue
        if label_selector.matches(_labels(pod)):
            ctx.pods.append(pod)
        else:
            ctx.actions.append(PatchObject("Pod", _namespace(pod), _name(pod), _release_patch(pod, ds)))
            ctx.action_notes.append(f"release pod {_name(pod)}: its labels no longer match the selector")
    owned_revisions = [copy.deepcopy(r) for r in revisions if is_controlled_by(r, ds)]

    history = construct_history(ctx, owned_revisions)
    if history.collision:
        status = copy.deepcopy(dict(_status(ds)))
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        return SyncResult(tuple(ctx.actions), status, 0.0,
                          trace(f"{len(ctx.pods)} pods, {len(owned_revisions)} revisions", "; ".join(ctx.decisions),
                                ["write status.collisionCount"] + ctx.action_notes),
                          _memory(ctx.backoff, now))
    hash_ = history.hash
    current_revision = revision_number(history.current or {})
    wanting = sum(1 for n in ctx.nodes if node_should_run_daemon_pod(n, ds)[0])
    observed = (f"{len(ctx.nodes)} nodes, {wanting} should run the pod; {len(ctx.pods)} pods; "
                f"{update_strategy_type(ds)}; current revision {current_revision} ({hash_})")

    if not expectations_satisfied:
        ctx.note("expectations not satisfied: wait for earlier creations/deletions, only refresh the counts")
        status, summary = update_daemonset_status(ctx, hash_, False)
    else:
        manage(ctx, hash_)
        if update_strategy_type(ds) == ROLLING_UPDATE:
            rolling_update(ctx, hash_)
        cleanup_history(ctx, history.old)
        status, summary = update_daemonset_status(ctx, hash_, True)
    if status is not None:
        ctx.action_notes.insert(0, f"write status ({summary})")
    requeue = _min_ready_requeue(ctx)
    if requeue is not None:
        ctx.requeues.append(requeue)
    decision = "; ".join(ctx.decisions) or f"every node has what it should: no pod to create or delete ({summary})"
    return SyncResult(
        actions=tuple(ctx.actions),
        status=status,
        requeue_after=min(ctx.requeues) if ctx.requeues else None,
        trace=trace(observed, decision, ctx.action_notes),
        memory=_memory(ctx.backoff, now),
    )
