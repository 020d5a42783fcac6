"""Tests for the CronJob controller (``controllers.cronjob``).

The big table is upstream's TestControllerV2SyncCronJob (``pkg/controller/cronjob/cronjob_controllerv2_test.go``),
case names kept as pytest ids, followed by ``utils_test.go``'s TestMostRecentScheduleTime,
TestNextScheduleTimeDuration, TestNextScheduleTime, TestByJobStartTime and TestGetJobFromTemplate2.

Upstream calls ``syncCronJob`` once, with fakes that create a Job and hand back its reference in the same call.
Here a plan cannot record a Job it has not created yet (see ``controllers.cronjob``'s docstring), so ``run``
plays the engine: it applies each plan to the controller tests' fake world (``tests.controllers.world``) and, when
a Job was created, runs the sync its ADDED event triggers at the same instant. Expectations are checked on the
combined outcome. Where upstream's fakes model something kubeviz's engine cannot produce (a CronJob lister older
than the API server), the row says how it is adapted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from controllers import cronjob as cronjobctl
from controllers.cronjob import (
    CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION,
    NEXT_SCHEDULE_DELTA,
    CronJobMemory,
    by_job_start_time,
    get_job_from_template,
    get_job_name,
    job_object_reference,
    most_recent_schedule_time,
    next_schedule_time,
    next_schedule_time_duration,
    sync_cronjob,
)
from controllers.cronschedule import ScheduleError, parse_schedule
from controllers.client import ClientError
from controllers.plan import CreateObject, DeleteObject, EmitEvent, SyncResult
from controllers.pods import format_time
from tests.controllers.world import World

UTC = timezone.utc
D = NEXT_SCHEDULE_DELTA
SECOND, MINUTE, HOUR = 1.0, 60.0, 3600.0

# upstream's fixed instants (2016-05-19 is a Thursday)
JUST_BEFORE_THE_PRIOR_HOUR = datetime(2016, 5, 19, 8, 59, tzinfo=UTC)
JUST_AFTER_THE_PRIOR_HOUR = datetime(2016, 5, 19, 9, 1, tzinfo=UTC)
JUST_BEFORE_THE_HOUR = datetime(2016, 5, 19, 9, 59, tzinfo=UTC)
TOP_OF_THE_HOUR = datetime(2016, 5, 19, 10, 0, tzinfo=UTC)
JUST_AFTER_THE_HOUR = datetime(2016, 5, 19, 10, 1, tzinfo=UTC)
JUST_BEFORE_THE_NEXT_HOUR = datetime(2016, 5, 19, 10, 59, tzinfo=UTC)
WEEK_AFTER_THE_HOUR = datetime(2016, 5, 26, 10, 0, tzinfo=UTC)

SHORT_DEAD, MEDIUM_DEAD, LONG_DEAD = 10, 2 * 60 * 60, 1_000_000
ERROR_SCHEDULE = "obvious error schedule"
ON_THE_HOUR = "0 * * * ?"
EVERY_HOUR = "@every 1h"
ERROR_TIME_ZONE = "bad timezone"
NEW_YORK = "America/New_York"

BACKOFF = "rate-limited retry"


def new_cronjob(
    schedule: str = "* * * * ?",
    policy: str = "Allow",
    *,
    name: str = "mycronjob",
    namespace: str = "snazzycats",
    uid: str = "1a2b3c",
    created: datetime = JUST_BEFORE_THE_HOUR,
    time_zone: str | None = None,
    deadline: int | None = None,
    suspend: bool = False,
    successful_limit: int | None = None,
    failed_limit: int | None = None,
    status: dict | None = None,
) -> dict:
    """Upstream's ``cronJob()``: no history limits unless asked for (the fixture skips API defaulting)."""
    spec: dict = {
        "schedule": schedule,
        "concurrencyPolicy": policy,
        "suspend": suspend,
        "jobTemplate": {
            "metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "template": {
                    "metadata": {"labels": {"foo": "bar"}},
                    "spec": {"containers": [{"image": "foo/bar"}]},
                },
            },
        },
    }
    if time_zone is not None:
        spec["timeZone"] = time_zone
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    if successful_limit is not None:
        spec["successfulJobsHistoryLimit"] = successful_limit
    if failed_limit is not None:
        spec["failedJobsHistoryLimit"] = failed_limit
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": format_time(created)},
        "spec": spec,
        "status": copy.deepcopy(status) if status else {},
    }


def job_for(cj: dict, scheduled: datetime, *, uid: str = "1234", finished: str | None = None,
            completion: datetime | None = None, start: datetime | None = None) -> dict:
    """A Job of ``cj`` as the API server stores it (created at ``scheduled``)."""
    job = get_job_from_template(cj, scheduled)
    job["metadata"].update(uid=uid, resourceVersion="1", creationTimestamp=format_time(scheduled))
    status: dict = {}
    if start is not None:
        status["startTime"] = format_time(start)
    if finished is not None:
        status["conditions"] = [{"type": finished, "status": "True"}]
        if finished == "Complete":
            status["completionTime"] = format_time(completion or scheduled + timedelta(seconds=10))
    job["status"] = status
    return job


# --- the engine, played by the test ------------------------------------------------------------------------


@dataclass
class Outcome:
    results: list[SyncResult] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    create_attempts: int = 0
    deleted: list[DeleteObject] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    status: dict = field(default_factory=dict)
    status_written: bool = False
    requeue: float | str | None = None
    memory: CronJobMemory | None = None

    def warnings(self) -> list[tuple[str, str, str]]:
        return [e for e in self.events if e[0] == "Warning"]

    def reasons(self) -> list[str]:
        return [e[1] for e in self.events]


def run(cj: dict, jobs: list[dict], now: datetime, *, create_error: str | None = None,
        api_jobs: list[dict] | None = None, appear_on_retry: list[dict] | None = None,
        memory: CronJobMemory | None = None) -> Outcome:
    """Sync like the engine: apply each plan to the fake world (``tests.controllers.world``), which refuses creates
    with ``create_error`` when given, and sync again at once when a Job was created (its ADDED event), or after a
    failed create when ``appear_on_retry`` shows the Job then. ``api_jobs``, when given, is what a direct GET
    finds instead of the lister's Jobs (a lister that lags behind the API server)."""
    world = World(cj, *jobs, now=now)
    if create_error is not None:
        world.refuse_creates = ClientError(*REFUSALS[create_error], create_error)
    key = ("CronJob", cj["metadata"]["namespace"], cj["metadata"]["name"])
    out = Outcome(status=copy.deepcopy(cj.get("status") or {}))
    for _round in range(4):
        seen, emitted = world.resource_version(), len(world.events)
        result = sync_cronjob(world.get(*key), world.list("Job"), now, memory=memory, api_jobs=api_jobs)
        out.results.append(result)
        if result.status is not None:
            out.status, out.status_written = copy.deepcopy(result.status), True
        out.deleted += [a for a in result.actions if isinstance(a, DeleteObject)]
        out.create_attempts += sum(isinstance(a, CreateObject) for a in result.actions)
        failed = world.apply(result, world.get(*key))
        out.events += [(e.type, e.reason, e.message) for e in world.events[emitted:]]
        created = [e.object for e in world.changes_since(seen) if e.kind == "Job" and e.type == "ADDED"]
        out.created += created
        memory = out.memory = result.memory
        if failed:
            out.requeue = BACKOFF
            if appear_on_retry:
                for job in appear_on_retry:
                    world.put(job)
                appear_on_retry, world.refuse_creates = None, None
                continue
            break
        out.requeue = result.requeue_after
        if not created:
            break
    return out


