"""Node taints from node state, and evictions from NoExecute taints.

Two upstream controllers of kube-controller-manager, as pure functions:

``sync_node_lifecycle(node, now)`` — the node lifecycle controller's tainting
(``pkg/controller/nodelifecycle/node_lifecycle_controller.go``):

* ``doNoScheduleTaintingPass`` (TaintNodesByCondition): ``Ready=False`` → ``node.kubernetes.io/not-ready``,
  ``Ready=Unknown`` → ``node.kubernetes.io/unreachable``, ``MemoryPressure``/``DiskPressure``/``PIDPressure``/
  ``NetworkUnavailable=True`` → the matching ``...-pressure``/``network-unavailable`` key, and
  ``spec.unschedulable`` → ``node.kubernetes.io/unschedulable``, all with effect ``NoSchedule``;
* ``doNoExecuteTaintingPass``: ``Ready=False`` → ``not-ready:NoExecute``, ``Ready=Unknown`` →
  ``unreachable:NoExecute`` (the two are mutually exclusive), both removed when ``Ready`` is True again.

Taints the controller adds carry ``timeAdded``; taints it does not own are left alone. A Node created through the
API gets ``not-ready:NoSchedule`` from the TaintNodesByCondition admission plugin, and the first pass above takes it
away again unless the node's conditions call for it: a Node without any Ready condition can take pods at first.

``monitorNodeHealth``, for a node whose kubelet never posted its status (no ``Ready`` condition, so nothing runs
there: a Node object with no kubelet behind it): once ``--node-startup-grace-period`` (60 s) has passed since its
creation, its Ready, MemoryPressure, DiskPressure and PIDPressure conditions are written ``Unknown``
(``NodeStatusNeverUpdated``, "Kubelet never posted node status."), and the passes above then taint it
``unreachable``. Not modelled: the same for a kubelet that stops posting (``--node-monitor-grace-period``, with the
pod event ``NodeNotReady``) — whoever simulates a kubelet going silent must set those conditions — and the zone
disruption rate limits (upstream taints at most one node per 10 s and stops when a whole zone is down).

``evict_pods_for_taints(node, pods, now, memory=...)`` — the taint eviction controller
(``pkg/controller/tainteviction/taint_eviction.go``, ``taint-eviction-controller`` since 1.29): a pod that does
not tolerate every ``NoExecute`` taint of its node is deleted at once; one that tolerates them all with
``tolerationSeconds`` is deleted that many seconds (the smallest) after the controller first saw it so. Before the
delete: the Normal event ``TaintManagerEviction`` "Marking for deletion Pod <ns>/<name>" and the pod condition
``DisruptionTarget=True`` (reason ``DeletionByTaintManager``). A scheduled eviction that is no longer needed is
cancelled with "Cancelling deletion of Pod <ns>/<name>".

The API server's ``DefaultTolerationSeconds`` admission plugin gives every pod (that does not already tolerate
them) ``node.kubernetes.io/not-ready:NoExecute`` and ``node.kubernetes.io/unreachable:NoExecute`` tolerations with
``tolerationSeconds: 300``; that is why pods leave a failed node five minutes after it is tainted. The API layer
must add them; this module only reads tolerations.

Wake-ups (informer handlers): ``sync_node_lifecycle`` for a Node add or any change to its conditions or
``spec.unschedulable``; ``evict_pods_for_taints`` (keyed by node) when a Node's ``NoExecute`` taints change, and
when a pod bound to that node is created, deleted, or changes its tolerations or ``spec.nodeName`` — plus its own
``requeue_after`` for pending ``tolerationSeconds`` evictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from controllers.objects import meta as _meta
from controllers.plan import DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from controllers.pods import format_time, parse_time
from controllers.scheduling import (
    NODE_READY,
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_NODE_DISK_PRESSURE,
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NETWORK_UNAVAILABLE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_PID_PRESSURE,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
    format_taint,
    get_matching_tolerations,
    get_node_condition,
    update_pod_condition,
)

NODE_LIFECYCLE_CONTROLLER = "node-lifecycle-controller"
TAINT_EVICTION_CONTROLLER = "taint-eviction-controller"
#: The event source component of the taint eviction controller (its controller name).
TAINT_EVICTION_COMPONENT = "taint-eviction-controller"

#: ``nodeConditionToTaintKeyStatusMap``: (condition type, status) → NoSchedule taint key.
NODE_CONDITION_TO_TAINT_KEY = {
    (NODE_READY, "False"): TAINT_NODE_NOT_READY,
    (NODE_READY, "Unknown"): TAINT_NODE_UNREACHABLE,
    ("MemoryPressure", "True"): TAINT_NODE_MEMORY_PRESSURE,
    ("DiskPressure", "True"): TAINT_NODE_DISK_PRESSURE,
    ("NetworkUnavailable", "True"): TAINT_NODE_NETWORK_UNAVAILABLE,
    ("PIDPressure", "True"): TAINT_NODE_PID_PRESSURE,
}
#: Keys whose NoSchedule taints this controller owns (``taintKeyToNodeConditionMap`` plus unschedulable).
_OWNED_NO_SCHEDULE_KEYS = frozenset(NODE_CONDITION_TO_TAINT_KEY.values()) | {TAINT_NODE_UNSCHEDULABLE}
_OWNED_NO_EXECUTE_KEYS = frozenset({TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE})

DEFAULT_TOLERATION_SECONDS = 300

#: ``--node-startup-grace-period``: how long a new node's kubelet may take to post its first status.
NODE_STARTUP_GRACE_PERIOD = 60.0
#: The conditions a kubelet posts and ``tryUpdateNodeHealth`` marks Unknown (NetworkUnavailable is the control
#: plane's).
KUBELET_CONDITION_TYPES = (NODE_READY, "MemoryPressure", "DiskPressure", "PIDPressure")
REASON_NODE_STATUS_NEVER_UPDATED = "NodeStatusNeverUpdated"
MESSAGE_NODE_STATUS_NEVER_UPDATED = "Kubelet never posted node status."
REASON_NODE_STATUS_UNKNOWN = "NodeStatusUnknown"
MESSAGE_NODE_STATUS_UNKNOWN = "Kubelet stopped posting node status."

EVENT_TAINT_MANAGER_EVICTION = "TaintManagerEviction"
EVENT_MESSAGE_MARKING_FOR_DELETION = "Marking for deletion Pod {namespace}/{name}"
EVENT_MESSAGE_CANCELLING_DELETION = "Cancelling deletion of Pod {namespace}/{name}"
DISRUPTION_TARGET = "DisruptionTarget"
REASON_DELETION_BY_TAINT_MANAGER = "DeletionByTaintManager"
MESSAGE_DELETION_BY_TAINT_MANAGER = "Taint manager: deleting due to NoExecute taint"


def _same_taint(a: Mapping, b: Mapping) -> bool:
    """``Taint.MatchTaint``: same key and effect."""
    return (a.get("key") or "") == (b.get("key") or "") and (a.get("effect") or "") == (b.get("effect") or "")


# --- tainting -----------------------------------------------------------------------------------------------


def desired_controller_taints(node: Mapping) -> list[dict]:
    """The taints (key and effect) the node lifecycle controller wants on ``node``, in the order it adds them."""
    wanted: list[dict] = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        key = NODE_CONDITION_TO_TAINT_KEY.get((condition.get("type"), condition.get("status")))
        if key is not None:
            wanted.append({"key": key, "effect": TAINT_EFFECT_NO_SCHEDULE})
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.append({"key": TAINT_NODE_UNSCHEDULABLE, "effect": TAINT_EFFECT_NO_SCHEDULE})
    ready = get_node_condition(node, NODE_READY)
    if ready is not None and ready.get("status") == "False":
        wanted.append({"key": TAINT_NODE_NOT_READY, "effect": TAINT_EFFECT_NO_EXECUTE})
    elif ready is not None and ready.get("status") == "Unknown":
        wanted.append({"key": TAINT_NODE_UNREACHABLE, "effect": TAINT_EFFECT_NO_EXECUTE})
    return wanted


def _owned(taint: Mapping, node: Mapping) -> bool:
    effect, key = taint.get("effect"), taint.get("key")
    if effect == TAINT_EFFECT_NO_SCHEDULE:
        return key in _OWNED_NO_SCHEDULE_KEYS
    if effect == TAINT_EFFECT_NO_EXECUTE:
        # Without a Ready condition the NoExecute pass does nothing, so it removes nothing either.
        return key in _OWNED_NO_EXECUTE_KEYS and get_node_condition(node, NODE_READY) is not None
    return False


def never_posted_conditions(node: Mapping, now: datetime) -> list[dict]:
    """``tryUpdateNodeHealth`` for a node whose kubelet never posted: its conditions with the kubelet's four
    Unknown, the missing ones added (heartbeat = the node's creation), the others changed from what they said."""
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
    created = _meta(node).get("creationTimestamp") or format_time(now)
    for condition_type in KUBELET_CONDITION_TYPES:
        current = next((c for c in conditions if c.get("type") == condition_type), None)
        if current is None:
            conditions.append({"type": condition_type, "status": "Unknown", "lastHeartbeatTime": created,
                               "lastTransitionTime": format_time(now), "reason": REASON_NODE_STATUS_NEVER_UPDATED,
                               "message": MESSAGE_NODE_STATUS_NEVER_UPDATED})
        elif current.get("status") != "Unknown":
            current.update(status="Unknown", reason=REASON_NODE_STATUS_UNKNOWN, message=MESSAGE_NODE_STATUS_UNKNOWN,
                           lastTransitionTime=format_time(now))
    return conditions


def sync_node_lifecycle(node: dict, now: datetime) -> SyncResult:
    """Keep the node's condition and cordon taints in step with its status and ``spec.unschedulable``.

    Returns at most one merge patch of ``spec.taints`` (the whole list: taints added get ``timeAdded = now``,
    taints the controller owns but no longer wants are removed, all others are kept in place; ``None`` when no
    taint is left). A node with no Ready condition is requeued for the end of its startup grace period, and then
    gets a status patch marking its conditions Unknown instead (the next sync taints it).
    """
    name = _meta(node).get("name") or ""
    requeue = None
    if get_node_condition(node, NODE_READY) is None:
        created = parse_time(_meta(node).get("creationTimestamp")) or now
        due = created + timedelta(seconds=NODE_STARTUP_GRACE_PERIOD)
        if now >= due:
            patch = PatchObject("Node", "", name, {"status": {"conditions": never_posted_conditions(node, now)}},
                                subresource="status")
            note = f"mark Ready, MemoryPressure, DiskPressure, PIDPressure Unknown ({REASON_NODE_STATUS_NEVER_UPDATED})"
            trace = Trace(NODE_LIFECYCLE_CONTROLLER, name, "node startup grace period over",
                          "no Ready condition: the node's kubelet never posted its status",
                          f"{NODE_STARTUP_GRACE_PERIOD:.0f}s since the node was created: {note}", (note,))
            return SyncResult((patch,), None, None, trace)
        requeue = (due - now).total_seconds()
    current = list((node.get("spec") or {}).get("taints") or [])
    wanted = desired_controller_taints(node)
    to_delete = [t for t in current if _owned(t, node) and not any(_same_taint(t, w) for w in wanted)]
    to_add = [dict(w, timeAdded=format_time(now)) for w in wanted if not any(_same_taint(w, t) for t in current)]
    ready = get_node_condition(node, NODE_READY)
    observed = f"Ready={ready.get('status') if ready else 'missing'}, unschedulable={bool((node.get('spec') or {}).get('unschedulable'))}"
    observed += "; taints: " + (", ".join(format_taint(t) for t in current) or "none")
    trigger = "Node added or its status/spec changed"
    waiting = f"; no status from a kubelet yet: look again at {format_time(now + timedelta(seconds=requeue))}" \
        if requeue is not None else ""
    if not to_add and not to_delete:
        return SyncResult((), None, requeue,
                          Trace(NODE_LIFECYCLE_CONTROLLER, name, trigger, observed, "taints are up to date" + waiting))
    new_taints = [t for t in current if not any(t is d for d in to_delete)] + to_add
    notes = tuple([f"add taint {format_taint(t)}" for t in to_add] + [f"remove taint {format_taint(t)}" for t in to_delete])
    # No taint left: the field goes (``taints`` is omitempty), as it does after upstream's update.
    patch = PatchObject("Node", "", name, {"spec": {"taints": new_taints or None}})
    decision = "update taints: " + "; ".join(notes) + waiting
    return SyncResult((patch,), None, requeue,
                      Trace(NODE_LIFECYCLE_CONTROLLER, name, trigger, observed, decision, notes))


# --- taint eviction -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledEviction:
    """A pending deletion in the taint eviction queue: when it was scheduled and when it fires."""

    uid: str
    created_at: datetime
    fire_at: datetime


def get_min_toleration_time(tolerations: list[Mapping]) -> float:
    """``getMinTolerationTime``: the smallest ``tolerationSeconds`` (0 if any is <= 0, or no toleration was
    used); ``-1`` when every used toleration tolerates forever."""
    if not tolerations:
        return 0
    smallest = None
    for toleration in tolerations:
        seconds = toleration.get("tolerationSeconds")
        if seconds is None:
            continue
        if int(seconds) <= 0:
            return 0
        smallest = int(seconds) if smallest is None else min(smallest, int(seconds))
    return -1 if smallest is None else smallest


def _pod_ref(namespace: str, name: str) -> dict:
    # Upstream's event reference carries no uid.
    return {"apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": name}


def evict_pods_for_taints(
    node: dict,
    pods: list[dict],
    now: datetime,
    *,
    memory: Mapping[str, ScheduledEviction] | None = None,
) -> SyncResult:
    """Delete the pods on ``node`` that its ``NoExecute`` taints evict, now or when their toleration runs out.

    ``pods`` are the pods bound to ``node`` (others are ignored); ``memory`` holds the scheduled evictions
    (``{"<ns>/<name>": ScheduledEviction}``) from the previous call. Pods already being deleted are left alone
    (upstream would send a second delete). Returns, per evicted pod: the ``TaintManagerEviction`` event, a status
    patch adding ``DisruptionTarget`` (when not already there) and a delete with the pod's own grace period;
    ``requeue_after`` is the next scheduled eviction.
    """
    node_name = _meta(node).get("name") or ""
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == TAINT_EFFECT_NO_EXECUTE]
    scheduled: dict[str, ScheduledEviction] = dict(memory or {})
    actions: list = []
    notes: list[str] = []

    def cancel(key: str) -> None:
        if scheduled.pop(key, None) is not None:
            namespace, name = key.split("/", 1)
            actions.append(EmitEvent(_pod_ref(namespace, name), "Normal", EVENT_TAINT_MANAGER_EVICTION,
                                     EVENT_MESSAGE_CANCELLING_DELETION.format(namespace=namespace, name=name),
                                     TAINT_EVICTION_COMPONENT))
            notes.append(f"cancel the scheduled deletion of pod {key}")

    on_node = sorted(
        (p for p in pods if (p.get("spec") or {}).get("nodeName") == node_name),
        key=lambda p: (_meta(p).get("namespace") or "default", _meta(p).get("name") or ""),
    )
    present = {f"{_meta(p).get('namespace') or 'default'}/{_meta(p).get('name') or ''}" for p in on_node}
    for key in sorted(scheduled):
        if key not in present:
            cancel(key)  # the pod was deleted or moved: upstream cancels its work with an event

    to_evict: list[dict] = []
    for pod in on_node:
        meta = _meta(pod)
        key = f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"
        if meta.get("deletionTimestamp"):
            scheduled.pop(key, None)
            continue
        if not taints:
            cancel(key)
            continue
        tolerated, used = get_matching_tolerations(taints, (pod.get("spec") or {}).get("tolerations"))
        if not tolerated:
            cancel(key)
            notes.append(f"pod {key} does not tolerate every NoExecute taint: evict now")
            to_evict.append(pod)
            continue
        seconds = get_min_toleration_time(used)
        if seconds < 0:
            cancel(key)
            continue
        trigger_at = now + timedelta(seconds=seconds)
        existing = scheduled.get(key)
        if existing is not None and existing.created_at + timedelta(seconds=seconds) <= trigger_at:
            fire_at = existing.fire_at if existing.created_at < now else trigger_at
            scheduled[key] = ScheduledEviction(existing.uid, existing.created_at, fire_at)
        else:
            if existing is not None:
                cancel(key)
            scheduled[key] = ScheduledEviction(meta.get("uid") or "", now, trigger_at)
            if seconds > 0:
                notes.append(f"pod {key} tolerates the NoExecute taints for {seconds}s: evict at {format_time(trigger_at)}")
        if scheduled[key].fire_at <= now:
            scheduled.pop(key)
            to_evict.append(pod)

    for pod in to_evict:
        meta = _meta(pod)
        namespace, name, uid = meta.get("namespace") or "default", meta.get("name") or "", meta.get("uid") or ""
        actions.append(EmitEvent(_pod_ref(namespace, name), "Normal", EVENT_TAINT_MANAGER_EVICTION,
                                 EVENT_MESSAGE_MARKING_FOR_DELETION.format(namespace=namespace, name=name),
                                 TAINT_EVICTION_COMPONENT))
        new_status, changed = update_pod_condition(pod.get("status"), {
            "type": DISRUPTION_TARGET, "status": "True", "reason": REASON_DELETION_BY_TAINT_MANAGER,
            "message": MESSAGE_DELETION_BY_TAINT_MANAGER}, now)
        if changed:
            actions.append(PatchObject("Pod", namespace, name,
                                       {"metadata": {"uid": uid}, "status": {"conditions": new_status["conditions"]}},
                                       subresource="status"))
        actions.append(DeleteObject("Pod", namespace, name, uid))
        notes.append(f"delete pod {namespace}/{name}")

    requeue = None
    if scheduled:
        requeue = max(0.0, min((s.fire_at - now).total_seconds() for s in scheduled.values()))
    observed = f"NoExecute taints: {', '.join(format_taint(t) for t in taints) or 'none'}; {len(on_node)} pod(s) on the node"
    decision = f"evict {len(to_evict)} pod(s)" if to_evict else "no pod to evict now"
    if scheduled:
        decision += f"; {len(scheduled)} eviction(s) scheduled"
    trace = Trace(TAINT_EVICTION_CONTROLLER, node_name, "Node NoExecute taints or its pods changed", observed,
                  decision, tuple(notes))
    return SyncResult(tuple(actions), None, requeue, trace, scheduled)
