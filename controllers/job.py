"""The Job controller (batch/v1), as a pure function from observed state to a plan.

It follows upstream's ``pkg/controller/job/job_controller.go`` (with ``backoff_utils.go``,
``indexed_job_utils.go``, ``pod_failure_policy.go`` and ``success_policy.go``) and behaves like a default
Kubernetes 1.31-1.34 cluster: the JobPodReplacementPolicy, JobManagedBy, JobBackoffLimitPerIndex,
JobSuccessPolicy and PodIndexLabel feature gates are on. So a finishing Job first gets the interim
``SuccessCriteriaMet`` or ``FailureTarget`` condition and only then ``Complete`` (reason ``CompletionsReached``)
or ``Failed``, the latter once no pod is terminating any more; ``terminating`` and ``ready`` are always written.

``sync_job(job, pods, now)`` is upstream's ``syncJob``: ``pods`` are the pods already matched to the Job (the
caller resolved the selector and ownerReferences), ``now`` is the simulated time. It returns a
``controllers.plan.SyncResult``. Functions are named after their upstream counterparts so a learner can read
``job_controller.go`` side by side.

Finalizer tracking (``uncountedTerminatedPods``), simplified
-------------------------------------------------------------
Upstream counts a finished pod in two phases inside one sync: (1) write its UID into
``status.uncountedTerminatedPods``, (2) remove the ``batch.kubernetes.io/job-tracking`` finalizer from the pod,
(3) write the status again with the UID moved into ``succeeded``/``failed``. A plan carries one status, so this
controller writes the state upstream reaches after step (3) directly: every finished pod that still has the
finalizer is counted in ``status`` and gets a ``PatchObject`` that removes the finalizer, in the same plan.

Counts are never lost because the engine writes ``status`` before it applies the patches: once a finalizer is
gone, the pod's count is already stored. Counts are never doubled because a pod whose finalizer removal this
controller has asked for is remembered in ``JobMemory.expected_rm_finalizers`` (upstream keeps the same set in
memory as ``finalizerExpectations``); while the engine has not yet observed the patch, the pod is not counted
again (its patch is re-issued instead, which is idempotent). The same holds for UIDs found in an incoming
``uncountedTerminatedPods`` (for instance a Job exported from a real cluster mid-flight): they are not
re-counted, their pods lose the finalizer, and they move into the counters. The status therefore always ends
with ``uncountedTerminatedPods: {}``, except when more than 500 pods finish at once (``MAX_UNCOUNTED_PODS``).

Orphan pods
-----------
``sync_job`` only releases the pods of a Job it can still see. A pod whose Job was deleted (the garbage collector
then deletes the pod, or with ``--cascade=orphan`` takes its ownerReference away), or whose Job finished without
releasing it, would keep the finalizer, and a pod being deleted would stay ``Terminating`` for ever. Upstream keeps
a second work queue of such pods, filled by the orphan branches of its pod handlers and by ``deleteJob`` /
``updateJob`` (``cleanupPodFinalizers``), and ``syncOrphanPod`` removes the finalizer. Here that is
``sync_orphan_pod(pod, job)`` and ``cleanup_pod_finalizers(job, pods)``; ``controllers.manager`` holds the queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from controllers.apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.apimachinery.objcopy import deep_copy
from controllers.apimachinery.ownerrefs import get_controller_of, is_controlled_by
from controllers.objects import meta as _meta, spec as _spec, status as _status, uid as _uid
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from controllers.pods import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    POD_FAILED,
    POD_PENDING,
    POD_RUNNING,
    POD_SUCCEEDED,
    count_terminating_pods,
    filter_active_pods,
    format_time,
    get_finished_time,
    is_pod_ready,
    is_pod_terminating,
    parse_time,
    pod_phase,
    sort_active_pods,
)

# --- names and limits (upstream constants) -----------------------------------------------------------------

CONTROLLER = "job"
COMPONENT = "job-controller"
#: ``spec.managedBy`` value meaning "the built-in Job controller" (``batch.JobControllerName``).
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV_NAME = "JOB_COMPLETION_INDEX"

NON_INDEXED_COMPLETION = "NonIndexed"
INDEXED_COMPLETION = "Indexed"
POD_REPLACEMENT_FAILED = "Failed"
POD_REPLACEMENT_TERMINATING_OR_FAILED = "TerminatingOrFailed"

DEFAULT_BACKOFF_LIMIT = 6
MAX_INT32 = 2147483647
#: ``DefaultJobPodFailureBackOff`` and ``MaxJobPodFailureBackOff`` (the docs' "six minutes" is the pre-1.26 cap).
DEFAULT_JOB_POD_FAILURE_BACKOFF = 10.0
MAX_JOB_POD_FAILURE_BACKOFF = 600.0
MAX_POD_CREATE_DELETE_PER_SYNC = 500
MAX_UNCOUNTED_PODS = 500
SLOW_START_INITIAL_BATCH_SIZE = 1
#: ``names.MaxGeneratedNameLength``: 63 minus the 5 random characters the API server appends.
MAX_GENERATED_NAME_LENGTH = 58
UNKNOWN_COMPLETION_INDEX = -1

# --- conditions, reasons and messages (batch/v1 types.go and job_controller.go) ----------------------------

JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_SUSPENDED = "Suspended"
JOB_FAILURE_TARGET = "FailureTarget"
JOB_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"

JOB_REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
JOB_MESSAGE_BACKOFF_LIMIT_EXCEEDED = "Job has reached the specified backoff limit"
JOB_REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
JOB_MESSAGE_DEADLINE_EXCEEDED = "Job was active longer than specified deadline"
JOB_REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"
JOB_MESSAGE_MAX_FAILED_INDEXES_EXCEEDED = "Job has exceeded the specified maximal number of failed indexes"
JOB_REASON_FAILED_INDEXES = "FailedIndexes"
JOB_MESSAGE_FAILED_INDEXES = "Job has failed indexes"
JOB_REASON_SUCCESS_POLICY = "SuccessPolicy"
JOB_MESSAGE_SUCCESS_POLICY_PREFIX = "Matched rules at index"
JOB_REASON_COMPLETIONS_REACHED = "CompletionsReached"
JOB_MESSAGE_COMPLETIONS_REACHED = "Reached expected number of succeeded pods"
JOB_REASON_SUSPENDED = "JobSuspended"
JOB_MESSAGE_SUSPENDED = "Job suspended"
JOB_REASON_RESUMED = "JobResumed"
JOB_MESSAGE_RESUMED = "Job resumed"

# --- events (job_controller.go and controller_utils.go RealPodControl) --------------------------------------

EVENT_SUCCESSFUL_CREATE = "SuccessfulCreate"
EVENT_MESSAGE_SUCCESSFUL_CREATE = "Created pod: {name}"
EVENT_FAILED_CREATE = "FailedCreate"
EVENT_MESSAGE_FAILED_CREATE = "Error creating: {error}"
EVENT_SUCCESSFUL_DELETE = "SuccessfulDelete"
EVENT_MESSAGE_SUCCESSFUL_DELETE = "Deleted pod: {name}"
EVENT_FAILED_DELETE = "FailedDelete"
EVENT_MESSAGE_FAILED_DELETE = "Error deleting: {error}"
EVENT_COMPLETED = "Completed"
EVENT_MESSAGE_COMPLETED = "Job completed"
EVENT_SUSPENDED = "Suspended"
EVENT_RESUMED = "Resumed"
EVENT_TOO_MANY_SUCCEEDED_PODS = "TooManySucceededPods"
EVENT_MESSAGE_TOO_MANY_SUCCEEDED_PODS = "Too many succeeded pods running after completion count reached"
EVENT_UNKNOWN_COMPLETION_MODE = "UnknownCompletionMode"
EVENT_MESSAGE_UNKNOWN_COMPLETION_MODE = "Skipped Job sync because completion mode is unknown"

# Pod failure policy actions.
ACTION_FAIL_JOB = "FailJob"
ACTION_FAIL_INDEX = "FailIndex"
ACTION_IGNORE = "Ignore"
ACTION_COUNT = "Count"


# --- small accessors ---------------------------------------------------------------------------------------


def _pod_name(pod: dict) -> str:
    return _meta(pod).get("name") or ""


def job_key(job: dict) -> str:
    return f"{_meta(job).get('namespace') or 'default'}/{_meta(job).get('name') or ''}"


def job_reference(job: dict) -> dict:
    """The ``involvedObject`` of events about this Job."""
    meta = _meta(job)
    return {
        "apiVersion": job.get("apiVersion") or "batch/v1",
        "kind": "Job",
        "namespace": meta.get("namespace") or "default",
        "name": meta.get("name") or "",
        "uid": meta.get("uid") or "",
    }


def job_completions(job: dict) -> int | None:
    """``spec.completions``, defaulted like ``SetDefaults_Job`` (both nil means 1); ``None`` = work queue."""
    spec = _spec(job)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        return 1
    completions = spec.get("completions")
    return None if completions is None else int(completions)


def job_parallelism(job: dict) -> int:
    parallelism = _spec(job).get("parallelism")
    return 1 if parallelism is None else int(parallelism)


def job_backoff_limit(job: dict) -> int:
    spec = _spec(job)
    if spec.get("backoffLimit") is not None:
        return int(spec["backoffLimit"])
    return MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else DEFAULT_BACKOFF_LIMIT


def is_indexed_job(job: dict) -> bool:
    return _spec(job).get("completionMode") == INDEXED_COMPLETION


def has_backoff_limit_per_index(job: dict) -> bool:
    return _spec(job).get("backoffLimitPerIndex") is not None


def job_suspended(job: dict) -> bool:
    return bool(_spec(job).get("suspend"))


def only_replace_failed_pods(job: dict) -> bool:
    """``podReplacementPolicy: Failed`` (the default when a podFailurePolicy is set)."""
    spec = _spec(job)
    return spec.get("podReplacementPolicy") == POD_REPLACEMENT_FAILED or spec.get("podFailurePolicy") is not None


def managed_by_external_controller(job: dict) -> str | None:
    managed_by = _spec(job).get("managedBy")
    return managed_by if managed_by and managed_by != JOB_CONTROLLER_NAME else None


def has_job_tracking_finalizer(pod: dict) -> bool:
    return JOB_TRACKING_FINALIZER in (_meta(pod).get("finalizers") or [])


def is_pod_failed(pod: dict, job: dict) -> bool:
    """Failed phase; or, unless only failed pods are replaced, being deleted without having succeeded."""
    if pod_phase(pod) == POD_FAILED:
        return True
    if only_replace_failed_pods(job):
        return False
    # Count deleted pods as failures to account for orphan pods that never reach the Failed phase.
    return bool(_meta(pod).get("deletionTimestamp")) and pod_phase(pod) != POD_SUCCEEDED


# --- conditions --------------------------------------------------------------------------------------------


def new_condition(condition_type: str, status: str, reason: str, message: str, now: datetime) -> dict:
    """A JobCondition dict with both probe and transition time set to ``now``."""
    condition = {
        "type": condition_type,
        "status": status,
        "lastProbeTime": format_time(now),
        "lastTransitionTime": format_time(now),
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def find_condition_by_type(conditions: list[dict], condition_type: str) -> dict | None:
    for condition in conditions:
        if condition.get("type") == condition_type:
            return condition
    return None


def ensure_job_condition_status(
    conditions: list[dict], condition_type: str, status: str, reason: str, message: str, now: datetime
) -> tuple[list[dict], bool]:
    """Set or update a condition; a ``False`` condition is never added from nothing. Returns (list, changed)."""
    result = [dict(c) for c in conditions]
    for i, condition in enumerate(result):
        if condition.get("type") == condition_type:
            if (
                condition.get("status") != status
                or (condition.get("reason") or "") != reason
                or (condition.get("message") or "") != message
            ):
                result[i] = new_condition(condition_type, status, reason, message, now)
                return result, True
            return result, False
    if status != CONDITION_FALSE:
        result.append(new_condition(condition_type, status, reason, message, now))
        return result, True
    return result, False


def is_job_finished(job: dict) -> bool:
    """``Complete=True`` or ``Failed=True``."""
    return any(
        c.get("type") in (JOB_COMPLETE, JOB_FAILED) and c.get("status") == CONDITION_TRUE
        for c in _status(job).get("conditions") or []
    )


def job_finished_time(job: dict) -> datetime | None:
    """When the Job finished: ``lastTransitionTime`` of its ``Complete``/``Failed`` True condition, else None.

    This is what the TTL-after-finished controller adds ``ttlSecondsAfterFinished`` to.
    """
    for condition in _status(job).get("conditions") or []:
        if condition.get("type") in (JOB_COMPLETE, JOB_FAILED) and condition.get("status") == CONDITION_TRUE:
            return parse_time(condition.get("lastTransitionTime"))
    return None


def _has_success_criteria_met_condition(job: dict) -> dict | None:
    condition = find_condition_by_type(_status(job).get("conditions") or [], JOB_SUCCESS_CRITERIA_MET)
    return condition if condition is not None and condition.get("status") == CONDITION_TRUE else None


def _is_success_criteria_met(condition: dict | None) -> bool:
    return (
        condition is not None
        and condition.get("type") == JOB_SUCCESS_CRITERIA_MET
        and condition.get("status") == CONDITION_TRUE
    )


def new_failure_condition(reason: str, message: str, now: datetime) -> dict:
    """With delayed terminal conditions (1.31+), a failure is first recorded as ``FailureTarget``."""
    return new_condition(JOB_FAILURE_TARGET, CONDITION_TRUE, reason, message, now)


def new_success_condition(now: datetime) -> dict:
    """With delayed terminal conditions (1.31+), success is first recorded as ``SuccessCriteriaMet``."""
    return new_condition(
        JOB_SUCCESS_CRITERIA_MET, CONDITION_TRUE, JOB_REASON_COMPLETIONS_REACHED, JOB_MESSAGE_COMPLETIONS_REACHED, now
    )


# --- backoff (backoff_utils.go) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackoffRecord:
    """Pod-failure backoff state upstream keeps in memory per Job."""

    failures_after_last_success: int = 0
    last_failure_time: datetime | None = None


@dataclass(frozen=True)
class JobMemory:
    """What the engine keeps for a Job between syncs (``SyncResult.memory``); opaque to the engine."""

    backoff: BackoffRecord = field(default_factory=BackoffRecord)
    #: UIDs of pods whose tracking finalizer this controller asked to remove and has not yet seen removed.
    expected_rm_finalizers: frozenset[str] = frozenset()


def new_backoff_record(
    record: BackoffRecord | None, new_succeeded_pods: list[dict], new_failed_pods: list[dict]
) -> BackoffRecord:
    """Fold newly finished pods into the record.

    Only failures: add them, the latest finish time becomes ``last_failure_time``. Any success: the count
    restarts from the failures that finished strictly after the latest success.
    """
    record = record or BackoffRecord()
    succeeded = sorted(new_succeeded_pods, key=get_finished_time)
    failed = sorted(new_failed_pods, key=get_finished_time)
    if not succeeded:
        if not failed:
            return record
        return BackoffRecord(record.failures_after_last_success + len(failed), get_finished_time(failed[-1]))
    if not failed:
        return BackoffRecord(0, None)
    last_success = get_finished_time(succeeded[-1])
    count, last_failure = 0, None
    for pod in reversed(failed):
        failed_at = get_finished_time(pod)
        if not failed_at > last_success:
            break
        if last_failure is None:
            last_failure = failed_at
        count += 1
    return BackoffRecord(count, last_failure)


def backoff_delay(failures: int) -> float:
    """10 s · 2^(failures-1), capped at 10 min; 0 for no failures."""
    if failures <= 0:
        return 0.0
    delay = DEFAULT_JOB_POD_FAILURE_BACKOFF
    for _ in range(1, failures):
        delay *= 2
        if delay >= MAX_JOB_POD_FAILURE_BACKOFF:
            return MAX_JOB_POD_FAILURE_BACKOFF
    return delay


def remaining_time_for_failures_count(failures: int, last_failure_time: datetime | None, now: datetime) -> float:
    if failures == 0 or last_failure_time is None:
        return 0.0
    delay = backoff_delay(failures)
    elapsed = (now - last_failure_time).total_seconds()
    return 0.0 if delay < elapsed else delay - elapsed


def remaining_backoff(record: BackoffRecord | None, now: datetime) -> float:
    """Seconds to wait before creating pods again (0 when creation may happen now)."""
    if record is None:
        return 0.0
    return remaining_time_for_failures_count(record.failures_after_last_success, record.last_failure_time, now)


# --- indexed Jobs (indexed_job_utils.go) -------------------------------------------------------------------

Intervals = tuple[tuple[int, int], ...]
_INT_RE = re.compile(r"^[+-]?[0-9]+$")


def _atoi(text: str) -> int | None:
    return int(text) if isinstance(text, str) and _INT_RE.match(text) else None


def get_completion_index(pod_or_annotations: dict) -> int:
    """The pod's completion index annotation, or -1 when missing or invalid."""
    annotations = pod_or_annotations
    if "metadata" in pod_or_annotations:
        annotations = _meta(pod_or_annotations).get("annotations") or {}
    value = _atoi(annotations.get(JOB_COMPLETION_INDEX_ANNOTATION, ""))
    return UNKNOWN_COMPLETION_INDEX if value is None or value < 0 else value


