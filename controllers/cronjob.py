"""The CronJob controller (batch/v1), as a pure function from observed state to a plan.

It follows upstream's ``pkg/controller/cronjob/cronjob_controllerv2.go`` and ``utils.go`` (Kubernetes
1.31-1.34, CronJobsScheduledAnnotation on). ``sync_cronjob(cronjob, jobs, now)`` is upstream's ``sync``: first
``cleanupFinishedJobs`` (history limits), then ``syncCronJob``:

1. reconcile the children: ``UnexpectedJob``, ``SawCompletedJob``, ``lastSuccessfulTime``, ``MissingJob``;
2. stop when the CronJob is being deleted, its ``timeZone`` does not load (``UnknownTimeZone``), it is
   suspended (no requeue: the update that resumes it wakes the controller), or its schedule does not parse
   (``UnparseableSchedule``) or never repeats (``InvalidSchedule``);
3. find the most recent unmet schedule time within ``startingDeadlineSeconds`` (``mostRecentScheduleTime``;
   more than 100 missed gives the ``TooManyMissedTimes`` warning and still starts the latest);
4. skip it when it is too late (``MissSchedule``), already handled, or ``Forbid`` finds a Job running
   (``JobAlreadyActive``); ``Replace`` deletes the running Jobs (Background propagation);
5. create the Job ``<cronjob>-<scheduled minutes since the epoch>`` and requeue 100 ms after the next slot.

Times are schedules in the CronJob's ``spec.timeZone`` (``controllers.cronschedule``: robfig/cron semantics);
without one, in the controller-manager's zone, which kubeviz runs in UTC.

Creating a Job, and recording it (one plan cannot do both)
-----------------------------------------------------------
Upstream creates the Job, then appends the API server's answer (with its ``uid`` and ``resourceVersion``) to
``status.active`` and sets ``lastScheduleTime``. A plan's status is written *before* its actions, so it cannot
hold the reference of a Job that does not exist yet. The work is therefore split over two syncs, with a note in
``memory`` in between (``CronJobMemory.pending_job``):

* the sync that decides to start a Job returns the ``CreateObject`` (``SuccessfulCreate`` / ``FailedCreate``
  bound to it), leaves ``active`` and ``lastScheduleTime`` as they were and remembers the Job's name;
* the Job's ADDED event wakes the CronJob again at the same instant (upstream's ``addJob`` handler does the
  same); that sync finds the pending Job among ``jobs``, finishes the previous sync's work first (its reference
  from the API server, with ``uid`` and ``resourceVersion``, goes into ``active``; ``lastScheduleTime`` becomes
  the remembered scheduled time) and then goes on exactly as upstream's next sync would: no ``UnexpectedJob``,
  no second create, no second ``TooManyMissedTimes``.

Without that memory (a restart, or the create answered AlreadyExists because an earlier status update was
lost), the Job is an ``UnexpectedJob`` for one sync and upstream's AlreadyExists path records it: a Job with the
deterministic name that this CronJob controls is taken into ``active`` instead of being created again.

If the create failed, the engine requeues with backoff and the next sync, not finding the Job, tries again
(as upstream does after its error return). A Job of that name that this CronJob does not control is invisible
here (``jobs`` holds only our Jobs): the create fails with AlreadyExists and the engine emits ``FailedCreate``,
where upstream stays silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from controllers.apimachinery.objcopy import deep_copy
from controllers.apimachinery.ownerrefs import is_controlled_by, new_controller_ref
from controllers.objects import (
    key as _key,
    meta as _meta,
    spec as _spec,
    status as _status,
    name as _name,
    namespace as _namespace,
    object_reference,
    uid as _uid,
)
from controllers.cronschedule import (
    GO_ZERO_TIME,
    Schedule,
    ScheduleError,
    go_quote,
    load_location,
    parse_schedule,
)
from controllers.job_util import JOB_COMPLETE, JOB_FAILED, finished_condition, is_job_finished, is_job_succeeded
from controllers.plan import CreateObject, DeleteObject, EmitEvent, SyncResult, Trace
from controllers.pods import (
    EVENT_FAILED_CREATE,
    EVENT_FAILED_DELETE,
    EVENT_SUCCESSFUL_CREATE,
    EVENT_SUCCESSFUL_DELETE,
    format_time,
    parse_time,
)

__all__ = [
    "CronJobMemory",
    "get_job_from_template",
    "get_job_name",
    "is_job_finished",
    "is_job_succeeded",
    "most_recent_schedule_time",
    "next_schedule_time",
    "next_schedule_time_duration",
    "sync_cronjob",
]

UTC = timezone.utc

# --- names and limits (upstream constants) -----------------------------------------------------------------

CONTROLLER = "cronjob"
COMPONENT = "cronjob-controller"
#: ``nextScheduleDelta``: requeue this long after the next schedule time, against clock skew.
NEXT_SCHEDULE_DELTA = 0.1
#: More missed start times than this is "many" (``manyMissed``).
TOO_MANY_MISSED = 100
#: ``batchv1.CronJobScheduledTimestampAnnotation``.
CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"

ALLOW_CONCURRENT = "Allow"
FORBID_CONCURRENT = "Forbid"
REPLACE_CONCURRENT = "Replace"
#: API defaults (``SetDefaults_CronJob``); the controller itself only acts on limits that are set.
DEFAULT_SUCCESSFUL_JOBS_HISTORY_LIMIT = 3
DEFAULT_FAILED_JOBS_HISTORY_LIMIT = 1
#: ``realJobControl.DeleteJob`` deletes with ``PropagationPolicy: Background``.
DELETE_PROPAGATION = "Background"

MISSED_NONE = "none"
MISSED_FEW = "few"
MISSED_MANY = "many"

#: The ``mostRecentScheduleTime`` error for a schedule whose next two times are less than a second apart
#: (in practice: one that never fires, such as ``59 23 31 2 *``).
ERROR_SCHEDULE_TOO_CLOSE = "time difference between two schedules is less than 1 second"

# --- events (cronjob_controllerv2.go and utils.go) ----------------------------------------------------------

EVENT_UNEXPECTED_JOB = "UnexpectedJob"
EVENT_MESSAGE_UNEXPECTED_JOB = "Saw a job that the controller did not create or forgot: {job}"
EVENT_SAW_COMPLETED_JOB = "SawCompletedJob"
#: 1.31+ wording (``jobutil.FinishedCondition``); before the job util refactor it read "..., status: %v".
EVENT_MESSAGE_SAW_COMPLETED_JOB = "Saw completed job: {job}, condition: {condition}"
EVENT_MISSING_JOB = "MissingJob"
EVENT_MESSAGE_MISSING_JOB = "Active job went missing: {job}"
EVENT_UNKNOWN_TIME_ZONE = "UnknownTimeZone"
EVENT_MESSAGE_UNKNOWN_TIME_ZONE = "invalid timeZone: {zone}: {error}"
EVENT_UNSUPPORTED_SCHEDULE = "UnsupportedSchedule"
EVENT_MESSAGE_UNSUPPORTED_SCHEDULE = (
    "CRON_TZ or TZ used in schedule {schedule} is not officially supported, "
    "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"
)
EVENT_UNPARSEABLE_SCHEDULE = "UnparseableSchedule"
EVENT_MESSAGE_UNPARSEABLE_SCHEDULE = "unparseable schedule: {schedule} : {error}"
EVENT_INVALID_SCHEDULE = "InvalidSchedule"
EVENT_MESSAGE_INVALID_SCHEDULE = "invalid schedule: {schedule} : {error}"
EVENT_TOO_MANY_MISSED_TIMES = "TooManyMissedTimes"
#: 1.29+ (PR #121327 dropped the count that 1.25-1.28 printed).
EVENT_MESSAGE_TOO_MANY_MISSED_TIMES = (
    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
)
EVENT_MISS_SCHEDULE = "MissSchedule"
EVENT_MESSAGE_MISS_SCHEDULE = "Missed scheduled time to start a job: {time}"
EVENT_JOB_ALREADY_ACTIVE = "JobAlreadyActive"
EVENT_MESSAGE_JOB_ALREADY_ACTIVE = (
    "Not starting job because prior execution is running and concurrency policy is Forbid"
)
EVENT_FAILED_GET = "FailedGet"
EVENT_MESSAGE_FAILED_GET = "Get job: {error}"
# The reasons of the four below (SuccessfulDelete, FailedDelete, SuccessfulCreate, FailedCreate): controllers.pods.
EVENT_MESSAGE_SUCCESSFUL_DELETE = "Deleted job {job}"
EVENT_MESSAGE_FAILED_DELETE = "Deleted job: {error}"  # sic: upstream's wording
EVENT_MESSAGE_SUCCESSFUL_CREATE = "Created job {name}"
EVENT_MESSAGE_FAILED_CREATE = "Error creating job: {error}"


# --- small accessors ---------------------------------------------------------------------------------------


def _go_rfc3339(t: datetime) -> str:
    """Go's ``Format(time.RFC3339)``: ``Z`` for a zero offset, else ``+hh:mm``; whole seconds."""
    offset = t.utcoffset() or timedelta(0)
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S")
    if not offset:
        return stamp + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{stamp}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _go_rfc1123z_utc(t: datetime) -> str:
    """``t.UTC().Format(time.RFC1123Z)``: ``Thu, 19 May 2016 10:00:00 +0000``."""
    t = t.astimezone(UTC)
    return f"{_WEEKDAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year} {t:%H:%M:%S} +0000"


