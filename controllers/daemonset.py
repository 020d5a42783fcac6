"""The DaemonSet controller (apps/v1), as a pure function from observed state to a plan.

It follows upstream's ``pkg/controller/daemon/daemon_controller.go``, ``update.go`` and
``util/daemonset_util.go`` as of Kubernetes 1.31-1.34 (DaemonSetUpdateSurge is GA, pods are placed by the
default scheduler through node affinity), in their order: what ``syncDaemonSet`` calls from
``daemon_controller.go`` first, then ``update.go``'s rolling update and history, then the utilities.
``sync_daemonset(ds, nodes, pods, revisions, now)`` is upstream's ``syncDaemonSet``:

1. a DaemonSet being deleted is left alone; one selecting every pod only gets the ``SelectingAll`` warning;
2. ``construct_history``: find the ControllerRevision holding the current template, create it (revision
   ``max+1``) or renumber it to ``max+1`` (a ``rollout undo``), drop duplicates; its hash labels new pods;
3. ``update_daemonset``: ``manage``, where per node ``pods_should_be_on_node`` decides what to create and delete
   (failed pods with a per-node backoff, succeeded pods, surplus pods, pods on nodes that no longer qualify),
   then ``sync_nodes`` plans the creates (slow-start batches) and deletes; ``rolling_update`` for
   ``RollingUpdate`` DaemonSets, with ``maxSurge == 0`` (delete old pods within the ``maxUnavailable`` budget;
   the next ``manage`` recreates them) or ``maxSurge > 0`` (create the new pod first, delete the old one once
   the new one is available); ``cleanup_history``: drop old revisions beyond ``revisionHistoryLimit`` that no
   live pod carries;
4. ``update_daemonset_status``: the counts ``kubectl get ds`` shows.

Step 3 only runs when ``expectations_satisfied`` (the engine has observed the effects of earlier plans);
otherwise only the counts are refreshed and ``observedGeneration`` is not raised.

One sync, one plan
------------------
Upstream's ``manage`` writes through the API and ``rollingUpdate`` then reads the informer cache, which (in
upstream's unit tests, whose fake pod control updates the cache at once) already holds manage's pods. A plan is
applied only after the sync, so this controller *projects* its own actions instead: pods it plans to create
are added to its working state as pending, unscheduled pods with the new hash, and pods it plans to delete get
a ``deletionTimestamp`` (as a graceful delete does). ``rolling_update``, ``cleanup_history`` and the status then
see that projected state. This is what makes a surge rollout step "delete 2 old pods, create 2 new ones" happen
in one sync, exactly as upstream's ``update_test.go`` sequences expect, and why the first sync of a new
DaemonSet already reports ``currentNumberScheduled`` for the pods it is creating.

Reading once, and the fast path
-------------------------------
Upstream's ``manage``, ``rollingUpdate`` and ``updateDaemonSetStatus`` each walk the node list and ask
``NodeShouldRunDaemonPod``. Here a sync reads the cluster once (``read_nodes_and_pods``): each node's answer as a
``NodeDecision``, each pod as ``PodFacts``, the pods grouped by node; the three walks read those. That walk over
every node is the reference. A controller-manager on a large cluster syncs a DaemonSet after nearly every event
of one of its pods, so it passes a ``DaemonSetCache`` (``controllers/daemonset_cache.py``): through that one
seam, the ``cache`` argument of ``sync_daemonset``, the sync reads and walks only the nodes whose Node or pods
changed since the previous sync, and plans exactly what the plain walk plans (the differential tests in
``tests/controllers/test_daemonset_incremental.py`` compare the two on random histories). Per-node decisions in
the trace are listed one by one up to ``NOTE_LIMIT`` of a kind, then folded into one line ("500 nodes (node-0,
node-1, node-2 … node-499): ..."), and so are the notes of many creates or deletes, so a trace stays readable,
and small, on a 5,000-node cluster.

Pure Python over plain Kubernetes JSON dicts; inputs are never mutated; the only state kept between syncs is
the failed-pod backoff, returned in ``SyncResult.memory`` as a ``DaemonSetMemory`` (a ``DaemonSetCache`` only
remembers what a sync would read again).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import chain
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Callable, Iterable, Mapping

from controllers.objects import (
    meta as _meta,
    spec as _spec,
    status as _status,
    name as _name,
    namespace as _namespace,
)
from controllers.apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.apimachinery.objcopy import deep_copy
from controllers.apimachinery.ownerrefs import is_controlled_by, new_controller_ref
from controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    compute_hash,
    get_patch,
    matches_patch,
    max_revision,
    new_controller_revision,
    revision_hash,
    revision_number,
    sort_by_revision,
)
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from controllers.pods import (  # the pod events are RealPodControl's, as upstream's DaemonSet controller records
    EVENT_FAILED_CREATE,
    EVENT_FAILED_DELETE,
    EVENT_MESSAGE_FAILED_CREATE,
    EVENT_MESSAGE_FAILED_DELETE,
    EVENT_MESSAGE_SUCCESSFUL_CREATE,
    EVENT_MESSAGE_SUCCESSFUL_DELETE,
    EVENT_SUCCESSFUL_CREATE,
    EVENT_SUCCESSFUL_DELETE,
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

#: Trace lines of one kind (per-node decisions, pod creates, ...) listed one by one; more are folded into one.
NOTE_LIMIT = 5

# --- events (daemon_controller.go and controller_utils.go RealPodControl) -----------------------------------

EVENT_SELECTING_ALL = "SelectingAll"
EVENT_MESSAGE_SELECTING_ALL = "This daemon set is selecting all pods. A non-empty selector is required."
EVENT_FAILED_DAEMON_POD = "FailedDaemonPod"
EVENT_MESSAGE_FAILED_DAEMON_POD = "Found failed daemon pod {namespace}/{pod} on node {node}, will try to kill it"
EVENT_SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"
EVENT_MESSAGE_SUCCEEDED_DAEMON_POD = (
    "Found succeeded daemon pod {namespace}/{pod} on node {node}, will try to delete it"
)

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

_TERMINAL_PHASES = (POD_SUCCEEDED, POD_FAILED)


# --- syncDaemonSet and what it calls (daemon_controller.go) ------------------------------------------------


def get_nodes_to_daemon_pods(pods: Iterable[Mapping], include_deleted_terminal: bool = False) -> dict[str, list]:
    """``getNodesToDaemonPods``: pods grouped by target node (``get_target_node_name``), in list order.

    Terminal pods that are already being deleted are left out unless ``include_deleted_terminal``: the DaemonSet
    has nothing more to do with them (history cleanup still counts their hashes).
    """
    result: dict[str, list] = {}
    for pod in pods:
        if not include_deleted_terminal and is_pod_terminal(pod) and _meta(pod).get("deletionTimestamp"):
            continue
        node = get_target_node_name(pod)
        if node is None:
            continue
        result.setdefault(node, []).append(pod)
    return result


def read_nodes_and_pods(ctx: SyncContext, nodes: Iterable[Mapping], pods: Iterable[Mapping]) -> None:
    """What upstream's walks read, read once: the node list (``nodeLister.List``) with each node's
    ``NodeShouldRunDaemonPod`` answer, in name order, and ``getNodesToDaemonPods`` (``claim_pods``). Raises
    ``SelectorError`` for an invalid selector."""
    label_selector = selector_from_label_selector(_spec(ctx.ds).get("selector"))
    ctx.nodes = decide_nodes(nodes, Placement(ctx.ds))
    ctx.node_count = len(ctx.nodes)
    claim_pods(ctx, map(PodFacts, pods), label_selector)


def claim_pods(ctx: SyncContext, pods: Iterable[PodFacts], label_selector) -> None:
    """``getDaemonPods`` and ``getNodesToDaemonPods``: keep the pods this DaemonSet controls whose labels match
    its selector, grouped by target node (each node's pods in name order); plan the release of controlled pods
    that no longer match (``ClaimPods``)."""
    ds = ctx.ds
    owner_uid = (ds.get("metadata") or {}).get("uid", "")
    claimed, released, live_hashes = ctx.pods, [], ctx.live_hashes
    node_to_pods: dict[str, list[PodFacts]] = {}
    crowded = []
    for pod in pods:
        if not pod.has_controller or pod.controller_uid != owner_uid:  # metav1.IsControlledBy
            continue
        if not pod.selected_by(label_selector):
            released.append(pod)
            continue
        claimed.append(pod)
        node_name = pod.node
        if node_name is None:
            continue
        if pod.hash_label:
            live_hashes.add(pod.hash_label)
        if pod.deleting and pod.phase in _TERMINAL_PHASES:
            continue  # a terminal pod being deleted is no longer the DaemonSet's business
        on_node = node_to_pods.get(node_name)
        if on_node is None:
            node_to_pods[node_name] = [pod]
        else:
            on_node.append(pod)
            if len(on_node) == 2:
                crowded.append(on_node)
    for on_node in crowded:
        on_node.sort(key=_by_name_and_uid)
    ctx.node_to_pods = node_to_pods
    release_pods(ctx, released)


def release_pods(ctx: SyncContext, released: Iterable[PodFacts]) -> None:
    """Plan the release of controlled pods the selector no longer selects, in name order."""
    for pod in sorted(released, key=_by_name_and_uid):
        ctx.actions.append(PatchObject("Pod", pod.namespace, pod.name, _release_patch(pod.pod, ctx.ds)))
        ctx.action_notes.add_kind("release pod", pod.name,
                                  f"release pod {pod.name}: its labels no longer match the selector", "pods")


def _release_patch(pod: Mapping, ds: Mapping) -> dict:
    """Drop this DaemonSet's reference from a pod that no longer matches its selector (``ClaimPods`` release)."""
    uid = _meta(ds).get("uid")
    refs = [dict(r) for r in _meta(pod).get("ownerReferences") or [] if r.get("uid") != uid]
    return {"metadata": {"ownerReferences": refs}}


#: Marks the pods ``sync_nodes`` projects into the working state (their real names come from the API server).
_PLANNED_MARK = "<planned-"


def describe_pod(pod: PodFacts) -> str:
    """The pod as the trace names it ("pod (being created)" for one the plan creates)."""
    if _PLANNED_MARK in pod.name:
        return "pod (being created)"
    return f"pod {pod.name}"


def pods_should_be_on_node(ctx: SyncContext, node: NodeDecision, daemon_pods: list[PodFacts] | None, hash: str):
    """``podsShouldBeOnNode``: (create a pod on this node?, pods to delete), given the node's decision and its
    daemon pods (None when it has none). Emits ``FailedDaemonPod`` / ``SucceededDaemonPod``, keeps the
    failed-pod backoff, and explains the node's decision in the trace."""
    ds, now = ctx.ds, ctx.now
    node_name = node.name
    should_run, should_continue, reason = node.should_run, node.should_continue, node.reason
    exists = daemon_pods is not None
    to_delete: list[PodFacts] = []
    if should_run and not exists:
        ctx.node_note(node_name, "should run the daemon pod and has none → create one")
        return True, to_delete
    if should_continue:
        running = []
        for pod in daemon_pods or []:
            if pod.deleting:
                continue
            phase = pod.phase
            if phase == POD_FAILED:
                key = failed_pods_backoff_key(ds, node_name)
                if is_in_backoff_since_update(ctx.backoff, key, now):
                    delay = ctx.backoff[key].backoff
                    ctx.requeues.append(delay)
                    ctx.node_note(node_name, "a failed daemon pod waits out its deletion backoff → wait",
                                  f"{describe_pod(pod)} failed; deleting failed pods here backs off {delay:g}s → wait")
                    continue
                ctx.backoff[key] = next_backoff(ctx.backoff, key, now)
                ctx.emit("Warning", EVENT_FAILED_DAEMON_POD, EVENT_MESSAGE_FAILED_DAEMON_POD.format(
                    namespace=pod.namespace, pod=pod.name, node=node_name), pod.name)
                ctx.node_note(node_name, "a daemon pod failed → delete it; its replacement comes in the next sync",
                              f"{describe_pod(pod)} failed → delete it (next failure here backs off "
                              f"{ctx.backoff[key].backoff:g}s); its replacement comes in the next sync")
                to_delete.append(pod)
            elif phase == POD_SUCCEEDED:
                ctx.emit("Normal", EVENT_SUCCEEDED_DAEMON_POD, EVENT_MESSAGE_SUCCEEDED_DAEMON_POD.format(
                    namespace=pod.namespace, pod=pod.name, node=node_name), pod.name)
                ctx.node_note(node_name, "a daemon pod succeeded → delete it",
                              f"{describe_pod(pod)} succeeded → delete it")
                to_delete.append(pod)
            else:
                running.append(pod)
        if not should_run and running:
            ctx.node_note(node_name, f"{reason}; the existing pod keeps running (counted as misscheduled)")
        if not ctx.allows_surge:
            if not running and should_run and any(p.deleting for p in daemon_pods or []):
                ctx.node_note(node_name, "its daemon pod is terminating → wait until it is gone, then create one")
            if len(running) > 1:
                ordered = sorted(running, key=_by_sort_key)
                to_delete.extend(ordered[1:])
                ctx.node_note(node_name, "several daemon pods → keep the oldest, delete the others",
                              f"{len(running)} daemon pods → keep the oldest, {ordered[0].name}, "
                              f"delete {len(running) - 1}")
            return False, to_delete
        if len(running) <= 1:
            if not running and should_run:
                # Surging: the node needs at least one pod that is not being deleted.
                ctx.node_note(node_name, "no daemon pod left that is not being deleted → create one")
                return True, to_delete
            return False, to_delete
        oldest_new, oldest_old = None, None
        for pod in sorted(running, key=_by_sort_key):
            if pod.hash_label == hash:
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            to_delete.append(pod)
            ctx.node_note(node_name, "surplus daemon pod → delete it", f"surplus {describe_pod(pod)} → delete it")
        if oldest_new is not None and oldest_old is not None:
            if not oldest_old.ready:
                to_delete.append(oldest_old)
                ctx.node_note(node_name, "the old pod is not ready and a new one exists → delete the old one",
                              f"old {describe_pod(oldest_old)} is not ready and new {describe_pod(oldest_new)} exists "
                              f"→ delete the old one")
            elif oldest_new.available(ctx.min_ready, now):
                to_delete.append(oldest_old)
                ctx.node_note(node_name, "the new pod is available → delete the old one",
                              f"new {describe_pod(oldest_new)} is available → delete old {describe_pod(oldest_old)}")
        return False, to_delete
    if exists:
        live = [p for p in daemon_pods if not p.deleting]
        to_delete.extend(live)
        if live:
            ctx.node_note(node_name, f"{reason} → delete its daemon pods",
                          f"{reason} → delete its {len(live)} daemon pod{'s' if len(live) > 1 else ''}")
    return False, to_delete


def update_daemonset(ctx: SyncContext, walk: NodeWalk, hash: str, old: list[dict]) -> None:
    """``updateDaemonSet``: ``manage``, then (``RollingUpdate`` only) ``rolling_update``, then
    ``cleanup_history``. ``walk`` plays upstream's node list: how the steps go over the nodes."""
    ctx.allows_surge = allows_surge(ctx.ds)
    walk.manage(ctx, hash)
    if update_strategy_type(ctx.ds) == ROLLING_UPDATE:
        walk.rolling_update(ctx, hash)
    cleanup_history(ctx, old)


def manage(ctx: SyncContext, hash: str) -> None:
    """``manage``: ``pods_should_be_on_node`` for every node, plus unbound pods whose node is gone."""
    node_to_pods = ctx.node_to_pods
    creates: list[str] = []
    deletes: list = []
    found = desired = 0
    for node in ctx.nodes:
        if node.should_run:
            desired += 1
        pods = node_to_pods.get(node.name)
        if pods is None:
            if node.should_run:
                ctx.node_note(node.name, "should run the daemon pod and has none → create one")
                creates.append(node.name)
            continue
        found += 1
        if node.should_run and len(pods) == 1:
            # The common case, settled at once (podsShouldBeOnNode would find nothing to do): a node that should
            # run the pod has one, neither finished nor being deleted.
            pod = pods[0]
            if not pod.deleting and pod.phase not in _TERMINAL_PHASES:
                continue
        create, delete = pods_should_be_on_node(ctx, node, pods, hash)
        if create:
            creates.append(node.name)
        deletes.extend(delete)
    ctx.desired = desired
    ctx.missing = ctx.missing_nodes(found)
    deletes.extend(get_unscheduled_pods_without_node(ctx, node_to_pods))
    sync_nodes(ctx, deletes, creates, hash)


def sync_nodes(ctx: SyncContext, pods_to_delete: list, nodes_needing_daemon_pods: list[str], hash: str, *,
               creates_total: int | None = None) -> None:
    """``syncNodes``: plan up to 250 creates in slow-start batches (1, 2, 4, ...) and up to 250 deletes.

    ``creates_total``: how many nodes need a pod, when ``nodes_needing_daemon_pods`` only holds the first
    ``BURST_REPLICAS`` of them."""
    ds = ctx.ds
    creates_total = len(nodes_needing_daemon_pods) if creates_total is None else creates_total
    deletes_total = len(pods_to_delete)
    create_diff = min(creates_total, BURST_REPLICAS)
    delete_diff = min(deletes_total, BURST_REPLICAS)
    if creates_total > create_diff:
        ctx.note(f"{creates_total} nodes need a pod; at most {BURST_REPLICAS} are created per sync")
    if deletes_total > delete_diff:
        ctx.note(f"{deletes_total} pods to delete; at most {BURST_REPLICAS} are deleted per sync")
    position, batch_size = 0, min(create_diff, SLOW_START_INITIAL_BATCH_SIZE)
    batch = ctx.next_batch
    if create_diff:
        template = create_pod_template(_template(ds), get_template_generation(ds), hash)
        created = ctx.event("Normal", EVENT_SUCCESSFUL_CREATE, EVENT_MESSAGE_SUCCESSFUL_CREATE)
        failed = ctx.event("Warning", EVENT_FAILED_CREATE, EVENT_MESSAGE_FAILED_CREATE)
        what = f"create pod {_name(ds)}-…"
    while position < create_diff:
        for node_name in nodes_needing_daemon_pods[position:position + batch_size]:
            pod = _pod_from_template(ds, template, node_name)
            ctx.actions.append(CreateObject(pod, batch=batch, success_event=created, failure_event=failed))
            ctx.action_notes.add_kind(what, node_name, f"{what} for {node_name}", "nodes")
            _project_create(ctx, pod, node_name)
        position += batch_size
        batch += 1
        batch_size = min(2 * batch_size, create_diff - position)
    if create_diff:
        ctx.next_batch = batch
    if delete_diff:
        deleted = ctx.event("Normal", EVENT_SUCCESSFUL_DELETE, EVENT_MESSAGE_SUCCESSFUL_DELETE)
        failed = ctx.event("Warning", EVENT_FAILED_DELETE, EVENT_MESSAGE_FAILED_DELETE)
    for pod in pods_to_delete[:delete_diff]:
        name = pod.name
        ctx.actions.append(DeleteObject(
            "Pod",
            pod.namespace,
            name,
            pod.uid,
            success_event=deleted.bind(name=name),
            failure_event=failed,
        ))
        ctx.action_notes.add_kind("delete pod", name, f"delete pod {name}", "pods")
        _project_delete(ctx, pod)


def _project_create(ctx: SyncContext, pod: dict, node_name: str) -> None:
    """Add a planned pod to the working state, as the informer will show it: pending, unbound, created now."""
    ctx.projected += 1
    meta = dict(pod["metadata"])
    meta["name"] = f"{meta.get('generateName', '')}{_PLANNED_MARK}{ctx.projected}>"
    meta["creationTimestamp"] = ctx.now_text
    projected = PodFacts(dict(pod, metadata=meta, status={"phase": POD_PENDING}))
    ctx.node_to_pods.setdefault(node_name, []).append(projected)
    if projected.hash_label:
        ctx.live_hashes.add(projected.hash_label)


def _project_delete(ctx: SyncContext, pod: PodFacts) -> None:
    """Mark a pod this plan deletes as a graceful delete leaves it: with a deletionTimestamp (a terminal pod
    being deleted is no longer the DaemonSet's business: it leaves the working state)."""
    node_to_pods = ctx.node_to_pods
    for i, candidate in enumerate(node_to_pods.get(pod.node) or ()):
        if candidate is pod or (candidate.name == pod.name and candidate.uid == pod.uid):
            pods = node_to_pods[pod.node]
            if candidate.terminal:
                del pods[i]
                if not pods:
                    del node_to_pods[pod.node]
            else:
                marked = candidate.pod
                pods[i] = PodFacts(dict(marked, metadata=dict(marked["metadata"], deletionTimestamp=ctx.now_text)))
            return


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
        status["conditions"] = deep_copy(old["conditions"])
    return status


def store_daemonset_status(ctx: SyncContext, counts: dict[str, int], update_observed_gen: bool) -> dict | None:
    """``storeDaemonSetStatus``: the status to write with ``counts`` (``observedGeneration`` raised to the
    DaemonSet's generation when ``update_observed_gen``), or None when it is what the DaemonSet already has."""
    ds = ctx.ds
    old = _status(ds)
    generation = int(_meta(ds).get("generation") or 0)
    observed = int(old.get("observedGeneration") or 0)
    counts["observedGeneration"] = generation if update_observed_gen else observed
    new_status = _status_dict(counts, old)
    if new_status == _status_dict({k: old.get(k) for k in _STATUS_INTS + _STATUS_OMITEMPTY}, old):
        return None
    return new_status


def update_daemonset_status(ctx: SyncContext, walk: NodeWalk, hash: str,
                            update_observed_gen: bool) -> tuple[dict | None, dict]:
    """``updateDaemonSetStatus``: count over the nodes (``walk.status_counts``), then
    ``store_daemonset_status``; returns (the new status, or None when nothing changed; the counts)."""
    counts = walk.status_counts(ctx, hash)
    return store_daemonset_status(ctx, counts, update_observed_gen), counts


def status_counts(ctx: SyncContext, hash: str) -> dict[str, int]:
    """``updateDaemonSetStatus``' counts over every node; for each node that should run the pod, its *oldest*
    pod decides ready / available / updated; a pod on a node that should not run one is misscheduled."""
    return _count_status(ctx.nodes, ctx.node_to_pods, hash, ctx.generation_text, ctx.min_ready, ctx.now)


def _count_status(nodes: Iterable[NodeDecision], node_to_pods: Mapping[str, list[PodFacts]], hash: str,
                  generation_text: str | None, min_ready: int, now: datetime) -> dict[str, int]:
    desired = current = ready = available = updated = misscheduled = 0
    for node in nodes:
        daemon_pods = node_to_pods.get(node.name)
        if node.should_run:
            desired += 1
            if not daemon_pods:
                continue
            current += 1
            pod = daemon_pods[0] if len(daemon_pods) == 1 else min(daemon_pods, key=_by_sort_key)
            if pod.ready:
                ready += 1
                if pod.available(min_ready, now):
                    available += 1
            if pod.updated(hash, generation_text):
                updated += 1
        elif daemon_pods:
            misscheduled += 1
    return {"currentNumberScheduled": current, "numberMisscheduled": misscheduled, "desiredNumberScheduled": desired,
            "numberReady": ready, "updatedNumberScheduled": updated, "numberAvailable": available,
            "numberUnavailable": desired - available}


def calculate_status(ds: Mapping, nodes: Iterable[Mapping], pods: Iterable[Mapping], hash: str,
                     now: datetime) -> dict[str, int]:
    """The counts of ``updateDaemonSetStatus``; for each node that should run the pod, its *oldest* pod decides
    ready / available / updated; a pod on a node that should not run one is misscheduled."""
    node_to_pods = {name: [PodFacts(p) for p in on_node] for name, on_node in get_nodes_to_daemon_pods(pods).items()}
    generation = get_template_generation(ds)
    return _count_status(decide_nodes(nodes, Placement(ds)), node_to_pods, hash,
                         None if generation is None else str(generation), _min_ready_seconds(ds), now)


def _status_summary(counts: Mapping[str, int]) -> str:
    return (f"desired {counts['desiredNumberScheduled']}, current {counts['currentNumberScheduled']}, "
            f"ready {counts['numberReady']}, up-to-date {counts['updatedNumberScheduled']}, "
            f"available {counts['numberAvailable']}, misscheduled {counts['numberMisscheduled']}")


def _min_ready_requeue(ctx: SyncContext) -> float | None:
    """When a ready pod will have been ready for ``minReadySeconds``: upstream requeues after
    ``minReadySeconds`` (and one more second after a pod turns ready); we wait for the earliest such pod."""
    min_ready = ctx.min_ready
    if not min_ready:
        return None
    waits = []
    for pods in ctx.node_to_pods.values():
        for pod in pods:
            if pod.deleting or not pod.ready:
                continue
            if pod.available(min_ready, ctx.now):
                continue
            since = pod.ready_since
            if since is None or since == ZERO_TIME:
                waits.append(float(min_ready))
            else:
                waits.append(max((since + timedelta(seconds=min_ready) - ctx.now).total_seconds(), 0.0) + 1.0)
    return min(waits) if waits else None


def _selects_everything(selector) -> bool:
    return (isinstance(selector, (dict, Mapping)) and not selector.get("matchLabels")
            and not selector.get("matchExpressions"))


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
    cache=None,
    changes=None,
) -> SyncResult:
    """Reconcile one DaemonSet at ``now``; upstream ``syncDaemonSet``.

    ``nodes`` are all the cluster's Nodes; ``pods`` the pods whose controller reference is this DaemonSet
    (others are ignored; those whose labels no longer match the selector are released); ``revisions`` the
    ControllerRevisions it controls. ``memory`` is the previous sync's ``SyncResult.memory``.
    ``expectations_satisfied`` is false while the engine has not yet observed an earlier plan's creates and
    deletes: then only the status counts are refreshed. Inputs are never mutated.

    ``cache``, a ``daemonset_cache.DaemonSetCache``, is the one seam to the fast path: it gives the sync its
    ``NodeWalk`` (``cache.walk(changes)``), which remembers what earlier syncs read and walks only what changed;
    the plan is the same with or without it. ``changes`` (a ``daemonset_cache.DaemonSetChanges``, with a
    ``cache``) says what changed since this DaemonSet's previous sync: then ``nodes`` and ``pods`` may be any
    iterables, read only when the cache has to start afresh; without a ``cache`` it is ignored.
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
    ctx = SyncContext(ds=ds, now=now, backoff=memory.entries())
    walk = NodeWalk if cache is None else cache.walk(changes)  # the one seam to the fast path
    try:
        walk.read(ctx, nodes, pods)
    except SelectorError as error:
        return SyncResult((), None, None, trace(f"invalid selector: {error}", "cannot sync"),
                          memory if memory.failed_pods_backoff else None)
    owned_revisions = [r for r in revisions if is_controlled_by(r, ds)]

    history = construct_history(ctx, owned_revisions)
    if history.collision:
        status = deep_copy(dict(_status(ds)))
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        return SyncResult(tuple(ctx.actions), status, 0.0,
                          trace(f"{len(ctx.pods)} pods, {len(owned_revisions)} revisions",
                                "; ".join(ctx.decisions.render()),
                                ["write status.collisionCount"] + ctx.action_notes.render()),
                          _memory(ctx.backoff, now))
    hash_ = history.hash
    current_revision = revision_number(history.current or {})
    pod_count = len(ctx.pods)

    if not expectations_satisfied:
        ctx.note("expectations not satisfied: wait for earlier creations/deletions, only refresh the counts")
        status, counts = update_daemonset_status(ctx, walk, hash_, False)
    else:
        update_daemonset(ctx, walk, hash_, history.old)
        status, counts = update_daemonset_status(ctx, walk, hash_, True)
    summary = _status_summary(counts)
    if status is not None:
        ctx.action_notes.insert_first(f"write status ({summary})")
    requeue = _min_ready_requeue(ctx)
    if requeue is not None:
        ctx.requeues.append(requeue)
    # desiredNumberScheduled is the number of nodes that should run the pod, whatever the pods do.
    observed = (f"{ctx.node_count} nodes, {counts['desiredNumberScheduled']} should run the pod; {pod_count} pods; "
                f"{update_strategy_type(ds)}; current revision {current_revision} ({hash_})")
    decision = ("; ".join(ctx.decisions.render())
                or f"every node has what it should: no pod to create or delete ({summary})")
    return SyncResult(
        actions=tuple(ctx.actions),
        status=status,
        requeue_after=min(ctx.requeues) if ctx.requeues else None,
        trace=trace(observed, decision, ctx.action_notes.render()),
        memory=_memory(ctx.backoff, now),
    )


def node_should_run_daemon_pod(node: Mapping, ds: Mapping) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: ``(should_run, should_continue_running)``.

    ``(False, False)`` when the template's ``nodeName`` names another node, or ``nodeSelector`` / required node
    affinity do not match, or the node has a NoExecute taint the pod (with the default daemon tolerations) does
    not tolerate; ``(False, True)`` for an untolerated NoSchedule taint (no new pod, an existing one stays);
    ``(True, True)`` otherwise. Readiness, resources and host ports are the scheduler's business.
    """
    decision = decide_node(node, Placement(ds))
    return decision.should_run, decision.should_continue


