"""The endpoints of recordings, forks and compares (``/sim/...``).

``GET /sim/clusters/<name>/recording`` downloads the cluster's recording; ``POST /sim/recordings`` (or
``POST /sim/clusters`` with ``{"name", "recording"}``) imports one into a new cluster; ``POST
/sim/clusters/<name>/fork`` makes a sandbox from an instant of the cluster's past; ``GET /sim/compare?a=&b=`` shows
two clusters side by side (``compare.py``), as a page or, with ``format=json``, as JSON. In classroom mode the
gate (``kubeviz.classroom.middleware``) has already checked the caller may reach a ``/sim/clusters/<name>`` cluster;
the compare and the import check here, with the same rules (``kubeviz.classroom.access``).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from controllers.apimachinery.timeutil import parse_rfc3339

from apiserver import errors
from apiserver.manifests import load_json
from kubeviz.api.views import JSON, api_endpoint, get_cluster, json_response, request_body
from kubeviz.classroom.access import NOBODY, Access, classroom_mode, cluster_access, request_principal

from . import compare as comparing
from . import format as recording_format
from .services import RecordingError, cluster_fork, free_fork_name, recording_import, recording_of


def _principal(request):
    """Who asks: as the classroom gate found them, else (paths it only asks a login of) from the session."""
    found = getattr(request, "kubeviz_principal", None)
    if found is not None:
        return found
    return request_principal(request) if classroom_mode() else NOBODY


def _refusal(error: RecordingError) -> errors.StatusError:
    reason = {413: "RequestEntityTooLarge", 409: "AlreadyExists", 504: "Timeout"}.get(error.code, "Invalid")
    return errors.StatusError(error.code, reason, error.message, {})


def _cluster_json(cluster) -> dict:
    from kubeviz.sim.views import cluster_json

    body = cluster_json(cluster)
    origin = getattr(cluster, "origin", None)
    if origin is not None and origin.source_name:
        body["forkedFrom"] = {"name": origin.source_name,
                              "at": recording_format.format_rfc3339_micro(origin.forked_at)}
    return body


@api_endpoint
def recording(request, cluster):
    """The cluster's recording, as a JSON file to download."""
    if request.method != "GET":
        raise errors.method_not_supported("recording", request.method.lower())
    try:
        body = recording_format.recording_json(recording_of(get_cluster(cluster)))
    except RecordingError as exc:
        raise _refusal(exc) from None
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=1), content_type=JSON)
    response["Content-Disposition"] = f'attachment; filename="{cluster}.kubeviz.json"'
    return response


def _importer(request):
    """Who an import is for: in classroom mode a learner's cluster is theirs (a teacher's, the teachers')."""
    principal = _principal(request)
    if classroom_mode() and not principal.authenticated:
        raise errors.StatusError(401, "Unauthorized", "Unauthorized", {})
    return principal.learner if classroom_mode() and principal.is_learner else None


def import_recording(raw: bytes, *, name: str | None, learner=None):
    try:
        parsed = recording_format.loads(raw, max_bytes=settings.KUBEVIZ_MAX_RECORDING_BYTES)
        return recording_import(parsed, name=name, learner=learner)
    except RecordingError as exc:
        raise _refusal(exc) from None


@api_endpoint
def recordings(request):
    """POST a recording (the JSON file as the body; ``?name=`` names the new cluster, else the recorded name)."""
    if request.method != "POST":
        raise errors.method_not_supported("recordings", request.method.lower())
    learner = _importer(request)
    raw = _recording_body(request)
    name = request.GET.get("name") or None
    return recording_response(import_recording(raw, name=name, learner=learner))


def _recording_body(request) -> bytes:
    """The recording sent as the body, read from the stream rather than through ``request.body``, whose limit is
    the API's (``DATA_UPLOAD_MAX_MEMORY_SIZE``): a recording may be larger, up to ``KUBEVIZ_MAX_RECORDING_BYTES``
    (``loads`` refuses a larger one by name: a body of declared length is read whole, the middleware having
    bounded it; one sent without its length, to one byte past the limit)."""
    declared = request.META.get("CONTENT_LENGTH")
    raw = request.read() if declared else request.read(settings.KUBEVIZ_MAX_RECORDING_BYTES + 1)
    if raw and (request.content_type or "").lower() != JSON:
        raise errors.unknown_body_format((JSON,))
    return raw


def recording_response(cluster):
    return json_response(_cluster_json(cluster), status=201)


FORK_FIELDS = {"at", "resourceVersion", "name", "seed"}


@api_endpoint
def fork(request, cluster):
    """POST ``{"at": RFC 3339 sim time}`` or ``{"resourceVersion": N}`` (neither: now), ``"name"`` (default
    ``<cluster>-fork-N``) and ``"seed"`` (default the cluster's): a new paused sandbox from that instant."""
    if request.method != "POST":
        raise errors.method_not_supported("fork", request.method.lower())
    source = get_cluster(cluster)
    raw = request_body(request, (JSON,))
    try:
        body = load_json(raw) if raw else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("request body must be a JSON object")
    unknown = sorted(set(body) - FORK_FIELDS)
    if unknown:
        raise errors.bad_request(f"unknown field(s): {', '.join(unknown)}")
    at = None
    if body.get("at") is not None:
        try:
            at = parse_rfc3339(str(body["at"]))
        except ValueError:
            raise errors.StatusError(422, "Invalid", f'at: Invalid value: {json.dumps(body["at"])}: must be an '
                                                     f"RFC 3339 time", {}) from None
    rv = body.get("resourceVersion")
    if rv is not None:
        if isinstance(rv, str) and rv.isdigit():
            rv = int(rv)
        if isinstance(rv, bool) or not isinstance(rv, int) or rv < 0:
            raise errors.StatusError(422, "Invalid", f"resourceVersion: Invalid value: {json.dumps(rv)}: must be a "
                                                     f"resourceVersion of the cluster", {})
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise errors.StatusError(422, "Invalid", "seed: must be an integer", {})
    name = body.get("name") or free_fork_name(source.name)
    try:
        made = cluster_fork(source, name=name, at=at, resource_version=rv, seed=seed)
    except RecordingError as exc:
        raise _refusal(exc) from None
    return json_response(_cluster_json(made), status=201)


@api_endpoint
def compare(request):
    """Two clusters side by side from where they diverged: a page, or its JSON with ``format=json``."""
    if request.method != "GET":
        raise errors.method_not_supported("compare", request.method.lower())
    names = [request.GET.get("a", ""), request.GET.get("b", "")]
    if not all(names):
        raise errors.bad_request("compare needs two clusters: ?a=<cluster>&b=<cluster>")
    principal = _principal(request)
    clusters = []
    for name in names:
        found = get_cluster(name)
        if classroom_mode() and cluster_access(principal, found) < Access.READ:
            # an unknown cluster and a forbidden one are answered alike
            raise errors.StatusError(404, "NotFound", f'clusters "{name}" not found',
                                     {"name": name, "kind": "clusters"})
        clusters.append(found)
    body = comparing.compare(*clusters)
    if request.GET.get("format") == "json":
        return json_response(body)
    return render(request, "recordings/compare.html", {"a": clusters[0], "b": clusters[1], "compare": body})