def _clock(t: datetime, now: datetime | None = None) -> str:
    """A time for traces: ``10:00:00`` (``.1`` when there are fractions), the date too when not ``now``'s day."""
    t = t.astimezone(UTC)
    text = t.strftime("%H:%M:%S")
    if t.microsecond:
        text += f"{t.microsecond / 1_000_000:.6f}".rstrip("0")[1:]
    if now is None or t.date() != now.astimezone(UTC).date():
        text = f"{t:%Y-%m-%d} {text}"
    return text


def _seconds(duration: float) -> str:
    return f"{duration:.3f}".rstrip("0").rstrip(".") + "s"


# --- scheduling (utils.go) ---------------------------------------------------------------------------------


def most_recent_schedule_time(
    cj: dict, now: datetime, schedule: Schedule, include_starting_deadline_seconds: bool
) -> tuple[datetime, datetime | None, str]:
    """``mostRecentScheduleTime``: (earliest, most recent unmet time or None, ``none``/``few``/``many`` missed).

    ``earliest`` is ``status.lastScheduleTime``, else the creation time; with ``include_starting_deadline_seconds``
    it is at least ``now - startingDeadlineSeconds``. The count of missed times is upstream's approximation.
    Raises ``ScheduleError`` ("time difference between two schedules is less than 1 second") for a schedule
    whose next two times are under a second apart, which is how a never-firing schedule shows up.
    """
    earliest = parse_time(_meta(cj).get("creationTimestamp")) or GO_ZERO_TIME
    last = parse_time(_status(cj).get("lastScheduleTime"))
    if last is not None:
        earliest = last
    deadline = _spec(cj).get("startingDeadlineSeconds")
    if include_starting_deadline_seconds and deadline is not None:
        # The controller is not going to schedule anything before this point.
        scheduling_deadline = now - timedelta(seconds=int(deadline))
        if scheduling_deadline > earliest:
            earliest = scheduling_deadline

    t1 = schedule.next(earliest)
    t2 = schedule.next(t1)
    if now < t1:
        return earliest, None, MISSED_NONE
    if now < t2:
        return earliest, t1, MISSED_NONE

    # Go: int64(t2.Sub(t1).Round(time.Second).Seconds()), halves rounded away from zero.
    gap_us = (t2 - t1) // timedelta(microseconds=1)
    gap = (abs(gap_us) + 500_000) // 1_000_000 * (1 if gap_us >= 0 else -1)
    if gap < 1:
        raise ScheduleError(ERROR_SCHEDULE_TOO_CLOSE)
    elapsed = int((now - t1).total_seconds())
    missed_count = elapsed // gap + 1

    # Step back to just before the last few slots and let the schedule find the exact most recent one: exact
    # for @every and for irregular schedules such as "30 6-16/4 * * 1-5".
    most_recent = None
    t = schedule.next(t1 + timedelta(seconds=(missed_count - 2) * gap))
    while t != GO_ZERO_TIME and not t > now:
        most_recent = t
        t = schedule.next(t)

    missed = MISSED_MANY if missed_count > TOO_MANY_MISSED else MISSED_FEW
    return earliest, most_recent, missed