# --- TestControllerV2SyncCronJob ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    now: datetime
    policy: str = "Allow"
    suspend: bool = False
    schedule: str = ON_THE_HOUR
    time_zone: str | None = None
    deadline: int | None = None
    ran_previously: bool = False
    still_active: bool = False
    cronjob_creation_time: datetime | None = None
    job_creation_time: datetime = JUST_AFTER_THE_PRIOR_HOUR
    last_schedule_time: datetime | None = None
    create_error: str | None = None
    get_error: bool = False
    job_still_not_found_in_lister: bool = False
    # expectations
    expect_create: bool = False
    expect_delete: bool = False
    expect_active: int = 0
    expected_warnings: int = 0
    expect_requeue: float | str | None = None
    expect_update_status: bool = False


POLICY = {"A": "Allow", "F": "Forbid", "R": "Replace", "f": "Forbid"}
ALREADY_EXISTS = 'jobs.batch "mycronjob-24394200" already exists'
NAMESPACE_TERMINATING = "jobs.batch is forbidden: unable to create new content in namespace snazzycats " \
                        "because it is being terminated"
#: The Status code and reason the API server answers each refused create with.
REFUSALS = {ALREADY_EXISTS: (409, "AlreadyExists"), NAMESPACE_TERMINATING: (403, "Forbidden")}


def abc(base: str, **kwargs) -> list:
    """Upstream's ", A" / ", F" / ", R" triplets."""
    return [pytest.param(Case(policy=POLICY[p], **kwargs), id=f"{base}, {p}") for p in "AFR"]


def one(name: str, **kwargs):
    return pytest.param(Case(**kwargs), id=name)


IS_TIME = dict(expect_create=True, expect_active=1, expect_requeue=HOUR - MINUTE + D, expect_update_status=True)