def merge_intervals(a: Intervals, b: Intervals) -> Intervals:
    """Merge two ordered interval lists, joining overlapping and adjacent intervals."""
    result: list[list[int]] = []
    for first, last in sorted(list(a) + list(b)):
        if not result or first > result[-1][1] + 1:
            result.append([first, last])
        elif result[-1][1] < last:
            result[-1][1] = last
    return tuple((f, l) for f, l in result)


def with_ordered_indexes(intervals: Intervals, indexes) -> Intervals:
    return merge_intervals(intervals, tuple((i, i) for i in indexes))


def intervals_total(intervals: Intervals | None) -> int:
    return sum(last - first + 1 for first, last in intervals or ())


def intervals_has(intervals: Intervals | None, index: int) -> bool:
    return any(first <= index <= last for first, last in intervals or ())


def intervals_to_string(intervals: Intervals) -> str:
    """``"1,3-5,7"``: three or more consecutive indexes become a range, two stay ``"0,1"``."""
    parts = []
    for first, last in intervals:
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
    return ",".join(parts)


def format_completed_indexes(indexes) -> str:
    """Compress a collection of indexes the way ``status.completedIndexes`` is written."""
    return intervals_to_string(with_ordered_indexes((), sorted(set(indexes))))


def parse_indexes_from_string(text: str | None, completions: int) -> Intervals:
    """Parse ``"1,3-5,7"``, dropping indexes >= completions and ignoring corrupt parts."""
    if not text:
        return ()
    result: list[list[int]] = []
    for part in text.split(","):
        limits = part.split("-")
        first = _atoi(limits[0])
        if first is None:
            continue
        if first >= completions:
            break
        if len(limits) > 1:
            last = _atoi(limits[1])
            if last is None:
                continue
            last = min(last, completions - 1)
        else:
            last = first
        if result and result[-1][1] == first - 1:
            result[-1][1] = last
        else:
            result.append([first, last])
    return tuple((f, l) for f, l in result)