def next_schedule_time_duration(cj: dict, now: datetime, schedule: Schedule) -> float | None:
    """``nextScheduleTimeDuration``: seconds from ``now`` to 100 ms after the next schedule time.

    The next time follows the most recent unmet one (ignoring ``startingDeadlineSeconds``); with none missed it
    follows ``earliest``, with some missed but none found (or an invalid schedule) it follows ``now``. None when
    the schedule never fires again (upstream would requeue at once, forever).
    """
    try:
        earliest, most_recent, missed = most_recent_schedule_time(cj, now, schedule, False)
    except ScheduleError:
        most_recent = now
    else:
        if most_recent is None:
            most_recent = earliest if missed == MISSED_NONE else now
    following = schedule.next(most_recent)
    if following == GO_ZERO_TIME:
        return None
    return (following - now).total_seconds() + NEXT_SCHEDULE_DELTA


def next_schedule_time(cj: dict, now: datetime, schedule: Schedule) -> tuple[datetime | None, bool]:
    """``nextScheduleTime``: the most recent unmet schedule time within the starting deadline (or None), and
    whether so many were missed that the ``TooManyMissedTimes`` warning is due (the time is still returned).
    Raises ``ScheduleError`` like ``most_recent_schedule_time``."""
    _earliest, most_recent, missed = most_recent_schedule_time(cj, now, schedule, True)
    if most_recent is None or most_recent > now:
        return None, False
    return most_recent, missed == MISSED_MANY