class Placement:
    """What ``NodeShouldRunDaemonPod`` reads from a DaemonSet: the ``NewPod`` probe, reduced to the fields its
    predicates look at (the template's ``nodeName``, ``nodeSelector`` and required node affinity, and the
    tolerations with the daemon defaults added). ``key`` names it: two DaemonSets with the same key decide
    every node the same way."""

    __slots__ = ("node_name", "spec", "tolerations", "key")

    def __init__(self, ds: Mapping):
        template_spec = _template(ds).get("spec") or {}
        self.node_name = template_spec.get("nodeName") or ""
        self.tolerations = _daemon_pod_tolerations(template_spec)
        self.spec = {"nodeSelector": template_spec.get("nodeSelector"), "affinity": template_spec.get("affinity"),
                     "tolerations": self.tolerations}
        required = (((template_spec.get("affinity") or {}).get("nodeAffinity") or {})
                    .get("requiredDuringSchedulingIgnoredDuringExecution"))
        self.key = json.dumps([self.node_name, template_spec.get("nodeSelector") or {}, required, self.tolerations],
                              sort_keys=True, separators=(",", ":"), default=str)


class NodeDecision:
    """One node's ``NodeShouldRunDaemonPod`` answer, with the reason in words (empty when the pod should simply
    run), and the Node object and resourceVersion it was decided for."""

    __slots__ = ("node", "resource_version", "name", "should_run", "should_continue", "reason")

    def __init__(self, node: Mapping | None, name: str, should_run: bool, should_continue: bool, reason: str):
        self.node = node
        self.resource_version = ((node or {}).get("metadata") or {}).get("resourceVersion") or ""
        self.name = name
        self.should_run = should_run
        self.should_continue = should_continue
        self.reason = reason

    @classmethod
    def missing(cls, name: str) -> NodeDecision:
        """A node that pods target but that is not in the node list (``node`` is None)."""
        return cls(None, name, False, False, "the node does not exist")


