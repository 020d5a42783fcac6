"""Two clusters side by side from the instant they diverged: pods by phase over time, the Jobs' and DaemonSets'
conditions and status, and the events since.

They diverged where one was forked from the other (the fork's instant), else at the first input their logs do not
share, else at the later of their clocks (two replays of one recording never diverge). Pods by phase are read from
each cluster's kept history (``Change`` with its ``sim_time``), the rest from the objects as they are now.
"""

from __future__ import annotations

from datetime import datetime

from controllers.apimachinery.timeutil import format_rfc3339_micro, parse_rfc3339

from kubeviz.store.models import Change, Cluster, StoredObject

from .format import step_json
from .models import Origin
from .services import RecordingError, recording_of

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
#: The most points of a pods-by-phase series (a long history is sampled evenly).
MAX_POINTS = 400
MAX_EVENTS = 200


def divergence(a: Cluster, b: Cluster) -> datetime:
    """The simulated instant from which ``a`` and ``b`` differ (module docstring)."""
    for first, second in ((a, b), (b, a)):
        origin = Origin.objects.filter(cluster=second).first()
        if origin is not None and origin.source_id == first.pk and origin.forked_at is not None:
            return origin.forked_at
    try:
        ra, rb = recording_of(a), recording_of(b)
    except RecordingError:
        return min(a.sim_now, b.sim_now)
    if (ra.seed, ra.nodes, ra.control_plane, ra.start, ra.quota) != (rb.seed, rb.nodes, rb.control_plane, rb.start,
                                                                     rb.quota):
        return min(ra.start, rb.start)
    for sa, sb in zip(ra.steps, rb.steps):
        if step_json(sa) != step_json(sb):
            return min(sa.time, sb.time)
    return min(a.sim_now, b.sim_now)


def pods_by_phase(cluster: Cluster, since: datetime) -> list[dict]:
    """``[{"time", "Pending": n, "Running": n, ...}]``: how many pods were in each phase from ``since`` on, a point
    at ``since`` and at each instant a pod changed after it."""
    phases: dict[tuple, str] = {}
    points: list[dict] = []

    def point(at):
        counts = {phase: 0 for phase in PHASES}
        for phase in phases.values():
            counts[phase if phase in counts else "Unknown"] += 1
        entry = {"time": format_rfc3339_micro(at), **counts}
        if points and points[-1]["time"] == entry["time"]:
            points[-1] = entry
        else:
            points.append(entry)

    started = False
    rows = Change.objects.filter(cluster=cluster, kind="Pod", api_group="").order_by("resource_version") \
        .values_list("type", "namespace", "name", "sim_time", "data")
    for type_, namespace, name, sim_time, data in rows.iterator():
        if sim_time is not None and sim_time > since and not started:
            point(since)
            started = True
        if type_ == "DELETED":
            phases.pop((namespace, name), None)
        else:
            phases[(namespace, name)] = (data.get("status") or {}).get("phase") or "Pending"
        if started:
            point(sim_time)
    if not started:
        point(since)
    point(cluster.sim_now if cluster.sim_now >= since else since)
    if len(points) > MAX_POINTS:
        step = len(points) / MAX_POINTS
        points = [points[int(i * step)] for i in range(MAX_POINTS - 1)] + [points[-1]]
    return points


def _objects(cluster: Cluster, group: str, kind: str) -> list[dict]:
    return [data for data in StoredObject.objects.filter(cluster=cluster, api_group=group, kind=kind)
            .order_by("namespace", "name").values_list("data", flat=True)]


def workloads(cluster: Cluster) -> list[dict]:
    """Each Job's and DaemonSet's status as kubectl shows it, with its conditions."""
    found = []
    for job in _objects(cluster, "batch", "Job"):
        status = job.get("status") or {}
        found.append({
            "kind": "Job", "namespace": job["metadata"].get("namespace", ""), "name": job["metadata"]["name"],
            "summary": {key: status.get(key, 0) for key in ("active", "ready", "succeeded", "failed")},
            "conditions": [_condition(c) for c in status.get("conditions") or ()],
        })
    for ds in _objects(cluster, "apps", "DaemonSet"):
        status = ds.get("status") or {}
        found.append({
            "kind": "DaemonSet", "namespace": ds["metadata"].get("namespace", ""), "name": ds["metadata"]["name"],
            "summary": {"desired": status.get("desiredNumberScheduled", 0),
                        "current": status.get("currentNumberScheduled", 0),
                        "ready": status.get("numberReady", 0),
                        "upToDate": status.get("updatedNumberScheduled", 0),
                        "available": status.get("numberAvailable", 0)},
            "conditions": [_condition(c) for c in status.get("conditions") or ()],
        })
    return found


def _condition(condition: dict) -> dict:
    return {key: condition.get(key, "") for key in ("type", "status", "reason", "message", "lastTransitionTime")}


def events(cluster: Cluster, since: datetime) -> list[dict]:
    """The Events whose last occurrence is at or after ``since``, oldest first (the last ``MAX_EVENTS``)."""
    found = []
    for event in _objects(cluster, "", "Event"):
        stamp = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
        try:
            at = parse_rfc3339(stamp)
        except (TypeError, ValueError):
            continue
        if at < since:
            continue
        involved = event.get("involvedObject") or {}
        found.append({"time": format_rfc3339_micro(at), "type": event.get("type", ""),
                      "reason": event.get("reason", ""), "object": f"{involved.get('kind', '')}/"
                                                                   f"{involved.get('name', '')}",
                      "message": event.get("message", ""), "count": event.get("count", 1)})
    found.sort(key=lambda e: e["time"])
    return found[-MAX_EVENTS:]


def side(cluster: Cluster, since: datetime) -> dict:
    return {"name": cluster.name, "seed": cluster.seed, "now": format_rfc3339_micro(cluster.sim_now),
            "resourceVersion": cluster.resource_version, "pods": pods_by_phase(cluster, since),
            "workloads": workloads(cluster), "events": events(cluster, since)}


def compare(a: Cluster, b: Cluster) -> dict:
    since = divergence(a, b)
    return {"kind": "ClusterComparison", "divergedAt": format_rfc3339_micro(since), "phases": list(PHASES),
            "a": side(a, since), "b": side(b, since)}