def get_job_name(cj: dict, scheduled_time: datetime) -> str:
    """``getJobName``: ``<cronjob>-<scheduled time in minutes since the epoch>``."""
    return f"{_name(cj)}-{int(scheduled_time.timestamp()) // 60}"


def get_job_from_template(cj: dict, scheduled_time: datetime) -> dict:
    """``getJobFromTemplate2``: the Job to create for ``scheduled_time``.

    Labels and annotations are copied from ``jobTemplate.metadata``, plus the scheduled-timestamp annotation in
    the CronJob's time zone (RFC 3339); a controller ownerReference to the CronJob; the spec deep-copied.
    Raises ``ScheduleError`` when ``spec.timeZone`` does not load.
    """
    template = _spec(cj).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    labels = dict(template_meta.get("labels") or {})
    annotations = dict(template_meta.get("annotations") or {})
    location = load_location(_spec(cj).get("timeZone") or "")
    annotations[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] = _go_rfc3339(scheduled_time.astimezone(location))
    metadata: dict = {"name": get_job_name(cj, scheduled_time), "namespace": _namespace(cj)}
    if labels:
        metadata["labels"] = labels
    metadata["annotations"] = annotations
    metadata["ownerReferences"] = [new_controller_ref(cj, "batch/v1", "CronJob")]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": deep_copy(template.get("spec") or {}),
    }


def job_object_reference(job: dict) -> dict:
    """``ref.GetReference`` of a Job: what ``status.active`` holds."""
    meta = _meta(job)
    reference = {
        "kind": "Job",
        "namespace": meta.get("namespace") or "default",
        "name": meta.get("name") or "",
        "uid": meta.get("uid") or "",
        "apiVersion": job.get("apiVersion") or "batch/v1",
    }
    if meta.get("resourceVersion"):
        reference["resourceVersion"] = meta["resourceVersion"]
    return reference


