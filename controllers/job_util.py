"""What every file of the Job controller reads: the batch/v1 names, the defaulted spec, and whether a Job finished.

* The API's names (``k8s.io/api/batch/v1`` ``types.go``): condition types and reasons, annotations, the
  tracking finalizer, completion modes, pod replacement policies, pod failure policy actions.
* The spec as ``SetDefaults_Job`` (``pkg/apis/batch/v1/defaults.go``) leaves it: ``job_completions``,
  ``job_parallelism``, ``job_backoff_limit``.
* ``pkg/controller/job/util/utils.go``: ``finished_condition``, ``is_job_finished``, ``is_job_succeeded``, which
  the CronJob and TTL-after-finished controllers read too.
* Three helpers of ``job_controller.go`` that the per-feature files call back into: ``is_pod_failed``,
  ``find_condition_by_type``, ``only_replace_failed_pods``. In Go the files share one package; here these sit
  below the modules that import them (``job_indexed``, ``job_success_policy``), so the import graph has no cycle.
"""

from __future__ import annotations

from controllers.objects import meta as _meta, spec as _spec, status as _status
from controllers.pods import CONDITION_TRUE, POD_FAILED, POD_SUCCEEDED, pod_phase

# --- names (batch/v1 types.go) -----------------------------------------------------------------------------

#: ``spec.managedBy`` value meaning "the built-in Job controller" (``batch.JobControllerName``).
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"

NON_INDEXED_COMPLETION = "NonIndexed"
INDEXED_COMPLETION = "Indexed"
POD_REPLACEMENT_FAILED = "Failed"
POD_REPLACEMENT_TERMINATING_OR_FAILED = "TerminatingOrFailed"

JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_SUSPENDED = "Suspended"
JOB_FAILURE_TARGET = "FailureTarget"
JOB_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"

JOB_REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
JOB_REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
JOB_REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"
JOB_REASON_FAILED_INDEXES = "FailedIndexes"
JOB_REASON_SUCCESS_POLICY = "SuccessPolicy"
JOB_REASON_COMPLETIONS_REACHED = "CompletionsReached"

# Pod failure policy actions (``PodFailurePolicyAction``).
ACTION_FAIL_JOB = "FailJob"
ACTION_FAIL_INDEX = "FailIndex"
ACTION_IGNORE = "Ignore"
ACTION_COUNT = "Count"

# --- the spec as defaulted (defaults.go) -------------------------------------------------------------------

DEFAULT_BACKOFF_LIMIT = 6
MAX_INT32 = 2147483647


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


# --- finished Jobs (pkg/controller/job/util/utils.go) ------------------------------------------------------


def finished_condition(job: dict) -> tuple[bool, str]:
    """``FinishedCondition``: whether the Job finished, and the type of the condition that says so."""
    for condition in _status(job).get("conditions") or []:
        if condition.get("type") in (JOB_COMPLETE, JOB_FAILED) and condition.get("status") == CONDITION_TRUE:
            return True, condition["type"]
    return False, ""


def is_job_finished(job: dict) -> bool:
    """``IsJobFinished``: ``Complete=True`` or ``Failed=True``."""
    finished, _ = finished_condition(job)
    return finished


def is_job_succeeded(job: dict) -> bool:
    """``IsJobSucceeded``: the ``Complete`` condition is True."""
    return any(
        c.get("type") == JOB_COMPLETE and c.get("status") == CONDITION_TRUE
        for c in _status(job).get("conditions") or []
    )


# --- shared by the per-feature files (job_controller.go) ---------------------------------------------------


def is_pod_failed(pod: dict, job: dict) -> bool:
    """Failed phase; or, unless only failed pods are replaced, being deleted without having succeeded."""
    if pod_phase(pod) == POD_FAILED:
        return True
    if only_replace_failed_pods(job):
        return False
    # Count deleted pods as failures to account for orphan pods that never reach the Failed phase.
    return bool(_meta(pod).get("deletionTimestamp")) and pod_phase(pod) != POD_SUCCEEDED


def find_condition_by_type(conditions: list[dict], condition_type: str) -> dict | None:
    for condition in conditions:
        if condition.get("type") == condition_type:
            return condition
    return None


def only_replace_failed_pods(job: dict) -> bool:
    """``podReplacementPolicy: Failed`` (the default when a podFailurePolicy is set)."""
    spec = _spec(job)
    return spec.get("podReplacementPolicy") == POD_REPLACEMENT_FAILED or spec.get("podFailurePolicy") is not None
