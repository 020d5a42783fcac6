"""Tests for the Job controller (``controllers.job``).

The first two tables are upstream's TestControllerSyncJob and TestSyncJobPastDeadline
(``pkg/controller/job/job_controller_test.go``), case names kept as pytest ids. Upstream runs most rows with
the feature gates off; a default 1.31+ cluster has JobPodReplacementPolicy/JobManagedBy on, so the expected
values here are the gates-on ones: ``terminating`` is always written, success goes through
``SuccessCriteriaMet`` (reason ``CompletionsReached``) and failure through ``FailureTarget``, and ``Failed``
waits until no pod is terminating. Upstream's gated variants therefore assert the same as their base rows.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from controllers import job as jobctl
from controllers import job_backoff
from controllers.cache import Cache
from controllers.client import WatchEvent
from controllers.job import (
    JobMemory,
    active_pods_for_removal,
    cleanup_pod_finalizers,
    ensure_job_condition_status,
    get_new_finished_pods,
    new_pod_from_template,
    past_active_deadline,
    past_backoff_limit_on_failure,
    sync_job,
    sync_orphan_pod,
)
from controllers.job_backoff import BackoffRecord, backoff_delay, new_backoff_record, remaining_backoff
from controllers.job_indexed import (
    calculate_succeeded_indexes,
    first_pending_indexes,
    format_completed_indexes,
    parse_indexes_from_string,
)
from controllers.manager import JobOrphanPodController
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult
from controllers.pods import format_time, get_finished_time, is_pod_active, is_pod_ready, sort_active_pods
from controllers.ttl import job_finished_time
from tests.controllers.factories import LONG_AGO, NOW, new_job, new_pod, pod_list
from tests.controllers.world import World

# --- helpers -----------------------------------------------------------------------------------------------

COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
SUCCESS = [
    ("SuccessCriteriaMet", "True", *COMPLETIONS_REACHED),
    ("Complete", "True", *COMPLETIONS_REACHED),
]
BACKOFF = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")
FAILURE_TARGET_BACKOFF = [("FailureTarget", "True", *BACKOFF)]
FAILED_BACKOFF = [("FailureTarget", "True", *BACKOFF), ("Failed", "True", *BACKOFF)]
SUSPENDED = [("Suspended", "True", "JobSuspended", "Job suspended")]
RESUMED = [("Suspended", "False", "JobResumed", "Job resumed")]


def creates(result: SyncResult) -> list[CreateObject]:
    return [a for a in result.actions if isinstance(a, CreateObject)]


def deletes(result: SyncResult) -> list[DeleteObject]:
    return [a for a in result.actions if isinstance(a, DeleteObject)]


def patches(result: SyncResult) -> list[PatchObject]:
    return [a for a in result.actions if isinstance(a, PatchObject)]


def events(result: SyncResult) -> list[tuple[str, str, str]]:
    return [(a.type, a.reason, a.message) for a in result.actions if isinstance(a, EmitEvent)]


def new_status(job: dict, result: SyncResult) -> dict:
    return result.status if result.status is not None else job.get("status") or {}


def conditions(status: dict) -> list[tuple[str, str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", ""), c.get("message", "")) for c in status.get("conditions", [])]


def created_indexes(result: SyncResult) -> set[int]:
    return {int(c.obj["metadata"]["annotations"][jobctl.JOB_COMPLETION_INDEX_ANNOTATION]) for c in creates(result)}


def apply_plan(world: World, job: dict, result: SyncResult) -> tuple[dict, list[dict]]:
    """Apply ``result`` (a sync of ``job``) to ``world`` as the engine does; answers the Job and the pods then."""
    world.apply(result, job)
    return world.get("Job", job["metadata"]["namespace"], job["metadata"]["name"]), world.list("Pod")


# --- TestControllerSyncJob ---------------------------------------------------------------------------------


def case(**kw):
    return kw


CONTROLLER_SYNC_JOB_CASES = {
    "job start": case(par=2, comp=5, bl=6, creations=2, active=2),
    "WQ job start": case(par=2, comp=-1, bl=6, creations=2, active=2),
    "pending pods": case(par=2, comp=5, bl=6, pending=2, active=2),
    "correct # of pods": case(par=3, comp=5, bl=6, running=3, ready_pods=2, active=3, ready=2),
    "WQ job: correct # of pods": case(par=2, comp=-1, bl=6, running=2, active=2),
    "too few active pods": case(par=2, comp=5, bl=6, running=1, succeeded_pods=1, creations=1, active=2, succeeded=1, pod_patches=1),
    "WQ job: recreate pods when failed": case(
        par=1, comp=-1, bl=6, running=1, failed_pods=1, terminating_pods=1, prp="Failed",
        active=1, failed=1, terminating=1, pod_patches=1,
    ),
    "WQ job: turn on PodReplacementPolicy but not set PodReplacementPolicy": case(
        par=1, comp=1, bl=6, running=1, failed_pods=1, terminating_pods=1,
        active=1, failed=2, terminating=1, pod_patches=2,
    ),
    "WQ job: recreate pods when terminating or failed": case(
        par=1, comp=-1, bl=6, running=1, failed_pods=1, terminating_pods=1, prp="TerminatingOrFailed",
        active=1, failed=2, terminating=1, pod_patches=2,
    ),
    "more terminating pods than parallelism": case(
        par=1, comp=1, bl=6, running=2, terminating_pods=4, prp="Failed",
        deletions=1, active=1, terminating=5, pod_patches=1,
    ),
    # Upstream expects terminating nil here (gates off); with the 1.31+ defaults it is tracked.
    "more terminating pods than parallelism; PodFailurePolicy used": case(
        par=1, comp=1, bl=6, running=2, terminating_pods=4, pfp={},
        deletions=1, active=1, terminating=5, pod_patches=1,
    ),
    "too few active pods and active back-off": case(
        par=1, comp=1, bl=6, backoff=BackoffRecord(1, NOW), initial=dict(start=NOW), requeue=10.0,
    ),
    "too few active pods and no back-offs": case(par=1, comp=1, bl=6, backoff=BackoffRecord(0, NOW), creations=1, active=1),
    "too few active pods with a dynamic job": case(par=2, comp=-1, bl=6, running=1, creations=1, active=2),
    "too many active pods": case(par=2, comp=5, bl=6, running=3, deletions=1, active=2, terminating=1, pod_patches=1),
    "too many active pods; PodReplacementPolicy enabled": case(
        par=2, comp=5, bl=6, running=3, deletions=1, active=2, terminating=1, pod_patches=1,
    ),
    "count ready pods when too many active pods": case(
        par=2, comp=5, bl=6, running=3, ready_pods=3, deletions=1, active=2, ready=2, terminating=1, pod_patches=1,
    ),
    "failed + succeed pods: reset backoff delay": case(
        par=2, comp=5, bl=6, running=1, succeeded_pods=1, failed_pods=1,
        creations=1, active=2, succeeded=1, failed=1, pod_patches=2,
    ),
    "new failed pod": case(par=2, comp=5, bl=6, running=1, failed_pods=1, creations=1, active=2, failed=1, pod_patches=1),
    "no new pod; possible finalizer update of failed pod": case(
        par=1, comp=1, bl=6, running=1, initial=dict(active=1, failed=1), active=1, failed=1,
    ),
    "job finish": case(par=2, comp=5, bl=6, succeeded_pods=5, succeeded=5, conditions=SUCCESS, pod_patches=5),
    "WQ job finishing": case(par=2, comp=-1, bl=6, running=1, succeeded_pods=1, active=1, succeeded=1, pod_patches=1),
    "WQ job all finished": case(par=2, comp=-1, bl=6, succeeded_pods=2, succeeded=2, conditions=SUCCESS, pod_patches=2),
    "WQ job all finished despite one failure": case(
        par=2, comp=-1, bl=6, succeeded_pods=1, failed_pods=1, succeeded=1, failed=1, conditions=SUCCESS, pod_patches=2,
    ),
    "more active pods than parallelism": case(
        par=2, comp=5, bl=6, running=10, deletions=8, active=2, terminating=8, pod_patches=8,
    ),
    "more active pods than remaining completions": case(
        par=3, comp=4, bl=6, running=3, succeeded_pods=2, deletions=1, active=2, succeeded=2, terminating=1, pod_patches=3,
    ),
    "status change": case(par=2, comp=5, bl=6, running=2, succeeded_pods=2, active=2, succeeded=2, pod_patches=2),
    "deleting job": case(
        par=2, comp=5, bl=6, deleting=True, pending=1, running=1, succeeded_pods=1, active=2, succeeded=1, pod_patches=3,
    ),
    "limited pods": case(par=100, comp=200, bl=6, max_creates=10, creations=10, active=10),
    "too many job failures": case(
        par=2, comp=5, bl=0, deleting=True, failed_pods=1, failed=1, conditions=FAILED_BACKOFF, pod_patches=1,
    ),
    "job failures, unsatisfied expectations": case(
        par=2, comp=5, bl=0, deleting=True, failed_pods=1, satisfied=False, failed=1, pod_patches=1,
    ),
    "indexed job start": case(par=2, comp=5, bl=6, indexed=True, creations=2, active=2, created={0, 1}),
    "indexed job with some pods deleted, podReplacementPolicy Failed": case(
        par=2, comp=5, bl=6, indexed=True, prp="Failed", terminating_pods=1,
        creations=1, active=1, created={0}, terminating=1,
    ),
    "indexed job with some pods deleted, podReplacementPolicy TerminatingOrFailed": case(
        par=2, comp=5, bl=6, indexed=True, prp="TerminatingOrFailed", terminating_pods=1,
        creations=2, active=2, created={0, 1}, terminating=1, pod_patches=1,
    ),
    "indexed job completed": case(
        par=2, comp=3, bl=6, indexed=True,
        with_indexes=[("0", "Succeeded"), ("1", "Failed"), ("1", "Succeeded"), ("2", "Succeeded")],
        succeeded=3, failed=1, completed="0-2", conditions=SUCCESS, pod_patches=4,
    ),
    # Upstream's gates-off row ends Failed; with 1.31+ defaults the running pod is still terminating.
    "indexed job failed": case(
        par=2, comp=3, bl=0, indexed=True, with_indexes=[("0", "Succeeded"), ("1", "Failed"), ("2", "Running")],
        succeeded=1, failed=2, completed="0", conditions=FAILURE_TARGET_BACKOFF, pod_patches=3, deletions=1,
        terminating=1,
    ),
    "count terminating pods when indexed job fails and PodReplacementPolicy enabled": case(
        par=2, comp=3, bl=0, indexed=True, with_indexes=[("0", "Succeeded"), ("1", "Failed"), ("2", "Running")],
        succeeded=1, failed=2, completed="0", conditions=FAILURE_TARGET_BACKOFF, pod_patches=3, deletions=1,
        terminating=1,
    ),
    "backoff limit exceeded; JobManagedBy enabled": case(
        par=2, comp=3, bl=0, indexed=True, with_indexes=[("0", "Succeeded"), ("1", "Failed"), ("2", "Running")],
        succeeded=1, failed=2, completed="0", conditions=FAILURE_TARGET_BACKOFF, pod_patches=3, deletions=1,
        terminating=1,
    ),
    "count ready pods when job fails": case(
        par=2, comp=3, bl=0, running=2, ready_pods=2, failed_pods=1,
        failed=3, conditions=FAILURE_TARGET_BACKOFF, pod_patches=3, deletions=2, terminating=2,
    ),
    "indexed job repeated completed index": case(
        par=2, comp=3, bl=6, indexed=True, with_indexes=[("0", "Succeeded"), ("1", "Succeeded"), ("1", "Succeeded")],
        creations=1, active=1, succeeded=2, completed="0,1", created={2}, pod_patches=3,
    ),
    "indexed job some running and completed pods": case(
        par=8, comp=20, bl=6, indexed=True,
        with_indexes=[
            ("0", "Running"), ("2", "Succeeded"), ("3", "Pending"), ("4", "Succeeded"),
            ("5", "Succeeded"), ("7", "Succeeded"), ("8", "Succeeded"), ("9", "Succeeded"),
        ],
        creations=6, active=8, succeeded=6, completed="2,4,5,7-9", created={1, 6, 10, 11, 12, 13}, pod_patches=6,
    ),
    "indexed job some failed pods": case(
        par=3, comp=4, bl=6, indexed=True, with_indexes=[("0", "Failed"), ("1", "Pending"), ("2", "Failed")],
        creations=2, active=3, failed=2, created={0, 2}, pod_patches=2,
    ),
    "indexed job some pods without index": case(
        par=2, comp=5, bl=6, indexed=True, running=1, succeeded_pods=1, failed_pods=1,
        with_indexes=[
            ("invalid", "Running"), ("invalid", "Succeeded"), ("invalid", "Failed"), ("invalid", "Pending"),
            ("0", "Succeeded"), ("1", "Running"), ("2", "Running"),
        ],
        deletions=3, active=2, succeeded=1, completed="0", pod_patches=8, terminating=3,
    ),
    "indexed job repeated indexes": case(
        par=5, comp=5, bl=6, indexed=True, succeeded_pods=1, failed_pods=1,
        with_indexes=[("invalid", "Running"), ("0", "Succeeded"), ("1", "Running"), ("2", "Running"), ("2", "Pending")],
        deletions=2, active=2, succeeded=1, completed="0", pod_patches=5, terminating=2,
    ),
    "indexed job with indexes outside of range": case(
        par=2, comp=5, bl=6, indexed=True,
        with_indexes=[("0", "Succeeded"), ("5", "Running"), ("6", "Succeeded"), ("7", "Pending"), ("8", "Failed")],
        succeeded=1, deletions=2, completed="0", pod_patches=5, terminating=2,
    ),
    "suspending a job with satisfied expectations": case(
        par=2, comp=4, bl=6, suspend=True, running=2, deletions=2, conditions=SUSPENDED, pod_patches=2, terminating=2,
    ),
    "suspending a job with satisfied expectations; PodReplacementPolicy enabled": case(
        par=2, comp=4, bl=6, suspend=True, running=2, deletions=2, conditions=SUSPENDED, pod_patches=2, terminating=2,
    ),
    "count ready pods when suspending a job with satisfied expectations": case(
        par=2, comp=4, bl=6, suspend=True, running=2, ready_pods=2, deletions=2, conditions=SUSPENDED,
        pod_patches=2, terminating=2,
    ),
    "suspending a job with unsatisfied expectations": case(
        par=2, comp=4, bl=6, suspend=True, running=3, satisfied=False, active=3,
    ),
    "count ready pods when suspending a job with unsatisfied expectations": case(
        par=2, comp=4, bl=6, suspend=True, running=3, ready_pods=3, satisfied=False, active=3, ready=3,
    ),
    "suspending a job with unsatisfied expectations; PodReplacementPolicy enabled": case(
        par=2, comp=4, bl=6, suspend=True, running=3, satisfied=False, active=3,
    ),
    "resuming a suspended job": case(par=2, comp=4, bl=6, was_suspended=True, creations=2, active=2, conditions=RESUMED),
    "suspending a deleted job": case(par=2, comp=4, bl=6, suspend=True, deleting=True, running=2, active=2, pod_patches=2),
    "suspending a deleted job; PodReplacementPolicy enabled": case(
        par=2, comp=4, bl=6, suspend=True, deleting=True, running=2, active=2, pod_patches=2,
    ),
    "FailureTarget=False condition added manually is ignored": case(
        par=1, comp=1, bl=0, running=1, ready_pods=1,
        initial=dict(active=1, start=NOW, conditions=[("FailureTarget", "False", "ConditionAddedManually", "Testing")]),
        active=1, ready=1, conditions=[("FailureTarget", "False", "ConditionAddedManually", "Testing")],
    ),
    "SuccessCriteriaMet=False condition added manually is ignored": case(
        par=1, comp=1, bl=0, running=1, ready_pods=1,
        initial=dict(active=1, start=NOW, conditions=[("SuccessCriteriaMet", "False", "ConditionAddedManually", "Testing")]),
        active=1, ready=1, conditions=[("SuccessCriteriaMet", "False", "ConditionAddedManually", "Testing")],
    ),
}

NOT_APPLICABLE = {
    "too few active pods, with controller error": "API errors belong to the engine: a plan assumes its actions succeed",
    "too many active pods, with controller error": "API errors belong to the engine: a plan assumes its actions succeed",
    "only new failed pod with controller error": "API errors belong to the engine: a plan assumes its actions succeed",
    "indexed job with podIndexLabel feature disabled": "PodIndexLabel is on by default since 1.28 and locked on in 1.32",
}


def build_case(tc: dict) -> tuple[dict, list[dict], dict]:
    initial = tc.get("initial")
    status: dict = {}
    if initial is not None:
        status["startTime"] = format_time(initial.get("start", NOW))
        for key in ("active", "succeeded", "failed"):
            if initial.get(key):
                status[key] = initial[key]
        if initial.get("conditions"):
            status["conditions"] = [
                {"type": t, "status": s, "reason": r, "message": m, "lastProbeTime": format_time(NOW),
                 "lastTransitionTime": format_time(NOW)}
                for t, s, r, m in initial["conditions"]
            ]
    if tc.get("was_suspended"):
        status.setdefault("conditions", []).append(
            jobctl.new_condition("Suspended", "True", "JobSuspended", "Job suspended", NOW - timedelta(minutes=1))
        )
    job = new_job(
        tc["par"],
        tc["comp"],
        tc["bl"],
        completion_mode="Indexed" if tc.get("indexed") else "NonIndexed",
        suspend=tc.get("suspend", False),
        pod_replacement_policy=tc.get("prp"),
        pod_failure_policy=tc.get("pfp"),
        deleting=tc.get("deleting", False),
        status=status,
    )
    pods = pod_list(job, tc.get("pending", 0), "Pending")
    running = pod_list(job, tc.get("running", 0), "Running")
    for i, pod in enumerate(running[: tc.get("ready_pods", 0)]):
        running[i] = new_pod(job, "Running", ready=True, name=pod["metadata"]["name"] + "-ready")
    pods += running
    pods += pod_list(job, tc.get("succeeded_pods", 0), "Succeeded")
    pods += pod_list(job, tc.get("failed_pods", 0), "Failed")
    pods += pod_list(job, tc.get("terminating_pods", 0), "Running", deleting=True)
    for index, phase in tc.get("with_indexes", []):
        pods.append(new_pod(job, phase, index=index))
    kwargs = {"expectations_satisfied": tc.get("satisfied", True)}
    if "backoff" in tc:
        kwargs["backoff"] = tc["backoff"]
    if "max_creates" in tc:
        kwargs["max_creates_per_sync"] = tc["max_creates"]
    return job, pods, kwargs


@pytest.mark.parametrize(
    "tc",
    [pytest.param(tc, id=name) for name, tc in CONTROLLER_SYNC_JOB_CASES.items()]
    + [pytest.param({}, id=name, marks=pytest.mark.skip(reason=why)) for name, why in NOT_APPLICABLE.items()],
)
def test_controller_sync_job(tc):
    job, pods, kwargs = build_case(tc)
    result = sync_job(job, pods, NOW, **kwargs)
    status = new_status(job, result)

    assert len(creates(result)) == tc.get("creations", 0)
    assert len(deletes(result)) == tc.get("deletions", 0)
    assert len(patches(result)) == tc.get("pod_patches", 0)
    assert status.get("active", 0) == tc.get("active", 0)
    assert status["ready"] == tc.get("ready", 0)
    assert status.get("succeeded", 0) == tc.get("succeeded", 0)
    assert status.get("failed", 0) == tc.get("failed", 0)
    assert status["terminating"] == tc.get("terminating", 0)
    assert status.get("completedIndexes", "") == tc.get("completed", "")
    assert conditions(status) == tc.get("conditions", [])
    assert status["uncountedTerminatedPods"] == {}
    # startTime is set unless the Job is suspended.
    assert ("startTime" in status) == (not tc.get("suspend", False))
    if tc.get("indexed"):
        assert created_indexes(result) == tc.get("created", set())
        for create in creates(result):
            ix = create.obj["metadata"]["annotations"][jobctl.JOB_COMPLETION_INDEX_ANNOTATION]
            assert create.obj["metadata"]["generateName"] == f"foobar-{ix}-"
            assert create.obj["spec"]["hostname"] == f"foobar-{ix}"
            assert create.obj["metadata"]["labels"][jobctl.JOB_COMPLETION_INDEX_ANNOTATION] == ix
    else:
        for create in creates(result):
            assert create.obj["metadata"]["generateName"] == "foobar-"
            assert "hostname" not in create.obj["spec"]
    for create in creates(result):
        assert create.obj["metadata"]["ownerReferences"] == [jobctl.controller_ref(job)]
    assert result.requeue_after == tc.get("requeue")


# --- TestSyncJobPastDeadline -------------------------------------------------------------------------------

PAST_DEADLINE_CASES = {
    # Upstream's gates-off rows end Failed; 1.31+ keeps FailureTarget while the deleted pod terminates.
    "activeDeadlineSeconds less than single pod execution": case(
        par=1, comp=1, ads=10, started=15, bl=6, running=1,
        deletions=1, failed=1, terminating=1, conditions=[("FailureTarget", "True", *DEADLINE)],
    ),
    "activeDeadlineSeconds bigger than single pod execution": case(
        par=1, comp=2, ads=10, started=15, bl=6, running=1, succeeded_pods=1,
        deletions=1, succeeded=1, failed=1, terminating=1, conditions=[("FailureTarget", "True", *DEADLINE)],
    ),
    "activeDeadlineSeconds times-out before any pod starts": case(
        par=1, comp=1, ads=10, started=10, bl=6,
        conditions=[("FailureTarget", "True", *DEADLINE), ("Failed", "True", *DEADLINE)],
    ),
    "activeDeadlineSeconds with backofflimit reach": case(
        par=1, comp=1, ads=1, started=10, bl=0, failed_pods=1, failed=1, conditions=FAILED_BACKOFF,
    ),
    "activeDeadlineSeconds is not triggered when Job is suspended": case(
        par=1, comp=2, ads=10, started=15, bl=6, suspend=True, conditions=SUSPENDED,
    ),
    "activeDeadlineSeconds exceeded; JobPodReplacementPolicy enabled": case(
        par=1, comp=2, ads=10, started=15, bl=6, running=1, succeeded_pods=1,
        deletions=1, succeeded=1, failed=1, terminating=1, conditions=[("FailureTarget", "True", *DEADLINE)],
    ),
    "activeDeadlineSeconds exceeded; JobManagedBy enabled": case(
        par=1, comp=2, ads=10, started=15, bl=6, running=1, succeeded_pods=1,
        deletions=1, succeeded=1, failed=1, terminating=1, conditions=[("FailureTarget", "True", *DEADLINE)],
    ),
    "activeDeadlineSeconds exceeded and backofflimit reached; JobManagedBy enabled": case(
        par=1, comp=1, ads=1, started=10, bl=0, failed_pods=1, failed=1, conditions=FAILED_BACKOFF,
    ),
}


@pytest.mark.parametrize("tc", [pytest.param(tc, id=name) for name, tc in PAST_DEADLINE_CASES.items()])
def test_sync_job_past_deadline(tc):
    start = NOW - timedelta(seconds=tc["started"])
    job = new_job(
        tc["par"], tc["comp"], tc["bl"], active_deadline_seconds=tc["ads"], suspend=tc.get("suspend", False),
        status={"startTime": format_time(start)},
    )
    pods = pod_list(job, tc.get("running", 0), "Running")
    pods += pod_list(job, tc.get("succeeded_pods", 0), "Succeeded")
    pods += pod_list(job, tc.get("failed_pods", 0), "Failed")
    result = sync_job(job, pods, NOW)
    status = new_status(job, result)

    assert creates(result) == []
    assert len(deletes(result)) == tc.get("deletions", 0)
    assert status.get("active", 0) == 0
    assert status.get("succeeded", 0) == tc.get("succeeded", 0)
    assert status.get("failed", 0) == tc.get("failed", 0)
    assert status["terminating"] == tc.get("terminating", 0)
    assert status["startTime"] == format_time(start)
    assert conditions(status) == tc["conditions"]
    assert "completionTime" not in status


def test_past_deadline_failed_once_pods_are_gone():
    job = new_job(1, 1, 6, active_deadline_seconds=10, status={"startTime": format_time(NOW - timedelta(seconds=15))})
    pods = [new_pod(job, "Running", name="slow", node_name="node-1")]
    world = World(job, *pods)
    first = sync_job(job, pods, NOW)
    job, pods = apply_plan(world, job, first)
    # Deleted on its node: terminating for the grace period (30 s), its finalizer gone.
    assert pods[0]["metadata"]["deletionTimestamp"] and "finalizers" not in pods[0]["metadata"]
    assert events(first) == []  # nothing is announced before the Job is really finished

    still_terminating = sync_job(job, pods, NOW + timedelta(seconds=1), memory=first.memory)
    assert conditions(new_status(job, still_terminating)) == [("FailureTarget", "True", *DEADLINE)]
    assert deletes(still_terminating) == [] and creates(still_terminating) == []

    later = NOW + timedelta(seconds=31)
    world.set_now(later)
    world.finish_termination("default", "slow")
    assert world.list("Pod") == []
    gone = sync_job(job, world.list("Pod"), later, memory=first.memory)
    status = gone.status
    assert conditions(status) == [("FailureTarget", "True", *DEADLINE), ("Failed", "True", *DEADLINE)]
    assert status["conditions"][1]["lastTransitionTime"] == format_time(later)
    assert status["failed"] == 1 and status["terminating"] == 0
    assert "completionTime" not in status  # a failed Job never gets a completionTime
    assert events(gone) == [("Warning", *DEADLINE)]
    assert job_finished_time({"status": status}) == later.replace(microsecond=0)

    # A finished Job is left alone and its backoff record is forgotten.
    finished, _ = apply_plan(world, job, gone)
    noop = sync_job(finished, [], later + timedelta(seconds=5), memory=gone.memory)
    assert noop.actions == () and noop.status is None and noop.memory is None


def test_requeue_at_active_deadline():
    job = new_job(1, 1, 6, active_deadline_seconds=10, status={"startTime": format_time(NOW - timedelta(seconds=4))})
    result = sync_job(job, [new_pod(job, "Running")], NOW)
    assert result.requeue_after == 6.0
    assert past_active_deadline(job, NOW + timedelta(seconds=5)) is False
    assert past_active_deadline(job, NOW + timedelta(seconds=6)) is True  # ">=" is enough


def test_new_job_requeues_after_full_deadline_and_sets_start_time():
    job = new_job(1, 1, 6, active_deadline_seconds=30)
    result = sync_job(job, [], NOW)
    assert result.status["startTime"] == format_time(NOW)
    assert result.requeue_after == 30.0


# --- pod-failure backoff -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("failures", "delay"), [(0, 0), (1, 10), (2, 20), (3, 40), (4, 80), (6, 320), (7, 600), (50, 600)])
def test_backoff_delay_doubles_from_10s_and_caps_at_10_minutes(failures, delay):
    assert backoff_delay(failures) == delay
    record = BackoffRecord(failures, NOW)
    assert remaining_backoff(record, NOW) == delay


def test_remaining_backoff_counts_from_last_failure():
    record = BackoffRecord(2, NOW - timedelta(seconds=5))
    assert remaining_backoff(record, NOW) == 15.0
    assert remaining_backoff(record, NOW + timedelta(seconds=15)) == 0.0
    assert remaining_backoff(None, NOW) == 0.0


def test_consecutive_failures_wait_10s_20s_40s():
    job = new_job(1, 1, 6)
    memory = None
    pods: list[dict] = []
    clock = NOW
    waits = []
    world = World(job)
    for attempt in range(3):
        failed = world.put(new_pod(job, "Failed", name=f"attempt-{attempt}", finished_at=clock))
        pods = [failed]
        result = sync_job(job, pods, clock, memory=memory)
        assert creates(result) == []
        waits.append(result.requeue_after)
        assert result.memory.backoff == BackoffRecord(attempt + 1, clock)
        job, pods = apply_plan(world, job, result)
        memory = result.memory
        # When the backoff has elapsed, exactly one replacement pod is created.
        clock = clock + timedelta(seconds=result.requeue_after)
        world.set_now(clock)
        retry = sync_job(job, [], clock, memory=memory)
        assert len(creates(retry)) == 1
        job, _ = apply_plan(world, job, retry)
        memory = retry.memory
    assert waits == [10.0, 20.0, 40.0]
    assert job["status"]["failed"] == 3


def test_backoff_quirk_reports_active_zero_while_postponed():
    job = new_job(2, 5, 6)
    running = new_pod(job, "Running")
    failed = new_pod(job, "Failed", finished_at=NOW - timedelta(seconds=2))
    result = sync_job(job, [running, failed], NOW)
    assert creates(result) == []
    assert result.requeue_after == 8.0
    # Upstream quirk: manageJob returns 0 when creation is postponed by the backoff.
    assert result.status.get("active", 0) == 0


def test_backoff_reset_by_success():
    job = new_job(1, 5, 6)
    t = NOW - timedelta(minutes=1)
    success = new_pod(job, "Succeeded", finished_at=t)
    before = new_pod(job, "Failed", finished_at=t - timedelta(seconds=5))
    after1 = new_pod(job, "Failed", finished_at=t + timedelta(seconds=5))
    after2 = new_pod(job, "Failed", finished_at=t + timedelta(seconds=9))
    assert new_backoff_record(BackoffRecord(4, t), [success], []) == BackoffRecord(0, None)
    assert new_backoff_record(BackoffRecord(4, t), [success], [before, after2, after1]) == BackoffRecord(
        2, t + timedelta(seconds=9)
    )
    assert new_backoff_record(BackoffRecord(1, t), [], [after1]) == BackoffRecord(2, t + timedelta(seconds=5))
    # In a sync: a newly succeeded pod clears a pending backoff, so the replacement is created at once.
    result = sync_job(job, [new_pod(job, "Succeeded", finished_at=NOW)], NOW, backoff=BackoffRecord(3, NOW))
    assert len(creates(result)) == 1
    assert result.memory.backoff == BackoffRecord(0, None)


# --- indexed Jobs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indexes", "text"),
    [pytest.param([], "", id="none"), pytest.param([0], "0", id="0"), pytest.param([0, 1], "0,1", id="0,1"),
     pytest.param([0, 1, 2], "0-2", id="0-2"), pytest.param([1, 3, 4, 5, 7], "1,3-5,7", id="1,3-5,7"),
     pytest.param([7, 5, 4, 3, 1, 3], "1,3-5,7", id="1,3-5,7 from unsorted duplicates"),
     pytest.param([0, 1, 3, 4], "0,1,3,4", id="0,1,3,4"), pytest.param([2, 4, 5, 7, 8, 9], "2,4,5,7-9", id="2,4,5,7-9")],
)
def test_format_completed_indexes(indexes, text):
    assert format_completed_indexes(indexes) == text


def test_parse_indexes_from_string():
    assert parse_indexes_from_string("1,3-5,7", 10) == ((1, 1), (3, 5), (7, 7))
    assert parse_indexes_from_string("0,1", 10) == ((0, 1),)
    assert parse_indexes_from_string("0-9", 5) == ((0, 4),)
    assert parse_indexes_from_string("2,x,4-y,6", 5) == ((2, 2),)
    assert parse_indexes_from_string("", 5) == ()


def test_indexed_helpers():
    job = new_job(3, 8, 6, completion_mode="Indexed", status={"completedIndexes": "0,1"})
    pods = [new_pod(job, "Succeeded", index=4), new_pod(job, "Succeeded", index=9), new_pod(job, "Running", index=3)]
    previous, current = calculate_succeeded_indexes(job, pods)
    assert previous == ((0, 1),) and current == ((0, 1), (4, 4))
    assert first_pending_indexes([pods[2]], current, 3, 8) == [2, 5, 6]
    assert first_pending_indexes([], ((0, 7),), 3, 8) == []


def test_indexed_job_completes_and_reports_completed_indexes():
    job = new_job(2, 3, 6, completion_mode="Indexed", status={"completedIndexes": "0", "succeeded": 1})
    pods = [new_pod(job, "Succeeded", index=1), new_pod(job, "Succeeded", index=2)]
    result = sync_job(job, pods, NOW)
    assert result.status["completedIndexes"] == "0-2"
    assert result.status["succeeded"] == 3
    assert conditions(result.status) == SUCCESS
    assert result.status["completionTime"] == format_time(NOW)


# --- suspend / resume / parallelism 0 ----------------------------------------------------------------------


def test_job_created_suspended_has_no_start_time_and_no_pods():
    job = new_job(2, 4, 6, suspend=True)
    result = sync_job(job, [], NOW)
    assert "startTime" not in result.status
    assert creates(result) == []
    assert conditions(result.status) == SUSPENDED
    assert events(result) == [("Normal", "Suspended", "Job suspended")]


def test_suspend_deletes_pods_and_resume_resets_start_time():
    old_start = NOW - timedelta(minutes=1)
    job = new_job(2, 4, 6, suspend=True, active_deadline_seconds=600, status={"startTime": format_time(old_start)})
    pods = pod_list(job, 2, "Running", node_name="node-1")
    world = World(job, *pods)
    suspended = sync_job(job, pods, NOW)
    assert [d.name for d in deletes(suspended)] == sorted(p["metadata"]["name"] for p in pods)
    assert suspended.status["startTime"] == format_time(old_start)  # suspend does not clear startTime
    assert suspended.status["terminating"] == 2 and suspended.status.get("failed", 0) == 0
    assert suspended.requeue_after is None  # activeDeadlineSeconds does not tick while suspended
    job, pods = apply_plan(world, job, suspended)
    assert [p["metadata"].get("deletionGracePeriodSeconds") for p in pods] == [30, 30]  # terminating on their node

    # Terminated while suspended: not counted as failed (their finalizers were removed before deletion).
    gone = [dict(p, status={"phase": "Failed"}) for p in pods]
    quiet = sync_job(job, gone, NOW + timedelta(seconds=30), memory=suspended.memory)
    assert new_status(job, quiet).get("failed", 0) == 0
    for pod in pods:
        world.finish_termination("default", pod["metadata"]["name"])

    job = world.change("Job", "default", "foobar", lambda job: job["spec"].update(suspend=False))
    later = NOW + timedelta(minutes=5)
    world.set_now(later)
    resumed = sync_job(job, world.list("Pod"), later, memory=suspended.memory)
    assert resumed.status["startTime"] == format_time(later)
    assert conditions(resumed.status) == RESUMED
    assert resumed.status["conditions"][0]["lastTransitionTime"] == format_time(later)
    assert len(creates(resumed)) == 2
    assert events(resumed) == [("Normal", "Resumed", "Job resumed")]
    # Upstream computes the deadline requeue before the resume resets startTime (10 min - 6 min elapsed);
    # the status update re-triggers a sync that sees the fresh clock.
    assert resumed.requeue_after == 240.0
    job, pods = apply_plan(world, job, resumed)
    assert sync_job(job, pods, later, memory=resumed.memory).requeue_after == 600.0


def test_resume_after_the_deadline_passed_fails_the_job():
    # Upstream checks activeDeadlineSeconds before it resets startTime on resume, and does not clear startTime
    # on suspend (queue controllers such as Kueue clear it themselves): the old clock still counts.
    job = new_job(1, 1, 6, active_deadline_seconds=600, status={
        "startTime": format_time(NOW - timedelta(hours=1)),
        "conditions": [jobctl.new_condition("Suspended", "True", "JobSuspended", "Job suspended", NOW)],
    })
    result = sync_job(job, [], NOW)
    assert conditions(result.status)[1:] == [("FailureTarget", "True", *DEADLINE), ("Failed", "True", *DEADLINE)]
    assert creates(result) == []


def test_parallelism_zero_deletes_active_pods_without_condition():
    job = new_job(0, 5, 6)
    pods = pod_list(job, 2, "Running")
    result = sync_job(job, pods, NOW)
    assert len(deletes(result)) == 2 and creates(result) == []
    assert conditions(result.status) == []
    assert result.status.get("active", 0) == 0


def test_work_queue_job_creates_nothing_after_first_success_and_ignores_later_failure():
    job = new_job(3, -1, 6)
    succeeded, running = new_pod(job, "Succeeded"), new_pod(job, "Running")
    world = World(job, succeeded, running)
    result = sync_job(job, [succeeded, running], NOW)
    assert creates(result) == [] and result.status["active"] == 1
    job, pods = apply_plan(world, job, result)
    world.change("Pod", "default", running["metadata"]["name"], lambda pod: pod.update(status={"phase": "Failed"}))
    done = sync_job(job, world.list("Pod"), NOW + timedelta(seconds=10), memory=result.memory)
    assert conditions(done.status) == SUCCESS
    assert done.status["succeeded"] == 1 and done.status["failed"] == 1


# --- pod failure policy ------------------------------------------------------------------------------------


def policy(*rules):
    return {"rules": list(rules)}


def test_pod_failure_policy_fail_job_on_exit_code():
    job = new_job(2, 4, 6, pod_failure_policy=policy(
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}
    ))
    failed = new_pod(job, "Failed", name="crash", exit_code=42)
    running = new_pod(job, "Running", name="other")
    world = World(job, failed, running)
    result = sync_job(job, [failed, running], NOW)
    message = "Container main for pod default/crash failed with exit code 42 matching FailJob rule at index 0"
    assert conditions(result.status) == [("FailureTarget", "True", "PodFailurePolicy", message)]
    assert [d.name for d in deletes(result)] == ["other"]
    assert result.status["failed"] == 2  # the deleted running pod is counted failed as the Job fails
    job, pods = apply_plan(world, job, result)
    final = sync_job(job, [], NOW + timedelta(seconds=30), memory=result.memory)
    assert conditions(final.status)[-1] == ("Failed", "True", "PodFailurePolicy", message)
    assert events(final) == [("Warning", "PodFailurePolicy", message)]


def test_pod_failure_policy_other_container_or_exit_code_does_not_match():
    rules = policy({"action": "FailJob", "onExitCodes": {"containerName": "sidecar", "operator": "In", "values": [42]}})
    job = new_job(1, 1, 6, pod_failure_policy=rules)
    result = sync_job(job, [new_pod(job, "Failed", exit_code=42)], NOW)
    assert conditions(result.status) == []
    assert result.status["failed"] == 1


def test_pod_failure_policy_not_in_operator_and_count():
    rules = policy(
        {"action": "Count", "onExitCodes": {"operator": "In", "values": [3]}},
        {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [0, 1, 2]}},
    )
    job = new_job(1, 1, 6, pod_failure_policy=rules)
    counted = sync_job(job, [new_pod(job, "Failed", exit_code=3)], NOW)
    assert conditions(counted.status) == [] and counted.status["failed"] == 1
    fails = sync_job(job, [new_pod(job, "Failed", name="p7", exit_code=7)], NOW)
    assert conditions(fails.status)[0][2:] == (
        "PodFailurePolicy", "Container main for pod default/p7 failed with exit code 7 matching FailJob rule at index 1"
    )


def test_pod_failure_policy_ignore_disruption_is_not_counted_and_pod_is_replaced():
    rules = policy({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]})
    job = new_job(1, 1, 0, pod_failure_policy=rules)
    evicted = new_pod(job, "Failed", conditions=[{"type": "DisruptionTarget", "status": "True"}])
    result = sync_job(job, [evicted], NOW)
    assert result.status.get("failed", 0) == 0  # backoffLimit 0 is not exceeded
    assert conditions(result.status) == []
    assert len(patches(result)) == 1 and len(creates(result)) == 1


def test_pod_failure_policy_fail_job_on_pod_condition():
    rules = policy({"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]})
    job = new_job(1, 1, 6, pod_failure_policy=rules)
    evicted = new_pod(job, "Failed", name="ev", conditions=[{"type": "DisruptionTarget", "status": "True"}])
    result = sync_job(job, [evicted], NOW)
    message = "Pod default/ev has condition DisruptionTarget matching FailJob rule at index 0"
    assert conditions(result.status) == [
        ("FailureTarget", "True", "PodFailurePolicy", message),
        ("Failed", "True", "PodFailurePolicy", message),
    ]


def test_pod_failure_policy_waits_for_terminating_pods_before_replacing():
    # With a podFailurePolicy, podReplacementPolicy is Failed: a terminating pod is not replaced yet.
    job = new_job(1, 1, 6, pod_failure_policy=policy())
    result = sync_job(job, [new_pod(job, "Running", deleting=True)], NOW)
    assert creates(result) == []
    assert result.status["terminating"] == 1 and result.status.get("failed", 0) == 0


# --- backoffLimitPerIndex ----------------------------------------------------------------------------------


def test_backoff_limit_per_index_replaces_failed_index_and_carries_failure_count():
    job = new_job(2, 2, None, completion_mode="Indexed", backoff_limit_per_index=1)
    failed = new_pod(job, "Failed", index=0, annotations={jobctl.JOB_INDEX_FAILURE_COUNT_ANNOTATION: "0"})
    running = new_pod(job, "Running", index=1, annotations={jobctl.JOB_INDEX_FAILURE_COUNT_ANNOTATION: "0"})
    world = World(job, failed, running)
    result = sync_job(job, [failed, running], NOW)
    assert created_indexes(result) == {0}
    created = creates(result)[0].obj
    assert created["metadata"]["annotations"][jobctl.JOB_INDEX_FAILURE_COUNT_ANNOTATION] == "1"
    assert result.status["failedIndexes"] == ""
    # The failed pod keeps its finalizer (so it is not counted yet) until its replacement exists.
    assert patches(result) == [] and result.status.get("failed", 0) == 0
    assert conditions(result.status) == []
    job, pods = apply_plan(world, job, result)
    counted = sync_job(job, pods, NOW + timedelta(seconds=1), memory=result.memory)
    assert [p.name for p in patches(counted)] == [failed["metadata"]["name"]]
    assert counted.status["failed"] == 1 and creates(counted) == []


def test_backoff_limit_per_index_backs_off_per_index():
    job = new_job(1, 1, None, completion_mode="Indexed", backoff_limit_per_index=3)
    failed = new_pod(job, "Failed", index=0, finished_at=NOW - timedelta(seconds=5),
                     annotations={jobctl.JOB_INDEX_FAILURE_COUNT_ANNOTATION: "1"})
    result = sync_job(job, [failed], NOW)
    assert creates(result) == []
    assert result.requeue_after == 15.0  # second failure of index 0: 20s from its finish time


def test_backoff_limit_per_index_max_failed_indexes_exceeded():
    job = new_job(2, 3, None, completion_mode="Indexed", backoff_limit_per_index=1, max_failed_indexes=0)
    failed = new_pod(job, "Failed", index=0, annotations={jobctl.JOB_INDEX_FAILURE_COUNT_ANNOTATION: "1"})
    running = new_pod(job, "Running", index=1)
    result = sync_job(job, [failed, running], NOW)
    assert result.status["failedIndexes"] == "0"
    assert conditions(result.status) == [
        ("FailureTarget", "True", "MaxFailedIndexesExceeded",
         "Job has exceeded the specified maximal number of failed indexes"),
    ]
    assert [d.name for d in deletes(result)] == [running["metadata"]["name"]]


def test_backoff_limit_per_index_job_with_failed_indexes_fails_when_all_indexes_done():
    job = new_job(2, 2, None, completion_mode="Indexed", backoff_limit_per_index=0)
    pods = [new_pod(job, "Failed", index=0), new_pod(job, "Succeeded", index=1)]
    result = sync_job(job, pods, NOW)
    assert result.status["failedIndexes"] == "0" and result.status["completedIndexes"] == "1"
    assert conditions(result.status) == [
        ("FailureTarget", "True", "FailedIndexes", "Job has failed indexes"),
        ("Failed", "True", "FailedIndexes", "Job has failed indexes"),
    ]
    assert events(result) == [("Warning", "FailedIndexes", "Job has failed indexes")]


def test_fail_index_action_fails_only_that_index():
    rules = policy({"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [5]}})
    job = new_job(2, 3, None, completion_mode="Indexed", backoff_limit_per_index=4, pod_failure_policy=rules)
    pods = [new_pod(job, "Failed", index=0, exit_code=5), new_pod(job, "Running", index=1)]
    result = sync_job(job, pods, NOW)
    assert result.status["failedIndexes"] == "0"
    assert created_indexes(result) == {2}
    assert conditions(result.status) == []


# --- successPolicy -----------------------------------------------------------------------------------------


def test_success_policy_succeeded_indexes_deletes_the_rest_then_completes():
    job = new_job(3, 3, 6, completion_mode="Indexed", success_policy={"rules": [{"succeededIndexes": "0"}]})
    pods = [new_pod(job, "Succeeded", index=0), new_pod(job, "Running", index=1, name="leader-1")]
    world = World(job, *pods)
    result = sync_job(job, pods, NOW)
    met = ("SuccessCriteriaMet", "True", "SuccessPolicy", "Matched rules at index 0")
    assert conditions(result.status) == [met]
    assert [d.name for d in deletes(result)] == ["leader-1"]
    assert result.status.get("failed", 0) == 0  # pods deleted after success are not failures
    assert "completionTime" not in result.status
    job, pods = apply_plan(world, job, result)
    done = sync_job(job, [], NOW + timedelta(seconds=20), memory=result.memory)
    assert conditions(done.status) == [met, ("Complete", "True", "SuccessPolicy", "Matched rules at index 0")]
    assert done.status["completionTime"] == format_time(NOW + timedelta(seconds=20))
    assert events(done) == [("Normal", "Completed", "Job completed")]


def test_success_policy_succeeded_count():
    job = new_job(4, 4, 6, completion_mode="Indexed",
                  success_policy={"rules": [{"succeededIndexes": "0-2", "succeededCount": 2}]})
    one = sync_job(job, [new_pod(job, "Succeeded", index=3), new_pod(job, "Succeeded", index=0)], NOW)
    assert conditions(one.status) == []
    two = sync_job(job, [new_pod(job, "Succeeded", index=2), new_pod(job, "Succeeded", index=0)], NOW)
    assert conditions(two.status) == [
        ("SuccessCriteriaMet", "True", "SuccessPolicy", "Matched rules at index 0"),
        ("Complete", "True", "SuccessPolicy", "Matched rules at index 0"),
    ]


# --- restartPolicy OnFailure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backoff_limit", "restarts", "fails"),
    [(3, 2, False), (3, 3, True), (3, 4, True), (0, 0, False), (0, 1, True)],
)
def test_on_failure_restart_count_rule(backoff_limit, restarts, fails):
    job = new_job(1, 1, backoff_limit, restart_policy="OnFailure")
    pod = new_pod(job, "Running", name="crashy", restart_count=restarts)
    assert past_backoff_limit_on_failure(job, [pod]) is fails
    result = sync_job(job, [pod], NOW)
    if fails:
        assert conditions(result.status) == FAILURE_TARGET_BACKOFF
        assert [d.name for d in deletes(result)] == ["crashy"]  # the pod is deleted; its logs are lost
        assert result.status["failed"] == 1
    else:
        assert conditions(result.status) == [] and deletes(result) == []


def test_on_failure_restarts_are_summed_over_pods_and_init_containers():
    job = new_job(2, 2, 3, restart_policy="OnFailure")
    a = new_pod(job, "Running", restart_count=1)
    b = new_pod(job, "Pending", restart_count=1)
    b["status"]["initContainerStatuses"] = [{"name": "init", "restartCount": 1}]
    done = new_pod(job, "Succeeded", restart_count=5)  # finished pods do not count
    assert past_backoff_limit_on_failure(job, [a, b, done]) is True
    assert past_backoff_limit_on_failure(job, [a, done]) is False


# --- events ------------------------------------------------------------------------------------------------


def test_created_pod_event_is_bound_to_the_create():
    job = new_job(2, 2, 6, name="pi")
    result = sync_job(job, [], NOW)
    first, second = creates(result)
    assert (first.batch, second.batch) == (0, 1)  # slow start: 1, then 2, ...
    event = first.success_event
    assert (event.type, event.reason, event.message, event.component) == (
        "Normal", "SuccessfulCreate", "Created pod: {name}", "job-controller",
    )
    assert event.involved == {"apiVersion": "batch/v1", "kind": "Job", "namespace": "default", "name": "pi",
                              "uid": "job-uid-1"}
    assert event.bind(name="pi-bxk7j").message == "Created pod: pi-bxk7j"
    assert first.failure_event.bind(error="quota exceeded").message == "Error creating: quota exceeded"
    assert first.failure_event.type == "Warning" and first.failure_event.reason == "FailedCreate"
    assert events(result) == []  # no free-standing events: they come with the creates
    assert result.trace.actions == ("write status", "create pod from generateName pi-", "create pod from generateName pi-")
    assert result.trace.decision == "too few active pods: create 2 pods"
    assert result.trace.observed == "active 0, ready 0, terminating 0, succeeded 0, failed 0; want 2 active"


def test_slow_start_batches():
    job = new_job(10, 10, 6)
    batches = [c.batch for c in creates(sync_job(job, [], NOW))]
    assert batches == [0, 1, 1, 2, 2, 2, 2, 3, 3, 3]


def test_deleted_pod_event():
    job = new_job(1, 5, 6)
    pods = [new_pod(job, "Running", name="a", node_name="n1"), new_pod(job, "Pending", name="b")]
    result = sync_job(job, pods, NOW)
    (delete,) = deletes(result)
    assert (delete.kind, delete.namespace, delete.name, delete.uid) == ("Pod", "default", "b", "uid-b")
    assert delete.success_event.message == "Deleted pod: b"
    assert delete.success_event.reason == "SuccessfulDelete"
    assert delete.failure_event.bind(error="boom").message == "Error deleting: boom"
    # The finalizer is removed before the delete (upstream deleteJobPods).
    assert isinstance(result.actions[0], PatchObject) and result.actions[1] is delete


def test_completed_and_too_many_succeeded_events():
    job = new_job(2, 2, 6)
    pods = pod_list(job, 3, "Succeeded")
    result = sync_job(job, pods, NOW)
    assert events(result) == [
        ("Warning", "TooManySucceededPods", "Too many succeeded pods running after completion count reached"),
        ("Normal", "Completed", "Job completed"),
    ]


def test_backoff_limit_event_reuses_condition_reason_and_message():
    job = new_job(1, 1, 0)
    result = sync_job(job, [new_pod(job, "Failed")], NOW)
    assert events(result) == [("Warning", *BACKOFF)]
    assert all(a.component == "job-controller" for a in result.actions if isinstance(a, EmitEvent))


def test_unknown_completion_mode():
    job = new_job(1, 1, 6, completion_mode="Sometimes")
    result = sync_job(job, [], NOW)
    assert result.status is None and events(result) == [
        ("Warning", "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")
    ]


def test_managed_by_another_controller_is_skipped():
    job = new_job(1, 1, 6)
    job["spec"]["managedBy"] = "kueue.x-k8s.io/multikueue"
    result = sync_job(job, [], NOW)
    assert result.actions == () and result.status is None
    job["spec"]["managedBy"] = "kubernetes.io/job-controller"
    assert len(creates(sync_job(job, [], NOW))) == 1


# --- pod template ------------------------------------------------------------------------------------------


def test_pod_from_template_non_indexed():
    job = new_job(1, 1, 6, name="pi")
    job["spec"]["template"]["metadata"]["annotations"] = {"note": "x"}
    pod = new_pod_from_template(job)
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    assert pod["metadata"]["generateName"] == "pi-"
    assert "name" not in pod["metadata"]
    assert pod["metadata"]["namespace"] == "default"
    assert pod["metadata"]["labels"] == job["spec"]["template"]["metadata"]["labels"]
    assert pod["metadata"]["annotations"] == {"note": "x"}
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    assert pod["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "job-uid-1", "controller": True,
         "blockOwnerDeletion": True}
    ]
    assert pod["spec"] == job["spec"]["template"]["spec"]
    assert "hostname" not in pod["spec"] and "subdomain" not in pod["spec"]


def test_pod_from_template_indexed():
    job = new_job(1, 3, 6, name="myjob", completion_mode="Indexed")
    job["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    job["spec"]["template"]["spec"]["subdomain"] = "svc"
    pod = new_pod_from_template(job, 2)
    env = {"name": "JOB_COMPLETION_INDEX",
           "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']"}}}
    assert pod["metadata"]["generateName"] == "myjob-2-"
    assert pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "2"
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "2"
    assert pod["spec"]["hostname"] == "myjob-2"
    assert pod["spec"]["subdomain"] == "svc"  # kept from the template, never invented
    assert pod["spec"]["containers"][0]["env"] == [env]
    assert pod["spec"]["initContainers"][0]["env"] == [env]
    assert "env" not in job["spec"]["template"]["spec"]["containers"][0]  # the Job is untouched


def test_indexed_generate_name_is_truncated():
    long_name = "j" * 60
    pod = new_pod_from_template(new_job(1, 20, 6, name=long_name, completion_mode="Indexed"), 12)
    assert pod["metadata"]["generateName"] == "j" * 54 + "-12-"
    assert len(pod["metadata"]["generateName"]) == 58


# --- finalizer tracking ------------------------------------------------------------------------------------


def test_counts_are_not_doubled_when_the_status_lands_before_the_patches():
    job = new_job(1, 3, 6)
    done = new_pod(job, "Succeeded", name="done")
    first = sync_job(job, [done], NOW)
    assert first.status["succeeded"] == 1
    assert patches(first) == [PatchObject("Pod", "default", "done", {"metadata": {"finalizers": None}})]
    job_after, _ = apply_plan(World(job, done), job, SyncResult((), first.status, None, first.trace))  # status only
    again = sync_job(job_after, [done], NOW + timedelta(seconds=1), memory=first.memory)
    assert new_status(job_after, again)["succeeded"] == 1
    assert len(patches(again)) == 1  # the removal is asked again, idempotently
    released = copy.deepcopy(done)
    del released["metadata"]["finalizers"]
    settled = sync_job(job_after, [released], NOW + timedelta(seconds=2), memory=again.memory)
    assert new_status(job_after, settled)["succeeded"] == 1 and patches(settled) == []
    assert settled.memory.expected_rm_finalizers == frozenset()


def test_uncounted_terminated_pods_from_status_move_to_counters_once():
    job = new_job(1, 3, 6, status={"succeeded": 1, "uncountedTerminatedPods": {"succeeded": ["uid-a"], "failed": ["uid-b"]}})
    a = new_pod(job, "Succeeded", name="a")  # still has the finalizer
    b = new_pod(job, "Failed", name="b", finalizer=False)  # finalizer already removed
    result = sync_job(job, [a, b, new_pod(job, "Running")], NOW)
    assert result.status["succeeded"] == 2 and result.status["failed"] == 1
    assert result.status["uncountedTerminatedPods"] == {}
    assert [p.name for p in patches(result)] == ["a"]


def test_other_finalizers_are_kept():
    job = new_job(1, 2, 6)
    pod = new_pod(job, "Succeeded", name="p")
    pod["metadata"]["finalizers"] = ["example.com/keep", "batch.kubernetes.io/job-tracking"]
    (patch,) = patches(sync_job(job, [pod], NOW))
    assert patch.patch == {"metadata": {"finalizers": ["example.com/keep"]}} and patch.patch_type == "merge"


def test_get_new_finished_pods_skips_counted_and_uncounted():
    job = new_job(1, 5, 6, status={"uncountedTerminatedPods": {"succeeded": ["uid-c"]}})
    pods = [
        new_pod(job, "Succeeded", name="a", finalizer=False),
        new_pod(job, "Succeeded", name="b"),
        new_pod(job, "Succeeded", name="c"),
        new_pod(job, "Failed", name="d"),
        new_pod(job, "Running", name="e", deleting=True),
        new_pod(job, "Running", name="f"),
    ]
    ctx = jobctl.SyncJobCtx(job=job, pods=pods, now=NOW, active_pods=[], ready=0, terminating=0,
                            uncounted_succeeded=["uid-c"], uncounted_failed=[], expected_rm_finalizers=frozenset())
    succeeded, failed = get_new_finished_pods(ctx)
    assert [p["metadata"]["name"] for p in succeeded] == ["b"]
    assert [p["metadata"]["name"] for p in failed] == ["d", "e"]  # a deleted pod counts as failed by default


# --- pods helpers ------------------------------------------------------------------------------------------


def test_active_pods_ordering():
    job = new_job(5, 5, 6)
    unscheduled = new_pod(job, "Pending", name="unscheduled")
    pending = new_pod(job, "Pending", name="pending", node_name="n1")
    running = new_pod(job, "Running", name="running", node_name="n1")
    ready_old = new_pod(job, "Running", name="ready-old", node_name="n1", ready=True)
    ready_new = new_pod(job, "Running", name="ready-new", node_name="n1", ready=True)
    ready_new["status"]["conditions"][0]["lastTransitionTime"] = format_time(NOW)
    restarts = new_pod(job, "Running", name="restarts", node_name="n1", restart_count=3)
    newer = new_pod(job, "Running", name="newer", node_name="n2", created=NOW)
    pods = [ready_old, running, newer, ready_new, pending, restarts, unscheduled]
    ordered = [p["metadata"]["name"] for p in sort_active_pods(pods)]
    assert ordered == ["unscheduled", "pending", "restarts", "newer", "running", "ready-new", "ready-old"]
    assert [p["metadata"]["name"] for p in active_pods_for_removal(job, pods, 2)] == ["unscheduled", "pending"]


def test_pod_state_helpers():
    job = new_job(1, 1, 6)
    assert is_pod_active(new_pod(job, "Running")) and is_pod_active(new_pod(job, "Pending"))
    assert not is_pod_active(new_pod(job, "Running", deleting=True))
    assert not is_pod_active(new_pod(job, "Succeeded"))
    assert is_pod_ready(new_pod(job, "Running", ready=True)) and not is_pod_ready(new_pod(job, "Running"))


def test_get_finished_time():
    job = new_job(1, 1, 6)
    t = NOW - timedelta(seconds=42)
    assert get_finished_time(new_pod(job, "Failed", finished_at=t)) == t
    not_ready = new_pod(job, "Running", conditions=[{"type": "Ready", "status": "False",
                                                     "lastTransitionTime": format_time(t)}])
    assert get_finished_time(not_ready) == t
    deleted = new_pod(job, "Running", deleting=True)
    assert get_finished_time(deleted) == NOW - timedelta(seconds=30)
    plain = new_pod(job, "Running", created=t)
    assert get_finished_time(plain) == t
    assert get_finished_time(new_pod(job, "Succeeded", finished_at=LONG_AGO)) == LONG_AGO


def test_ensure_job_condition_status_never_adds_false_from_nothing():
    conditions_list, changed = ensure_job_condition_status([], "Suspended", "False", "JobResumed", "Job resumed", NOW)
    assert (conditions_list, changed) == ([], False)
    conditions_list, changed = ensure_job_condition_status([], "Suspended", "True", "JobSuspended", "Job suspended", NOW)
    assert changed and conditions_list[0]["lastTransitionTime"] == format_time(NOW)
    again, changed = ensure_job_condition_status(conditions_list, "Suspended", "True", "JobSuspended", "Job suspended", NOW)
    assert not changed and again == conditions_list


def test_job_finished_time():
    assert job_finished_time(new_job()) is None
    job = new_job(status={"conditions": [jobctl.new_condition("Complete", "True", "CompletionsReached", "x", NOW)]})
    assert job_finished_time(job) == NOW


def test_constants_match_upstream_text():
    assert jobctl.JOB_REASON_BACKOFF_LIMIT_EXCEEDED == "BackoffLimitExceeded"
    assert jobctl.JOB_MESSAGE_BACKOFF_LIMIT_EXCEEDED == "Job has reached the specified backoff limit"
    assert jobctl.JOB_MESSAGE_DEADLINE_EXCEEDED == "Job was active longer than specified deadline"
    assert jobctl.JOB_MESSAGE_MAX_FAILED_INDEXES_EXCEEDED == (
        "Job has exceeded the specified maximal number of failed indexes"
    )
    assert job_backoff.MAX_JOB_POD_FAILURE_BACKOFF == 600.0  # not the six minutes the docs mention


# --- purity ------------------------------------------------------------------------------------------------


def _busy_inputs():
    job = new_job(3, 6, 6, completion_mode="Indexed", active_deadline_seconds=100,
                  status={"startTime": format_time(NOW - timedelta(seconds=30)), "completedIndexes": "0"})
    pods = [
        new_pod(job, "Succeeded", index=1),
        new_pod(job, "Failed", index=2, finished_at=NOW - timedelta(seconds=3)),
        new_pod(job, "Running", index=3, ready=True),
        new_pod(job, "Running", index=3),
    ]
    return job, pods


def test_deterministic():
    job, pods = _busy_inputs()
    first = sync_job(job, pods, NOW, trigger="pod updated")
    second = sync_job(copy.deepcopy(job), copy.deepcopy(list(reversed(pods))), NOW, trigger="pod updated")
    assert first == second
    assert first.trace.trigger == "pod updated"


def test_inputs_are_not_mutated():
    job, pods = _busy_inputs()
    job_copy, pods_copy = copy.deepcopy(job), copy.deepcopy(pods)
    result = sync_job(job, pods, NOW, memory=JobMemory(BackoffRecord(1, NOW)))
    assert job == job_copy and pods == pods_copy
    for create in creates(result):
        create.obj["metadata"]["labels"]["x"] = "y"
    assert job == job_copy


def test_backoff_and_memory_are_exclusive():
    with pytest.raises(ValueError):
        sync_job(new_job(), [], NOW, backoff=BackoffRecord(), memory=JobMemory())


# --- orphan pods: syncOrphanPod, cleanupPodFinalizers and the handlers that queue them --------------------------
#
# Upstream's TestWatchOrphanPods and TestFinalizerCleanup (job_controller_test.go) drive the informers; here the
# controller-manager's handlers (``JobOrphanPodController.keys_for_change``) are fed the same changes through an
# informer cache, and the keys they queue are synced.

RELEASE = {"metadata": {"finalizers": None}}


class FakeEngine:
    """What a controller adapter reads from the engine: the informer cache."""

    def __init__(self, *objects):
        self.cache = Cache()
        for rv, obj in enumerate(objects, start=1):
            self.add(obj, rv)

    def add(self, obj: dict, rv: int = 100) -> None:
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(rv)
        self.cache.apply_change("ADDED", obj["kind"], obj)


def finished(job: dict) -> dict:
    job = copy.deepcopy(job)
    job["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    return job


def orphan_pod_queued_and_synced(engine: FakeEngine, change: WatchEvent) -> list[PatchObject]:
    """Feed a change to the orphan queue's handlers, then sync what they queued: the patches asked for."""
    orphans = JobOrphanPodController()
    engine.cache.apply_change(change.type, change.kind, change.object)
    found = []
    for key in orphans.keys_for_change(change, None, engine):
        result = orphans.sync(key, engine, None)
        found.extend(patches(result) if result is not None else [])
    return found