def format_schedule(cj: dict) -> tuple[str, bool]:
    """``formatSchedule``: the text given to the parser and whether it holds ``TZ`` (the unsupported legacy form).

    A ``timeZone`` that loads becomes a ``TZ=<zone>`` prefix; a schedule that already mentions ``TZ`` is used
    as it is.
    """
    schedule = _spec(cj).get("schedule") or ""
    if "TZ" in schedule:
        return schedule, True
    zone = _spec(cj).get("timeZone")
    if zone is not None:
        try:
            load_location(zone)
        except ScheduleError:
            return schedule, False
        return f"TZ={zone} {schedule}", False
    return schedule, False


def by_job_start_time(job: dict) -> tuple:
    """Sort key of ``byJobStartTime``: oldest ``status.startTime`` first, none last, ties by name."""
    start = parse_time(_status(job).get("startTime"))
    return (start is None, start or GO_ZERO_TIME, _name(job))


# --- memory ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CronJobMemory:
    """What the engine keeps between syncs: the Job whose create was just asked for and not yet recorded."""

    pending_job: str = ""
    scheduled_time: str = ""


# --- the sync ----------------------------------------------------------------------------------------------


class _Sync:
    """The state one sync builds up: the CronJob copy, actions, events, notes, decisions."""

    def __init__(self, cj: dict, now: datetime):
        self.cj = cj
        self.now = now
        self.status = cj.setdefault("status", {})
        self.actions: list = []
        self.notes: list[str] = []
        self.decisions: list[str] = []
        self.reference = object_reference(cj, "batch/v1", "CronJob")

    def event(self, event_type: str, reason: str, message: str) -> EmitEvent:
        return EmitEvent(self.reference, event_type, reason, message, COMPONENT)

    def emit(self, event_type: str, reason: str, message: str) -> None:
        self.actions.append(self.event(event_type, reason, message))
        self.notes.append(f"event {event_type} {reason}: {message}")

    @property
    def active(self) -> list[dict]:
        return self.status.get("active") or []

    def delete_from_active_list(self, uid: str) -> None:
        self.status["active"] = [ref for ref in self.active if ref.get("uid") != uid]

    def delete_job(self, job: dict) -> None:
        """``deleteJob``: delete (Background), drop from ``active``, ``SuccessfulDelete`` once it is done."""
        name = _name(job)
        self.actions.append(
            DeleteObject(
                "Job",
                _namespace(job),
                name,
                _uid(job),
                propagation_policy=DELETE_PROPAGATION,
                success_event=self.event("Normal", EVENT_SUCCESSFUL_DELETE,
                                         EVENT_MESSAGE_SUCCESSFUL_DELETE.format(job=name)),
                failure_event=self.event("Warning", EVENT_FAILED_DELETE,
                                         EVENT_MESSAGE_FAILED_DELETE.format(error="{error}")),
            )
        )
        self.notes.append(f"delete job {name} (propagation {DELETE_PROPAGATION})")
        self.delete_from_active_list(_uid(job))


def _normalize_status(status: dict) -> dict:
    normalized = {k: v for k, v in status.items() if v not in (None, [], {})}
    return normalized


def _active_names(refs: list[dict]) -> str:
    return ", ".join(ref.get("name") or "" for ref in refs)