def decide_node(node: Mapping, placement: Placement) -> NodeDecision:
    """``NodeShouldRunDaemonPod`` for one node."""
    node_name = _name(node)
    wanted_name = placement.node_name
    if wanted_name and wanted_name != node_name:
        return NodeDecision(node, node_name, False, False, f"the template's nodeName is {wanted_name}")
    if not pod_matches_node_selector_and_affinity(placement.spec, node):
        return NodeDecision(node, node_name, False, False, "nodeSelector / required node affinity do not match")
    taints = _spec(node).get("taints")
    if not taints:
        return NodeDecision(node, node_name, True, True, "")
    tolerations = placement.tolerations
    untolerated = find_matching_untolerated_taint(
        taints, tolerations, (TAINT_EFFECT_NO_SCHEDULE, TAINT_EFFECT_NO_EXECUTE))
    if untolerated is None:
        return NodeDecision(node, node_name, True, True, "")
    no_execute = find_matching_untolerated_taint(taints, tolerations, (TAINT_EFFECT_NO_EXECUTE,))
    if no_execute is not None:
        return NodeDecision(node, node_name, False, False, f"untolerated taint {format_taint(no_execute)}")
    return NodeDecision(node, node_name, False, True, f"untolerated taint {format_taint(untolerated)}")