WATCH_ORPHAN_JOB = new_job(2, 2, 6, uid="job-uid-watch")


@pytest.mark.parametrize("job, in_cache", [
    pytest.param(WATCH_ORPHAN_JOB, False, id="job_does_not_exist"),
    pytest.param(None, False, id="orphan"),
    pytest.param(finished(WATCH_ORPHAN_JOB), True, id="job_finished"),
])
def test_watch_orphan_pods(job, in_cache):
    """A pod being deleted, with the tracking finalizer, whose Job is gone or finished or who has none: the finalizer
    is removed."""
    pod = new_pod(job or WATCH_ORPHAN_JOB, "Running", name="orphan-pod", deleting=True)
    if job is None:
        del pod["metadata"]["ownerReferences"]
    engine = FakeEngine(*([job] if in_cache else []))
    pod["metadata"]["resourceVersion"] = "10"
    assert orphan_pod_queued_and_synced(engine, WatchEvent("ADDED", "Pod", pod)) == [
        PatchObject("Pod", "default", "orphan-pod", RELEASE)]


def test_finalizer_cleanup():
    """A Job marked finished while one of its pods still carries the finalizer (say, the pod appeared late): the
    update of the Job queues the pod, and the finalizer goes even though ``sync_job`` no longer looks at it."""
    job = new_job(1, 1, 1, uid="job-uid-cleanup")
    pod = new_pod(job, "Running", name="test-pod")
    engine = FakeEngine(job, pod)
    done = finished(job)
    done["metadata"]["resourceVersion"] = "50"
    assert orphan_pod_queued_and_synced(engine, WatchEvent("MODIFIED", "Job", done)) == [
        PatchObject("Pod", "default", "test-pod", RELEASE)]


