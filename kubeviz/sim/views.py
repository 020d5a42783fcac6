"""The simulator's own endpoints under ``/sim``: clusters (sandboxes), the clock, and YAML apply.

These are kubeviz's contract with the dashboard, lessons and tests (DESIGN.md "Contracts"); the Kubernetes API
proper lives in ``views.py``.
"""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from controllers.apimachinery.timeutil import format_rfc3339, parse_rfc3339

from kubeviz.classroom.access import NOBODY, visible_clusters
from kubeviz.runtime.forwarding import served_elsewhere
from kubeviz.runtime.host import DONE, MAX_ADVANCE_SECONDS, STOPPED, AdvanceConflict, host
from kubeviz.store import actor, history
from kubeviz.store.models import Cluster
from kubeviz.store.services import (
    NODE,
    SIM_TIME_MAX,
    ClusterError,
    cluster_create,
    clock_json,
    cluster_delete,
    node_add,
    node_conditions,
    publish_clock,
    registry_for,
)

from apiserver import errors
from apiserver.apply import apply_manifests
from apiserver.manifests import ManifestError, load_json
from kubeviz.api.views import (JSON, YAML, api_endpoint, compress_large_responses, get_cluster, json_response,
                               request_body)

from .signals import clock_paused_changed, manifests_applied

logger = logging.getLogger(__name__)


def _json_object(request) -> dict:
    raw = request_body(request, (JSON,))
    if not raw:
        return {}
    try:
        body = load_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    return body


def cluster_json(cluster: Cluster) -> dict:
    return {
        "name": cluster.name,
        "uid": str(cluster.uid),
        "seed": cluster.seed,
        "clock": clock_json(cluster),
        "server": f"/clusters/{cluster.name}",
    }


def _cluster_error(exc: ClusterError) -> errors.StatusError:
    return errors.StatusError(exc.code, exc.reason, exc.message, {})


@api_endpoint
def clusters(request):
    if request.method == "GET":  # in classroom mode, the clusters the caller may see
        clusters = visible_clusters(getattr(request, "kubeviz_principal", None) or NOBODY)
        return json_response({"items": [cluster_json(c) for c in clusters]})
    if request.method != "POST":
        raise errors.method_not_supported("clusters", request.method.lower())
    body = _json_object(request)
    if "recording" in body:  # an import: the recording says the rest (kubeviz/recordings)
        from kubeviz.recordings.views import import_recording, recording_response

        unknown = sorted(set(body) - {"name", "recording"})
        if unknown:
            raise errors.bad_request(f"unknown field(s) beside a recording: {', '.join(unknown)}")
        raw = json.dumps(body["recording"]).encode()
        return recording_response(import_recording(raw, name=body.get("name") or None))
    unknown = sorted(set(body) - {"name", "nodes", "seed", "start", "paused", "speed", "controlPlane"})
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    start = None
    if body.get("start") is not None:
        try:
            start = parse_rfc3339(str(body["start"]))
        except ValueError:
            raise errors.StatusError(
                422, "Invalid", f'start: Invalid value: "{body["start"]}": must be an RFC 3339 time', {}
            ) from None
    paused = body.get("paused", True)
    if not isinstance(paused, bool):
        raise errors.StatusError(422, "Invalid", "paused: must be true or false", {})
    control_plane = body.get("controlPlane", True)
    if not isinstance(control_plane, bool):
        raise errors.StatusError(422, "Invalid", "controlPlane: must be true or false", {})
    speed = _speed(body.get("speed", 1.0))
    try:
        cluster = cluster_create(
            name=body.get("name"), nodes=body.get("nodes", 3), seed=body.get("seed", 0), start=start,
            paused=paused, speed=speed, control_plane=control_plane,
        )
    except ClusterError as exc:
        raise _cluster_error(exc) from None
    return json_response(cluster_json(cluster), status=201)


MIN_SPEED, MAX_SPEED = 0.25, 100.0