def cleanup_finished_jobs(ctx: _Sync, jobs: list[dict]) -> None:
    """``cleanupFinishedJobs``: keep at most the history limits of successful and failed Jobs, oldest go first."""
    spec = _spec(ctx.cj)
    successful_limit = spec.get("successfulJobsHistoryLimit")
    failed_limit = spec.get("failedJobsHistoryLimit")
    if successful_limit is None and failed_limit is None:
        return
    successful, failed = [], []
    for job in jobs:
        finished, condition = finished_condition(job)
        if finished and condition == JOB_COMPLETE:
            successful.append(job)
        elif finished and condition == JOB_FAILED:
            failed.append(job)
    for kind, limit, finished_jobs in (("successful", successful_limit, successful),
                                       ("failed", failed_limit, failed)):
        if limit is None:
            continue
        to_delete = len(finished_jobs) - int(limit)
        if to_delete <= 0:
            continue
        oldest = sorted(finished_jobs, key=by_job_start_time)[:to_delete]
        ctx.decisions.append(
            f"{len(finished_jobs)} {kind} jobs kept, history limit {limit}: delete the oldest "
            f"({', '.join(_name(j) for j in oldest)})"
        )
        for job in oldest:
            ctx.delete_job(job)


def sync_cronjob(
    cronjob: dict,
    jobs: Sequence[dict],
    now: datetime,
    *,
    trigger: str = "",
    memory: CronJobMemory | None = None,
    api_jobs: Sequence[dict] | None = None,
) -> SyncResult:
    """Reconcile one CronJob against the Jobs it controls at ``now``; upstream ``sync``.

    ``jobs`` are the Jobs whose controller reference is this CronJob (the caller resolved ownership).
    ``memory`` is what the previous sync returned as ``SyncResult.memory`` (a ``CronJobMemory``). ``api_jobs``
    stands for upstream's direct GETs from the API server when the caller's cache may lag behind ``jobs``
    (default: ``jobs``; kubeviz's engine never lags). Inputs are never mutated.
    """
    # A sync changes the status alone: the rest is shared with the input, read-only.
    cj = dict(cronjob, status=deep_copy(cronjob.get("status") or {}))
    jobs = sorted(jobs, key=lambda j: (_namespace(j), _name(j), _uid(j)))  # read-only: no copy needed
    live = jobs if api_jobs is None else list(api_jobs)
    ctx = _Sync(cj, now)
    old_status = deep_copy(ctx.status)
    key = _key(cj)
    spec = _spec(cj)
    pending = memory.pending_job if memory is not None else ""

    last = parse_time(ctx.status.get("lastScheduleTime"))
    running = [ref.get("name") or "" for ref in ctx.active]
    observed = f"last scheduled {_clock(last, now) if last else 'never'}; now {_clock(now, now)}; "
    observed += f"{len(running)} active" + (f" ({', '.join(running)})" if running else "")
    if spec.get("timeZone"):
        observed += f"; timeZone {spec['timeZone']}"

    def finish(requeue: float | None, new_memory: CronJobMemory | None = None) -> SyncResult:
        new_status = _normalize_status(ctx.status)
        changed = new_status != _normalize_status(old_status)
        notes = list(ctx.notes)
        if changed:
            notes.insert(0, "write status")
        decision = "; ".join(ctx.decisions) or "nothing to do"
        trace = Trace(CONTROLLER, key, trigger, observed, decision, tuple(notes))
        return SyncResult(tuple(ctx.actions), new_status if changed else None, requeue, trace, new_memory)

    cleanup_finished_jobs(ctx, jobs)

    # --- syncCronJob: reconcile the children --------------------------------------------------------------
    children = {_uid(j) for j in jobs}
    for job in jobs:
        found = any(ref.get("uid") == _uid(job) for ref in ctx.active)
        finished = is_job_finished(job)
        if not found and _name(job) == pending:
            # The Job the previous sync created: finish that sync's work (upstream does it in the same call).
            ctx.status["active"] = ctx.active + [job_object_reference(job)]
            scheduled_before = parse_time(memory.scheduled_time) if memory is not None else None
            recorded = parse_time(ctx.status.get("lastScheduleTime"))
            if scheduled_before is not None and (recorded is None or scheduled_before > recorded):
                ctx.status["lastScheduleTime"] = format_time(scheduled_before)
            ctx.decisions.append(f"job {_name(job)}, created by the previous sync, is recorded as active")
            found = True
        if not found and not finished:
            # An unfinished Job of ours that status.active does not list: a crash between create and status
            # update, a stale cache, or someone who wants it adopted. Upstream only warns.
            ctx.emit("Warning", EVENT_UNEXPECTED_JOB, EVENT_MESSAGE_UNEXPECTED_JOB.format(job=_name(job)))
        elif finished:
            if found:
                _finished, condition = finished_condition(job)
                ctx.delete_from_active_list(_uid(job))
                ctx.emit("Normal", EVENT_SAW_COMPLETED_JOB,
                         EVENT_MESSAGE_SAW_COMPLETED_JOB.format(job=_name(job), condition=condition))
                ctx.decisions.append(f"job {_name(job)} finished ({condition}): no longer active")
            if is_job_succeeded(job):
                # A Job need not be in the active list for its success to count.
                completed = parse_time(_status(job).get("completionTime"))
                current = parse_time(ctx.status.get("lastSuccessfulTime"))
                if completed is not None and (current is None or completed > current):
                    ctx.status["lastSuccessfulTime"] = format_time(completed)

    for ref in list(ctx.active):
        if ref.get("uid") in children:
            continue
        # Upstream asks the API server directly before believing the cache.
        if any(_name(j) == ref.get("name") and _namespace(j) == (ref.get("namespace") or "default") for j in live):
            continue
        ctx.emit("Normal", EVENT_MISSING_JOB, EVENT_MESSAGE_MISSING_JOB.format(job=ref.get("name") or ""))
        ctx.delete_from_active_list(ref.get("uid") or "")
        ctx.decisions.append(f"active job {ref.get('name')} is gone")

    if _meta(cj).get("deletionTimestamp"):
        ctx.decisions.append("the CronJob is being deleted: update status only")
        return finish(None)

    zone = spec.get("timeZone")
    if zone is not None:
        try:
            load_location(zone)
        except ScheduleError as error:
            ctx.emit("Warning", EVENT_UNKNOWN_TIME_ZONE,
                     EVENT_MESSAGE_UNKNOWN_TIME_ZONE.format(zone=go_quote(zone), error=error))
            ctx.decisions.append(f"timeZone {zone!r} does not load: start nothing until the spec changes")
            return finish(None)

    if spec.get("suspend"):
        ctx.decisions.append("suspended: start nothing; resuming the CronJob wakes it")
        return finish(None)

    text, legacy_tz = format_schedule(cj)
    schedule_text = spec.get("schedule") or ""
    if legacy_tz:
        ctx.emit("Warning", EVENT_UNSUPPORTED_SCHEDULE,
                 EVENT_MESSAGE_UNSUPPORTED_SCHEDULE.format(schedule=go_quote(schedule_text)))
    try:
        schedule = parse_schedule(text)
    except ScheduleError as error:
        ctx.emit("Warning", EVENT_UNPARSEABLE_SCHEDULE,
                 EVENT_MESSAGE_UNPARSEABLE_SCHEDULE.format(schedule=go_quote(schedule_text), error=error))
        ctx.decisions.append("the schedule does not parse: start nothing until the spec changes")
        return finish(None)

    try:
        scheduled, too_many_missed = next_schedule_time(cj, now, schedule)
    except ScheduleError as error:
        ctx.emit("Warning", EVENT_INVALID_SCHEDULE,
                 EVENT_MESSAGE_INVALID_SCHEDULE.format(schedule=schedule_text, error=error))
        ctx.decisions.append("the schedule never fires: start nothing until the spec changes")
        return finish(None)

    def requeue(cronjob_now: dict = cj) -> float | None:
        delay = next_schedule_time_duration(cronjob_now, now, schedule)
        if delay is not None:
            ctx.decisions.append(f"next run {_clock(now + timedelta(seconds=delay - NEXT_SCHEDULE_DELTA), now)}")
        return delay

    if scheduled is None:
        ctx.decisions.append("no schedule time is due")
        return finish(requeue())

    due = _clock(scheduled, now)
    if too_many_missed:
        ctx.emit("Warning", EVENT_TOO_MANY_MISSED_TIMES, EVENT_MESSAGE_TOO_MANY_MISSED_TIMES)
        ctx.decisions.append(f"more than {TOO_MANY_MISSED} start times were missed: start only the latest, {due}")

    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
        ctx.emit("Warning", EVENT_MISS_SCHEDULE, EVENT_MESSAGE_MISS_SCHEDULE.format(time=_go_rfc1123z_utc(scheduled)))
        ctx.decisions.append(f"{due} is more than startingDeadlineSeconds {deadline}s ago: skip it")
        return finish(requeue())

    job_name = get_job_name(cj, scheduled)
    last = parse_time(ctx.status.get("lastScheduleTime"))
    if any(ref.get("name") == job_name and (ref.get("namespace") or "default") == _namespace(cj)
           for ref in ctx.active) or (last is not None and last == scheduled):
        ctx.decisions.append(f"{due} is already handled ({job_name})")
        return finish(requeue())

    policy = spec.get("concurrencyPolicy") or ALLOW_CONCURRENT
    if policy == FORBID_CONCURRENT and ctx.active:
        ctx.emit("Normal", EVENT_JOB_ALREADY_ACTIVE, EVENT_MESSAGE_JOB_ALREADY_ACTIVE)
        ctx.decisions.append(f"{due} is due; Forbid and {_active_names(ctx.active)} still active → skip")
        return finish(requeue())

    if policy == REPLACE_CONCURRENT and ctx.active:
        replaced = _active_names(ctx.active)
        for ref in list(ctx.active):
            found = next((j for j in live if _name(j) == ref.get("name")
                          and _namespace(j) == (ref.get("namespace") or "default")), None)
            if found is None:
                error = f'jobs.batch "{ref.get("name")}" not found'
                ctx.emit("Warning", EVENT_FAILED_GET, EVENT_MESSAGE_FAILED_GET.format(error=error))
                ctx.decisions.append(f"cannot read active job {ref.get('name')}: stop")
                return finish(None)
            ctx.delete_job(found)
        ctx.decisions.append(f"{due} is due; Replace: delete {replaced}")

    job_request = get_job_from_template(cj, scheduled)
    existing = next((j for j in jobs if _name(j) == job_name and _namespace(j) == _namespace(cj)), None)
    if existing is not None:
        # Upstream's AlreadyExists path: the Job is there already; record it if it is ours.
        if not is_controlled_by(existing, cj):
            ctx.decisions.append(f"{job_name} exists but belongs to someone else: leave it")
            return finish(None)
        if any(ref.get("uid") == _uid(existing) for ref in ctx.active):
            return finish(None)
        ctx.status["active"] = ctx.active + [job_object_reference(existing)]
        ctx.status["lastScheduleTime"] = format_time(scheduled)
        ctx.decisions.append(f"{due}: job {job_name} exists; record it as active")
        return finish(requeue())

    ctx.actions.append(
        CreateObject(
            job_request,
            success_event=ctx.event("Normal", EVENT_SUCCESSFUL_CREATE,
                                    EVENT_MESSAGE_SUCCESSFUL_CREATE.format(name="{name}")),
            failure_event=ctx.event("Warning", EVENT_FAILED_CREATE,
                                    EVENT_MESSAGE_FAILED_CREATE.format(error="{error}")),
        )
    )
    ctx.notes.append(f"create job {job_name}")
    if policy == ALLOW_CONCURRENT and ctx.active:
        ctx.decisions.append(f"{due} is due; Allow: start {job_name} beside {_active_names(ctx.active)}")
    else:
        ctx.decisions.append(f"{due} is due: start {job_name}")
    ctx.decisions.append("it goes into status.active once it appears")
    after = dict(cj, status=dict(cj["status"], lastScheduleTime=format_time(scheduled)))
    return finish(requeue(after), CronJobMemory(job_name, format_time(scheduled)))
