"""The pod-failure backoff of a Job: upstream ``pkg/controller/job/backoff_utils.go``.

After pods fail, a Job waits before creating replacements: 10 s after one failure, doubling with each further
failure since the last success, up to 10 minutes. Upstream keeps a ``backoffRecord`` per Job in memory (its
``backoffStore``); here the record travels in ``JobMemory.backoff`` (``controllers.job``), returned with each plan.
With ``backoffLimitPerIndex`` each index backs off on its own, counted from the failure-count annotation of its
last failed pod. ``getFinishedTime``, when a pod finished, is ``controllers.pods.get_finished_time``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from controllers.job_indexed import get_index_absolute_failure_count
from controllers.pods import get_finished_time

#: ``DefaultJobPodFailureBackOff`` and ``MaxJobPodFailureBackOff`` (the docs' "six minutes" is the pre-1.26 cap).
DEFAULT_JOB_POD_FAILURE_BACKOFF = 10.0
MAX_JOB_POD_FAILURE_BACKOFF = 600.0


@dataclass(frozen=True)
class BackoffRecord:
    """Pod-failure backoff state upstream keeps in memory per Job."""

    failures_after_last_success: int = 0
    last_failure_time: datetime | None = None


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


def remaining_backoff(record: BackoffRecord | None, now: datetime) -> float:
    """Seconds to wait before creating pods again (0 when creation may happen now); ``getRemainingTime``."""
    if record is None:
        return 0.0
    return remaining_time_for_failures_count(record.failures_after_last_success, record.last_failure_time, now)


def remaining_time_per_index(now: datetime, last_failed_pod: dict | None) -> float:
    """``getRemainingTimePerIndex``: the backoff of an index, from the failure count of its last failed pod."""
    if last_failed_pod is None:
        return 0.0
    failures = get_index_absolute_failure_count(last_failed_pod) + 1
    return remaining_time_for_failures_count(failures, get_finished_time(last_failed_pod), now)


def remaining_time_for_failures_count(failures: int, last_failure_time: datetime | None, now: datetime) -> float:
    if failures == 0 or last_failure_time is None:
        return 0.0
    delay = backoff_delay(failures)
    elapsed = (now - last_failure_time).total_seconds()
    return 0.0 if delay < elapsed else delay - elapsed


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