def calculate_succeeded_indexes(job: dict, pods: list[dict]) -> tuple[Intervals, Intervals]:
    """(indexes already in ``status.completedIndexes``, those plus indexes of newly succeeded pods)."""
    completions = job_completions(job) or 0
    previous = parse_indexes_from_string(_status(job).get("completedIndexes") or "", completions)
    new = set()
    for pod in pods:
        ix = get_completion_index(pod)
        if (
            pod_phase(pod) == POD_SUCCEEDED
            and ix != UNKNOWN_COMPLETION_INDEX
            and ix < completions
            and has_job_tracking_finalizer(pod)
        ):
            new.add(ix)
    return previous, with_ordered_indexes(previous, sorted(new))


def _index_failure_count(pod: dict, annotation: str) -> int:
    value = _atoi((_meta(pod).get("annotations") or {}).get(annotation, ""))
    return value if value is not None and 0 <= value <= MAX_INT32 else 0


def get_index_failure_count(pod: dict) -> int:
    return _index_failure_count(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION)


def get_index_absolute_failure_count(pod: dict) -> int:
    return get_index_failure_count(pod) + _index_failure_count(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)


def is_index_failed(job: dict, pod: dict) -> bool:
    """The pod's failure makes its whole index failed (FailIndex, or backoffLimitPerIndex exhausted)."""
    counted = False
    if is_pod_failed(pod, job):
        if _spec(job).get("podFailurePolicy") is not None:
            _, count_failed, action = match_pod_failure_policy(_spec(job)["podFailurePolicy"], pod)
            if action == ACTION_FAIL_INDEX:
                return True
            counted = count_failed
        else:
            counted = True
    return counted and get_index_failure_count(pod) >= int(_spec(job)["backoffLimitPerIndex"])


def calculate_failed_indexes(job: dict, pods: list[dict]) -> Intervals:
    completions = job_completions(job) or 0
    previous = ()
    if _status(job).get("failedIndexes") is not None:
        previous = parse_indexes_from_string(_status(job)["failedIndexes"], completions)
    new = set()
    for pod in pods:
        ix = get_completion_index(pod)
        if (
            ix != UNKNOWN_COMPLETION_INDEX
            and ix < completions
            and has_job_tracking_finalizer(pod)
            and is_index_failed(job, pod)
        ):
            new.add(ix)
    return with_ordered_indexes(previous, sorted(new))


def _get_indexes(pods: list[dict]) -> set[int]:
    return {ix for ix in (get_completion_index(p) for p in pods) if ix != UNKNOWN_COMPLETION_INDEX}


def first_pending_indexes(
    active_pods: list[dict],
    succeeded_indexes: Intervals,
    count: int,
    completions: int,
    *,
    terminating_pods: Sequence[dict] = (),
    failed_indexes: Intervals | None = None,
) -> list[int]:
    """The ``count`` lowest indexes below ``completions`` not succeeded, active, terminating or failed."""
    if count == 0:
        return []
    non_pending = with_ordered_indexes(succeeded_indexes, sorted(_get_indexes(active_pods)))
    non_pending = with_ordered_indexes(non_pending, sorted(_get_indexes(list(terminating_pods))))
    if failed_indexes:
        non_pending = merge_intervals(non_pending, failed_indexes)
    result: list[int] = []
    candidate = 0
    for first, last in non_pending:
        while candidate < completions and len(result) < count and candidate < first:
            result.append(candidate)
            candidate += 1
        candidate = max(candidate, last + 1)
    while candidate < completions and len(result) < count:
        result.append(candidate)
        candidate += 1
    return result


