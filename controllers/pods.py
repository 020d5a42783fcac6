"""Pod state and ordering helpers shared by the workload controllers.

These mirror small helpers upstream keeps in ``pkg/controller/controller_utils.go`` (``IsPodActive``,
``FilterActivePods``, ``ActivePods``, the event reasons of ``RealPodControl``), ``pkg/api/v1/pod``
(``IsPodReady``) and the Job controller's ``backoff_utils.go`` (``getFinishedTime``). Pods are plain Kubernetes
JSON dicts; times inside them are RFC 3339 strings, as the API server stores them. Nothing here reads the clock.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

POD_PENDING = "Pending"
POD_RUNNING = "Running"
POD_SUCCEEDED = "Succeeded"
POD_FAILED = "Failed"
POD_UNKNOWN = "Unknown"

POD_READY = "Ready"
CONDITION_TRUE = "True"
CONDITION_FALSE = "False"

# Events RealPodControl records for each pod a controller creates or deletes (controller_utils.go
# ``SuccessfulCreatePodReason`` ...). The CronJob controller records the same reasons for the Jobs it creates.
EVENT_SUCCESSFUL_CREATE = "SuccessfulCreate"
EVENT_MESSAGE_SUCCESSFUL_CREATE = "Created pod: {name}"
EVENT_FAILED_CREATE = "FailedCreate"
EVENT_MESSAGE_FAILED_CREATE = "Error creating: {error}"
EVENT_SUCCESSFUL_DELETE = "SuccessfulDelete"
EVENT_MESSAGE_SUCCESSFUL_DELETE = "Deleted pod: {name}"
EVENT_FAILED_DELETE = "FailedDelete"
EVENT_MESSAGE_FAILED_DELETE = "Error deleting: {error}"

#: Go's zero ``time.Time``; upstream uses it where a timestamp is missing.
ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)

# controller.ActivePods: PodPending < PodUnknown < PodRunning; any other phase counts as 0 (Go map default).
_PHASE_ORDINAL = {POD_PENDING: 0, POD_UNKNOWN: 1, POD_RUNNING: 2}


# --- time --------------------------------------------------------------------------------------------------


def parse_time(value: str | datetime | None) -> datetime | None:
    """Parse an RFC 3339 timestamp (``2024-01-02T03:04:05Z``) into an aware UTC datetime; ``None`` stays."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """Format like ``metav1.Time``: UTC, second precision, ``Z`` suffix."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- state -------------------------------------------------------------------------------------------------


def pod_phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def is_pod_terminal(pod: dict) -> bool:
    """Succeeded or Failed (``podutil.IsPodTerminal``)."""
    return pod_phase(pod) in (POD_SUCCEEDED, POD_FAILED)


def is_pod_active(pod: dict) -> bool:
    """Neither Succeeded nor Failed, and not being deleted (``controller.IsPodActive``)."""
    return not is_pod_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def is_pod_terminating(pod: dict) -> bool:
    """Being deleted but not yet terminal (``controller.IsPodTerminating``)."""
    return not is_pod_terminal(pod) and bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def filter_active_pods(pods: list[dict]) -> list[dict]:
    return [p for p in pods if is_pod_active(p)]


def count_terminating_pods(pods: list[dict]) -> int:
    return sum(1 for p in pods if is_pod_terminating(p))


def get_pod_condition(pod: dict, condition_type: str) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_pod_ready(pod: dict) -> bool:
    """The pod's ``Ready`` condition is ``True`` (``podutil.IsPodReady``)."""
    condition = get_pod_condition(pod, POD_READY)
    return condition is not None and condition.get("status") == CONDITION_TRUE


def pod_ready_time(pod: dict) -> datetime:
    """When a ready pod became ready; ``ZERO_TIME`` if unknown or not ready."""
    if is_pod_ready(pod):
        condition = get_pod_condition(pod, POD_READY) or {}
        return parse_time(condition.get("lastTransitionTime")) or ZERO_TIME
    return ZERO_TIME


