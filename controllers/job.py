"""The Job controller (batch/v1): upstream ``pkg/controller/job/job_controller.go``, as a pure function from
observed state to a plan.

It behaves like a default Kubernetes 1.31-1.34 cluster: the JobPodReplacementPolicy, JobManagedBy,
JobBackoffLimitPerIndex, JobSuccessPolicy and PodIndexLabel feature gates are on. So a finishing Job first gets the
interim ``SuccessCriteriaMet`` or ``FailureTarget`` condition and only then ``Complete`` (reason
``CompletionsReached``) or ``Failed``, the latter once no pod is terminating any more; ``terminating`` and ``ready``
are always written.

``sync_job(job, pods, now)`` is upstream's ``syncJob``: ``pods`` are the pods already matched to the Job (the
caller resolved the selector and ownerReferences), ``now`` is the simulated time. It returns a
``controllers.plan.SyncResult``. Functions are named after their upstream counterparts and come in upstream's order
(``sync_orphan_pod``, ``sync_job``, the conditions, deletions and status tracking, ``manage_job``, the small
helpers), so a learner can read ``job_controller.go`` side by side. The package's other files are modules of their
own: ``job_backoff`` (``backoff_utils.go``), ``job_indexed`` (``indexed_job_utils.go``), ``job_pod_failure_policy``
(``pod_failure_policy.go``), ``job_success_policy`` (``success_policy.go``) and ``job_tracking``
(``tracking_utils.go``). ``job_util`` holds what they all read: the batch/v1 names, the defaulted spec,
``pkg/controller/job/util``, and the three helpers of this file the others call back into (``is_pod_failed``,
``find_condition_by_type``, ``only_replace_failed_pods``).

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from controllers.apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.apimachinery.objcopy import deep_copy
from controllers.apimachinery.ownerrefs import get_controller_of, is_controlled_by, new_controller_ref
from controllers.job_backoff import BackoffRecord, new_backoff_record, remaining_backoff, remaining_time_per_index
from controllers.job_indexed import (
    UNKNOWN_COMPLETION_INDEX,
    Intervals,
    add_completion_index_env_variables,
    append_duplicated_index_pods_for_removal,
    calculate_failed_indexes,
    calculate_succeeded_indexes,
    first_pending_indexes,
    format_completed_indexes,
    get_completion_index,
    get_index_absolute_failure_count,
    get_indexes,
    get_new_index_failure_counts,
    has_backoff_limit_per_index,
    intervals_has,
    intervals_to_string,
    intervals_total,
    is_indexed_job,
    pod_generate_name_with_index,
    with_ordered_indexes,
)
from controllers.job_pod_failure_policy import match_pod_failure_policy
from controllers.job_success_policy import (
    has_success_criteria_met_condition,
    is_success_criteria_met_condition,
    match_success_policy,
)
from controllers.job_tracking import has_job_tracking_finalizer
from controllers.job_util import (
    INDEXED_COMPLETION,
    JOB_COMPLETE,
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_CONTROLLER_NAME,
    JOB_FAILED,
    JOB_FAILURE_TARGET,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    JOB_REASON_BACKOFF_LIMIT_EXCEEDED,
    JOB_REASON_COMPLETIONS_REACHED,
    JOB_REASON_DEADLINE_EXCEEDED,
    JOB_REASON_FAILED_INDEXES,
    JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED,
    JOB_REASON_POD_FAILURE_POLICY,
    JOB_REASON_SUCCESS_POLICY,
    JOB_SUCCESS_CRITERIA_MET,
    JOB_SUSPENDED,
    JOB_TRACKING_FINALIZER,
    NON_INDEXED_COMPLETION,
    find_condition_by_type,
    is_job_finished,
    is_pod_failed,
    job_backoff_limit,
    job_completions,
    job_parallelism,
    only_replace_failed_pods,
)
from controllers.objects import (
    key as _key,
    meta as _meta,
    name as _name,
    namespace as _namespace,
    object_reference,
    spec as _spec,
    status as _status,
    uid as _uid,
)
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from controllers.pods import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    EVENT_FAILED_CREATE,
    EVENT_FAILED_DELETE,
    EVENT_MESSAGE_FAILED_CREATE,
    EVENT_MESSAGE_FAILED_DELETE,
    EVENT_MESSAGE_SUCCESSFUL_CREATE,
    EVENT_MESSAGE_SUCCESSFUL_DELETE,
    EVENT_SUCCESSFUL_CREATE,
    EVENT_SUCCESSFUL_DELETE,
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
#: ``controllerKind``: what owns the pods this controller creates.
CONTROLLER_API_VERSION = "batch/v1"
CONTROLLER_KIND = "Job"

MAX_POD_CREATE_DELETE_PER_SYNC = 500
MAX_UNCOUNTED_PODS = 500
#: ``controller.SlowStartInitialBatchSize``.
SLOW_START_INITIAL_BATCH_SIZE = 1

# --- condition messages and reasons (job_controller.go; the batch/v1 reasons are controllers.job_util's) -----

JOB_MESSAGE_BACKOFF_LIMIT_EXCEEDED = "Job has reached the specified backoff limit"
JOB_MESSAGE_DEADLINE_EXCEEDED = "Job was active longer than specified deadline"
JOB_MESSAGE_MAX_FAILED_INDEXES_EXCEEDED = "Job has exceeded the specified maximal number of failed indexes"
JOB_MESSAGE_FAILED_INDEXES = "Job has failed indexes"
JOB_MESSAGE_COMPLETIONS_REACHED = "Reached expected number of succeeded pods"
JOB_REASON_SUSPENDED = "JobSuspended"
JOB_MESSAGE_SUSPENDED = "Job suspended"
JOB_REASON_RESUMED = "JobResumed"
JOB_MESSAGE_RESUMED = "Job resumed"

# --- events (job_controller.go; pod creations and deletions: controllers.pods) -----------------------------

EVENT_COMPLETED = "Completed"
EVENT_MESSAGE_COMPLETED = "Job completed"
EVENT_SUSPENDED = "Suspended"
EVENT_RESUMED = "Resumed"
EVENT_TOO_MANY_SUCCEEDED_PODS = "TooManySucceededPods"
EVENT_MESSAGE_TOO_MANY_SUCCEEDED_PODS = "Too many succeeded pods running after completion count reached"
EVENT_UNKNOWN_COMPLETION_MODE = "UnknownCompletionMode"
EVENT_MESSAGE_UNKNOWN_COMPLETION_MODE = "Skipped Job sync because completion mode is unknown"


# --- the controller's memory and one sync's state ----------------------------------------------------------


@dataclass(frozen=True)
class JobMemory:
    """What the engine keeps for a Job between syncs (``SyncResult.memory``); opaque to the engine.

    Upstream keeps the same two things in the controller: ``podBackoffStore`` and ``finalizerExpectations``.
    """

    backoff: BackoffRecord = field(default_factory=BackoffRecord)
    #: UIDs of pods whose tracking finalizer this controller asked to remove and has not yet seen removed.
    expected_rm_finalizers: frozenset[str] = frozenset()


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
        return object_reference(self.job, CONTROLLER_API_VERSION, CONTROLLER_KIND)

    def event(self, event_type: str, reason: str, message: str) -> EmitEvent:
        return EmitEvent(self.job_ref, event_type, reason, message, COMPONENT)

    def emit(self, event_type: str, reason: str, message: str) -> None:
        self.actions.append(self.event(event_type, reason, message))
        self.action_notes.append(f"event {event_type} {reason}: {message}")

    def remove_finalizer(self, pod: dict, note: str = "") -> None:
        self.actions.append(PatchObject("Pod", _namespace(pod), _name(pod), remove_tracking_finalizer_patch(pod)))
        self.patched_uids.add(_uid(pod))
        self.action_notes.append(f"remove finalizer {JOB_TRACKING_FINALIZER} from pod {_name(pod)}{note}")

    def delete_pod(self, pod: dict) -> None:
        name = _name(pod)
        self.actions.append(
            DeleteObject(
                "Pod",
                _namespace(pod),
                name,
                _uid(pod),
                success_event=self.event("Normal", EVENT_SUCCESSFUL_DELETE, EVENT_MESSAGE_SUCCESSFUL_DELETE).bind(
                    name=name
                ),
                failure_event=self.event("Warning", EVENT_FAILED_DELETE, EVENT_MESSAGE_FAILED_DELETE),
            )
        )
        self.action_notes.append(f"delete pod {name}")


# --- the syncs (syncOrphanPod, syncJob) --------------------------------------------------------------------


def sync_orphan_pod(pod: dict, job: dict | None, *, trigger: str = "") -> SyncResult:
    """Release a pod whose tracking finalizer no ``sync_job`` will ever remove; upstream ``syncOrphanPod``.

    ``pod`` is the pod as the informer cache has it; ``job`` is what its controller reference resolves to in the
    cache (upstream ``resolveControllerRef``), ``None`` when that Job is gone. The finalizer is removed unless a
    Job still tracks the pod: its controller is not a batch/v1 Job, or is a Job managed by another controller, or is
    a Job that has not finished (it adopted the pod, or counts it itself). So a pod of a deleted Job that the
    garbage collector is deleting can go once its kubelet has stopped it, and a pod orphaned by its Job's deletion
    (``--cascade=orphan``, or batch/v1's default) stays, free of the finalizer.
    """
    key = _key(pod)
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
        if ref.get("kind") != CONTROLLER_KIND or ref.get("apiVersion") != CONTROLLER_API_VERSION:
            return result("the pod's controller is not a batch/v1 Job: keep its finalizer")
        if job is not None and managed_by_external_controller(job) is not None:
            return result(f"Job {ref.get('name')} is managed by {managed_by_external_controller(job)}: "
                          "keep the pod's finalizer")
        if job is not None and not is_job_finished(job):
            return result(f"Job {ref.get('name')} still tracks the pod: keep its finalizer")
    if not has_job_tracking_finalizer(pod):
        return result("nothing to do")
    patch = PatchObject("Pod", _namespace(pod), _name(pod), remove_tracking_finalizer_patch(pod))
    return result("no running Job will count the pod: remove its tracking finalizer", (patch,),
                  (f"remove finalizer {JOB_TRACKING_FINALIZER} from pod {_name(pod)}",))


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
    key = _key(job)

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
        event = EmitEvent(object_reference(job, CONTROLLER_API_VERSION, CONTROLLER_KIND), "Warning", reason, message,
                          COMPONENT)
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
        + non_ignored_failed_pods_count(job, new_failed_pods)
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

    ctx.finished_condition = has_success_criteria_met_condition(job)
    if ctx.finished_condition is None:
        failure_target = find_condition_by_type(status.get("conditions") or [], JOB_FAILURE_TARGET)
        if failure_target is not None and failure_target.get("status") == CONDITION_TRUE:
            ctx.finished_condition = new_failed_condition_for_failure_target(failure_target, now)
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
        deleted_ready, deleted = delete_active_pods(ctx, ctx.active_pods)
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
    finished, _ = track_job_status_and_remove_finalizers(ctx, status)

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


# --- what syncJob calls, in upstream's order --------------------------------------------------------------


def new_failure_condition(reason: str, message: str, now: datetime) -> dict:
    """With delayed terminal conditions (1.31+), a failure is first recorded as ``FailureTarget``."""
    return new_condition(JOB_FAILURE_TARGET, CONDITION_TRUE, reason, message, now)


def new_success_condition(now: datetime) -> dict:
    """With delayed terminal conditions (1.31+), success is first recorded as ``SuccessCriteriaMet``."""
    return new_condition(
        JOB_SUCCESS_CRITERIA_MET, CONDITION_TRUE, JOB_REASON_COMPLETIONS_REACHED, JOB_MESSAGE_COMPLETIONS_REACHED, now
    )


def delete_active_pods(ctx: SyncJobCtx, pods: list[dict]) -> tuple[int, int]:
    """Delete keeping finalizers (upstream ``deleteActivePods``); tracking removes them. Returns (ready, total)."""
    ready = 0
    for pod in pods:
        ctx.delete_pod(pod)
        if is_pod_ready(pod):
            ready += 1
    return ready, len(pods)


def non_ignored_failed_pods_count(job: dict, failed_pods: list[dict]) -> int:
    """How many of ``failed_pods`` count towards ``backoffLimit`` (a pod failure policy may ignore some)."""
    policy = _spec(job).get("podFailurePolicy")
    if policy is None:
        return len(failed_pods)
    return sum(1 for p in failed_pods if match_pod_failure_policy(policy, p)[1])


def delete_job_pods(ctx: SyncJobCtx, pods: list[dict]) -> tuple[int, int]:
    """Remove the tracking finalizer, then delete (upstream ``deleteJobPods``). Returns (ready, total)."""
    ready = 0
    for pod in pods:
        if has_job_tracking_finalizer(pod):
            ctx.remove_finalizer(pod)
        ctx.delete_pod(pod)
        if is_pod_ready(pod):
            ready += 1
    return ready, len(pods)


def track_job_status_and_remove_finalizers(ctx: SyncJobCtx, status: dict) -> tuple[bool, bool]:
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
        if not can_remove_finalizer(ctx, pod, consider_failed):
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
            ctx.finished_condition is not None and not is_success_criteria_met_condition(ctx.finished_condition)
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
        finished = new_failed_condition_for_failure_target(finished, ctx.now)
    if is_success_criteria_met_condition(finished):
        if has_success_criteria_met_condition(job) is None:
            conditions.append(finished)
            ctx.decisions.append(f"record SuccessCriteriaMet ({finished.get('reason')})")
        finished = new_condition(
            JOB_COMPLETE, CONDITION_TRUE, finished.get("reason", ""), finished.get("message", ""), ctx.now
        )
    ctx.finished_condition = finished

    job_finished = not reached_max and enact_job_finished(ctx, status)
    if job_finished:
        record_job_finished(ctx, status)
    if retried:
        ctx.decisions.append(f"re-request finalizer removal from {retried} pods already counted")
    return job_finished, reached_max


def can_remove_finalizer(ctx: SyncJobCtx, pod: dict, consider_failed: bool) -> bool:
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


def enact_job_finished(ctx: SyncJobCtx, status: dict) -> bool:
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


def record_job_finished(ctx: SyncJobCtx, status: dict) -> None:
    """The events of a Job that just finished: ``Completed`` (and ``TooManySucceededPods``), or its failure."""
    finished = ctx.finished_condition
    if finished["type"] == JOB_COMPLETE:
        completions = job_completions(ctx.job)
        if completions is not None and int(status.get("succeeded") or 0) > completions:
            ctx.emit("Warning", EVENT_TOO_MANY_SUCCEEDED_PODS, EVENT_MESSAGE_TOO_MANY_SUCCEEDED_PODS)
        ctx.emit("Normal", EVENT_COMPLETED, EVENT_MESSAGE_COMPLETED)
    else:
        ctx.emit("Warning", finished.get("reason", ""), finished.get("message", ""))


def _normalize_status(status: dict) -> dict:
    """Drop zero-valued ``omitempty`` fields the way the API server serialises a JobStatus.

    ``sync_job`` compares the old and new status in this form to decide whether to write one (upstream's
    ``needsStatusUpdate`` / ``needsFlush``).
    """
    result = {}
    for key, value in status.items():
        if key in ("active", "succeeded", "failed") and not value:
            continue
        if key in ("conditions", "completedIndexes", "startTime", "completionTime") and not value:
            continue
        result[key] = value
    return result


def new_failed_condition_for_failure_target(condition: dict, now: datetime) -> dict:
    """The ``Failed`` condition that follows the interim ``FailureTarget``, with its reason and message."""
    return new_condition(JOB_FAILED, CONDITION_TRUE, condition.get("reason", ""), condition.get("message", ""), now)


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


def get_new_finished_pods(ctx: SyncJobCtx) -> tuple[list[dict], list[dict]]:
    """Newly succeeded and newly failed pods: finished, still tracked, not in ``uncountedTerminatedPods``."""
    succeeded = get_valid_pods_with_filter(
        ctx, set(ctx.uncounted_succeeded), lambda p: pod_phase(p) == POD_SUCCEEDED
    )
    failed = get_valid_pods_with_filter(ctx, set(ctx.uncounted_failed), lambda p: is_pod_failed(p, ctx.job))
    return succeeded, failed


def job_suspended(job: dict) -> bool:
    return bool(_spec(job).get("suspend"))


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
        removed_ready, removed = delete_job_pods(ctx, to_delete)
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
        removed_ready, removed = delete_job_pods(ctx, to_delete)
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
            indexes, remaining = get_pod_creation_info_for_independent_indexes(ctx, indexes)
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
    """``manageJob``'s slow-start creation: batches of 1, 2, 4, ... pods, one ``CreateObject`` each."""
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
                    counted_in_status="active",
                )
            )
            ctx.action_notes.append(f"create pod from generateName {pod['metadata']['generateName']}")
        remaining -= batch_size
        batch += 1
        batch_size = min(2 * batch_size, remaining)


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
    name = _name(job)
    generate_name = f"{name}-"
    if index is not None:
        add_completion_index_env_variables(pod_spec)
        annotations[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)
        labels[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)
        pod_spec["hostname"] = f"{name}-{index}"
        generate_name = pod_generate_name_with_index(name, index)
        if has_backoff_limit_per_index(job):
            failures, ignored = get_new_index_failure_counts(job, pod_being_replaced)
            annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = str(failures)
            if ignored > 0:
                annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
    metadata: dict = {"generateName": generate_name, "namespace": _namespace(job)}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    metadata["finalizers"] = finalizers
    metadata["ownerReferences"] = [controller_ref(job)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def controller_ref(job: dict) -> dict:
    """``metav1.NewControllerRef(job, controllerKind)``: the ownerReference of the Job's pods."""
    return new_controller_ref(job, CONTROLLER_API_VERSION, CONTROLLER_KIND)


def get_pod_creation_info_for_independent_indexes(ctx: SyncJobCtx, indexes: list[int]) -> tuple[list[int], float]:
    """Of the pending ``indexes`` (``backoffLimitPerIndex``), those out of backoff now; if none, the shortest wait."""
    now_indexes: list[int] = []
    min_remaining: float | None = None
    for ix in indexes:
        remaining = remaining_time_per_index(ctx.now, ctx.pods_with_delayed_deletion_per_index.get(ix))
        if remaining == 0:
            now_indexes.append(ix)
        elif min_remaining is None or remaining < min_remaining:
            min_remaining = remaining
    if now_indexes:
        return now_indexes, 0.0
    return now_indexes, min_remaining or 0.0


def active_pods_for_removal(job: dict, pods: list[dict], rm_at_least: int) -> list[dict]:
    """Pods to delete: for Indexed Jobs, invalid and duplicated indexes first; then ``ActivePods`` order."""
    rm: list[dict] = []
    left = pods
    if is_indexed_job(job):
        rm, left = append_duplicated_index_pods_for_removal(pods, job_completions(job) or 0)
    if len(rm) < rm_at_least:
        rm = rm + sort_active_pods(left)[: rm_at_least - len(rm)]
    return rm


def get_valid_pods_with_filter(ctx: SyncJobCtx, uncounted: set[str], predicate) -> list[dict]:
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


def get_pods_with_delayed_deletion_per_index(ctx: SyncJobCtx) -> dict[int, dict]:
    """Per index, the latest failed pod whose finalizer stays until its replacement exists (per-index backoff).

    Upstream keeps this function in ``indexed_job_utils.go``; it sits here beside ``get_valid_pods_with_filter``,
    which it calls, because ``controllers.job_indexed`` is imported by this module and cannot import it back.
    """
    active_indexes = get_indexes(ctx.active_pods)
    completions = job_completions(ctx.job) or 0
    result: dict[int, dict] = {}
    for pod in get_valid_pods_with_filter(ctx, set(), lambda p: is_pod_failed(p, ctx.job)):
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


def remove_tracking_finalizer_patch(pod: dict) -> dict:
    """A merge patch that leaves the pod's other finalizers (``None`` deletes the list)."""
    remaining = [f for f in _meta(pod).get("finalizers") or [] if f != JOB_TRACKING_FINALIZER]
    return {"metadata": {"finalizers": remaining or None}}


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


def managed_by_external_controller(job: dict) -> str | None:
    """The controller ``spec.managedBy`` names, unless it is this one."""
    managed_by = _spec(job).get("managedBy")
    return managed_by if managed_by and managed_by != JOB_CONTROLLER_NAME else None