def decide_nodes(nodes: Iterable[Mapping], placement: Placement) -> list[NodeDecision]:
    """``NodeShouldRunDaemonPod`` for every node, in node-name order."""
    return sorted((decide_node(node, placement) for node in nodes), key=attrgetter("name"))


def new_pod(ds: Mapping, node_name: str) -> dict:
    """``NewPod``: the template as a pod bound to ``node_name``, with the default daemon tolerations."""
    template = _template(ds)
    spec = add_or_update_daemon_pod_tolerations(template.get("spec") or {})
    spec["nodeName"] = node_name
    return {"metadata": deep_copy(dict(template.get("metadata") or {})), "spec": spec}


def _pod_sort_key(pod: Mapping) -> tuple:
    """``podByCreationTimestampAndPhase``: scheduled pods first, then oldest creation, then name."""
    return (not _spec(pod).get("nodeName"), creation_time(pod), _name(pod))


def sort_pods_by_creation(pods: Iterable[Mapping]) -> list:
    return sorted(pods, key=_pod_sort_key)


def failed_pods_backoff_key(ds: Mapping, node_name: str) -> str:
    """``failedPodsBackoffKey``: ``<uid>/<observedGeneration>/<node>`` (a new generation starts afresh)."""
    return f"{_meta(ds).get('uid') or ''}/{int(_status(ds).get('observedGeneration') or 0)}/{node_name}"


