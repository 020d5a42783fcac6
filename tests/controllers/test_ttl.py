"""Tests for the TTL-after-finished controller (``controllers.ttl``), after upstream's
ttlafterfinished_controller_test.go (TestTimeLeft, processJob)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from controllers.plan import DeleteObject
from controllers.ttl import sync_ttl_after_finished

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def job(ttl=None, condition=None, finished="2024-06-01T11:59:00Z", deleting=False):
    j = {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": "pi", "namespace": "default", "uid": "job-uid"},
         "spec": {}, "status": {}}
    if ttl is not None:
        j["spec"]["ttlSecondsAfterFinished"] = ttl
    if condition:
        c = {"type": condition, "status": "True"}
        if finished:
            c["lastTransitionTime"] = finished
        j["status"]["conditions"] = [{"type": "SuccessCriteriaMet", "status": "True",
                                      "lastTransitionTime": "2024-06-01T11:00:00Z"}, c]
    if deleting:
        j["metadata"]["deletionTimestamp"] = "2024-06-01T11:59:30Z"
    return j


DELETE = DeleteObject("Job", "default", "pi", "job-uid", propagation_policy="Foreground")


@pytest.mark.parametrize(
    "obj, actions, requeue_after",
    [
        pytest.param(job(ttl=None, condition="Complete"), (), None, id="Error case: Job unfinished or no TTL"),
        pytest.param(job(ttl=100), (), None, id="Job unfinished"),
        pytest.param(job(ttl=100, condition="Complete"), (), 40.0, id="Job completed and TTL not expired"),
        pytest.param(job(ttl=100, condition="Failed"), (), 40.0, id="Job failed and TTL not expired"),
        pytest.param(job(ttl=60, condition="Complete"), (DELETE,), None, id="TTL expires exactly now"),
        pytest.param(job(ttl=10, condition="Failed"), (DELETE,), None, id="Job failed and TTL expired"),
        pytest.param(job(ttl=0, condition="Complete", finished="2024-06-01T12:00:00Z"), (DELETE,), None,
                     id="ttl 0 deletes as soon as finished"),
        pytest.param(job(ttl=10, condition="Complete", deleting=True), (), None, id="Job already being deleted"),
        pytest.param(job(ttl=10, condition="Complete", finished=None), (), None,
                     id="Error case: no finish time"),
        pytest.param(job(ttl=100, condition="Complete", finished="2024-06-01T12:00:30Z"), (), 130.0,
                     id="Job finished in the future (clock skew)"),
    ],
)
def test_sync_ttl_after_finished(obj, actions, requeue_after):
    result = sync_ttl_after_finished(obj, NOW)
    assert result.actions == actions
    assert result.requeue_after == requeue_after
    assert result.status is None


def test_no_finish_time_is_explained():
    result = sync_ttl_after_finished(job(ttl=10, condition="Complete", finished=None), NOW)
    assert result.trace.decision == "unable to find the time when the Job default/pi finished"


def test_requeue_lands_exactly_on_expiry():
    obj = job(ttl=100, condition="Complete")
    wait = sync_ttl_after_finished(obj, NOW).requeue_after
    assert sync_ttl_after_finished(obj, NOW + timedelta(seconds=wait)).actions == (DELETE,)
