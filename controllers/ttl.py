"""The TTL-after-finished controller for Jobs (``pkg/controller/ttlafterfinished/ttlafterfinished_controller.go``).

A Job with ``spec.ttlSecondsAfterFinished`` that has finished (its ``Complete`` or ``Failed`` condition is True)
is deleted at that condition's ``lastTransitionTime`` plus the TTL; ``0`` means as soon as it finishes, unset
means never. Until then the Job is requeued for exactly that moment. The delete uses propagation ``Foreground``
(upstream's choice: the Job stays, with ``deletionTimestamp`` and the ``foregroundDeletion`` finalizer, until the
garbage collector has removed its pods) and the Job's uid as a precondition. The controller records no Events.

Wake-ups (informer handlers): a Job add or update (upstream enqueues only when it has a TTL and has finished,
``needsCleanup``); the requeue does the rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from controllers.job_util import JOB_COMPLETE, JOB_FAILED, is_job_finished
from controllers.objects import meta as _meta, status as _status
from controllers.plan import DeleteObject, SyncResult, Trace
from controllers.pods import CONDITION_TRUE, format_time, parse_time

CONTROLLER = "ttl-after-finished"
#: ``metav1.DeletePropagationForeground``, what upstream deletes finished Jobs with.
PROPAGATION_POLICY = "Foreground"


def needs_cleanup(job: Mapping) -> bool:
    """``needsCleanup``: the Job has a TTL and has finished."""
    return (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and is_job_finished(job)


def sync_ttl_after_finished(job: dict, now: datetime) -> SyncResult:
    """``processJob`` for one Job: delete it once its TTL after finishing has expired, else requeue for then."""
    meta = _meta(job)
    namespace, name = meta.get("namespace") or "default", meta.get("name") or ""
    key = f"{namespace}/{name}"
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")

    def result(observed: str, decision: str, actions=(), requeue_after=None, notes=()) -> SyncResult:
        trace = Trace(CONTROLLER, key, "Job added or updated, or its TTL timer fired", observed, decision, tuple(notes))
        return SyncResult(tuple(actions), None, requeue_after, trace)

    if meta.get("deletionTimestamp"):
        return result("the Job is already being deleted", "nothing to do")
    if ttl is None:
        return result("no ttlSecondsAfterFinished", "nothing to do: the Job is kept until someone deletes it")
    if not is_job_finished(job):
        return result(f"ttlSecondsAfterFinished={ttl}, but the Job has not finished",
                      "nothing to do until it finishes")
    finished_at = job_finished_time(job)
    if finished_at is None:
        return result("the finished condition has no lastTransitionTime",
                      f"unable to find the time when the Job {key} finished")
    expire_at = finished_at + timedelta(seconds=int(ttl))
    remaining = (expire_at - now).total_seconds()
    observed = (f"finished at {format_time(finished_at)}, ttlSecondsAfterFinished={ttl}: "
                f"expires at {format_time(expire_at)}")
    if remaining > 0:
        return result(observed, f"keep the Job for {remaining:g}s more", requeue_after=remaining)
    delete = DeleteObject("Job", namespace, name, meta.get("uid") or "", propagation_policy=PROPAGATION_POLICY)
    return result(observed, "TTL expired: delete the Job and, in the foreground, its pods", actions=(delete,),
                  notes=(f"delete job {key} (propagationPolicy {PROPAGATION_POLICY}, uid precondition)",))


def job_finished_time(job: dict) -> datetime | None:
    """When the Job finished (``jobFinishTime``): ``lastTransitionTime`` of its ``Complete``/``Failed`` True
    condition, else None. This is what ``ttlSecondsAfterFinished`` is added to.
    """
    for condition in _status(job).get("conditions") or []:
        if condition.get("type") in (JOB_COMPLETE, JOB_FAILED) and condition.get("status") == CONDITION_TRUE:
            return parse_time(condition.get("lastTransitionTime"))
    return None