def get_unscheduled_pods_without_node(ctx: SyncContext, node_to_pods: Mapping[str, list[PodFacts]]) -> list:
    """``getUnscheduledPodsWithoutNode``: unbound pods aimed at a node that no longer exists (PodGC only
    collects pods that were bound); ``manage`` deletes them. Each is noted in the trace."""
    orphaned = [pod for name in ctx.missing for pod in node_to_pods[name] if not pod.bound]
    for pod in orphaned:
        node_name = pod.node
        ctx.decisions.add_kind("an unscheduled daemon pod waits for this node, which no longer exists → delete it",
                               node_name, f"{describe_pod(pod)} waits for node {node_name}, which no longer exists "
                               f"→ delete it")
    return orphaned


# --- rolling update and history (update.go) ----------------------------------------------------------------


def describe_hash(pod: PodFacts) -> str:
    """The pod's revision hash as the trace shows it."""
    return _short(pod.hash_label or "")


def rolling_update(ctx: SyncContext, hash: str) -> None:
    """``rollingUpdate``: replace old pods within the ``maxUnavailable`` / ``maxSurge`` budget."""
    now = ctx.now
    min_ready = ctx.min_ready
    generation = ctx.generation_text
    desired = ctx.desired
    node_to_pods = ctx.node_to_pods
    # updatedDesiredNodeCounts' map: every node that should run the pod or has pods, in node order, then the
    # nodes that only pods mention
    nodes = chain(ctx.nodes, map(NodeDecision.missing, ctx.missing))
    budget = update_budget(ctx)
    if budget is None:
        return
    max_unavailable, max_surge = budget

    if max_surge == 0:
        num_unavailable = 0
        allowed: list = []
        candidates: list = []
        waits: dict[str, str] = {}  # old hash -> the summary of "wait" decisions (one string per hash)

        def wait(old_hash: str) -> str:
            summary = waits.get(old_hash)
            if summary is None:
                summary = waits[old_hash] = (f"old revision {old_hash}, unavailable budget {max_unavailable} of "
                                             f"{max_unavailable} used → wait")
            return summary

        for node in nodes:
            node_name = node.name
            pods = node_to_pods.get(node_name)
            if pods is None:
                if node.should_run:
                    num_unavailable += 1  # no pod yet
                continue
            if len(pods) == 1 and not pods[0].deleting:
                pod = pods[0]
                new, old = (pod, None) if pod.updated(hash, generation) else (None, pod)
            else:
                new, old, ok = split_updated_pods(pods, hash, generation)
                if not ok:
                    num_unavailable += 1
                    ctx.node_note(node_name, "more than one pod of a revision; manage prunes it first "
                                  "(counts as unavailable)")
                    continue
            if (old is None) == (new is None):
                num_unavailable += 1
                continue
            if new is not None:
                if not new.available(min_ready, now):
                    num_unavailable += 1
                    ctx.node_note(node_name, "the new pod is not available yet (uses the unavailable budget)",
                                  lambda new=new: f"new {describe_pod(new)} not available yet (uses the unavailable "
                                                  f"budget)")
                continue
            old_hash = describe_hash(old)
            if not old.available(min_ready, now):
                allowed.append(old)
                num_unavailable += 1
                ctx.node_note(node_name, f"old revision {old_hash}, the old pod is not available → delete it "
                              f"(an unavailable old pod is always replaced)",
                              lambda old=old, h=old_hash: f"old revision {h}, {describe_pod(old)} not available → "
                                                          f"delete it (an unavailable old pod is always replaced)")
            elif num_unavailable >= max_unavailable:
                ctx.node_note(node_name, wait(old_hash), lambda h=old_hash, n=num_unavailable:
                              f"old revision {h}, unavailable budget {n} of {max_unavailable} used → wait")
            else:
                candidates.append((node_name, old))
        remaining = max(0, max_unavailable - num_unavailable)
        remaining = min(remaining, len(candidates))
        for index, (node_name, old) in enumerate(candidates):
            old_hash = describe_hash(old)
            if index < remaining:
                ctx.node_note(node_name, f"old revision {old_hash} → delete its pod; manage recreates it next sync",
                              lambda old=old, h=old_hash, n=num_unavailable + index + 1:
                              f"old revision {h} → delete {describe_pod(old)} (unavailable {n} of {max_unavailable}); "
                              f"manage recreates it next sync")
            else:
                ctx.node_note(node_name, wait(old_hash))
        sync_nodes(ctx, allowed + [old for _, old in candidates[:remaining]], [], hash)
        return

    old_to_delete: list = []
    should_not_run_to_delete: list = []
    candidate_nodes: list[str] = []
    allowed_nodes: list[str] = []
    num_surge = 0
    num_available = 0
    for node in nodes:
        node_name = node.name
        pods = node_to_pods.get(node_name)
        if pods is None:
            continue  # no pod yet: nothing to surge over
        new, old, ok = split_updated_pods(pods, hash, generation)
        if not ok:
            num_surge += 1
            ctx.node_note(node_name, "more than one pod of a revision; manage prunes it first (counts as surge)")
            continue
        if old is not None:
            if old.available(min_ready, now):
                num_available += 1
        elif new is not None and new.available(min_ready, now):
            num_available += 1
        if old is None:
            continue
        if new is None:
            if node.node is None:
                ctx.note(f"rolling update stopped: node {node_name} not found")
                return
            if not old.available(min_ready, now):
                if not node.should_run:
                    old_to_delete.append(old)
                    ctx.node_note(node_name, "the old pod is not available and the node no longer qualifies → "
                                  "delete it", f"old {describe_pod(old)} not available and the node no longer "
                                  f"qualifies → delete it")
                    continue
                allowed_nodes.append(node_name)
                ctx.node_note(node_name, "the old pod is not available → create the new pod now (outside the "
                              "surge budget)", f"old {describe_pod(old)} not available → create the new pod now "
                              f"(outside the surge budget)")
                continue
            if not node.should_run:
                should_not_run_to_delete.append(old)
                continue
            if num_surge >= max_surge:
                old_hash = describe_hash(old)
                ctx.node_note(node_name, f"old revision {old_hash}, surge budget {max_surge} of {max_surge} used "
                              f"→ wait", f"old revision {old_hash}, surge budget {num_surge} of {max_surge} used "
                              f"→ wait")
                continue
            candidate_nodes.append(node_name)
            continue
        if not new.available(min_ready, now):
            num_surge += 1
            ctx.node_note(node_name, "the new pod is not available yet; the old pod keeps serving",
                          lambda new=new, old=old: f"new {describe_pod(new)} not available yet; "
                                                   f"old {describe_pod(old)} keeps serving")
            continue
        old_to_delete.append(old)
        ctx.node_note(node_name, "the new pod is available → delete the old one",
                      lambda new=new, old=old: f"new {describe_pod(new)} is available → delete old {describe_pod(old)}")

    remaining = max_surge - num_surge
    deletable = num_available - desired
    if deletable > 0:
        for pod in should_not_run_to_delete[:min(deletable, len(should_not_run_to_delete))]:
            old_to_delete.append(pod)
            ctx.node_note(pod.node, "no longer qualifies and enough pods are available → delete "
                          "its pod", f"no longer qualifies and {num_available} pods are available for {desired} "
                          f"nodes → delete {describe_pod(pod)}")
    for pod in should_not_run_to_delete[max(deletable, 0):]:
        ctx.node_note(pod.node, "no longer qualifies; keep its pod until a replacement elsewhere "
                      "is available", f"no longer qualifies; keep {describe_pod(pod)} until a replacement elsewhere "
                      f"is available")
    remaining = min(max(remaining, 0), len(candidate_nodes))
    for index, node_name in enumerate(candidate_nodes):
        if index < remaining:
            ctx.node_note(node_name, "the old pod is available → surge a new pod",
                          f"old pod available → surge a new pod (surge {num_surge + index + 1} of {max_surge})")
        else:
            ctx.node_note(node_name, f"old pod available, surge budget {max_surge} of {max_surge} used → wait")
    sync_nodes(ctx, old_to_delete, allowed_nodes + candidate_nodes[:remaining], hash)