def _speed(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not MIN_SPEED <= value <= MAX_SPEED:
        raise errors.StatusError(
            422, "Invalid", f"speed: Invalid value: {json.dumps(value)}: must be a number from {MIN_SPEED} to "
            f"{MAX_SPEED:g}", {},
        )
    return float(value)


@api_endpoint
def cluster_detail(request, cluster):
    if request.method == "GET":
        return json_response(cluster_json(get_cluster(cluster)))
    if request.method == "DELETE":
        try:
            cluster_delete(name=cluster)
        except ClusterError as exc:
            raise _cluster_error(exc) from None
        host.forget(cluster)
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {"name": cluster, "kind": "clusters"}})
    raise errors.method_not_supported("clusters", request.method.lower())


@api_endpoint
def clock(request, cluster):
    obj = get_cluster(cluster)
    if request.method == "GET":
        # a paused clock says what its engine has waiting: the process running the engine knows
        elsewhere = served_elsewhere(request, cluster) if obj.paused and obj.advance_target is None else None
        return elsewhere or json_response(clock_json(obj, pending=host.pending(obj)))
    if request.method != "PATCH":
        raise errors.method_not_supported("clock", request.method.lower())
    elsewhere = served_elsewhere(request, cluster)  # another server process runs its engine
    if elsewhere is not None:
        return elsewhere
    body = _json_object(request)
    unknown = sorted(set(body) - {"paused", "speed"})
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    was_paused = obj.paused
    if "paused" in body:
        if not isinstance(body["paused"], bool):
            raise errors.StatusError(422, "Invalid", "paused: must be true or false", {})
        obj.paused = body["paused"]
    if "speed" in body:
        obj.speed = _speed(body["speed"])
    # Under the engine lock, which a run takes for each slice: the slice under way ends first, and the run sees
    # the change before its next one (a pause also ends an advance going on in the background).
    with host.transaction(cluster):
        obj.save(update_fields=["paused", "speed"])
        host.clock_changed(obj)
        obj.refresh_from_db()  # a run may have moved the clock while this request waited for the lock
        pending = host.pending(obj)
        publish_clock(obj, pending=pending)
        if obj.paused != was_paused:
            clock_paused_changed.send_robust(sender=Cluster, cluster=obj)
    return json_response(clock_json(obj, pending=pending))


@api_endpoint
def clock_advance(request, cluster):
    """POST ``{"seconds": N}``: run every event due in the next N simulated seconds (deterministically), then answer
    the clock (200). A run longer than the request may wait (``"wait"``: wall seconds, KUBEVIZ_ADVANCE_WAIT by
    default) answers 202 with the clock, whose ``advance`` shows where it is heading, and goes on in the
    background. DELETE: cancel the advance going on (the clock stays where it got to)."""
    obj = get_cluster(cluster)
    elsewhere = served_elsewhere(request, cluster)  # another server process runs its engine
    if elsewhere is not None:
        return elsewhere
    if request.method == "DELETE":
        if not host.cancel_advance(obj):
            raise errors.StatusError(404, "NotFound", f'cluster "{cluster}" has no advance going on', {})
        obj.refresh_from_db()
        return json_response(clock_json(obj, pending=host.pending(obj)))
    if request.method != "POST":
        raise errors.method_not_supported("clock/advance", request.method.lower())
    body = _json_object(request)
    unknown = sorted(set(body) - {"seconds", "wait"})
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise errors.StatusError(
            422, "Invalid",
            f"seconds: Invalid value: {json.dumps(seconds)}: must be a number from 0 to {MAX_ADVANCE_SECONDS}", {},
        )
    max_wait = settings.KUBEVIZ_ADVANCE_MAX_WAIT
    wait = body.get("wait", min(settings.KUBEVIZ_ADVANCE_WAIT, max_wait))
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= max_wait:
        raise errors.StatusError(
            422, "Invalid", f"wait: Invalid value: {json.dumps(wait)}: must be a number of seconds from 0 to {max_wait}",
            {},
        )
    if obj.sim_now + timedelta(seconds=seconds) > SIM_TIME_MAX:
        raise errors.StatusError(
            422, "Invalid",
            f"seconds: Invalid value: {json.dumps(seconds)}: the clock cannot pass {format_rfc3339(SIM_TIME_MAX)}", {},
        )
    try:
        outcome = host.advance(obj, seconds, wait=wait)
    except AdvanceConflict:
        obj.refresh_from_db()
        raise errors.StatusError(
            409, "Conflict", f'cluster "{cluster}" is already advancing to {format_rfc3339(obj.advance_target)}: '
            "wait for it, or cancel it with DELETE", {},
        ) from None
    obj.refresh_from_db()
    if outcome == STOPPED:
        raise errors.StatusError(
            409, "Conflict", f"the advance was stopped (paused or cancelled) at {format_rfc3339(obj.sim_now)}", {},
        )
    return json_response(clock_json(obj, pending=host.pending(obj)), status=200 if outcome == DONE else 202)


