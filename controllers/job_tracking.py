"""Job tracking with finalizers: upstream ``pkg/controller/job/tracking_utils.go``.

A pod the Job controller creates carries the ``batch.kubernetes.io/job-tracking`` finalizer until the controller
has counted it in the Job's status; only then may the pod go. Upstream's file also holds
``uidTrackingExpectations``, the in-memory set of pods whose finalizer removal the controller has asked for and not
yet observed: here that set is ``JobMemory.expected_rm_finalizers`` (``controllers.job``), returned with every
plan. Its remaining functions only feed metrics.
"""

from __future__ import annotations

from controllers.job_util import JOB_TRACKING_FINALIZER
from controllers.objects import meta as _meta


def has_job_tracking_finalizer(pod: dict) -> bool:
    return JOB_TRACKING_FINALIZER in (_meta(pod).get("finalizers") or [])