def find_updated_pods_on_node(ds: Mapping, pods_on_node: Iterable[Mapping], hash: str):
    """``findUpdatedPodsOnNode``: (new pod, old pod, ok) among the node's pods not being deleted; ``ok`` is
    False when there are two of a kind (then ``manage`` prunes the node first)."""
    generation = get_template_generation(ds)
    generation_text = None if generation is None else str(generation)
    new, old, ok = split_updated_pods(map(PodFacts, pods_on_node), hash, generation_text)
    return (new and new.pod), (old and old.pod), ok


def split_updated_pods(pods: Iterable[PodFacts], hash: str, generation_text: str | None):
    """``find_updated_pods_on_node`` over ``PodFacts``, with the template generation as text: (new, old, ok)."""
    new, old = None, None
    for pod in pods:
        if pod.deleting:
            continue
        if pod.updated(hash, generation_text):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


@dataclass
class _History:
    hash: str = ""
    current: dict | None = None
    old: list = field(default_factory=list)
    collision: bool = False


def construct_history(ctx: SyncContext, revisions: list[dict]) -> _History:
    """``constructHistory``: split the owned revisions into the current one and the old ones, creating the
    current revision (``max(old)+1``) when none matches, renumbering it when it is older than an old one (a
    ``rollout undo``), and deduplicating several matches (keep the highest, relabel pods, delete the rest)."""
    ds = ctx.ds
    namespace = _namespace(ds)
    history = _History()
    current: list[dict] = []
    patch = ctx.patch or get_patch(ds)
    for revision in sort_by_revision(revisions):
        labels = _labels(revision)
        if CONTROLLER_REVISION_HASH_LABEL not in labels:
            # Upstream labels such a revision with its own name (no hash to recompute, no collision to fear).
            ctx.actions.append(PatchObject("ControllerRevision", namespace, _name(revision),
                                           {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: _name(revision)}}}))
            ctx.action_notes.add(f"label ControllerRevision {_name(revision)} with its hash")
        if matches_patch(revision, patch):
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
        ctx.action_notes.add(f"create ControllerRevision {name} (revision {wanted})")
        ctx.note(f"the template is new: record it as revision {wanted} ({hash_})")
        history.current, history.hash = revision, hash_
        return history
    keep = None
    for revision in current:
        if keep is None or revision_number(revision) >= revision_number(keep):
            keep = revision
    keep_hash = revision_hash(keep)
    if len(current) > 1:
        for pod in sorted(ctx.pods, key=attrgetter("name", "uid")):
            if pod.hash_label != keep_hash:
                ctx.actions.append(PatchObject("Pod", pod.namespace, pod.name,
                                               {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: keep_hash}}}))
                ctx.action_notes.add_kind("relabel pod", pod.name, f"relabel pod {pod.name} with "
                                          f"{CONTROLLER_REVISION_HASH_LABEL}={keep_hash}", "pods")
        for revision in current:
            if revision is keep:
                continue
            ctx.actions.append(DeleteObject("ControllerRevision", namespace, _name(revision),
                                            _meta(revision).get("uid") or ""))
            ctx.action_notes.add(f"delete duplicate ControllerRevision {_name(revision)}")
        ctx.note(f"{len(current)} revisions hold the current template: keep {_name(keep)}, delete the others")
    if revision_number(keep) < wanted:
        ctx.actions.append(PatchObject("ControllerRevision", namespace, _name(keep), {"revision": wanted}))
        ctx.action_notes.add(f"renumber ControllerRevision {_name(keep)} to revision {wanted}")
        ctx.note(f"the template returned to revision {revision_number(keep)} ({keep_hash}): renumber it {wanted}")
        keep = dict(keep, revision=wanted)
    history.current, history.hash = keep, keep_hash
    return history