SYNC_CASES = [
    # upstream's "never ran, not valid schedule, R" really uses Forbid; kept as upstream has it
    one("never ran, not valid schedule, A", schedule=ERROR_SCHEDULE, now=JUST_BEFORE_THE_HOUR, expected_warnings=1),
    one("never ran, not valid schedule, F", policy="Forbid", schedule=ERROR_SCHEDULE, now=JUST_BEFORE_THE_HOUR,
        expected_warnings=1),
    one("never ran, not valid schedule, R", policy="Forbid", schedule=ERROR_SCHEDULE, now=JUST_BEFORE_THE_HOUR,
        expected_warnings=1),
    one("never ran, not valid time zone", time_zone=ERROR_TIME_ZONE, now=JUST_BEFORE_THE_HOUR, expected_warnings=1),
    *abc("never ran, not time", now=JUST_BEFORE_THE_HOUR, expect_requeue=MINUTE + D),
    one("never ran, not time in zone", time_zone=NEW_YORK, now=JUST_BEFORE_THE_HOUR, expect_requeue=MINUTE + D),
    *abc("never ran, is time", now=JUST_AFTER_THE_HOUR, **IS_TIME),
    one("never ran, is time in zone, but time zone disabled", time_zone=NEW_YORK, now=JUST_AFTER_THE_HOUR,
        **IS_TIME),
    one("never ran, is time in zone", time_zone=NEW_YORK, now=JUST_AFTER_THE_HOUR, **IS_TIME),
    one("never ran, is time in zone, but TZ is also set in schedule", schedule="TZ=UTC " + ON_THE_HOUR,
        time_zone=NEW_YORK, now=JUST_AFTER_THE_HOUR, expected_warnings=1, **IS_TIME),
    one("never ran, is time, suspended", suspend=True, now=JUST_AFTER_THE_HOUR),
    one("never ran, is time, past deadline", deadline=SHORT_DEAD,
        now=JUST_AFTER_THE_HOUR + timedelta(minutes=SHORT_DEAD + 1),
        expect_requeue=HOUR - MINUTE - (SHORT_DEAD + 1) * MINUTE + D),
    one("never ran, is time, not past deadline", deadline=LONG_DEAD, now=JUST_AFTER_THE_HOUR, **IS_TIME),
    *abc("prev ran but done, not time", ran_previously=True, now=JUST_BEFORE_THE_HOUR,
         expect_requeue=MINUTE + D, expect_update_status=True),
    one("prev ran but done, is time, A", ran_previously=True, now=JUST_AFTER_THE_HOUR, **IS_TIME),
    # Upstream: the create answers AlreadyExists and GET finds our Job, which is adopted silently. Here the Job
    # reaches the cache after the failed create; the retry records it. The engine's generic failure path
    # emits FailedCreate for the AlreadyExists answer, where upstream emits nothing: 1 warning instead of 0.
    one("prev ran but done, is time, create job failed, A", ran_previously=True, now=JUST_AFTER_THE_HOUR,
        create_error=ALREADY_EXISTS, expect_active=1, expected_warnings=1, expect_requeue=HOUR - MINUTE + D,
        expect_update_status=True),
    one("prev ran but done, is time, job not present in CJ active status, create job failed, A",
        ran_previously=True, now=JUST_AFTER_THE_HOUR, create_error=ALREADY_EXISTS, expect_active=1,
        expected_warnings=1, expect_requeue=HOUR - MINUTE + D, expect_update_status=True),
    one("prev ran but done, is time, F", policy="Forbid", ran_previously=True, now=JUST_AFTER_THE_HOUR, **IS_TIME),
    one("prev ran but done, is time, R", policy="Replace", ran_previously=True, now=JUST_AFTER_THE_HOUR, **IS_TIME),
    one("prev ran but done, is time, suspended", suspend=True, ran_previously=True, now=JUST_AFTER_THE_HOUR,
        expect_update_status=True),
    one("prev ran but done, is time, past deadline", deadline=SHORT_DEAD, ran_previously=True,
        now=JUST_AFTER_THE_HOUR, expect_requeue=HOUR - MINUTE + D, expect_update_status=True),
    one("prev ran but done, is time, not past deadline", deadline=LONG_DEAD, ran_previously=True,
        now=JUST_AFTER_THE_HOUR, **IS_TIME),
    *abc("still active, not time", ran_previously=True, still_active=True, now=JUST_BEFORE_THE_HOUR,
         expect_active=1, expect_requeue=MINUTE + D),
    one("still active, is time, A", ran_previously=True, still_active=True, now=JUST_AFTER_THE_HOUR,
        expect_create=True, expect_active=2, expect_requeue=HOUR - MINUTE + D, expect_update_status=True),
    one("still active, is time, F", policy="Forbid", ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, expect_active=1, expect_requeue=HOUR - MINUTE + D),
    one("still active, is time, R", policy="Replace", ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, expect_create=True, expect_delete=True, expect_active=1,
        expect_requeue=HOUR - MINUTE + D, expect_update_status=True),
    # Upstream's GET answers BadRequest; here the API server does not have the Job the cache still shows.
    one("still active, is time, get job failed, R", policy="Replace", ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, get_error=True, expect_active=1, expected_warnings=1),
    one("still active, is time, suspended", suspend=True, ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, expect_active=1),
    one("still active, is time, past deadline", deadline=SHORT_DEAD, ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, expect_active=1, expect_requeue=HOUR - MINUTE + D),
    one("still active, is time, not past deadline", deadline=LONG_DEAD, ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, expect_create=True, expect_active=2, expect_requeue=HOUR - MINUTE + D,
        expect_update_status=True),
    # More than 100 missed start times: warn, and still start the most recent one (1.29+).
    *[pytest.param(Case(policy=POLICY[p], deadline=LONG_DEAD, ran_previously=True, now=WEEK_AFTER_THE_HOUR,
                        expect_create=True, expect_active=1, expected_warnings=1, expect_requeue=HOUR + D,
                        expect_update_status=True),
                   id=f"prev ran but done, long overdue, not past deadline, {p}") for p in "ARF"],
    *[pytest.param(Case(policy=POLICY[p], ran_previously=True, now=WEEK_AFTER_THE_HOUR, expect_create=True,
                        expect_active=1, expected_warnings=1, expect_requeue=HOUR + D, expect_update_status=True),
                   id=f"prev ran but done, long overdue, no deadline, {p}") for p in "ARF"],
    *[pytest.param(Case(policy=POLICY[p], deadline=dead, ran_previously=True, now=WEEK_AFTER_THE_HOUR,
                        expect_create=True, expect_active=1, expect_requeue=HOUR + D, expect_update_status=True),
                   id=f"prev ran but done, long overdue, past {label} deadline, {p}")
      for p in "ARF" for label, dead in (("medium", MEDIUM_DEAD), ("short", SHORT_DEAD))],
    one("this ran but done, time drifted back, F", policy="Forbid", ran_previously=True,
        job_creation_time=JUST_AFTER_THE_HOUR, now=JUST_BEFORE_THE_HOUR, create_error=ALREADY_EXISTS,
        expect_requeue=MINUTE + D, expect_update_status=True),
    # A slow Job lister: the API server still has the Job, so it stays active (no MissingJob).
    *[pytest.param(Case(policy=POLICY[p], deadline=LONG_DEAD, ran_previously=True, still_active=True,
                        job_creation_time=TOP_OF_THE_HOUR + timedelta(milliseconds=100),
                        now=JUST_AFTER_THE_HOUR + timedelta(milliseconds=100), job_still_not_found_in_lister=True,
                        expect_active=1, expect_requeue=HOUR - MINUTE - 0.1 + D),
                   id=f"this started but went missing, not past deadline, {p}") for p in "AfR"],
    # A slow CronJob lister: upstream re-reads the CronJob and finds the Job in status.active. kubeviz's
    # CronJob is never stale, so the row starts from that fresh copy.
    *[pytest.param(Case(policy=POLICY[p], deadline=LONG_DEAD, ran_previously=True, still_active=True,
                        job_creation_time=TOP_OF_THE_HOUR + timedelta(milliseconds=100),
                        now=JUST_AFTER_THE_HOUR + timedelta(milliseconds=100),
                        expect_active=1, expect_requeue=HOUR - MINUTE - 0.1 + D),
                   id=f"this started but is not present in cronjob active list, not past deadline, {p}")
      for p in "AfR"],
    one("with @every schedule, never ran, not time", schedule=EVERY_HOUR, cronjob_creation_time=JUST_BEFORE_THE_HOUR,
        job_creation_time=JUST_BEFORE_THE_HOUR, now=TOP_OF_THE_HOUR, expect_requeue=HOUR - MINUTE + D),
    one("with @every schedule, never ran, is time", schedule=EVERY_HOUR,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        now=JUST_BEFORE_THE_HOUR, expect_create=True, expect_active=1, expect_requeue=HOUR + D,
        expect_update_status=True),
    one("with @every schedule, never ran, is time, past deadline", schedule=EVERY_HOUR, deadline=SHORT_DEAD,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        now=JUST_BEFORE_THE_HOUR + timedelta(seconds=SHORT_DEAD + 1),
        expect_requeue=HOUR - (SHORT_DEAD + 1) * SECOND + D),
    one("with @every schedule, never ran, is time, not past deadline", schedule=EVERY_HOUR, deadline=LONG_DEAD,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        now=JUST_BEFORE_THE_HOUR + timedelta(seconds=SHORT_DEAD - 1), expect_create=True, expect_active=1,
        expect_requeue=HOUR - (SHORT_DEAD - 1) * SECOND + D, expect_update_status=True),
    one("with @every schedule, prev ran but done, not time", schedule=EVERY_HOUR, ran_previously=True,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        last_schedule_time=JUST_BEFORE_THE_HOUR, now=TOP_OF_THE_HOUR, expect_requeue=HOUR - MINUTE + D,
        expect_update_status=True),
    one("with @every schedule, prev ran but done, is time", schedule=EVERY_HOUR, ran_previously=True,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        last_schedule_time=JUST_BEFORE_THE_HOUR, now=TOP_OF_THE_HOUR + timedelta(hours=1), **IS_TIME),
    one("with @every schedule, prev ran but done, is time, past deadline", schedule=EVERY_HOUR, deadline=SHORT_DEAD,
        ran_previously=True, cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, last_schedule_time=JUST_BEFORE_THE_HOUR,
        now=JUST_BEFORE_THE_NEXT_HOUR + timedelta(seconds=SHORT_DEAD + 1),
        expect_requeue=HOUR - (SHORT_DEAD + 1) * SECOND + D, expect_update_status=True),
    one("with @every schedule, still active, not time", schedule=EVERY_HOUR, ran_previously=True, still_active=True,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_HOUR,
        last_schedule_time=JUST_BEFORE_THE_HOUR, now=TOP_OF_THE_HOUR, expect_active=1,
        expect_requeue=HOUR - MINUTE + D),
    one("with @every schedule, still active, is time", schedule=EVERY_HOUR, ran_previously=True, still_active=True,
        cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR, job_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        last_schedule_time=JUST_BEFORE_THE_PRIOR_HOUR, now=JUST_AFTER_THE_HOUR, expect_create=True,
        expect_active=2, expect_requeue=HOUR - 2 * MINUTE + D, expect_update_status=True),
    one("with @every schedule, still active, is time, past deadline", schedule=EVERY_HOUR, deadline=SHORT_DEAD,
        ran_previously=True, still_active=True, cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        job_creation_time=JUST_BEFORE_THE_HOUR, last_schedule_time=JUST_BEFORE_THE_HOUR,
        now=JUST_BEFORE_THE_NEXT_HOUR + timedelta(seconds=SHORT_DEAD + 1), expect_active=1,
        expect_requeue=HOUR - (SHORT_DEAD + 1) * SECOND + D),
    one("with @every schedule, still active, is time, not past deadline", schedule=EVERY_HOUR, deadline=LONG_DEAD,
        ran_previously=True, still_active=True, cronjob_creation_time=JUST_BEFORE_THE_PRIOR_HOUR,
        job_creation_time=JUST_BEFORE_THE_HOUR, last_schedule_time=JUST_BEFORE_THE_HOUR,
        now=JUST_BEFORE_THE_NEXT_HOUR + timedelta(seconds=SHORT_DEAD - 1), expect_create=True, expect_active=2,
        expect_requeue=HOUR - (SHORT_DEAD - 1) * SECOND + D, expect_update_status=True),
    one("with @every schedule, prev ran but done, long overdue, no deadline", schedule=EVERY_HOUR,
        ran_previously=True, cronjob_creation_time=JUST_AFTER_THE_PRIOR_HOUR, last_schedule_time=JUST_AFTER_THE_HOUR,
        job_creation_time=JUST_AFTER_THE_PRIOR_HOUR, now=WEEK_AFTER_THE_HOUR, expect_create=True, expect_active=1,
        expected_warnings=1, expect_requeue=MINUTE + D, expect_update_status=True),
    # upstream's expectActive 1 is never checked there (no status update reaches its fake); nothing runs: 0
    one("with @every schedule, prev ran but done, long overdue, past deadline", schedule=EVERY_HOUR,
        deadline=SHORT_DEAD, ran_previously=True, cronjob_creation_time=JUST_AFTER_THE_PRIOR_HOUR,
        last_schedule_time=JUST_AFTER_THE_HOUR, job_creation_time=JUST_AFTER_THE_PRIOR_HOUR,
        now=WEEK_AFTER_THE_HOUR + timedelta(minutes=1, seconds=SHORT_DEAD + 1),
        expect_requeue=HOUR - (SHORT_DEAD + 1) * SECOND + D, expect_update_status=True),
    # Upstream: the create fails (namespace terminating), nothing is recorded, the error requeues with backoff.
    # Same here, except that the engine's failure path emits FailedCreate (upstream stays silent), and the
    # running Job is in status.active (upstream's re-read CronJob has it there too).
    one("do nothing if the namespace is terminating", ran_previously=True, still_active=True,
        now=JUST_AFTER_THE_HOUR, create_error=NAMESPACE_TERMINATING, expect_active=1, expected_warnings=1,
        expect_requeue=BACKOFF),
]


