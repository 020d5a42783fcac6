"""The pod garbage collector (PodGC), as upstream's ``pkg/controller/podgc/gc_controller.go`` runs it in 1.31-1.34.

Every 20 seconds (``gcCheckPeriod``) ``gc`` lists all pods and nodes and runs four passes, in this order:

1. ``gcTerminated`` — only when more than ``terminatedPodThreshold`` pods are terminated (phase neither
   Pending, Running nor Unknown): the oldest are deleted, evicted ones first. The default threshold is 12500, so
   a teaching cluster never reaches it; the pass is kept for completeness.
2. ``gcTerminating`` — pods being deleted on a node that is NotReady *and* tainted
   ``node.kubernetes.io/out-of-service`` (the non-graceful node shutdown, GA in 1.28).
3. ``gcOrphaned`` — pods bound to a node that does not exist. A missing node is first put in quarantine for 40
   seconds (``quarantineTime``; upstream then re-checks it with a GET): only if it is still missing afterwards
   are its pods deleted, each first patched to ``phase: Failed`` with the condition ``DisruptionTarget=True``,
   reason ``DeletionByPodGC``, message "PodGC: node no longer exists".
4. ``gcUnscheduledTerminating`` — pods being deleted that were never bound to a node.

Every deletion is ``markFailedAndDeletePod``: a pod that is not Succeeded/Failed is first patched (status
subresource) to ``Failed`` (plus the condition, for orphans), then force-deleted with grace period 0. PodGC
records no Events.

``gc_pods(pods, nodes, now, memory=...)`` is one such pass. The quarantine (upstream's delaying ``nodeQueue``)
lives in ``memory``: ``{node name: time its quarantine ends}``. The plan always asks to run again 20 seconds
later; the engine only needs to call ``gc_pods`` periodically (no informer wake-ups are required, though a pod
or node deletion may wake it early without harm).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from controllers.objects import key as _key, meta as _meta
from controllers.plan import DeleteObject, PatchObject, SyncResult, Trace
from controllers.pods import POD_FAILED, POD_PENDING, POD_RUNNING, POD_SUCCEEDED, POD_UNKNOWN, creation_time, pod_phase
from controllers.scheduling import TAINT_NODE_OUT_OF_SERVICE, is_node_ready, update_pod_condition

CONTROLLER = "podgc"
#: The key the engine syncs PodGC under (it is a singleton loop, not a per-object controller).
KEY = "podgc"

GC_CHECK_PERIOD = 20.0
QUARANTINE_TIME = 40.0
#: ``--terminated-pod-gc-threshold`` default.
TERMINATED_POD_THRESHOLD = 12500

DISRUPTION_TARGET = "DisruptionTarget"
REASON_DELETION_BY_POD_GC = "DeletionByPodGC"
MESSAGE_NODE_NO_LONGER_EXISTS = "PodGC: node no longer exists"


def is_pod_terminated(pod: Mapping) -> bool:
    """PodGC's ``isPodTerminated``: the phase is none of Pending, Running, Unknown (an empty phase counts)."""
    return pod_phase(pod) not in (POD_PENDING, POD_RUNNING, POD_UNKNOWN)


def _is_evicted(pod: Mapping) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == POD_FAILED and status.get("reason") == "Evicted"


def _by_eviction_and_creation(pod: Mapping) -> tuple:
    """``byEvictionAndCreationTimestamp``: evicted first, then oldest, then by name."""
    return (not _is_evicted(pod), creation_time(pod), _meta(pod).get("name") or "")


def mark_failed_and_delete_pod(pod: Mapping, now: datetime, condition: Mapping | None = None) -> list:
    """``markFailedAndDeletePodWithCondition``: patch a non-terminal pod to Failed (with ``condition``), then
    force-delete it (grace period 0, uid precondition)."""
    meta = _meta(pod)
    namespace, name, uid = meta.get("namespace") or "default", meta.get("name") or "", meta.get("uid") or ""
    actions: list = []
    if pod_phase(pod) not in (POD_SUCCEEDED, POD_FAILED):
        status_patch: dict = {"phase": POD_FAILED}
        if condition is not None:
            new_status, _ = update_pod_condition(pod.get("status"), condition, now)
            status_patch["conditions"] = new_status["conditions"]
        actions.append(PatchObject("Pod", namespace, name, {"metadata": {"uid": uid}, "status": status_patch},
                                   subresource="status"))
    actions.append(DeleteObject("Pod", namespace, name, uid, grace_period_seconds=0))
    return actions