def cleanup_history(ctx: SyncContext, old: list[dict]) -> None:
    """``cleanupHistory``: delete the oldest old revisions beyond ``revisionHistoryLimit``, skipping any whose
    hash a pod of this DaemonSet still carries."""
    to_kill = len(old) - revision_history_limit(ctx.ds)
    if to_kill <= 0:
        return
    live = ctx.live_hashes
    deleted = []
    for revision in sort_by_revision(old):
        if to_kill <= 0:
            break
        if revision_hash(revision) in live:
            continue
        ctx.actions.append(DeleteObject("ControllerRevision", _namespace(ctx.ds), _name(revision),
                                        _meta(revision).get("uid") or ""))
        ctx.action_notes.add(f"delete ControllerRevision {_name(revision)} (revision {revision_number(revision)})")
        deleted.append(str(revision_number(revision)))
        to_kill -= 1
    if deleted:
        ctx.note(f"revisionHistoryLimit {revision_history_limit(ctx.ds)}: delete old revision"
                 f"{'s' if len(deleted) > 1 else ''} {', '.join(deleted)}")


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


def update_budget(ctx: SyncContext) -> tuple[int, int] | None:
    """``updatedDesiredNodeCounts``' maxUnavailable and maxSurge (at least one unavailable when both are 0), or
    ``None`` (noted) when the strategy's values cannot be read."""
    try:
        max_unavailable = unavailable_count(ctx.ds, ctx.desired)
        max_surge = surge_count(ctx.ds, ctx.desired)
    except ValueError as error:
        ctx.note(f"rolling update skipped: {error}")
        return None
    if ctx.desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1
    return max_unavailable, max_surge


# --- maxUnavailable and maxSurge (util/daemonset_util.go, intstr) ------------------------------------------


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
            raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
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


def _daemon_pod_tolerations(pod_spec: Mapping) -> list:
    """The tolerations ``AddOrUpdateDaemonPodTolerations`` leaves on ``pod_spec`` (which is not changed)."""
    tolerations = list(pod_spec.get("tolerations") or [])
    wanted = list(DEFAULT_DAEMON_TOLERATIONS)
    if pod_spec.get("hostNetwork"):
        wanted.append(HOST_NETWORK_TOLERATION)
    for key, effect in wanted:
        tolerations = add_or_update_toleration(tolerations, _toleration(key, effect))
    return tolerations


def add_or_update_daemon_pod_tolerations(pod_spec: Mapping) -> dict:
    """``AddOrUpdateDaemonPodTolerations`` on a copy: the six default daemon tolerations, plus
    ``network-unavailable:NoSchedule`` for ``hostNetwork`` pods."""
    spec = deep_copy(dict(pod_spec))
    spec["tolerations"] = _daemon_pod_tolerations(spec)
    return spec


def create_pod_template(template: Mapping, generation: int | None, hash: str) -> dict:
    """``util.CreatePodTemplate``: the template with the default tolerations, ``pod-template-generation``
    (when the DaemonSet has the deprecated annotation) and ``controller-revision-hash`` labels."""
    new_template = deep_copy(dict(template))
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
    result = deep_copy(dict(affinity))
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
    return _pod_from_template(ds, create_pod_template(_template(ds), get_template_generation(ds), hash), node_name)


def _pod_from_template(ds: Mapping, template: Mapping, node_name: str) -> dict:
    """``GetPodFromTemplate`` for one node, from a ``create_pod_template`` result (which is not changed)."""
    template_meta = template.get("metadata") or {}
    spec = deep_copy(template.get("spec") or {})
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


# --- one sync's working state ------------------------------------------------------------------------------


_UNREAD = object()


class PodFacts:
    """What a sync reads from one pod, read once: its controller, labels, target node, deletion, phase,
    readiness and revision labels. ``pod`` is the pod itself (never changed)."""

    __slots__ = ("pod", "resource_version", "name", "namespace", "uid", "has_controller", "controller_uid", "labels",
                 "node", "bound", "deleting", "phase", "ready", "hash_label", "generation_label", "_ready_condition",
                 "_ready_since", "_sort_key", "_selector", "_selected")

    def __init__(self, pod: Mapping):
        meta = pod.get("metadata") or {}
        self.pod = pod
        self.resource_version = meta.get("resourceVersion") or ""
        self.name = meta.get("name") or ""
        self.namespace = meta.get("namespace") or "default"
        self.uid = meta.get("uid") or ""
        self.has_controller, self.controller_uid = False, ""
        for ref in meta.get("ownerReferences") or ():  # metav1.GetControllerOf
            if ref.get("controller") is True:
                self.has_controller, self.controller_uid = True, ref.get("uid", "")
                break
        self.labels = labels = meta.get("labels") or {}
        self.hash_label = labels.get(CONTROLLER_REVISION_HASH_LABEL)
        self.generation_label = labels.get(DAEMONSET_TEMPLATE_GENERATION_LABEL)
        spec = pod.get("spec") or {}
        self.bound = bool(spec.get("nodeName"))
        self.node = spec["nodeName"] if self.bound else get_target_node_name(pod)
        self.deleting = bool(meta.get("deletionTimestamp"))
        status = pod.get("status") or {}
        self.phase = status.get("phase") or ""
        condition = None
        for candidate in status.get("conditions") or ():  # podutil.GetPodCondition(Ready)
            if candidate.get("type") == POD_READY:
                condition = candidate
                break
        self._ready_condition = condition
        self.ready = condition is not None and condition.get("status") == "True"
        self._ready_since = _UNREAD
        self._sort_key = None
        self._selector, self._selected = None, False

    @property
    def terminal(self) -> bool:
        return self.phase in _TERMINAL_PHASES

    @property
    def ready_since(self) -> datetime | None:
        """The Ready condition's ``lastTransitionTime`` (None when absent)."""
        if self._ready_since is _UNREAD:
            condition = self._ready_condition
            self._ready_since = parse_time(condition.get("lastTransitionTime")) if condition is not None else None
        return self._ready_since

    def available(self, min_ready_seconds: int, now: datetime) -> bool:
        """``is_pod_available``."""
        if not self.ready:
            return False
        if not min_ready_seconds:
            return True
        since = self.ready_since
        if since is None or since == ZERO_TIME:
            return False
        return since + timedelta(seconds=min_ready_seconds) < now

    def updated(self, hash: str, generation_text: str | None) -> bool:
        """``is_pod_updated``, with the template generation as text (None when the DaemonSet has none)."""
        return (bool(hash) and self.hash_label == hash) or (
            generation_text is not None and self.generation_label == generation_text)

    @property
    def sort_key(self) -> tuple:
        """``_pod_sort_key``: scheduled first, then oldest creation, then name."""
        if self._sort_key is None:
            self._sort_key = (not self.bound, creation_time(self.pod), self.name)
        return self._sort_key

    def selected_by(self, label_selector) -> bool:
        """Whether ``label_selector`` matches the pod's labels; the answer is kept for the last selector asked
        (a ``DaemonSetCache`` hands the next sync the same pods and the very same selector)."""
        if self._selector is not label_selector:
            self._selector, self._selected = label_selector, label_selector.matches(self.labels)
        return self._selected


_by_sort_key = attrgetter("sort_key")
_by_name_and_uid = attrgetter("name", "uid")