def setup_case(case: Case) -> tuple[dict, list[dict], dict]:
    """The CronJob, its Jobs and ``run`` options for one row, built as upstream's test builds them."""
    cj = new_cronjob(case.schedule, case.policy, time_zone=case.time_zone, deadline=case.deadline,
                     suspend=case.suspend)
    jobs: list[dict] = []
    options: dict = {"create_error": case.create_error}
    if case.ran_previously:
        cj["metadata"]["creationTimestamp"] = format_time(case.cronjob_creation_time or JUST_BEFORE_THE_PRIOR_HOUR)
        cj["status"]["lastScheduleTime"] = format_time(case.last_schedule_time or JUST_AFTER_THE_PRIOR_HOUR)
        if case.still_active:
            job = job_for(cj, case.job_creation_time)
            cj["status"]["active"] = [job_object_reference(job)]
            if case.job_still_not_found_in_lister:
                options["api_jobs"] = [job]
            else:
                jobs.append(job)
                if case.get_error:
                    options["api_jobs"] = []
        else:
            jobs.append(job_for(cj, case.job_creation_time, finished="Complete"))
        if case.create_error == ALREADY_EXISTS and case.now >= TOP_OF_THE_HOUR:
            # What the API server already holds: our Job for the slot, created before a status update was lost.
            options["appear_on_retry"] = [job_for(cj, TOP_OF_THE_HOUR, uid="5678")]
    else:
        cj["metadata"]["creationTimestamp"] = format_time(case.cronjob_creation_time or JUST_BEFORE_THE_HOUR)
    return cj, jobs, options


@pytest.mark.parametrize("case", SYNC_CASES)
def test_controller_v2_sync_cronjob(case: Case, request):
    name = request.node.callspec.id
    cj, jobs, options = setup_case(case)
    before = copy.deepcopy((cj, jobs))
    out = run(cj, jobs, case.now, **options)
    assert (cj, jobs) == before, "inputs were mutated"

    assert len(out.created) == (1 if case.expect_create else 0)
    assert len(out.deleted) == (1 if case.expect_delete else 0)
    # Counted as Event objects: the engine folds a repeat of the same event into one (count 2). The follow-up
    # sync is upstream's next sync (the one the Job's ADDED event causes there too), which repeats e.g.
    # UnsupportedSchedule.
    assert len(set(out.warnings())) == case.expected_warnings, out.events
    expected_events = len(out.created) + len(out.deleted) + case.expected_warnings
    if name == "still active, is time, F":
        expected_events += 1  # the only row that reports not scheduling (JobAlreadyActive)
    assert len(set(out.events)) == expected_events, out.events
    if case.expect_requeue in (None, BACKOFF):
        assert out.requeue == case.expect_requeue
    else:
        assert out.requeue == pytest.approx(case.expect_requeue, abs=1e-6)
    assert out.status_written is case.expect_update_status
    assert len(out.status.get("active") or []) == case.expect_active
    if case.ran_previously and not case.still_active:
        assert out.status["lastSuccessfulTime"] == format_time(case.job_creation_time + timedelta(seconds=10))
    for job in out.created:
        assert job["metadata"]["ownerReferences"] == [{
            "apiVersion": "batch/v1", "kind": "CronJob", "name": "mycronjob", "uid": "1a2b3c",
            "controller": True, "blockOwnerDeletion": True,
        }]
        # the Job is recorded in status.active with the API server's uid and resourceVersion
        assert job_object_reference(job) in out.status["active"]
        stamp = job["metadata"]["annotations"][CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]
        assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) == datetime.fromisoformat(
            out.status["lastScheduleTime"].replace("Z", "+00:00"))