def pod_generate_name_with_index(job_name: str, index: int) -> str:
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[: MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


def _append_duplicated_index_pods_for_removal(pods: list[dict], completions: int) -> tuple[list[dict], list[dict]]:
    """Pods without a valid index, with an index >= completions, or repeating an index go to ``rm``."""
    rm: list[dict] = []
    left: list[dict] = []
    by_index: dict[int, list[dict]] = {}
    for pod in sorted(pods, key=get_completion_index):
        ix = get_completion_index(pod)
        if ix == UNKNOWN_COMPLETION_INDEX or ix >= completions:
            rm.append(pod)
        else:
            by_index.setdefault(ix, []).append(pod)
    for ix in sorted(by_index):
        group = sort_active_pods(by_index[ix])
        rm.extend(group[:-1])
        left.append(group[-1])
    # Upstream appends the out-of-range pods after the unknown and duplicated ones; order by index to match.
    rm.sort(key=lambda p: (get_completion_index(p) >= completions, get_completion_index(p)))
    return rm, left


def active_pods_for_removal(job: dict, pods: list[dict], rm_at_least: int) -> list[dict]:
    """Pods to delete: for Indexed Jobs, invalid and duplicated indexes first; then ``ActivePods`` order."""
    rm: list[dict] = []
    left = pods
    if is_indexed_job(job):
        rm, left = _append_duplicated_index_pods_for_removal(pods, job_completions(job) or 0)
    if len(rm) < rm_at_least:
        rm = rm + sort_active_pods(left)[: rm_at_least - len(rm)]
    return rm


# --- pod failure policy (pod_failure_policy.go) ------------------------------------------------------------


def _match_on_exit_codes(pod: dict, requirement: dict) -> dict | None:
    status = _status(pod)
    for statuses in (status.get("containerStatuses") or [], status.get("initContainerStatuses") or []):
        for container_status in statuses:
            terminated = (container_status.get("state") or {}).get("terminated")
            if terminated is None:
                continue  # still running or terminating: no exit code to match
            container_name = requirement.get("containerName")
            if container_name is not None and container_name != container_status.get("name"):
                continue
            exit_code = int(terminated.get("exitCode") or 0)
            if exit_code == 0:
                continue
            values = [int(v) for v in requirement.get("values") or []]
            operator = requirement.get("operator")
            if (operator == "In" and exit_code in values) or (operator == "NotIn" and exit_code not in values):
                return container_status
    return None


def _match_on_pod_conditions(pod: dict, patterns: list[dict]) -> dict | None:
    for condition in _status(pod).get("conditions") or []:
        for pattern in patterns:
            # The API server defaults a pattern's status to "True".
            if condition.get("type") == pattern.get("type") and condition.get("status") == (
                pattern.get("status") or CONDITION_TRUE
            ):
                return condition
    return None


def match_pod_failure_policy(policy: dict | None, pod: dict) -> tuple[str | None, bool, str | None]:
    """Match a failed pod against the rules: (FailJob message or None, counts towards backoffLimit, action)."""
    if policy is None:
        return None, True, None
    namespace, name = _meta(pod).get("namespace") or "default", _pod_name(pod)
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container_status = _match_on_exit_codes(pod, rule["onExitCodes"])
            if container_status is None:
                continue
            if action == ACTION_FAIL_JOB:
                exit_code = container_status["state"]["terminated"].get("exitCode")
                return (
                    f"Container {container_status.get('name')} for pod {namespace}/{name} failed with exit code "
                    f"{exit_code} matching {action} rule at index {index}",
                    True,
                    ACTION_FAIL_JOB,
                )
        elif rule.get("onPodConditions") is not None:
            condition = _match_on_pod_conditions(pod, rule["onPodConditions"])
            if condition is None:
                continue
            if action == ACTION_FAIL_JOB:
                return (
                    f"Pod {namespace}/{name} has condition {condition.get('type')} matching {action} rule "
                    f"at index {index}",
                    True,
                    ACTION_FAIL_JOB,
                )
        else:
            continue
        if action == ACTION_IGNORE:
            return None, False, ACTION_IGNORE
        if action == ACTION_FAIL_INDEX:
            return None, True, ACTION_FAIL_INDEX
        if action == ACTION_COUNT:
            return None, True, ACTION_COUNT
    return None, True, None


def get_fail_job_message(job: dict, pods: list[dict]) -> str | None:
    """The message of the first failed pod matching a FailJob rule, if any."""
    policy = _spec(job).get("podFailurePolicy")
    if policy is None:
        return None
    for pod in pods:
        if is_pod_failed(pod, job):
            message, _, _ = match_pod_failure_policy(policy, pod)
            if message is not None:
                return message
    return None


# --- success policy (success_policy.go) --------------------------------------------------------------------


def _match_succeeded_indexes_rule(rule_indexes: Intervals, succeeded: Intervals, succeeded_count: int | None) -> bool:
    contains = sum(
        max(0, min(r_last, s_last) - max(r_first, s_first) + 1)
        for r_first, r_last in rule_indexes
        for s_first, s_last in succeeded
    )
    return contains == intervals_total(rule_indexes) or (succeeded_count is not None and contains >= succeeded_count)


def match_success_policy(policy: dict | None, completions: int, succeeded: Intervals) -> tuple[str, bool]:
    """("Matched rules at index N", True) for the first satisfied rule, else ("", False)."""
    if policy is None or not succeeded:
        return "", False
    for index, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes_from_string(rule["succeededIndexes"], completions)
            if not required:
                continue
            if _match_succeeded_indexes_rule(required, succeeded, None if count is None else int(count)):
                return f"{JOB_MESSAGE_SUCCESS_POLICY_PREFIX} {index}", True
        elif count is not None and intervals_total(succeeded) >= int(count):
            return f"{JOB_MESSAGE_SUCCESS_POLICY_PREFIX} {index}", True
    return "", False


# --- restart policy OnFailure and activeDeadlineSeconds ----------------------------------------------------


def past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
    """``restartPolicy: OnFailure``: the restarts of Running/Pending pods reach ``backoffLimit`` (> 0 if 0)."""
    template_spec = (_spec(job).get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if pod_phase(pod) in (POD_RUNNING, POD_PENDING):
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(int(s.get("restartCount") or 0) for s in _status(pod).get(key) or [])
    limit = job_backoff_limit(job)
    return restarts > 0 if limit == 0 else restarts >= limit


def past_active_deadline(job: dict, now: datetime) -> bool:
    """``now - startTime >= activeDeadlineSeconds``; never while suspended or before the Job started."""
    deadline = _spec(job).get("activeDeadlineSeconds")
    start = parse_time(_status(job).get("startTime"))
    if deadline is None or start is None or job_suspended(job):
        return False
    return (now - start) >= timedelta(seconds=int(deadline))


# --- pods from the template --------------------------------------------------------------------------------


def controller_ref(job: dict) -> dict:
    """``metav1.NewControllerRef(job, batch/v1 Job)``."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": _meta(job).get("name") or "",
        "uid": _meta(job).get("uid") or "",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _add_completion_index_env(container: dict) -> None:
    env = container.setdefault("env", [])
    if any(e.get("name") == COMPLETION_INDEX_ENV_NAME for e in env):
        return
    # PodIndexLabel (GA in 1.32) points the downward API at the label rather than the annotation.
    env.append(
        {
            "name": COMPLETION_INDEX_ENV_NAME,
            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{JOB_COMPLETION_INDEX_ANNOTATION}']"}},
        }
    )


def new_pod_from_template(job: dict, index: int | None = None, pod_being_replaced: dict | None = None) -> dict:
    """The pod a Job creates: template labels/annotations/spec, controller ref, tracking finalizer, generateName.

    Indexed pods also get the completion index annotation and label, the ``JOB_COMPLETION_INDEX`` env var in
    every (init) container, ``spec.hostname = <job>-<index>`` and generateName ``<job>-<index>-``. Upstream
    sets no subdomain: a Job that wants DNS names sets ``spec.subdomain`` (and a headless Service) itself.
    With ``backoffLimitPerIndex`` the pod carries the index failure count carried over from the pod it replaces.
    """
    template = deep_copy(_spec(job).get("template") or {})
    template_meta = template.get("metadata") or {}
    pod_spec = template.get("spec") or {}
    labels = dict(template_meta.get("labels") or {})
    annotations = dict(template_meta.get("annotations") or {})
    finalizers = list(template_meta.get("finalizers") or [])
    if JOB_TRACKING_FINALIZER not in finalizers:
        finalizers.append(JOB_TRACKING_FINALIZER)
    name = _meta(job).get("name") or ""
    generate_name = f"{name}-"
    if index is not None:
        for key in ("initContainers", "containers"):
            for container in pod_spec.get(key) or []:
                _add_completion_index_env(container)
        annotations[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)
        labels[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)
        pod_spec["hostname"] = f"{name}-{index}"
        generate_name = pod_generate_name_with_index(name, index)
        if has_backoff_limit_per_index(job):
            failures, ignored = _new_index_failure_counts(job, pod_being_replaced)
            annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = str(failures)
            if ignored > 0:
                annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
    metadata: dict = {"generateName": generate_name, "namespace": _meta(job).get("namespace") or "default"}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    metadata["finalizers"] = finalizers
    metadata["ownerReferences"] = [controller_ref(job)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def _new_index_failure_counts(job: dict, pod_being_replaced: dict | None) -> tuple[int, int]:
    if pod_being_replaced is None:
        return 0, 0
    failures = get_index_failure_count(pod_being_replaced)
    ignored = _index_failure_count(pod_being_replaced, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)
    _, count_failed, _ = match_pod_failure_policy(_spec(job).get("podFailurePolicy"), pod_being_replaced)
    if count_failed:
        failures += 1
    else:
        ignored += 1
    return failures, ignored


def remove_tracking_finalizer_patch(pod: dict) -> dict:
    """A merge patch that leaves the pod's other finalizers (``None`` deletes the list)."""
    remaining = [f for f in _meta(pod).get("finalizers") or [] if f != JOB_TRACKING_FINALIZER]
    return {"metadata": {"finalizers": remaining or None}}


# --- the sync ----------------------------------------------------------------------------------------------


@dataclass
class SyncJobCtx:
    """Working state of one sync (upstream ``syncJobCtx``) plus the plan being built."""

    job: dict
    pods: list[dict]
    now: datetime
    active_pods: list[dict]
    ready: int
    terminating: int
    uncounted_succeeded: list[str]
    uncounted_failed: list[str]
    expected_rm_finalizers: frozenset[str]
    max_creates_per_sync: int = MAX_POD_CREATE_DELETE_PER_SYNC
    succeeded: int = 0
    failed: int = 0
    new_backoff_record: BackoffRecord = field(default_factory=BackoffRecord)
    finished_condition: dict | None = None
    prev_succeeded_indexes: Intervals = ()
    succeeded_indexes: Intervals = ()
    failed_indexes: Intervals | None = None
    pods_with_delayed_deletion_per_index: dict[int, dict] = field(default_factory=dict)
    want_active: int | None = None
    actions: list = field(default_factory=list)
    action_notes: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    requeues: list[float] = field(default_factory=list)
    patched_uids: set[str] = field(default_factory=set)

    @property
    def job_ref(self) -> dict:
        return job_reference(self.job)

    def event(self, event_type: str, reason: str, message: str) -> EmitEvent:
        return EmitEvent(self.job_ref, event_type, reason, message, COMPONENT)

    def emit(self, event_type: str, reason: str, message: str) -> None:
        self.actions.append(self.event(event_type, reason, message))
        self.action_notes.append(f"event {event_type} {reason}: {message}")

    def remove_finalizer(self, pod: dict, note: str = "") -> None:
        meta = _meta(pod)
        self.actions.append(
            PatchObject("Pod", meta.get("namespace") or "default", _pod_name(pod), remove_tracking_finalizer_patch(pod))
        )
        self.patched_uids.add(_uid(pod))
        self.action_notes.append(f"remove finalizer {JOB_TRACKING_FINALIZER} from pod {_pod_name(pod)}{note}")

    def delete_pod(self, pod: dict) -> None:
        meta = _meta(pod)
        name = _pod_name(pod)
        self.actions.append(
            DeleteObject(
                "Pod",
                meta.get("namespace") or "default",
                name,
                _uid(pod),
                success_event=self.event("Normal", EVENT_SUCCESSFUL_DELETE, EVENT_MESSAGE_SUCCESSFUL_DELETE).bind(
                    name=name
                ),
                failure_event=self.event("Warning", EVENT_FAILED_DELETE, EVENT_MESSAGE_FAILED_DELETE),
            )
        )
        self.action_notes.append(f"delete pod {name}")


def _get_valid_pods_with_filter(ctx: SyncJobCtx, uncounted: set[str], predicate) -> list[dict]:
    """Pods still carrying the finalizer, not yet counted, with a valid index for Indexed Jobs."""
    result = []
    completions = job_completions(ctx.job)
    for pod in ctx.pods:
        uid = _uid(pod)
        if not has_job_tracking_finalizer(pod) or uid in uncounted or uid in ctx.expected_rm_finalizers:
            continue
        if is_indexed_job(ctx.job):
            ix = get_completion_index(pod)
            if ix == UNKNOWN_COMPLETION_INDEX or ix >= (completions or 0):
                continue
        if predicate(pod):
            result.append(pod)
    return result


def get_new_finished_pods(ctx: SyncJobCtx) -> tuple[list[dict], list[dict]]:
    """Newly succeeded and newly failed pods: finished, still tracked, not in ``uncountedTerminatedPods``."""
    succeeded = _get_valid_pods_with_filter(
        ctx, set(ctx.uncounted_succeeded), lambda p: pod_phase(p) == POD_SUCCEEDED
    )
    failed = _get_valid_pods_with_filter(ctx, set(ctx.uncounted_failed), lambda p: is_pod_failed(p, ctx.job))
    return succeeded, failed


def _non_ignored_failed_pods_count(job: dict, failed_pods: list[dict]) -> int:
    policy = _spec(job).get("podFailurePolicy")
    if policy is None:
        return len(failed_pods)
    return sum(1 for p in failed_pods if match_pod_failure_policy(policy, p)[1])


def get_pods_with_delayed_deletion_per_index(ctx: SyncJobCtx) -> dict[int, dict]:
    """Per index, the latest failed pod whose finalizer stays until its replacement exists (per-index backoff)."""
    active_indexes = _get_indexes(ctx.active_pods)
    completions = job_completions(ctx.job) or 0
    result: dict[int, dict] = {}
    for pod in _get_valid_pods_with_filter(ctx, set(), lambda p: is_pod_failed(p, ctx.job)):
        ix = get_completion_index(pod)
        if ix == UNKNOWN_COMPLETION_INDEX or ix >= completions:
            continue
        if intervals_has(ctx.succeeded_indexes, ix) or intervals_has(ctx.failed_indexes, ix) or ix in active_indexes:
            continue
        previous = result.get(ix)
        if previous is None or (
            get_index_absolute_failure_count(previous) <= get_index_absolute_failure_count(pod)
            and not get_finished_time(pod) < get_finished_time(previous)
        ):
            result[ix] = pod
    return result


def _remaining_time_per_index(now: datetime, last_failed_pod: dict | None) -> float:
    if last_failed_pod is None:
        return 0.0
    failures = get_index_absolute_failure_count(last_failed_pod) + 1
    return remaining_time_for_failures_count(failures, get_finished_time(last_failed_pod), now)


def _pod_creation_info_for_independent_indexes(ctx: SyncJobCtx, indexes: list[int]) -> tuple[list[int], float]:
    now_indexes: list[int] = []
    min_remaining: float | None = None
    for ix in indexes:
        remaining = _remaining_time_per_index(ctx.now, ctx.pods_with_delayed_deletion_per_index.get(ix))
        if remaining == 0:
            now_indexes.append(ix)
        elif min_remaining is None or remaining < min_remaining:
            min_remaining = remaining
    if now_indexes:
        return now_indexes, 0.0
    return now_indexes, min_remaining or 0.0


def _delete_job_pods(ctx: SyncJobCtx, pods: list[dict]) -> tuple[int, int]:
    """Remove the tracking finalizer, then delete (upstream ``deleteJobPods``). Returns (ready, total)."""
    ready = 0
    for pod in pods:
        if has_job_tracking_finalizer(pod):
            ctx.remove_finalizer(pod)
        ctx.delete_pod(pod)
        if is_pod_ready(pod):
            ready += 1
    return ready, len(pods)


def _delete_active_pods(ctx: SyncJobCtx, pods: list[dict]) -> tuple[int, int]:
    """Delete keeping finalizers (upstream ``deleteActivePods``); tracking removes them. Returns (ready, total)."""
    ready = 0
    for pod in pods:
        ctx.delete_pod(pod)
        if is_pod_ready(pod):
            ready += 1
    return ready, len(pods)


def manage_job(ctx: SyncJobCtx) -> int:
    """Create or delete pods towards the wanted number of active pods; returns the new ``active``.

    Deletions take precedence over creations in one sync. Creation respects the pod-failure backoff and
    happens in slow-start batches of 1, 2, 4, ...
    """
    job = ctx.job
    active = len(ctx.active_pods)
    parallelism = job_parallelism(job)
    completions = job_completions(job)

    if job_suspended(job):
        to_delete = active_pods_for_removal(job, ctx.active_pods, active)
        ctx.want_active = 0
        if to_delete:
            ctx.decisions.append(f"job is suspended: delete all {len(to_delete)} active pods")
        removed_ready, removed = _delete_job_pods(ctx, to_delete)
        ctx.terminating += removed
        ctx.ready -= removed_ready
        return active - removed

    if completions is None:
        # Work queue: once any pod succeeded, leave whatever runs running and start nothing new.
        want_active = active if ctx.succeeded > 0 else parallelism
    else:
        want_active = max(min(completions - ctx.succeeded, parallelism), 0)
    ctx.want_active = want_active

    rm_at_least = max(active - want_active, 0)
    to_delete = active_pods_for_removal(job, ctx.active_pods, rm_at_least)[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if to_delete:
        if rm_at_least:
            ctx.decisions.append(f"too many active pods: delete {len(to_delete)}")
        else:
            ctx.decisions.append(f"pods with a duplicated or invalid completion index: delete {len(to_delete)}")
        removed_ready, removed = _delete_job_pods(ctx, to_delete)
        ctx.terminating += removed
        ctx.ready -= removed_ready
        # Deletions take precedence over creations in one sync (e.g. repeated indexes need both).
        return active - removed

    terminating = ctx.terminating if only_replace_failed_pods(job) else 0
    diff = want_active - terminating - active
    if diff <= 0:
        if terminating and want_active - active > 0:
            ctx.decisions.append(f"wait for {terminating} terminating pods before replacing them")
        return active

    remaining = 0.0
    if not has_backoff_limit_per_index(job):
        remaining = remaining_backoff(ctx.new_backoff_record, ctx.now)
    if remaining > 0:
        ctx.requeues.append(remaining)
        n = ctx.new_backoff_record.failures_after_last_success
        ctx.decisions.append(
            f"too few active pods, but pod failure backoff ({n} failures since the last success): "
            f"create nothing for {remaining:g}s"
        )
        # Upstream quirk (1.31-1.34): a postponed creation reports active 0 for this sync.
        return 0
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC, ctx.max_creates_per_sync)

    indexes: list[int] | None = None
    if is_indexed_job(job):
        indexes = first_pending_indexes(
            ctx.active_pods,
            ctx.succeeded_indexes,
            diff,
            completions or 0,
            terminating_pods=[p for p in ctx.pods if is_pod_terminating(p)] if only_replace_failed_pods(job) else [],
            failed_indexes=ctx.failed_indexes,
        )
        if has_backoff_limit_per_index(job):
            indexes, remaining = _pod_creation_info_for_independent_indexes(ctx, indexes)
            if remaining > 0:
                ctx.requeues.append(remaining)
                ctx.decisions.append(f"too few active pods, but every pending index backs off: wait {remaining:g}s")
                return 0
        diff = len(indexes)
    if diff <= 0:
        return active

    what = f"create {diff} pod{'s' if diff != 1 else ''}"
    if indexes is not None:
        what += f" for index{'es' if diff != 1 else ''} {format_completed_indexes(indexes)}"
    ctx.decisions.append(f"too few active pods: {what}")
    _create_pods(ctx, diff, indexes)
    return active + diff


def _create_pods(ctx: SyncJobCtx, count: int, indexes: list[int] | None) -> None:
    batch, batch_size, remaining = 0, min(count, SLOW_START_INITIAL_BATCH_SIZE), count
    pending_indexes = list(indexes or [])
    while remaining > 0:
        for _ in range(batch_size):
            index = pending_indexes.pop(0) if pending_indexes else None
            replaced = ctx.pods_with_delayed_deletion_per_index.get(index) if index is not None else None
            pod = new_pod_from_template(ctx.job, index, replaced)
            ctx.actions.append(
                CreateObject(
                    pod,
                    batch=batch,
                    success_event=ctx.event("Normal", EVENT_SUCCESSFUL_CREATE, EVENT_MESSAGE_SUCCESSFUL_CREATE),
                    failure_event=ctx.event("Warning", EVENT_FAILED_CREATE, EVENT_MESSAGE_FAILED_CREATE),
                )
            )
            ctx.action_notes.append(f"create pod from generateName {pod['metadata']['generateName']}")
        remaining -= batch_size
        batch += 1
        batch_size = min(2 * batch_size, remaining)


def _can_remove_finalizer(ctx: SyncJobCtx, pod: dict, consider_failed: bool) -> bool:
    if _meta(ctx.job).get("deletionTimestamp") or ctx.finished_condition is not None:
        return True
    if pod_phase(pod) == POD_SUCCEEDED:
        return True
    if not consider_failed:
        return False
    if has_backoff_limit_per_index(ctx.job):
        ix = get_completion_index(pod)
        delayed = ctx.pods_with_delayed_deletion_per_index.get(ix)
        if delayed is not None and _uid(delayed) == _uid(pod):
            return False  # keep it until the replacement pod inherited its failure count
    return True


def _track_job_status_and_remove_finalizers(ctx: SyncJobCtx, status: dict) -> tuple[bool, bool]:
    """Count finished pods, remove their finalizers, add the interim and terminal conditions.

    Returns (job finished in this sync, cap of ``MAX_UNCOUNTED_PODS`` reached).
    """
    job = ctx.job
    indexed = is_indexed_job(job)
    completions = job_completions(job)
    pods = sorted(ctx.pods, key=get_completion_index) if indexed else list(ctx.pods)
    uncounted_succeeded = list(ctx.uncounted_succeeded)
    uncounted_failed = list(ctx.uncounted_failed)
    new_succeeded_indexes: list[int] = []
    reached_max = False
    retried = 0
    for pod in pods:
        uid = _uid(pod)
        if not has_job_tracking_finalizer(pod) or uid in ctx.patched_uids:
            continue
        if uid in ctx.expected_rm_finalizers:
            # Counted in an earlier sync; the removal was not observed yet: ask again, never count again.
            ctx.remove_finalizer(pod, " (again)")
            retried += 1
            continue
        consider_failed = is_pod_failed(pod, job)
        if not _can_remove_finalizer(ctx, pod, consider_failed):
            continue
        ctx.remove_finalizer(pod)
        if pod_phase(pod) == POD_SUCCEEDED and uid not in ctx.uncounted_failed:
            if indexed:
                # The completion index is enough to avoid recounting succeeded pods.
                ix = get_completion_index(pod)
                if (
                    ix != UNKNOWN_COMPLETION_INDEX
                    and ix < (completions or 0)
                    and not intervals_has(ctx.prev_succeeded_indexes, ix)
                ):
                    new_succeeded_indexes.append(ix)
            elif uid not in uncounted_succeeded:
                uncounted_succeeded.append(uid)
        elif consider_failed or (
            ctx.finished_condition is not None and not _is_success_criteria_met(ctx.finished_condition)
        ):
            # When the Job is finishing, every pod that did not succeed counts as failed.
            ix = get_completion_index(pod)
            if uid not in uncounted_failed and (
                not indexed or (ix != UNKNOWN_COMPLETION_INDEX and ix < (completions or 0))
            ):
                if match_pod_failure_policy(_spec(job).get("podFailurePolicy"), pod)[1]:
                    uncounted_failed.append(uid)
        if len(new_succeeded_indexes) + len(uncounted_succeeded) + len(uncounted_failed) >= MAX_UNCOUNTED_PODS:
            reached_max = True
            break

    # Every pod in the lists lost (or loses in this plan) its finalizer, or is gone: move it to the counters.
    with_finalizer = {_uid(p) for p in ctx.pods if has_job_tracking_finalizer(p)} - ctx.patched_uids
    still_succeeded = [u for u in uncounted_succeeded if u in with_finalizer]
    still_failed = [u for u in uncounted_failed if u in with_finalizer]
    status["succeeded"] = int(status.get("succeeded") or 0) + len(uncounted_succeeded) - len(still_succeeded)
    status["failed"] = int(status.get("failed") or 0) + len(uncounted_failed) - len(still_failed)
    uncounted: dict = {}
    if still_succeeded:
        uncounted["succeeded"] = still_succeeded
    if still_failed:
        uncounted["failed"] = still_failed
    status["uncountedTerminatedPods"] = uncounted

    if indexed:
        ctx.succeeded_indexes = with_ordered_indexes(ctx.succeeded_indexes, sorted(set(new_succeeded_indexes)))
        status["succeeded"] = intervals_total(ctx.succeeded_indexes)
        status["completedIndexes"] = intervals_to_string(ctx.succeeded_indexes)
        if ctx.failed_indexes is not None:
            status["failedIndexes"] = intervals_to_string(ctx.failed_indexes)

    conditions = status.setdefault("conditions", [])
    finished = ctx.finished_condition
    if finished is not None and finished["type"] == JOB_FAILURE_TARGET:
        conditions.append(finished)
        ctx.decisions.append(f"record FailureTarget ({finished.get('reason')}) before pods are released")
        finished = _same_reason(JOB_FAILED, finished, ctx.now)
    if _is_success_criteria_met(finished):
        if _has_success_criteria_met_condition(job) is None:
            conditions.append(finished)
            ctx.decisions.append(f"record SuccessCriteriaMet ({finished.get('reason')})")
        finished = _same_reason(JOB_COMPLETE, finished, ctx.now)
    ctx.finished_condition = finished

    job_finished = not reached_max and _enact_job_finished(ctx, status)
    if job_finished:
        _record_job_finished(ctx, status)
    if retried:
        ctx.decisions.append(f"re-request finalizer removal from {retried} pods already counted")
    return job_finished, reached_max


def _same_reason(condition_type: str, condition: dict, now: datetime) -> dict:
    """The terminal condition that follows an interim one, with its reason and message."""
    return new_condition(
        condition_type, CONDITION_TRUE, condition.get("reason", ""), condition.get("message", ""), now
    )


def _enact_job_finished(ctx: SyncJobCtx, status: dict) -> bool:
    """Add ``Complete``/``Failed`` once nothing is uncounted and no pod is terminating."""
    finished = ctx.finished_condition
    if finished is None:
        return False
    uncounted = status.get("uncountedTerminatedPods") or {}
    if uncounted.get("succeeded") or uncounted.get("failed"):
        return False
    if ctx.terminating > 0:
        ctx.decisions.append(f"wait for {ctx.terminating} terminating pods before marking the Job {finished['type']}")
        return False
    conditions, _ = ensure_job_condition_status(
        status.get("conditions") or [],
        finished["type"],
        finished["status"],
        finished.get("reason", ""),
        finished.get("message", ""),
        ctx.now,
    )
    status["conditions"] = conditions
    if finished["type"] == JOB_COMPLETE:
        status["completionTime"] = find_condition_by_type(conditions, JOB_COMPLETE)["lastTransitionTime"]
    reason = f" ({finished['reason']})" if finished.get("reason") else ""
    ctx.decisions.append(f"job {finished['type'].lower()}{reason}")
    return True


def _record_job_finished(ctx: SyncJobCtx, status: dict) -> None:
    finished = ctx.finished_condition
    if finished["type"] == JOB_COMPLETE:
        completions = job_completions(ctx.job)
        if completions is not None and int(status.get("succeeded") or 0) > completions:
            ctx.emit("Warning", EVENT_TOO_MANY_SUCCEEDED_PODS, EVENT_MESSAGE_TOO_MANY_SUCCEEDED_PODS)
        ctx.emit("Normal", EVENT_COMPLETED, EVENT_MESSAGE_COMPLETED)
    else:
        ctx.emit("Warning", finished.get("reason", ""), finished.get("message", ""))


def _normalize_status(status: dict) -> dict:
    """Drop zero-valued ``omitempty`` fields the way the API server serialises a JobStatus."""
    result = {}
    for key, value in status.items():
        if key in ("active", "succeeded", "failed") and not value:
            continue
        if key in ("conditions", "completedIndexes", "startTime", "completionTime") and not value:
            continue
        result[key] = value
    return result


def sync_job(
    job: dict,
    pods: list[dict],
    now: datetime,
    *,
    backoff: BackoffRecord | None = None,
    memory: JobMemory | None = None,
    expectations_satisfied: bool = True,
    trigger: str = "",
    max_creates_per_sync: int = MAX_POD_CREATE_DELETE_PER_SYNC,
) -> SyncResult:
    """Reconcile one Job against the pods it owns at ``now``; upstream ``syncJob``.

    ``memory`` is what the previous sync returned as ``SyncResult.memory`` (a ``JobMemory``); ``backoff`` is a
    shortcut for ``memory=JobMemory(backoff=...)`` (give one or the other). ``expectations_satisfied`` is false
    while the engine has not yet observed the creations/deletions of an earlier plan: then no pods are created
    or deleted by ``manage_job`` and a finishing Job is not marked finished yet. ``max_creates_per_sync``
    lowers upstream's 500-creations-per-sync cap. Inputs are never mutated.
    """
    if backoff is not None and memory is not None:
        raise ValueError("pass either backoff or memory, not both")
    if memory is None:
        memory = JobMemory(backoff=backoff or BackoffRecord())
    key = job_key(job)

    def trace(observed: str, decision: str, notes=()) -> Trace:
        return Trace(CONTROLLER, key, trigger, observed, decision, tuple(notes))

    external = managed_by_external_controller(job)
    if external is not None:
        skipped = trace(f"spec.managedBy is {external}", "managed by another controller: skip")
        return SyncResult((), None, None, skipped, memory)
    if is_job_finished(job):
        done = trace("job already finished", "nothing to do; forget the backoff record")
        return SyncResult((), None, None, done, None)
    mode = _spec(job).get("completionMode") or NON_INDEXED_COMPLETION
    if mode not in (NON_INDEXED_COMPLETION, INDEXED_COMPLETION):
        reason, message = EVENT_UNKNOWN_COMPLETION_MODE, EVENT_MESSAGE_UNKNOWN_COMPLETION_MODE
        event = EmitEvent(job_reference(job), "Warning", reason, message, COMPONENT)
        notes = (f"event Warning {reason}: {message}",)
        skipped = trace(f"completionMode {mode}", "unknown completion mode: skip", notes)
        return SyncResult((event,), None, None, skipped, memory)

    job = deep_copy(job)
    # A canonical order makes the plan independent of the order the informer listed the pods in.
    # Pods are only read here (never mutated), so a sorted shallow list is enough.
    pods = sorted(pods, key=lambda p: (_meta(p).get("name") or "", _uid(p)))
    old_status = deep_copy(_status(job))
    status = job.setdefault("status", {})
    uncounted = status.get("uncountedTerminatedPods") or {}
    present = {_uid(p) for p in pods if has_job_tracking_finalizer(p)}
    active_pods = filter_active_pods(pods)
    ctx = SyncJobCtx(
        job=job,
        pods=pods,
        now=now,
        active_pods=active_pods,
        ready=sum(1 for p in active_pods if is_pod_ready(p)),
        terminating=count_terminating_pods(pods),
        uncounted_succeeded=list(uncounted.get("succeeded") or []),
        uncounted_failed=list(uncounted.get("failed") or []),
        # An expectation ends when the pod is seen without the finalizer, or gone.
        expected_rm_finalizers=frozenset(u for u in memory.expected_rm_finalizers if u in present),
        max_creates_per_sync=max_creates_per_sync,
    )
    active = len(active_pods)
    new_succeeded_pods, new_failed_pods = get_new_finished_pods(ctx)
    ctx.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded_pods) + len(ctx.uncounted_succeeded)
    ctx.failed = (
        int(status.get("failed") or 0)
        + _non_ignored_failed_pods_count(job, new_failed_pods)
        + len(ctx.uncounted_failed)
    )
    observed = (
        f"active {active}, ready {ctx.ready}, terminating {ctx.terminating}, "
        f"succeeded {ctx.succeeded}, failed {ctx.failed}"
    )

    # First start: set startTime, unless the Job is created suspended.
    if not status.get("startTime") and not job_suspended(job):
        status["startTime"] = format_time(now)

    ctx.new_backoff_record = new_backoff_record(memory.backoff, new_succeeded_pods, new_failed_pods)

    ctx.finished_condition = _has_success_criteria_met_condition(job)
    if ctx.finished_condition is None:
        failure_target = find_condition_by_type(status.get("conditions") or [], JOB_FAILURE_TARGET)
        if failure_target is not None and failure_target.get("status") == CONDITION_TRUE:
            ctx.finished_condition = new_condition(
                JOB_FAILED, CONDITION_TRUE, failure_target.get("reason", ""), failure_target.get("message", ""), now
            )
        else:
            message = get_fail_job_message(job, pods)
            if message is not None:
                ctx.finished_condition = new_condition(
                    JOB_FAILURE_TARGET, CONDITION_TRUE, JOB_REASON_POD_FAILURE_POLICY, message, now
                )
                ctx.decisions.append(f"a pod matched a FailJob rule: {message}")
    if ctx.finished_condition is None:
        if ctx.failed > job_backoff_limit(job):
            ctx.finished_condition = new_failure_condition(
                JOB_REASON_BACKOFF_LIMIT_EXCEEDED, JOB_MESSAGE_BACKOFF_LIMIT_EXCEEDED, now
            )
            ctx.decisions.append(f"failed {ctx.failed} > backoffLimit {job_backoff_limit(job)}: the Job fails")
        elif past_backoff_limit_on_failure(job, pods):
            ctx.finished_condition = new_failure_condition(
                JOB_REASON_BACKOFF_LIMIT_EXCEEDED, JOB_MESSAGE_BACKOFF_LIMIT_EXCEEDED, now
            )
            ctx.decisions.append(
                f"container restarts reached backoffLimit {job_backoff_limit(job)} (restartPolicy OnFailure): "
                "the Job fails"
            )
        elif past_active_deadline(job, now):
            ctx.finished_condition = new_failure_condition(
                JOB_REASON_DEADLINE_EXCEEDED, JOB_MESSAGE_DEADLINE_EXCEEDED, now
            )
            ctx.decisions.append(f"active for {_spec(job)['activeDeadlineSeconds']}s or more: the Job fails")
        elif _spec(job).get("activeDeadlineSeconds") is not None and not job_suspended(job):
            elapsed = (now - parse_time(status["startTime"])).total_seconds()
            ctx.requeues.append(int(_spec(job)["activeDeadlineSeconds"]) - elapsed)

    if is_indexed_job(job):
        ctx.prev_succeeded_indexes, ctx.succeeded_indexes = calculate_succeeded_indexes(job, pods)
        ctx.succeeded = intervals_total(ctx.succeeded_indexes)
        completions = job_completions(job) or 0
        if has_backoff_limit_per_index(job):
            ctx.failed_indexes = calculate_failed_indexes(job, pods)
            if ctx.finished_condition is None:
                failed_total = intervals_total(ctx.failed_indexes)
                max_failed = _spec(job).get("maxFailedIndexes")
                if max_failed is not None and failed_total > int(max_failed):
                    ctx.finished_condition = new_failure_condition(
                        JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED, JOB_MESSAGE_MAX_FAILED_INDEXES_EXCEEDED, now
                    )
                    ctx.decisions.append(
                        f"{failed_total} failed indexes > maxFailedIndexes {max_failed}: the Job fails"
                    )
                elif failed_total > 0 and failed_total + intervals_total(ctx.succeeded_indexes) >= completions:
                    ctx.finished_condition = new_failure_condition(
                        JOB_REASON_FAILED_INDEXES, JOB_MESSAGE_FAILED_INDEXES, now
                    )
                    ctx.decisions.append("every index finished and some failed: the Job fails")
            ctx.pods_with_delayed_deletion_per_index = get_pods_with_delayed_deletion_per_index(ctx)
        if ctx.finished_condition is None:
            message, met = match_success_policy(_spec(job).get("successPolicy"), completions, ctx.succeeded_indexes)
            if met:
                ctx.finished_condition = new_condition(
                    JOB_SUCCESS_CRITERIA_MET, CONDITION_TRUE, JOB_REASON_SUCCESS_POLICY, message, now
                )
                ctx.decisions.append(f"successPolicy met ({message})")

    if ctx.finished_condition is not None:
        if ctx.active_pods:
            ctx.decisions.append(f"the Job is finishing: delete its {len(ctx.active_pods)} active pods")
        deleted_ready, deleted = _delete_active_pods(ctx, ctx.active_pods)
        if not expectations_satisfied:
            # Pods this controller created or deleted may not be visible yet: decide next time.
            ctx.finished_condition = None
            ctx.decisions.append("expectations not satisfied: do not mark the Job finished yet")
        active -= deleted
        ctx.terminating += deleted
        ctx.ready -= deleted_ready
    else:
        manage_job_called = False
        if expectations_satisfied and not _meta(job).get("deletionTimestamp"):
            active = manage_job(ctx)
            manage_job_called = True
        elif _meta(job).get("deletionTimestamp"):
            ctx.decisions.append("the Job is being deleted: release its pods, create and delete nothing")
        else:
            ctx.decisions.append("expectations not satisfied: wait for earlier creations/deletions")
        completions = job_completions(job)
        if completions is None:
            # A work-queue Job is complete once any pod succeeded and the rest finished.
            complete = ctx.succeeded > 0 and active == 0
        else:
            complete = ctx.succeeded >= completions and active == 0
        if complete:
            ctx.finished_condition = new_success_condition(now)
        elif manage_job_called:
            if job_suspended(job):
                conditions, changed = ensure_job_condition_status(
                    status.get("conditions") or [],
                    JOB_SUSPENDED,
                    CONDITION_TRUE,
                    JOB_REASON_SUSPENDED,
                    JOB_MESSAGE_SUSPENDED,
                    now,
                )
                if changed:
                    status["conditions"] = conditions
                    ctx.decisions.append("mark the Job Suspended")
                    ctx.emit("Normal", EVENT_SUSPENDED, JOB_MESSAGE_SUSPENDED)
            else:
                conditions, changed = ensure_job_condition_status(
                    status.get("conditions") or [],
                    JOB_SUSPENDED,
                    CONDITION_FALSE,
                    JOB_REASON_RESUMED,
                    JOB_MESSAGE_RESUMED,
                    now,
                )
                if changed:
                    status["conditions"] = conditions
                    # Resuming restarts the activeDeadlineSeconds clock.
                    status["startTime"] = format_time(now)
                    ctx.decisions.append("the Job was resumed: reset startTime")
                    ctx.emit("Normal", EVENT_RESUMED, JOB_MESSAGE_RESUMED)

    status["active"] = active
    status["ready"] = ctx.ready
    status["terminating"] = ctx.terminating
    finished, _ = _track_job_status_and_remove_finalizers(ctx, status)

    new_status = _normalize_status(status)
    # A missing uncountedTerminatedPods reads as {} (upstream initialises it before comparing).
    old_status["uncountedTerminatedPods"] = old_status.get("uncountedTerminatedPods") or {}
    changed = new_status != _normalize_status(old_status)
    if changed:
        ctx.action_notes.insert(0, "write status")
    expected = set(ctx.expected_rm_finalizers) | ctx.patched_uids
    new_memory = JobMemory(backoff=ctx.new_backoff_record, expected_rm_finalizers=frozenset(expected))
    if ctx.want_active is not None:
        observed += f"; want {ctx.want_active} active"
    decision = "; ".join(ctx.decisions) or "nothing to change"
    return SyncResult(
        actions=tuple(ctx.actions),
        status=new_status if changed else None,
        requeue_after=min(ctx.requeues) if ctx.requeues else None,
        trace=trace(observed, decision, ctx.action_notes),
        memory=new_memory,
    )


# --- orphan pods (syncOrphanPod, cleanupPodFinalizers) -----------------------------------------------------


def sync_orphan_pod(pod: dict, job: dict | None, *, trigger: str = "") -> SyncResult:
    """Release a pod whose tracking finalizer no ``sync_job`` will ever remove; upstream ``syncOrphanPod``.

    ``pod`` is the pod as the informer cache has it; ``job`` is what its controller reference resolves to in the
    cache (upstream ``resolveControllerRef``), ``None`` when that Job is gone. The finalizer is removed unless a
    Job still tracks the pod: its controller is not a batch/v1 Job, or is a Job managed by another controller, or is
    a Job that has not finished (it adopted the pod, or counts it itself). So a pod of a deleted Job that the
    garbage collector is deleting can go once its kubelet has stopped it, and a pod orphaned by its Job's deletion
    (``--cascade=orphan``, or batch/v1's default) stays, free of the finalizer.
    """
    meta = _meta(pod)
    key = f"{meta.get('namespace') or 'default'}/{_pod_name(pod)}"
    ref = get_controller_of(pod)
    if ref is None:
        observed = "orphan pod: no controller reference"
    else:
        state = "gone" if job is None else ("finished" if is_job_finished(job) else "running")
        observed = f"controlled by {ref.get('kind')} {ref.get('name')} ({state})"
    observed += "; " + (f"has finalizer {JOB_TRACKING_FINALIZER}" if has_job_tracking_finalizer(pod)
                        else "no tracking finalizer")

    def result(decision: str, actions=(), notes=()) -> SyncResult:
        return SyncResult(tuple(actions), None, None, Trace(CONTROLLER, key, trigger, observed, decision, tuple(notes)))

    if ref is not None:
        if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
            return result("the pod's controller is not a batch/v1 Job: keep its finalizer")
        if job is not None and managed_by_external_controller(job) is not None:
            return result(f"Job {ref.get('name')} is managed by {managed_by_external_controller(job)}: "
                          "keep the pod's finalizer")
        if job is not None and not is_job_finished(job):
            return result(f"Job {ref.get('name')} still tracks the pod: keep its finalizer")
    if not has_job_tracking_finalizer(pod):
        return result("nothing to do")
    patch = PatchObject("Pod", meta.get("namespace") or "default", _pod_name(pod), remove_tracking_finalizer_patch(pod))
    return result("no running Job will count the pod: remove its tracking finalizer", (patch,),
                  (f"remove finalizer {JOB_TRACKING_FINALIZER} from pod {_pod_name(pod)}",))


def cleanup_pod_finalizers(job: dict, pods: list[dict]) -> list[dict]:
    """The pods of a deleted or finished Job that still carry the tracking finalizer (upstream
    ``cleanupPodFinalizers``, which queues each for ``sync_orphan_pod``): of ``pods``, those its selector matches
    that it controls."""
    try:
        selector = selector_from_label_selector(_spec(job).get("selector"))
    except SelectorError:
        return []
    return [
        pod for pod in pods
        if selector.matches(_meta(pod).get("labels") or {}) and is_controlled_by(pod, job)
        and has_job_tracking_finalizer(pod)
    ]
