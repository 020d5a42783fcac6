"""Factories for controller tests: Jobs and Pods as the API server stores them (plain JSON dicts)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from controllers.job import JOB_COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER
from controllers.pods import format_time

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
#: Upstream's ``testFinishedAt``: a finish time so old that no pod-failure backoff applies any more.
LONG_AGO = datetime(2000, 1, 1, 0, 0, 1, tzinfo=timezone.utc)

_pod_numbers = itertools.count()


def new_job(
    parallelism: int = 1,
    completions: int = 1,
    backoff_limit: int | None = 6,
    *,
    name: str = "foobar",
    namespace: str = "default",
    uid: str = "job-uid-1",
    completion_mode: str = "NonIndexed",
    suspend: bool = False,
    pod_replacement_policy: str | None = None,
    pod_failure_policy: dict | None = None,
    active_deadline_seconds: int | None = None,
    backoff_limit_per_index: int | None = None,
    max_failed_indexes: int | None = None,
    success_policy: dict | None = None,
    restart_policy: str = "Never",
    deleting: bool = False,
    status: dict | None = None,
    containers: list[dict] | None = None,
) -> dict:
    """A defaulted Job. ``completions=-1`` / ``parallelism=-1`` leave the field unset, like upstream's newJob."""
    labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    spec: dict = {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {
                "containers": containers or [{"name": "main", "image": "foo/bar"}],
                "restartPolicy": restart_policy,
            },
        },
        "completionMode": completion_mode,
        "suspend": suspend,
    }
    if parallelism >= 0:
        spec["parallelism"] = parallelism
    if completions >= 0:
        spec["completions"] = completions
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    if pod_failure_policy is not None:
        spec["podFailurePolicy"] = pod_failure_policy
    spec["podReplacementPolicy"] = pod_replacement_policy or ("Failed" if pod_failure_policy else "TerminatingOrFailed")
    if active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = active_deadline_seconds
    if backoff_limit_per_index is not None:
        spec["backoffLimitPerIndex"] = backoff_limit_per_index
    if max_failed_indexes is not None:
        spec["maxFailedIndexes"] = max_failed_indexes
    if success_policy is not None:
        spec["successPolicy"] = success_policy
    metadata = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "labels": dict(labels),
        "creationTimestamp": format_time(NOW - timedelta(minutes=5)),
    }
    if deleting:
        metadata["deletionTimestamp"] = format_time(NOW)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec, "status": status or {}}


def new_pod(
    job: dict,
    phase: str,
    *,
    name: str | None = None,
    uid: str | None = None,
    index: str | int | None = None,
    ready: bool = False,
    deleting: bool = False,
    finalizer: bool = True,
    node_name: str | None = None,
    finished_at: datetime = LONG_AGO,
    created: datetime | None = None,
    exit_code: int | None = None,
    restart_count: int = 0,
    conditions: list[dict] | None = None,
    annotations: dict | None = None,
    container_name: str = "main",
) -> dict:
    """A pod owned by ``job``, in ``phase``, carrying the tracking finalizer unless told otherwise."""
    number = next(_pod_numbers)
    name = name or f"{job['metadata']['name']}-{phase.lower()}-{number}"
    metadata: dict = {
        "name": name,
        "namespace": job["metadata"]["namespace"],
        "uid": uid or f"uid-{name}",
        "labels": dict(job["spec"]["template"]["metadata"]["labels"]),
        "creationTimestamp": format_time(created or (NOW - timedelta(minutes=1))),
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": job["metadata"]["name"],
                "uid": job["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if finalizer:
        metadata["finalizers"] = [JOB_TRACKING_FINALIZER]
    all_annotations = dict(annotations or {})
    if index is not None:
        all_annotations[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)
    if all_annotations:
        metadata["annotations"] = all_annotations
    if deleting:
        metadata["deletionTimestamp"] = format_time(NOW)
        metadata["deletionGracePeriodSeconds"] = 30
    if phase in ("Succeeded", "Failed"):
        code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
        state = {
            "terminated": {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "finishedAt": format_time(finished_at),
            }
        }
    elif phase == "Running":
        state = {"running": {"startedAt": format_time(NOW - timedelta(seconds=30))}}
    else:
        state = {"waiting": {"reason": "ContainerCreating"}}
    pod_conditions = list(conditions or [])
    if ready:
        pod_conditions.append(
            {"type": "Ready", "status": "True", "lastTransitionTime": format_time(NOW - timedelta(seconds=20))}
        )
    status: dict = {
        "phase": phase,
        "containerStatuses": [
            {"name": container_name, "restartCount": restart_count, "ready": ready, "state": state}
        ],
    }
    if pod_conditions:
        status["conditions"] = pod_conditions
    spec: dict = {"containers": [{"name": container_name, "image": "foo/bar"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def pod_list(job: dict, count: int, phase: str, **kwargs) -> list[dict]:
    return [new_pod(job, phase, **kwargs) for _ in range(count)]