def test_is_time_plan_creates_first_and_records_on_the_follow_up_sync():
    cj = new_cronjob(ON_THE_HOUR, created=JUST_BEFORE_THE_HOUR)
    first = sync_cronjob(cj, [], JUST_AFTER_THE_HOUR)
    assert first.status is None  # nothing to record before the Job exists
    (create,) = [a for a in first.actions if isinstance(a, CreateObject)]
    assert create.obj["metadata"]["name"] == "mycronjob-24394200"
    assert create.success_event.message == "Created job {name}"
    assert create.failure_event.message == "Error creating job: {error}"
    assert first.memory == CronJobMemory("mycronjob-24394200", "2016-05-19T10:00:00Z")
    assert first.requeue_after == pytest.approx(HOUR - MINUTE + D)

    job = copy.deepcopy(create.obj)
    job["metadata"].update(uid="u-1", resourceVersion="42")
    second = sync_cronjob(cj, [job], JUST_AFTER_THE_HOUR, memory=first.memory)
    assert second.actions == ()  # no UnexpectedJob, no second create, no second event
    assert second.status == {
        "active": [{"kind": "Job", "namespace": "snazzycats", "name": "mycronjob-24394200", "uid": "u-1",
                    "apiVersion": "batch/v1", "resourceVersion": "42"}],
        "lastScheduleTime": "2016-05-19T10:00:00Z",
    }
    assert second.memory is None
    assert second.requeue_after == pytest.approx(HOUR - MINUTE + D)


def test_without_the_memory_an_unlisted_job_is_unexpected():
    cj = new_cronjob(ON_THE_HOUR, created=JUST_BEFORE_THE_HOUR)
    job = job_for(cj, TOP_OF_THE_HOUR, uid="u-1")
    result = sync_cronjob(cj, [job], JUST_AFTER_THE_HOUR)
    events = [(a.type, a.reason, a.message) for a in result.actions if isinstance(a, EmitEvent)]
    assert events == [("Warning", "UnexpectedJob",
                       "Saw a job that the controller did not create or forgot: mycronjob-24394200")]
    # ... and upstream's AlreadyExists path still records it.
    assert [ref["uid"] for ref in result.status["active"]] == ["u-1"]


def test_failed_create_is_retried():
    cj = new_cronjob(ON_THE_HOUR, created=JUST_BEFORE_THE_HOUR)
    first = sync_cronjob(cj, [], JUST_AFTER_THE_HOUR)
    retry = sync_cronjob(cj, [], JUST_AFTER_THE_HOUR + timedelta(seconds=1), memory=first.memory)
    assert [a.obj["metadata"]["name"] for a in retry.actions if isinstance(a, CreateObject)] == ["mycronjob-24394200"]


# --- events and messages -----------------------------------------------------------------------------------


def events_of(result: SyncResult) -> list[tuple[str, str, str]]:
    return [(a.type, a.reason, a.message) for a in result.actions if isinstance(a, EmitEvent)]


def test_warning_messages():
    cases = [
        (new_cronjob(ERROR_SCHEDULE), "UnparseableSchedule",
         'unparseable schedule: "obvious error schedule" : expected exactly 5 fields, found 3: '
         "[obvious error schedule]"),
        (new_cronjob(ON_THE_HOUR, time_zone=ERROR_TIME_ZONE), "UnknownTimeZone",
         'invalid timeZone: "bad timezone": unknown time zone bad timezone'),
        (new_cronjob("59 23 31 2 *", created=TOP_OF_THE_HOUR + timedelta(seconds=10)), "InvalidSchedule",
         "invalid schedule: 59 23 31 2 * : time difference between two schedules is less than 1 second"),
    ]
    for cj, reason, message in cases:
        result = sync_cronjob(cj, [], TOP_OF_THE_HOUR + timedelta(hours=1))
        assert events_of(result) == [("Warning", reason, message)]
        assert result.requeue_after is None