def test_delete_job_queues_the_pods_it_controls_that_keep_the_finalizer():
    """``deleteJob`` → ``cleanupPodFinalizers``: the pods its selector matches and it controls, with the finalizer."""
    job = new_job(2, 2, 6, uid="job-uid-gone")
    other = new_job(1, 1, 6, name="other", uid="job-uid-other")
    tracked = new_pod(job, "Running", name="tracked")
    released = new_pod(job, "Succeeded", name="released", finalizer=False)
    relabelled = new_pod(job, "Running", name="relabelled")
    relabelled["metadata"]["labels"] = {"app": "elsewhere"}
    foreign = new_pod(other, "Running", name="foreign")
    engine = FakeEngine(job, other, tracked, released, relabelled, foreign)
    gone = copy.deepcopy(job)
    gone["metadata"]["resourceVersion"] = "60"
    assert orphan_pod_queued_and_synced(engine, WatchEvent("DELETED", "Job", gone)) == [
        PatchObject("Pod", "default", "tracked", RELEASE)]
    assert cleanup_pod_finalizers(job, [tracked, released, relabelled, foreign]) == [tracked]


ORPHAN_JOB = new_job(1, 1, 6, uid="job-uid-orphan")


def _pod_of(job, *, deleting=False, owner=True, finalizer=True, name="p"):
    pod = new_pod(job, "Running", name=name, deleting=deleting, finalizer=finalizer)
    if not owner:
        del pod["metadata"]["ownerReferences"]
    return pod