def max_container_restarts(pod: dict) -> int:
    return max(
        (int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or []),
        default=0,
    )


def creation_time(pod: dict) -> datetime:
    return parse_time((pod.get("metadata") or {}).get("creationTimestamp")) or ZERO_TIME


# --- ordering ----------------------------------------------------------------------------------------------


def _after_or_zero(t1: datetime, t2: datetime) -> bool:
    """Upstream ``afterOrZero``: a zero time sorts first, then the later time."""
    if t1 == ZERO_TIME or t2 == ZERO_TIME:
        return t1 == ZERO_TIME
    return t1 > t2


def _active_pods_less(a: dict, b: dict) -> bool:
    node_a = (a.get("spec") or {}).get("nodeName") or ""
    node_b = (b.get("spec") or {}).get("nodeName") or ""
    # 1. Unassigned < assigned.
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    # 2. Pending < Unknown < Running.
    phase_a, phase_b = _PHASE_ORDINAL.get(pod_phase(a), 0), _PHASE_ORDINAL.get(pod_phase(b), 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    # 3. Not ready < ready.
    ready_a, ready_b = is_pod_ready(a), is_pod_ready(b)
    if ready_a != ready_b:
        return not ready_a
    # 4. Ready for a shorter time < longer.
    if ready_a and ready_b:
        rt_a, rt_b = pod_ready_time(a), pod_ready_time(b)
        if rt_a != rt_b:
            return _after_or_zero(rt_a, rt_b)
    # 5. More restarts < fewer.
    restarts_a, restarts_b = max_container_restarts(a), max_container_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    # 6. Newer < older.
    ct_a, ct_b = creation_time(a), creation_time(b)
    if ct_a != ct_b:
        return _after_or_zero(ct_a, ct_b)
    return False


def _compare_active_pods(a: dict, b: dict) -> int:
    if _active_pods_less(a, b):
        return -1
    if _active_pods_less(b, a):
        return 1
    # Upstream leaves ties to Go's unstable sort; we break them by name, then uid, to stay deterministic.
    key_a = ((a.get("metadata") or {}).get("name") or "", (a.get("metadata") or {}).get("uid") or "")
    key_b = ((b.get("metadata") or {}).get("name") or "", (b.get("metadata") or {}).get("uid") or "")
    return (key_a > key_b) - (key_a < key_b)


def sort_active_pods(pods: list[dict]) -> list[dict]:
    """Order pods like ``controller.ActivePods``: the best candidates for deletion first.

    Unscheduled before scheduled; Pending before Unknown before Running; not ready before ready; ready for
    less time first; more restarts first; newer first.
    """
    return sorted(pods, key=functools.cmp_to_key(_compare_active_pods))


# --- finish time -------------------------------------------------------------------------------------------


def _latest_finish_time(previous: datetime | None, statuses: list[dict]) -> datetime | None:
    finish = previous
    for status in statuses:
        terminated = (status.get("state") or {}).get("terminated")
        finished_at = parse_time((terminated or {}).get("finishedAt"))
        if terminated is None or finished_at is None or finished_at == ZERO_TIME:
            return None
        if finish is None or finish < finished_at:
            finish = finished_at
    return finish


def get_finished_time(pod: dict) -> datetime:
    """When a pod finished, as upstream ``getFinishedTime`` estimates it.

    1. all containers (and sidecar init containers) terminated: the latest ``finishedAt``;
    2. else the time the ``Ready`` condition turned ``False``;
    3. else ``deletionTimestamp - deletionGracePeriodSeconds``;
    4. else the creation time (``ZERO_TIME`` if even that is missing).
    """
    status = pod.get("status") or {}
    metadata = pod.get("metadata") or {}
    finish = _latest_finish_time(None, status.get("containerStatuses") or [])
    # Sidecars (restartable init containers) stop after the main containers, so they count too.
    sidecars = {
        c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or [] if c.get("restartPolicy") == "Always"
    }
    sidecar_statuses = [s for s in status.get("initContainerStatuses") or [] if s.get("name") in sidecars]
    finish = _latest_finish_time(finish, sidecar_statuses)
    if finish is not None:
        return finish
    ready = get_pod_condition(pod, POD_READY)
    if ready is not None and ready.get("status") == CONDITION_FALSE:
        transition = parse_time(ready.get("lastTransitionTime"))
        if transition is not None and transition != ZERO_TIME:
            return transition
    deletion = parse_time(metadata.get("deletionTimestamp"))
    if deletion is not None:
        return deletion - timedelta(seconds=int(metadata.get("deletionGracePeriodSeconds") or 0))
    return creation_time(pod)


# --- kubectl columns (``pkg/printers/internalversion/printers.go`` printPod) --------------------------------

#: ``NodeUnreachablePodReason`` (``pkg/util/node``): a pod on a lost node shows ``Unknown`` while deleted.
NODE_UNREACHABLE_POD_REASON = "NodeLost"
SCHEDULING_GATED_REASON = "SchedulingGated"


def _is_restartable_init_container(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _pod_columns(pod: dict) -> tuple[int, int, str, int, datetime | None]:
    """printPod's (ready, total, reason, restarts, last restart time) for one pod."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    restarts = 0
    restartable_init_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: datetime | None = None
    last_restartable_init_restart: datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == SCHEDULING_GATED_REASON:
            reason = SCHEDULING_GATED_REASON

    init_containers = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in spec.get("initContainers") or [] if _is_restartable_init_container(c))

    def later(current: datetime | None, container_status: dict) -> datetime | None:
        terminated = (container_status.get("lastState") or {}).get("terminated")
        if terminated is None:
            return current
        finished = parse_time(terminated.get("finishedAt")) or ZERO_TIME
        return finished if current is None or current < finished else current

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = later(last_restart, cs)
        restartable = _is_restartable_init_container(init_containers.get(cs.get("name")))
        if restartable:
            restartable_init_restarts += int(cs.get("restartCount") or 0)
            last_restartable_init_restart = later(last_restartable_init_restart, cs)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    initialized = get_pod_condition(pod, "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == CONDITION_TRUE):
        restarts = restartable_init_restarts
        last_restart = last_restartable_init_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = later(last_restart, cs)
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A container still running after another completed: the pod is Running (or NotReady), not Completed.
        if reason == "Completed" and has_running:
            reason = "Running" if is_pod_ready(pod) else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == NODE_UNREACHABLE_POD_REASON:
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in (POD_SUCCEEDED, POD_FAILED):
        reason = "Terminating"
    return ready, total, reason, restarts, last_restart


def pod_status_text(pod: dict) -> str:
    """kubectl's STATUS column for a pod (``printPod``): ``Running``, ``Completed``, ``CrashLoopBackOff``,
    ``Terminating``, ``Init:0/1``, ``ExitCode:3``..."""
    return _pod_columns(pod)[2]


def pod_ready_text(pod: dict) -> str:
    """kubectl's READY column: ready-and-running containers / containers (plus sidecar init containers)."""
    ready, total, _, _, _ = _pod_columns(pod)
    return f"{ready}/{total}"


def pod_restarts_text(pod: dict, now: datetime) -> str:
    """kubectl's RESTARTS column: ``0``, or ``2 (5m ago)`` when a previous termination is recorded.

    The age is ``translateTimestampSince``: ``HumanDuration`` of ``now`` minus the latest
    ``lastState.terminated.finishedAt``.
    """
    from controllers.apimachinery.timeutil import human_duration

    _, _, _, restarts, last_restart = _pod_columns(pod)
    if restarts != 0 and last_restart is not None and last_restart != ZERO_TIME:
        return f"{restarts} ({human_duration(now - last_restart)} ago)"
    return str(restarts)