def test_unsupported_schedule_and_too_many_missed_messages():
    cj = new_cronjob("TZ=UTC " + ON_THE_HOUR, time_zone=NEW_YORK, created=JUST_BEFORE_THE_PRIOR_HOUR,
                     status={"lastScheduleTime": format_time(JUST_AFTER_THE_PRIOR_HOUR)})
    result = sync_cronjob(cj, [], WEEK_AFTER_THE_HOUR)
    assert events_of(result) == [
        ("Warning", "UnsupportedSchedule",
         'CRON_TZ or TZ used in schedule "TZ=UTC 0 * * * ?" is not officially supported, see '
         "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"),
        ("Warning", "TooManyMissedTimes",
         "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
    ]
    assert "more than 100 start times were missed" in result.trace.decision
    (create,) = [a for a in result.actions if isinstance(a, CreateObject)]
    assert create.obj["metadata"]["name"] == get_job_name(cj, WEEK_AFTER_THE_HOUR)


def test_saw_completed_job_missing_job_and_last_successful_time():
    cj = new_cronjob(ON_THE_HOUR, created=JUST_BEFORE_THE_PRIOR_HOUR)
    done = job_for(cj, JUST_BEFORE_THE_PRIOR_HOUR, uid="u-done", finished="Complete",
                   completion=JUST_AFTER_THE_PRIOR_HOUR)
    failed = job_for(cj, JUST_AFTER_THE_PRIOR_HOUR, uid="u-failed", finished="Failed")
    gone = job_for(cj, JUST_BEFORE_THE_HOUR, uid="u-gone")
    cj["status"] = {"active": [job_object_reference(j) for j in (done, failed, gone)],
                    "lastScheduleTime": format_time(JUST_BEFORE_THE_HOUR)}
    result = sync_cronjob(cj, [failed, done], JUST_BEFORE_THE_HOUR + timedelta(seconds=30))
    assert events_of(result) == [
        ("Normal", "SawCompletedJob", f"Saw completed job: {done['metadata']['name']}, condition: Complete"),
        ("Normal", "SawCompletedJob", f"Saw completed job: {failed['metadata']['name']}, condition: Failed"),
        ("Normal", "MissingJob", f"Active job went missing: {gone['metadata']['name']}"),
    ]
    assert result.status == {"lastScheduleTime": "2016-05-19T09:59:00Z", "lastSuccessfulTime": "2016-05-19T09:01:00Z"}


def test_being_deleted_only_updates_status():
    cj = new_cronjob(ON_THE_HOUR, created=JUST_BEFORE_THE_HOUR)
    cj["metadata"]["deletionTimestamp"] = format_time(JUST_AFTER_THE_HOUR)
    result = sync_cronjob(cj, [], JUST_AFTER_THE_HOUR)
    assert result.actions == () and result.requeue_after is None
    assert "being deleted" in result.trace.decision


# --- Replace, Forbid, history ------------------------------------------------------------------------------


def test_replace_deletes_every_active_job_in_the_background():
    cj = new_cronjob("*/1 * * * *", "Replace", name="hello", created=datetime(2026, 8, 25, 0, 0, 30, tzinfo=UTC))
    first = job_for(cj, datetime(2026, 8, 25, 0, 6, tzinfo=UTC), uid="u-6")
    second = job_for(cj, datetime(2026, 8, 25, 0, 7, tzinfo=UTC), uid="u-7")
    cj["status"] = {"active": [job_object_reference(first), job_object_reference(second)],
                    "lastScheduleTime": "2026-08-25T00:07:00Z"}
    result = sync_cronjob(cj, [first, second], datetime(2026, 8, 25, 0, 8, 0, 100_000, tzinfo=UTC))
    deletes = [a for a in result.actions if isinstance(a, DeleteObject)]
    assert [(d.kind, d.namespace, d.name, d.uid, d.propagation_policy) for d in deletes] == [
        ("Job", "snazzycats", "hello-29793606", "u-6", "Background"),
        ("Job", "snazzycats", "hello-29793607", "u-7", "Background"),
    ]
    assert [d.success_event.message for d in deletes] == ["Deleted job hello-29793606", "Deleted job hello-29793607"]
    assert deletes[0].failure_event.bind(error="boom").message == "Deleted job: boom"
    assert [a.obj["metadata"]["name"] for a in result.actions if isinstance(a, CreateObject)] == ["hello-29793608"]
    assert result.status == {"lastScheduleTime": "2026-08-25T00:07:00Z"}  # the replaced Jobs leave active
    assert "Replace: delete hello-29793606, hello-29793607" in result.trace.decision
    # the deletes come before the create, as upstream orders them
    assert isinstance(result.actions[-1], CreateObject)


def hello(policy: str = "Forbid", **kwargs) -> dict:
    return new_cronjob("*/1 * * * *", policy, name="hello", namespace="default", uid="hello-uid",
                       created=datetime(2026, 8, 25, 0, 0, 30, tzinfo=UTC), **kwargs)


def minute(m: int, s: float = 0) -> datetime:
    return datetime(2026, 8, 25, 0, m, tzinfo=UTC) + timedelta(seconds=s)


def test_forbid_skips_while_running_then_starts_the_latest_missed_slot():
    cj = hello()
    running = job_for(cj, minute(3), uid="u-3", start=minute(3, 1))
    cj["status"] = {"active": [job_object_reference(running)], "lastScheduleTime": format_time(minute(3))}

    blocked = sync_cronjob(cj, [running], minute(4, 0.1), trigger="requeue")
    assert events_of(blocked) == [("Normal", "JobAlreadyActive",
                                   "Not starting job because prior execution is running and concurrency policy is "
                                   "Forbid")]
    assert blocked.trace.observed == "last scheduled 00:03:00; now 00:04:00.1; 1 active (hello-29793603)"
    assert blocked.trace.decision == "00:04:00 is due; Forbid and hello-29793603 still active → skip; next run 00:05:00"
    assert blocked.trace.trigger == "requeue"
    assert blocked.requeue_after == pytest.approx(59.9 + D)

    # 00:06:40: the Job finished; its update wakes the CronJob. 00:04, 00:05 are skipped; 00:06 starts late.
    finished = copy.deepcopy(running)
    finished["status"].update(conditions=[{"type": "Complete", "status": "True"}],
                              completionTime=format_time(minute(6, 40)))
    out = run(cj, [finished], minute(6, 40))
    assert [j["metadata"]["name"] for j in out.created] == ["hello-29793606"]
    assert out.created[0]["metadata"]["annotations"][CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] == "2026-08-25T00:06:00Z"
    assert out.reasons() == ["SawCompletedJob", "SuccessfulCreate"]
    assert out.status["lastScheduleTime"] == "2026-08-25T00:06:00Z"
    assert out.status["lastSuccessfulTime"] == "2026-08-25T00:06:40Z"
    assert [ref["name"] for ref in out.status["active"]] == ["hello-29793606"]
    assert out.requeue == pytest.approx(20 + D)

    # With a 30 s starting deadline the 00:06 slot is too old by 00:06:40: nothing starts until 00:07.
    late = run(hello(deadline=30, status=cj["status"]), [finished], minute(6, 40))
    assert late.created == [] and late.reasons() == ["SawCompletedJob"]
    assert late.requeue == pytest.approx(20 + D)


def test_history_limits_delete_the_oldest_finished_jobs_first():
    cj = hello("Allow", successful_limit=3, failed_limit=1)
    start = {"a": minute(1), "b": minute(2), "c": minute(2), "d": None, "e": minute(4), "f": minute(5)}
    jobs = []
    for index, (suffix, started) in enumerate(start.items()):
        job = job_for(cj, minute(index), uid=f"u-{suffix}", finished="Complete", start=started)
        job["metadata"]["name"] = f"hello-{suffix}"
        jobs.append(job)
    failed = [job_for(cj, minute(10 + i), uid=f"u-x{i}", finished="Failed", start=minute(10 + i)) for i in range(3)]
    running = job_for(cj, minute(20), uid="u-run", start=minute(20))
    cj["status"] = {"active": [job_object_reference(running)], "lastScheduleTime": format_time(minute(20))}
    result = sync_cronjob(cj, list(reversed(jobs + failed + [running])), minute(20, 30))
    deletes = [a for a in result.actions if isinstance(a, DeleteObject)]
    # successful: startTime a (00:01) < b = c (00:02, ties by name) < e < f, nil (d) last -> keep e, f, d
    # failed: keep only the newest
    assert [d.name for d in deletes] == ["hello-a", "hello-b", "hello-c", "hello-29793610", "hello-29793611"]
    assert all(d.propagation_policy == "Background" for d in deletes)
    assert [a for a in result.actions if isinstance(a, CreateObject)] == []
    assert "6 successful jobs kept, history limit 3" in result.trace.decision


def test_history_cleanup_happens_before_the_new_job():
    cj = hello("Allow", successful_limit=3, failed_limit=1)
    done = [job_for(cj, minute(m), uid=f"u-{m}", finished="Complete", start=minute(m, 1)) for m in (8, 9, 10, 11)]
    cj["status"] = {"lastScheduleTime": format_time(minute(11))}
    result = sync_cronjob(cj, done, minute(12, 0.1))
    kinds = [type(a).__name__ for a in result.actions]
    assert kinds == ["DeleteObject", "CreateObject"]
    assert result.actions[0].name == "hello-29793608"
    assert result.actions[1].obj["metadata"]["name"] == "hello-29793612"


def test_hello_every_minute_keeps_three_successful_jobs():
    """The seed article's demo: a Job hello-<minutes> each minute, each done within seconds; with the default
    history limit of 3, the finished 608-610 give way to 611-613 while 614 runs."""
    cj = hello("Allow", successful_limit=3, failed_limit=1)
    jobs: list[dict] = []
    names = []
    now = minute(8, 0.1)
    memory = None
    for _ in range(7):
        for job in jobs:  # whatever started a minute ago has finished 5 seconds after it started
            if not job["status"].get("conditions"):
                started = datetime.fromisoformat(job["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
                job["status"] = {"startTime": format_time(started),
                                 "completionTime": format_time(started + timedelta(seconds=5)),
                                 "conditions": [{"type": "Complete", "status": "True"}]}
        out = run(cj, jobs, now, memory=memory)
        cj["status"], memory = out.status, out.memory
        deleted = {d.uid for d in out.deleted}
        jobs = [j for j in jobs if j["metadata"]["uid"] not in deleted] + out.created
        names += [j["metadata"]["name"] for j in out.created]
        assert out.requeue == pytest.approx(60 - 0.1 + D)
        now += timedelta(seconds=out.requeue)
    assert names == [f"hello-{29793608 + i}" for i in range(7)]
    assert [j["metadata"]["name"] for j in jobs if j["status"].get("conditions")] == [
        "hello-29793611", "hello-29793612", "hello-29793613"]
    assert [ref["name"] for ref in cj["status"]["active"]] == ["hello-29793614"]
    assert cj["status"]["lastSuccessfulTime"] == "2026-08-25T00:13:05Z"


# --- the Job from the template -----------------------------------------------------------------------------


def test_job_name_annotation_and_owner_reference():
    cj = hello("Allow")
    job = get_job_from_template(cj, datetime(2026, 8, 25, 0, 8, tzinfo=UTC))
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "hello-29793608",
            "namespace": "default",
            "labels": {"a": "b"},
            "annotations": {"x": "y", "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-08-25T00:08:00Z"},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "hello", "uid": "hello-uid",
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": cj["spec"]["jobTemplate"]["spec"],
    }
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] == "foo/bar"


def test_every_other_minute_gives_numbers_two_apart():
    schedule = parse_schedule("*/2 * * * *")
    first = schedule.next(minute(7))
    assert [get_job_name(hello(), t) for t in (first, schedule.next(first))] == ["hello-29793608", "hello-29793610"]


GET_JOB_FROM_TEMPLATE = [
    ("UTC timezone and one annotation", "UTC", {"x": "y"}, "2016-05-19T10:00:00Z", 2),
    ("nil timezone and one annotation", None, {"x": "y"}, "2016-05-19T10:00:00Z", 2),
    ("correct timezone and multiple annotation", "Europe/Rome", {"x": "y", "z": "x"}, "2016-05-19T12:00:00+02:00", 3),
    ("New York timezone", NEW_YORK, {}, "2016-05-19T06:00:00-04:00", 1),
]


@pytest.mark.parametrize("zone, annotations, stamp, count",
                         [p[1:] for p in GET_JOB_FROM_TEMPLATE], ids=[p[0] for p in GET_JOB_FROM_TEMPLATE])
def test_get_job_from_template2(zone, annotations, stamp, count):
    cj = new_cronjob(time_zone=zone)
    cj["spec"]["jobTemplate"]["metadata"]["annotations"] = annotations
    job = get_job_from_template(cj, TOP_OF_THE_HOUR)
    assert job["metadata"]["name"] == "mycronjob-24394200"
    assert job["metadata"]["labels"] == {"a": "b"}
    assert len(job["metadata"]["annotations"]) == count
    assert job["metadata"]["annotations"][CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] == stamp


def test_job_in_new_york_zone_is_created_on_new_york_hours():
    cj = new_cronjob("0 6 * * *", time_zone=NEW_YORK, created=JUST_BEFORE_THE_PRIOR_HOUR)
    result = sync_cronjob(cj, [], datetime(2016, 5, 19, 10, 0, 5, tzinfo=UTC))
    (create,) = [a for a in result.actions if isinstance(a, CreateObject)]
    assert create.obj["metadata"]["annotations"][CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] == "2016-05-19T06:00:00-04:00"
    assert "timeZone America/New_York" in result.trace.observed
    assert result.requeue_after == pytest.approx(24 * HOUR - 5 + D)


# --- utils_test.go -----------------------------------------------------------------------------------------


def after_top(**delta) -> datetime:
    return TOP_OF_THE_HOUR + timedelta(**delta)


def bare_cronjob(schedule: str, created: datetime, last: datetime | None = None, deadline: int | None = None) -> dict:
    cj = {"metadata": {"creationTimestamp": format_time(created)}, "spec": {"schedule": schedule}, "status": {}}
    if last is not None:
        cj["status"]["lastScheduleTime"] = format_time(last)
    if deadline is not None:
        cj["spec"]["startingDeadlineSeconds"] = deadline
    return cj


MOST_RECENT = [
    ("now before next schedule", bare_cronjob("0 * * * *", TOP_OF_THE_HOUR), False, after_top(seconds=30),
     TOP_OF_THE_HOUR, None, "none"),
    ("now just after next schedule", bare_cronjob("0 * * * *", TOP_OF_THE_HOUR), False, after_top(minutes=61),
     TOP_OF_THE_HOUR, after_top(minutes=60), "none"),
    ("missed 5 schedules", bare_cronjob("0 * * * *", after_top(seconds=10)), False, after_top(minutes=301),
     after_top(seconds=10), after_top(minutes=300), "few"),
    ("complex schedule", bare_cronjob("30 6-16/4 * * 1-5", TOP_OF_THE_HOUR, after_top(minutes=30)), False,
     after_top(hours=24, minutes=31), after_top(minutes=30), after_top(hours=24, minutes=30), "few"),
    ("another complex schedule", bare_cronjob("30 10,11,12 * * 1-5", TOP_OF_THE_HOUR, after_top(minutes=30)), False,
     after_top(hours=30, minutes=30), after_top(minutes=30), None, "few"),
    ("complex schedule with longer diff between executions",
     bare_cronjob("30 6-16/4 * * 1-5", TOP_OF_THE_HOUR, after_top(minutes=30)), False,
     after_top(hours=96, minutes=31), after_top(minutes=30), after_top(hours=96, minutes=30), "few"),
    ("complex schedule with shorter diff between executions", bare_cronjob("30 6-16/4 * * 1-5", TOP_OF_THE_HOUR),
     False, after_top(hours=24, minutes=31), TOP_OF_THE_HOUR, after_top(hours=24, minutes=30), "few"),
    ("@every schedule", bare_cronjob("@every 1h", after_top(minutes=-59), after_top(minutes=1), deadline=10), False,
     after_top(days=7), after_top(minutes=1), after_top(days=6, hours=23, minutes=1), "many"),
    ("earliestTime being CreationTimestamp and LastScheduleTime",
     bare_cronjob("0 * * * *", TOP_OF_THE_HOUR, TOP_OF_THE_HOUR), False, after_top(seconds=30), TOP_OF_THE_HOUR,
     None, "none"),
    ("earliestTime being LastScheduleTime", bare_cronjob("*/5 * * * *", TOP_OF_THE_HOUR, after_top(minutes=30)), False,
     after_top(minutes=31), after_top(minutes=30), None, "none"),
    ("earliestTime being LastScheduleTime (within StartingDeadlineSeconds)",
     bare_cronjob("*/5 * * * *", TOP_OF_THE_HOUR, after_top(minutes=30), deadline=60), False,
     after_top(minutes=31), after_top(minutes=30), None, "none"),
    ("earliestTime being LastScheduleTime (outside StartingDeadlineSeconds)",
     bare_cronjob("*/5 * * * *", TOP_OF_THE_HOUR, after_top(minutes=30), deadline=60), True,
     after_top(minutes=32), after_top(minutes=31), None, "none"),
]


@pytest.mark.parametrize("cj, include_sds, now, earliest, most_recent, missed",
                         [m[1:] for m in MOST_RECENT], ids=[m[0] for m in MOST_RECENT])
def test_most_recent_schedule_time(cj, include_sds, now, earliest, most_recent, missed):
    schedule = parse_schedule(cj["spec"]["schedule"])
    assert most_recent_schedule_time(cj, now, schedule, include_sds) == (earliest, most_recent, missed)


def test_most_recent_schedule_time_rogue_cronjob():
    cj = bare_cronjob("59 23 31 2 *", after_top(seconds=10))
    with pytest.raises(ScheduleError, match="^time difference between two schedules is less than 1 second$"):
        most_recent_schedule_time(cj, after_top(hours=1), parse_schedule("59 23 31 2 *"), False)


NEXT_DURATION = [
    ("complex schedule skipping weekend", bare_cronjob("30 6-16/4 * * 1-5", TOP_OF_THE_HOUR, after_top(minutes=30)),
     after_top(hours=24, minutes=31), 3 * HOUR + 59 * MINUTE + D),
    ("another complex schedule skipping weekend",
     bare_cronjob("30 10,11,12 * * 1-5", TOP_OF_THE_HOUR, after_top(minutes=30)), after_top(hours=30, minutes=30),
     66 * HOUR + D),
    ("once a week cronjob, missed two runs", bare_cronjob("0 12 * * 4", TOP_OF_THE_HOUR, after_top(hours=2)),
     after_top(days=19, hours=1, minutes=30), 48 * HOUR + 30 * MINUTE + D),
    ("no previous run of a cronjob", bare_cronjob("0 12 * * 5", TOP_OF_THE_HOUR), after_top(hours=6), 20 * HOUR + D),
]


@pytest.mark.parametrize("cj, now, expected", [n[1:] for n in NEXT_DURATION], ids=[n[0] for n in NEXT_DURATION])
def test_next_schedule_time_duration(cj, now, expected):
    got = next_schedule_time_duration(cj, now, parse_schedule(cj["spec"]["schedule"]))
    assert got == pytest.approx(expected, abs=1e-9)


T1, T2 = TOP_OF_THE_HOUR, TOP_OF_THE_HOUR + timedelta(hours=1)
NEXT_TIME = [
    ("case 1: no known start times, and none needed yet", T1 - timedelta(minutes=10), None, None,
     T1 - timedelta(minutes=7), None),
    ("case 2: no known start times, and one needed", T1 - timedelta(minutes=10), None, None,
     T1 + timedelta(seconds=2), T1),
    ("case 3: known LastScheduleTime, no start needed", T1 - timedelta(minutes=10), T1, None,
     T1 + timedelta(minutes=2), None),
    ("case 4: known LastScheduleTime, a start needed", T1 - timedelta(minutes=10), T1, None,
     T2 + timedelta(minutes=5), T2),
    ("case 5: known LastScheduleTime, two starts needed", T1 - timedelta(hours=2), T1 - timedelta(hours=1), None,
     T2 + timedelta(minutes=5), T2),
    ("case 6: now is way way ahead of last start time, and there is no deadline", T1 - timedelta(hours=2),
     T1 - timedelta(hours=1), None, T2 + timedelta(days=10), T2 + timedelta(days=10)),
    ("case 7: now is way way ahead of last start time, but there is a short deadline", T1 - timedelta(hours=2),
     T1 - timedelta(hours=1), 2 * 60 * 60, T2 + timedelta(days=10), T2 + timedelta(days=10)),
]


@pytest.mark.parametrize("created, last, deadline, now, expected", [n[1:] for n in NEXT_TIME],
                         ids=[n[0] for n in NEXT_TIME])
def test_next_schedule_time(created, last, deadline, now, expected):
    cj = bare_cronjob(ON_THE_HOUR, created, last, deadline)
    scheduled, too_many = next_schedule_time(cj, now, parse_schedule(ON_THE_HOUR))
    assert scheduled == expected
    assert too_many is (deadline is None and now - created > timedelta(days=4))


def test_next_schedule_time_case_8_error_propagates():
    cj = bare_cronjob("59 23 31 2 *", T1 + timedelta(seconds=10))
    with pytest.raises(ScheduleError):
        next_schedule_time(cj, T2, parse_schedule("59 23 31 2 *"))


def _named(name: str, start: datetime | None) -> dict:
    job = {"metadata": {"name": name}, "status": {}}
    if start is not None:
        job["status"]["startTime"] = format_time(start)
    return job


NOW_2018, LATER_2019 = datetime(2018, 1, 1, 2, 3, 4, tzinfo=UTC), datetime(2019, 1, 1, 2, 3, 4, tzinfo=UTC)
BY_START_TIME = [
    ("both have nil start times", [("b", None), ("a", None)], ["a", "b"]),
    ("only the first has a nil start time", [("a", None), ("b", NOW_2018)], ["b", "a"]),
    ("only the second has a nil start time", [("a", NOW_2018), ("b", None)], ["a", "b"]),
    ("both have non-nil, equal start time", [("b", NOW_2018), ("a", NOW_2018)], ["a", "b"]),
    ("both have non-nil, different start time", [("a", LATER_2019), ("b", NOW_2018)], ["b", "a"]),
]


@pytest.mark.parametrize("jobs, expected", [b[1:] for b in BY_START_TIME], ids=[b[0] for b in BY_START_TIME])
def test_by_job_start_time(jobs, expected):
    ordered = sorted((_named(n, s) for n, s in jobs), key=by_job_start_time)
    assert [j["metadata"]["name"] for j in ordered] == expected


# --- determinism and purity --------------------------------------------------------------------------------


def test_deterministic_and_independent_of_job_order():
    cj = hello("Replace", successful_limit=1, failed_limit=1)
    jobs = [job_for(cj, minute(m), uid=f"u-{m}", finished="Complete", start=minute(m)) for m in range(1, 5)]
    running = job_for(cj, minute(5), uid="u-5", start=minute(5))
    jobs.append(running)
    cj["status"] = {"active": [job_object_reference(running)], "lastScheduleTime": format_time(minute(5))}
    before = copy.deepcopy((cj, jobs))
    results = [sync_cronjob(cj, jobs, minute(6, 0.1)) for _ in range(2)]
    results.append(sync_cronjob(cj, list(reversed(jobs)), minute(6, 0.1)))
    assert results[0] == results[1] == results[2]
    assert (cj, jobs) == before


def test_module_exports():
    for name in ("sync_cronjob", "most_recent_schedule_time", "next_schedule_time", "next_schedule_time_duration",
                 "get_job_from_template", "is_job_finished", "CronJobMemory"):
        assert hasattr(cronjobctl, name)