@pytest.mark.parametrize("jobs, change_type, pod, queued", [
    pytest.param([ORPHAN_JOB], "MODIFIED", _pod_of(ORPHAN_JOB), False, id="a live pod of a running Job is the Job's"),
    pytest.param([ORPHAN_JOB], "MODIFIED", _pod_of(ORPHAN_JOB, deleting=True), False,
                 id="a pod of a running Job being deleted is the Job's"),
    pytest.param([], "MODIFIED", _pod_of(ORPHAN_JOB), False,
                 id="a live pod whose Job is gone waits for the garbage collector (updatePod)"),
    pytest.param([], "MODIFIED", _pod_of(ORPHAN_JOB, deleting=True), True,
                 id="a pod of a deleted Job being deleted (deletePod)"),
    pytest.param([], "MODIFIED", _pod_of(ORPHAN_JOB, owner=False), True,
                 id="a pod the garbage collector orphaned (updatePod)"),
    pytest.param([], "ADDED", _pod_of(ORPHAN_JOB, owner=False), True, id="an orphan pod with the finalizer (addPod)"),
    pytest.param([finished(ORPHAN_JOB)], "MODIFIED", _pod_of(ORPHAN_JOB, deleting=True), True,
                 id="a pod of a finished Job being deleted (deletePod)"),
    pytest.param([], "MODIFIED", _pod_of(ORPHAN_JOB, deleting=True, finalizer=False), False,
                 id="a pod without the finalizer"),
])
def test_orphan_pod_handlers(jobs, change_type, pod, queued):
    engine = FakeEngine(*jobs)
    pod = copy.deepcopy(pod)
    pod["metadata"]["resourceVersion"] = "10"
    engine.cache.apply_change(change_type, "Pod", pod)
    keys = JobOrphanPodController().keys_for_change(WatchEvent(change_type, "Pod", pod), None, engine)
    assert keys == ([("default", "p")] if queued else [])