def gc_pods(
    pods: list[dict],
    nodes: list[dict],
    now: datetime,
    *,
    memory: Mapping[str, datetime] | None = None,
    terminated_pod_threshold: int = TERMINATED_POD_THRESHOLD,
) -> SyncResult:
    """One PodGC pass over every pod and node; ``memory`` is the previous pass's quarantine.

    Returns the patches and force-deletes to apply, ``requeue_after = 20`` and the new quarantine as memory.
    A pod is acted on at most once per pass even when two passes select it.
    """
    quarantine: dict[str, datetime] = dict(memory or {})
    nodes_by_name = {_meta(n).get("name") or "": n for n in nodes}
    ordered = sorted(pods, key=_key)
    actions: list = []
    notes: list[str] = []
    handled: set[str] = set()

    def take(pod: Mapping, why: str, condition: Mapping | None = None) -> None:
        key = _key(pod)
        if key in handled:
            return
        handled.add(key)
        actions.extend(mark_failed_and_delete_pod(pod, now, condition))
        notes.append(f"force-delete pod {key}: {why}")

    # 1. gcTerminated
    if terminated_pod_threshold > 0:
        terminated = [p for p in ordered if is_pod_terminated(p)]
        excess = len(terminated) - terminated_pod_threshold
        if excess > 0:
            for pod in sorted(terminated, key=_by_eviction_and_creation)[:excess]:
                take(pod, f"more than {terminated_pod_threshold} terminated pods")

    # 2. gcTerminating
    for pod in sorted((p for p in ordered if _meta(p).get("deletionTimestamp")), key=_by_eviction_and_creation):
        node = nodes_by_name.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None:
            continue
        out_of_service = any(t.get("key") == TAINT_NODE_OUT_OF_SERVICE for t in (node.get("spec") or {}).get("taints") or [])
        if not is_node_ready(node) and out_of_service:
            take(pod, f"terminating on out-of-service node {_meta(node).get('name')}")

    # 3. gcOrphaned: quarantine newly missing nodes, then collect those whose quarantine is over.
    missing_now = sorted({
        (p.get("spec") or {}).get("nodeName") for p in ordered
        if (p.get("spec") or {}).get("nodeName") and (p.get("spec") or {}).get("nodeName") not in nodes_by_name
    })
    for node_name in missing_now:
        if node_name not in quarantine:  # a delaying queue keeps the earliest ready time
            quarantine[node_name] = now + timedelta(seconds=QUARANTINE_TIME)
            notes.append(f"node {node_name} is missing: quarantine until {QUARANTINE_TIME:.0f}s from now")
    deleted_nodes: set[str] = set()
    for node_name, ready_at in sorted(quarantine.items()):
        if ready_at > now:
            continue
        del quarantine[node_name]
        if node_name not in nodes_by_name:
            deleted_nodes.add(node_name)
    condition = {"type": DISRUPTION_TARGET, "status": "True", "reason": REASON_DELETION_BY_POD_GC,
                 "message": MESSAGE_NODE_NO_LONGER_EXISTS}
    for pod in ordered:
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        if node_name in deleted_nodes:
            take(pod, f"orphaned: node {node_name} no longer exists", condition)

    # 4. gcUnscheduledTerminating
    for pod in ordered:
        if _meta(pod).get("deletionTimestamp") and not (pod.get("spec") or {}).get("nodeName"):
            take(pod, "terminating and never scheduled")

    waiting = ", ".join(f"{n} (until {t.isoformat()})" for n, t in sorted(quarantine.items()))
    observed = f"{len(pods)} pods, {len(nodes)} nodes"
    if deleted_nodes:
        observed += f"; nodes gone after quarantine: {', '.join(sorted(deleted_nodes))}"
    if waiting:
        observed += f"; in quarantine: {waiting}"
    decision = f"force-delete {len(handled)} pod(s)" if handled else "nothing to collect"
    trace = Trace(CONTROLLER, KEY, f"periodic check (every {GC_CHECK_PERIOD:.0f}s)", observed, decision, tuple(notes))
    return SyncResult(tuple(actions), None, GC_CHECK_PERIOD, trace, quarantine)