@api_endpoint
def clock_step(request, cluster):
    """Jump to the next due event and process it (answers the clock; it does not move when nothing is due)."""
    if request.method != "POST":
        raise errors.method_not_supported("clock/step", request.method.lower())
    obj = get_cluster(cluster)
    elsewhere = served_elsewhere(request, cluster)  # another server process runs its engine
    if elsewhere is not None:
        return elsewhere
    host.step(obj)
    obj.refresh_from_db()
    return json_response(clock_json(obj, pending=host.pending(obj)))


def _query_int(request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise errors.bad_request(f"{name}: Invalid value: {json.dumps(raw)}: must be an integer from {low} to {high}")
    return value


def _query_time(request, name: str):
    raw = request.GET.get(name)
    if raw is None:
        return None
    try:
        return parse_rfc3339(raw)
    except ValueError:
        raise errors.bad_request(f"{name}: Invalid value: {json.dumps(raw)}: must be an RFC 3339 time") from None


def _continue(request, kind: str) -> int | None:
    token = request.GET.get("continue")
    if not token:
        return None
    try:
        return history.decode_continue(kind, token)
    except history.HistoryError as exc:
        raise errors.bad_request(str(exc)) from None


@api_endpoint
def traces(request, cluster):
    """The controllers' kept reconcile traces, oldest first. With ``from`` and/or ``to`` (RFC 3339 simulated
    times, both included): every trace in that range, ``limit`` (5000) a page, paged with ``continue``. Without:
    the last ``limit`` (200). ``controller`` and ``object`` filter either."""
    if request.method != "GET":
        raise errors.method_not_supported("traces", request.method.lower())
    obj = get_cluster(cluster)
    controller, subject = request.GET.get("controller", ""), request.GET.get("object", "")
    start, end = _query_time(request, "from"), _query_time(request, "to")
    after = _continue(request, "traces")
    if start is None and end is None and after is None:
        try:
            limit = int(request.GET.get("limit", 200))
        except ValueError:
            raise errors.bad_request("limit must be an integer") from None
        items = history.recent_traces(obj, limit=limit, controller=controller, subject=subject) if limit > 0 else []
        return json_response({"items": items})
    limit = _query_int(request, "limit", history.DEFAULT_LIMIT, low=1, high=history.MAX_LIMIT)
    return json_response(history.trace_range(obj, start=start, end=end, after=after or 0, limit=limit,
                                             controller=controller, subject=subject))


@compress_large_responses
@api_endpoint
def cluster_history(request, cluster):
    """The cluster's kept changes after ``after`` (a resourceVersion; 0: from the oldest kept), oldest first, each
    with its simulated time and who made it; ``kind``, ``apiGroup``, ``namespace`` and ``name`` pick one kind or
    object; ``limit`` (5000) a page, paged with ``continue``."""
    if request.method != "GET":
        raise errors.method_not_supported("history", request.method.lower())
    obj = get_cluster(cluster)
    after = _continue(request, "history")
    if after is None:
        after = _query_int(request, "after", 0, low=0, high=2**63 - 1)
    query = history.HistoryQuery(
        after=after, limit=_query_int(request, "limit", history.DEFAULT_LIMIT, low=1, high=history.MAX_LIMIT),
        kind=request.GET.get("kind", ""), api_group=request.GET.get("apiGroup"),
        namespace=request.GET.get("namespace"), name=request.GET.get("name"),
    )
    return json_response(history.history_page(obj, query))


NODE_FIELDS = {"name", "labels", "taints", "controlPlane"}


@api_endpoint
def nodes(request, cluster):
    """Add a node: a kubelet joins the cluster (its Node and Lease are registered as a kubelet would)."""
    if request.method != "POST":
        raise errors.method_not_supported("nodes", request.method.lower())
    obj = get_cluster(cluster)
    body = _json_object(request)
    unknown = sorted(set(body) - NODE_FIELDS)
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    labels, taints = body.get("labels") or {}, body.get("taints") or []
    if not isinstance(labels, dict) or not isinstance(taints, list):
        raise errors.bad_request("labels must be a mapping and taints a list")
    try:
        with transaction.atomic(), actor.acting_as(actor.system("node joined")):
            node = node_add(cluster=obj, name=body.get("name") or "", labels=labels, taints=taints,
                            control_plane=bool(body.get("controlPlane", False)), door=actor.door_of(request),
                            who=actor.who_of(request) or "")
    except ClusterError as exc:
        raise _cluster_error(exc) from None
    return json_response(node, status=201)


@api_endpoint
def node_health(request, cluster, node, action):
    """``fail``: the node's kubelet stops (its conditions go Unknown, as the node lifecycle controller marks a
    node that stopped posting status); ``recover``: it reports Ready again."""
    if request.method != "POST":
        raise errors.method_not_supported(f"nodes/{action}", request.method.lower())
    registry = registry_for(get_cluster(cluster), door=actor.door_of(request), who=actor.who_of(request) or "")
    what = "kubelet recovered" if action == "recover" else "kubelet stopped"
    with transaction.atomic(), actor.acting_as(actor.system(what)):
        current = registry.get(NODE, "", node)
        status = dict(current.get("status") or {})
        status["conditions"] = node_conditions(status.get("conditions") or [], ready=action == "recover",
                                               now=registry.now_rfc3339())
        updated = registry.update(NODE, "", node, dict(current, status=status), subresource="status").object
    return json_response(updated)


def _announce_apply(cluster: Cluster, **outcome) -> None:
    """Tell ``manifests_applied``'s receivers (the lesson player) of an apply; one that fails is logged, and the
    apply, already done, is still answered."""
    for receiver, result in manifests_applied.send_robust(sender=Cluster, cluster=cluster, **outcome):
        if isinstance(result, Exception):
            logger.error("recording an apply on %s failed in %r", cluster.name, receiver, exc_info=result)


#: What ``apply`` reads: YAML under its usual names, or JSON (a YAML document too).
MANIFEST_MEDIA_TYPES = (YAML, "application/x-yaml", "text/yaml", JSON)


@api_endpoint
def apply(request, cluster):
    """POST YAML (one or many documents); answers each document's outcome, errors at their YAML line."""
    if request.method != "POST":
        raise errors.method_not_supported("apply", request.method.lower())
    obj = get_cluster(cluster)
    dry_run = request.GET.get("dryRun") in ("All", "true", "1")
    namespace = request.GET.get("namespace") or "default"
    limit = settings.KUBEVIZ_MAX_MANIFEST_BYTES
    manifest = request_body(request, MANIFEST_MEDIA_TYPES)
    if len(manifest) > limit:
        raise errors.request_entity_too_large(
            f"the manifest is {len(manifest)} bytes; the limit is {limit} bytes"
        )
    registry = registry_for(obj)
    try:
        with actor.acting_as(actor.user_of(request)):
            results = apply_manifests(
                registry, manifest, namespace=namespace, dry_run=dry_run, max_bytes=limit,
                atomic_document=transaction.atomic,
            )
    except ManifestError as exc:
        if not dry_run:
            _announce_apply(obj, error=exc)
        body = errors.StatusError(exc.status, exc.reason, exc.message, {}).status()
        body["details"]["causes"] = [{"reason": "FieldValueInvalid" if exc.status != 413 else "RequestEntityTooLarge",
                                      "message": exc.message, "field": "", }]
        return json_response({"kind": "ApplyResult", "dryRun": dry_run, "status": body,
                              "errors": [{"message": exc.message, "line": exc.line, "column": exc.column}],
                              "results": []}, status=exc.status)
    if not dry_run:
        _announce_apply(obj, results=results)
    failed = sum(1 for r in results if not r.ok)
    body = {
        "kind": "ApplyResult",
        "dryRun": dry_run,
        "applied": len(results) - failed,
        "failed": failed,
        "results": [r.as_json() for r in results],
    }
    if not results:
        body["status"] = errors.bad_request("no objects passed to apply").status()
        return json_response(body, status=400)
    return json_response(body, status=422 if failed else 200)