def _controlled_by(kind, api_version="apps/v1"):
    pod = new_pod(ORPHAN_JOB, "Running", name="p", deleting=True)
    pod["metadata"]["ownerReferences"][0].update(kind=kind, apiVersion=api_version, name="fluentd", uid="ds-uid")
    return pod


@pytest.mark.parametrize("pod, job, patched, decision", [
    pytest.param(_pod_of(ORPHAN_JOB, owner=False), None, True,
                 "no running Job will count the pod: remove its tracking finalizer", id="orphan"),
    pytest.param(_pod_of(ORPHAN_JOB, deleting=True), None, True,
                 "no running Job will count the pod: remove its tracking finalizer", id="job_does_not_exist"),
    pytest.param(_pod_of(ORPHAN_JOB, deleting=True), finished(ORPHAN_JOB), True,
                 "no running Job will count the pod: remove its tracking finalizer", id="job_finished"),
    pytest.param(_pod_of(ORPHAN_JOB, deleting=True), ORPHAN_JOB, False,
                 "Job foobar still tracks the pod: keep its finalizer", id="the pod was adopted: keep the finalizer"),
    pytest.param(_controlled_by("DaemonSet"), None, False,
                 "the pod's controller is not a batch/v1 Job: keep its finalizer",
                 id="controlled by an owner that is not a batch/v1 Job: keep the finalizer"),
    pytest.param(_pod_of(ORPHAN_JOB, deleting=True), dict(ORPHAN_JOB, spec=dict(ORPHAN_JOB["spec"],
                 managedBy="example.com/other")), False,
                 "Job foobar is managed by example.com/other: keep the pod's finalizer",
                 id="Job managed by an external controller: skip"),
])
def test_sync_orphan_pod(pod, job, patched, decision):
    before = copy.deepcopy(pod)
    result = sync_orphan_pod(pod, job)
    assert patches(result) == ([PatchObject("Pod", "default", "p", RELEASE)] if patched else [])
    assert result.trace.decision == decision and result.trace.object_key == "default/p"
    assert result.status is None and result.requeue_after is None and result.memory is None
    assert pod == before


def test_sync_orphan_pod_keeps_other_finalizers():
    pod = _pod_of(ORPHAN_JOB, owner=False)
    pod["metadata"]["finalizers"] = ["example.com/keep", "batch.kubernetes.io/job-tracking"]
    (patch,) = patches(sync_orphan_pod(pod, None))
    assert patch.patch == {"metadata": {"finalizers": ["example.com/keep"]}}


def test_orphan_queue_is_refilled_from_the_cache_on_a_restart():
    """TestOrphanPodsFinalizersClearedOnRestart: a Job deleted while the controller was down; on start the informer
    lists every pod again and the orphans among them are queued."""
    pods = [_pod_of(ORPHAN_JOB, owner=False, name="orphaned"), _pod_of(ORPHAN_JOB, deleting=True, name="deleting"),
            _pod_of(ORPHAN_JOB, name="live")]
    engine = FakeEngine(*pods)
    assert JobOrphanPodController().initial_keys(engine) == [("default", "deleting"), ("default", "orphaned")]