_last_now: list = [None, ""]


def _format_now(now: datetime) -> str:
    """``format_time(now)``, remembered for the last instant (many syncs share one)."""
    if _last_now[0] != now:
        _last_now[:] = [now, format_time(now)]
    return _last_now[1]


@dataclass
class SyncContext:
    """One sync's working state: the DaemonSet, the nodes with their decisions, and the pods grouped by the
    node they target (``getNodesToDaemonPods``), which ``sync_nodes`` updates with the projected plan."""

    ds: dict
    now: datetime
    backoff: dict[str, BackoffEntry]
    #: the cluster's nodes in name order, each with its ``NodeShouldRunDaemonPod`` answer
    nodes: list[NodeDecision] = field(default_factory=list)
    #: the pods this DaemonSet controls whose labels match its selector
    pods: list[PodFacts] = field(default_factory=list)
    #: ``getNodesToDaemonPods(pods)`` as the plan so far leaves it (each node's pods in name order)
    node_to_pods: dict[str, list[PodFacts]] = field(default_factory=dict)
    #: the hash labels of the pods with a target node, deleted terminal ones and the planned ones included: the
    #: live hashes whose revisions ``cleanup_history`` keeps
    live_hashes: set[str] = field(default_factory=set)
    actions: list = field(default_factory=list)
    action_notes: TraceLines = field(default_factory=lambda: TraceLines(by_node=False))
    decisions: TraceLines = field(default_factory=lambda: TraceLines(by_node=True))
    requeues: list[float] = field(default_factory=list)
    next_batch: int = 0
    projected: int = 0
    #: ``util.AllowsSurge`` (set when ``manage`` runs)
    allows_surge: bool = False
    #: nodes that pods target but that are not in the node list, sorted, and how many nodes should run the
    #: pod (set by ``manage``)
    missing: list[str] = field(default_factory=list)
    desired: int = 0
    #: how many nodes the cluster has
    node_count: int = 0
    #: ``get_patch(ds)`` when a ``DaemonSetCache`` remembers it (only compared with, never handed out)
    patch: dict | None = None
    _by_name: dict[str, NodeDecision] | None = None

    def __post_init__(self):
        self.now_text = _format_now(self.now)
        self.min_ready = _min_ready_seconds(self.ds)
        generation = get_template_generation(self.ds)
        self.generation_text = None if generation is None else str(generation)
        self.reference = daemonset_reference(self.ds)

    def node(self, name: str) -> NodeDecision | None:
        if self._by_name is None:
            self._by_name = {decision.name: decision for decision in self.nodes}
        return self._by_name.get(name)

    def missing_nodes(self, found: int) -> list[str]:
        """Nodes that pods target but that are not in the node list, sorted; ``found`` is how many listed
        nodes have pods (when that is all of ``node_to_pods``, none is missing)."""
        if found >= len(self.node_to_pods):
            return []
        return sorted(name for name in self.node_to_pods if self.node(name) is None)

    def event(self, event_type: str, reason: str, message: str) -> EmitEvent:
        return EmitEvent(self.reference, event_type, reason, message, COMPONENT)

    def emit(self, event_type: str, reason: str, message: str, subject: str) -> None:
        self.actions.append(self.event(event_type, reason, message))
        self.action_notes.add_kind(f"event {event_type} {reason}", subject,
                                   f"event {event_type} {reason}: {message}", "pods")

    def note(self, text: str) -> None:
        self.decisions.add(text)

    def node_note(self, node_name: str, summary: str, detail: str | Callable[[], str] | None = None) -> None:
        """A decision about one node, shown as "<node>: <detail>" (``summary`` when no detail; ``detail`` may be
        a function, called only if the line is shown); past ``NOTE_LIMIT`` decisions with the same summary
        read "<n> nodes (<names>): <summary>"."""
        self.decisions.add_kind(summary, node_name, (node_name, summary if detail is None else detail))


class NodeWalk:
    """How a sync reads the cluster and goes over its nodes: upstream's way, every node at every step.

    ``read`` fills the ``SyncContext`` (``read_nodes_and_pods``); ``manage``, ``rolling_update`` and
    ``status_counts`` are the steps that walk the nodes. ``sync_daemonset`` uses this walk unless it is given a
    ``DaemonSetCache``, whose walk (``controllers/daemonset_cache.py``) has the same four methods, remembers
    between syncs, and plans exactly the same."""

    read = staticmethod(read_nodes_and_pods)
    manage = staticmethod(manage)
    rolling_update = staticmethod(rolling_update)
    status_counts = staticmethod(status_counts)


# --- the trace: lines of one kind fold into one ------------------------------------------------------------


class _Kind:
    """Trace lines of one kind: the first ``NOTE_LIMIT`` in full, then only how many and the last subject."""

    __slots__ = ("summary", "noun", "count", "subjects", "last")

    def __init__(self, summary: str, noun: str):
        self.summary = summary
        self.noun = noun
        self.count = 0
        self.subjects: list[str] = []
        self.last = ""

    def names(self) -> str:
        if self.count <= 4:
            return ", ".join(self.subjects[:self.count])
        return f"{', '.join(self.subjects[:3])} … {self.last}"


class TraceLines:
    """Trace lines in order. Lines of one kind (``add_kind``) past ``NOTE_LIMIT`` fold into one summary line
    where the first of them stood; their texts are only rendered while they may still be shown."""

    def __init__(self, *, by_node: bool):
        # by_node: summaries read "<n> nodes (<names>): <summary>"; otherwise "<summary> × <n> (<names>)"
        self._by_node = by_node
        self._lines: list = []
        self._kinds: dict[str, _Kind] = {}

    def __bool__(self) -> bool:
        return bool(self._lines)

    def add(self, text: str) -> None:
        self._lines.append(text)

    def insert_first(self, text: str) -> None:
        self._lines.insert(0, text)

    def add_kind(self, summary: str, subject: str, text, noun: str = "nodes") -> None:
        """A line about ``subject`` (a node or pod name). ``text`` is the line, or ``(prefix, detail)`` for
        "<prefix>: <detail>" where ``detail`` may be a function rendering it (only called if it is shown)."""
        kind = self._kinds.get(summary)
        if kind is None:
            kind = self._kinds[summary] = _Kind(summary, noun)
        kind.count += 1
        kind.last = subject
        if kind.count <= NOTE_LIMIT:
            kind.subjects.append(subject)
            if isinstance(text, tuple):
                prefix, detail = text
                text = f"{prefix}: {detail() if callable(detail) else detail}"
            self._lines.append((kind, text))

    def count(self, summary: str) -> int:
        """How many lines of the kind ``summary`` there are so far."""
        kind = self._kinds.get(summary)
        return 0 if kind is None else kind.count

    def fold(self, summary: str, count: int, last: str | None) -> None:
        """``count`` more lines of a kind that already has ``NOTE_LIMIT`` lines: only how many there are is kept,
        and ``last`` (unless None) as the subject of the last of them."""
        kind = self._kinds[summary]
        kind.count += count
        if last is not None:
            kind.last = last

    def render(self) -> list[str]:
        out: list[str] = []
        summarized = set()
        for line in self._lines:
            if isinstance(line, str):
                out.append(line)
                continue
            kind, text = line
            if kind.count <= NOTE_LIMIT:
                out.append(text)
            elif kind.summary not in summarized:  # the summary stands where the first line of its kind stood
                summarized.add(kind.summary)
                out.append(f"{kind.count} {kind.noun} ({kind.names()}): {kind.summary}" if self._by_node
                           else f"{kind.summary} × {kind.count} ({kind.names()})")
        return out


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
