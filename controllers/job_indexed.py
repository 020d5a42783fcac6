"""Indexed Jobs: upstream ``pkg/controller/job/indexed_job_utils.go``.

An Indexed Job (``completionMode: Indexed``) runs one pod per completion index ``0..completions-1``; each pod
carries its index in the ``batch.kubernetes.io/job-completion-index`` annotation and label. Sets of indexes are
kept as ordered, non-overlapping ``(first, last)`` intervals (upstream ``orderedIntervals``) and written into
``status.completedIndexes`` / ``status.failedIndexes`` as ``"1,3-5,7"``. With ``backoffLimitPerIndex`` each
index counts its own failures in the ``job-index-failure-count`` annotation, carried from a failed pod to its
replacement.

One function of this upstream file lives in ``controllers.job``: ``get_pods_with_delayed_deletion_per_index``,
beside ``get_valid_pods_with_filter``, which it calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from controllers.job_pod_failure_policy import match_pod_failure_policy
from controllers.job_tracking import has_job_tracking_finalizer
from controllers.job_util import (
    ACTION_FAIL_INDEX,
    INDEXED_COMPLETION,
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    MAX_INT32,
    is_pod_failed,
    job_completions,
)
from controllers.objects import meta as _meta, spec as _spec, status as _status
from controllers.pods import POD_SUCCEEDED, pod_phase, sort_active_pods

COMPLETION_INDEX_ENV_NAME = "JOB_COMPLETION_INDEX"
UNKNOWN_COMPLETION_INDEX = -1
#: ``names.MaxGeneratedNameLength``: 63 minus the 5 random characters the API server appends.
MAX_GENERATED_NAME_LENGTH = 58


def is_indexed_job(job: dict) -> bool:
    return _spec(job).get("completionMode") == INDEXED_COMPLETION


def has_backoff_limit_per_index(job: dict) -> bool:
    return _spec(job).get("backoffLimitPerIndex") is not None


#: ``orderedIntervals``: ordered, non-overlapping, non-adjacent ``(first, last)`` pairs.
Intervals = tuple[tuple[int, int], ...]


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


def calculate_failed_indexes(job: dict, pods: list[dict]) -> Intervals:
    """The indexes in ``status.failedIndexes`` plus those whose pods failed since the last sync."""
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


def with_ordered_indexes(intervals: Intervals, indexes) -> Intervals:
    return merge_intervals(intervals, tuple((i, i) for i in indexes))


def merge_intervals(a: Intervals, b: Intervals) -> Intervals:
    """Merge two ordered interval lists, joining overlapping and adjacent intervals (``orderedIntervals.merge``)."""
    result: list[list[int]] = []
    for first, last in sorted(list(a) + list(b)):
        if not result or first > result[-1][1] + 1:
            result.append([first, last])
        elif result[-1][1] < last:
            result[-1][1] = last
    return tuple((f, l) for f, l in result)


def intervals_total(intervals: Intervals | None) -> int:
    return sum(last - first + 1 for first, last in intervals or ())


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


def intervals_has(intervals: Intervals | None, index: int) -> bool:
    return any(first <= index <= last for first, last in intervals or ())


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
    non_pending = with_ordered_indexes(succeeded_indexes, sorted(get_indexes(active_pods)))
    non_pending = with_ordered_indexes(non_pending, sorted(get_indexes(list(terminating_pods))))
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


def get_indexes(pods: list[dict]) -> set[int]:
    """The valid completion indexes of ``pods``."""
    return {ix for ix in (get_completion_index(p) for p in pods) if ix != UNKNOWN_COMPLETION_INDEX}


def append_duplicated_index_pods_for_removal(pods: list[dict], completions: int) -> tuple[list[dict], list[dict]]:
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


def get_new_index_failure_counts(job: dict, pod_being_replaced: dict | None) -> tuple[int, int]:
    """The (failure, ignored failure) counts the replacement of ``pod_being_replaced`` carries."""
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


def get_completion_index(pod_or_annotations: dict) -> int:
    """The pod's completion index annotation, or -1 when missing or invalid."""
    annotations = pod_or_annotations
    if "metadata" in pod_or_annotations:
        annotations = _meta(pod_or_annotations).get("annotations") or {}
    value = _atoi(annotations.get(JOB_COMPLETION_INDEX_ANNOTATION, ""))
    return UNKNOWN_COMPLETION_INDEX if value is None or value < 0 else value


def get_index_failure_count(pod: dict) -> int:
    return _index_failure_count(pod, JOB_INDEX_FAILURE_COUNT_ANNOTATION)


def get_index_absolute_failure_count(pod: dict) -> int:
    return get_index_failure_count(pod) + _index_failure_count(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)


def _index_failure_count(pod: dict, annotation: str) -> int:
    """``parseIndexFailureCountAnnotation`` and ``parseInt32``: 0 when missing, unparsable or out of range."""
    value = _atoi((_meta(pod).get("annotations") or {}).get(annotation, ""))
    return value if value is not None and 0 <= value <= MAX_INT32 else 0


_INT_RE = re.compile(r"^[+-]?[0-9]+$")


def _atoi(text: str) -> int | None:
    """Go's ``strconv.Atoi``; ``None`` for an error."""
    return int(text) if isinstance(text, str) and _INT_RE.match(text) else None


def add_completion_index_env_variables(pod_spec: dict) -> None:
    for key in ("initContainers", "containers"):
        for container in pod_spec.get(key) or []:
            add_completion_index_env_variable(container)


def add_completion_index_env_variable(container: dict) -> None:
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


def pod_generate_name_with_index(job_name: str, index: int) -> str:
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[: MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix
