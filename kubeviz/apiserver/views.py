"""The Kubernetes REST surface of one simulated cluster, under ``/clusters/<name>``.

Paths below the prefix are Kubernetes' own (``/api/v1/namespaces/default/pods``, ``/apis/batch/v1/...``), so
kubectl and the official clients work unchanged. Every answer is JSON; every failure a ``metav1.Status``.
Views stay thin: they parse the request, call the registry inside a transaction, and shape the response.
"""

import json
import logging
from datetime import timedelta

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from controllers.apimachinery.timeutil import format_rfc3339_micro, parse_rfc3339

from kubeviz.store.models import Cluster
from kubeviz.store.services import registry_for

from . import discovery, errors
from .resources import ResourceType, resource_for_path

logger = logging.getLogger(__name__)

JSON = "application/json"


def json_response(body, status=200, headers=None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False), status=status, content_type=JSON
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def status_response(error: errors.StatusError) -> HttpResponse:
    return json_response(error.status(), status=error.code)


def api_endpoint(view):
    """Turn StatusErrors (and anything unexpected) into Status JSON; exempt from CSRF like any API."""

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except errors.StatusError as error:
            return status_response(error)
        except Exception:  # noqa: BLE001 - the API never answers with a stack trace
            logger.exception("unhandled error serving %s %s", request.method, request.path)
            return status_response(errors.internal_error("the server could not handle the request"))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def get_cluster(name: str) -> Cluster:
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise errors.StatusError(404, "NotFound", f'clusters "{name}" not found', {"name": name, "kind": "clusters"})
    return cluster


def _query_flag_dry_run(request) -> bool:
    values = request.GET.getlist("dryRun")
    for value in values:
        if value != "All":
            raise errors.bad_request(f'dryRun values must be "All", not {value!r}')
    return bool(values)


def _read_json_body(request, resource: ResourceType):
    content_type = (request.content_type or "").lower()
    if content_type == "application/vnd.kubernetes.protobuf":
        raise errors.unsupported_media_type(content_type)
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _list_body(resource: ResourceType, items: list[dict], rv: str) -> dict:
    for item in items:
        item.setdefault("apiVersion", resource.api_version)
        item.setdefault("kind", resource.kind)
    return {
        "kind": resource.list_kind,
        "apiVersion": resource.api_version,
        "metadata": {"resourceVersion": rv},
        "items": items,
    }


def _warning_headers(warnings) -> dict:
    if not warnings:
        return {}
    return {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)}


@api_endpoint
def version(request, cluster):
    get_cluster(cluster)
    return json_response(discovery.version_info())


@api_endpoint
def kube_api(request, cluster, path):
    """Route a Kubernetes API path: ``api/v1/...`` or ``apis/<group>/<version>/...``."""
    parts = [p for p in path.split("/") if p != ""]
    if path.endswith("/") and path.strip("/"):
        raise errors.not_found_path()
    if parts and parts[0] == "api":
        group, rest = "", parts[1:]
    elif parts and parts[0] == "apis":
        if len(parts) == 1:
            get_cluster(cluster)
            return json_response(discovery.api_group_list())
        group, rest = parts[1], parts[2:]
        if not rest:
            get_cluster(cluster)
            body = discovery.api_group(group)
            if body is None:
                raise errors.not_found_path()
            return json_response(body)
    else:
        raise errors.not_found_path()
    if not rest:
        get_cluster(cluster)
        return json_response(discovery.api_versions())
    version_, rest = rest[0], rest[1:]
    if not rest:
        get_cluster(cluster)
        body = discovery.api_resource_list(group, version_)
        if body is None:
            raise errors.not_found_path()
        return json_response(body)

    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = resource_for_path(group, version_, rest[0])
    if resource is None or (namespace is not None and not resource.namespaced) or len(rest) > 3:
        raise errors.not_found_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    if subresource and subresource not in resource.subresources:
        raise errors.not_found_path()
    if resource.namespaced and name is not None and namespace is None:
        raise errors.not_found_path()
    registry = registry_for(get_cluster(cluster))
    if name is None:
        return _collection(request, registry, resource, namespace)
    if subresource == "log":
        return _pod_log(request, registry, resource, namespace, name)
    return _item(request, registry, resource, namespace or "", name, subresource)


def _collection(request, registry, resource, namespace):
    method = request.method
    if method == "GET":
        if request.GET.get("watch") in ("true", "1"):
            raise errors.StatusError(
                405, "MethodNotAllowed", "watch is not supported by this server yet", {}
            )
        items, rv = registry.list(
            resource,
            namespace,
            label_selector=request.GET.get("labelSelector", ""),
            field_selector=request.GET.get("fieldSelector", ""),
        )
        return json_response(_list_body(resource, items, rv))
    if method == "POST":
        if resource.namespaced and namespace is None:
            raise errors.not_found_path()
        body = _read_json_body(request, resource)
        with transaction.atomic():
            result = registry.create(
                resource,
                namespace or "",
                body,
                dry_run=_query_flag_dry_run(request),
                field_validation=request.GET.get("fieldValidation", "Strict"),
            )
        return json_response(result.object, status=201, headers=_warning_headers(result.warnings))
    if method == "DELETE":
        raise errors.method_not_supported(resource.plural, "deletecollection")
    raise errors.method_not_supported(resource.plural, method.lower())


def _delete_options(request) -> dict:
    options = {}
    if request.body:
        try:
            options = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
        if not isinstance(options, dict):
            raise errors.bad_request("DeleteOptions must be a JSON object")
    if "propagationPolicy" in request.GET:
        options["propagationPolicy"] = request.GET["propagationPolicy"]
    if "gracePeriodSeconds" in request.GET:
        try:
            options["gracePeriodSeconds"] = int(request.GET["gracePeriodSeconds"])
        except ValueError:
            raise errors.bad_request("gracePeriodSeconds must be an integer") from None
    if options.get("orphanDependents") is not None and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan" if options["orphanDependents"] else "Background"
    return options


def _item(request, registry, resource, namespace, name, subresource):
    method = request.method
    ns = namespace if resource.namespaced else ""
    dry_run = _query_flag_dry_run(request) if method != "GET" else False
    field_validation = request.GET.get("fieldValidation", "Strict")
    if method == "GET":
        obj = registry.get(resource, ns, name)
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        return json_response(obj)
    if method == "PUT":
        body = _read_json_body(request, resource)
        with transaction.atomic():
            result = registry.update(
                resource, ns, name, body, subresource=subresource, dry_run=dry_run,
                field_validation=field_validation,
            )
        return json_response(result.object, headers=_warning_headers(result.warnings))
    if method == "PATCH":
        with transaction.atomic():
            result = registry.patch(
                resource, ns, name, request.body, request.META.get("CONTENT_TYPE", ""),
                subresource=subresource, dry_run=dry_run, field_validation=field_validation,
                force=request.GET.get("force") == "true",
            )
        return json_response(result.object, status=201 if result.created else 200,
                             headers=_warning_headers(result.warnings))
    if method == "DELETE":
        if subresource:
            raise errors.method_not_supported(f"{resource.plural}/{subresource}", "delete")
        options = _delete_options(request)
        dry_run = dry_run or options.get("dryRun") == ["All"]
        with transaction.atomic():
            before = registry.get(resource, ns, name)
            obj = registry.delete(
                resource, ns, name,
                propagation_policy=options.get("propagationPolicy"),
                grace_period_seconds=options.get("gracePeriodSeconds"),
                preconditions=options.get("preconditions"),
                dry_run=dry_run,
            )
            still_there = dry_run or registry.storage.get(resource, ns, name) is not None
        # Pods answer with the object even once it is gone (the pod registry's ReturnDeletedObject).
        if still_there or resource.kind == "Pod":
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            return json_response(obj)
        details = {"name": name, "kind": resource.plural, "uid": before["metadata"]["uid"]}
        if resource.group:
            details["group"] = resource.group
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        )
    raise errors.method_not_supported(resource.plural, method.lower())


def _int_param(request, name: str) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"{name}: Invalid value: {raw!r}: must be an integer") from None
    if value < 0 or (name in ("sinceSeconds", "limitBytes") and value == 0):
        raise errors.StatusError(422, "Invalid", f"PodLogOptions \"\" is invalid: {name}: Invalid value: {value}: "
                                 f"must be greater than 0", {})
    return value


def _pod_log(request, registry, resource, namespace, name):
    """pods/log: what the simulated kubelet recorded, with kubectl's options (tail, timestamps, previous...)."""
    if request.method != "GET":
        raise errors.method_not_supported("pods/log", request.method.lower())
    pod = registry.get(resource, namespace, name)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    containers = [c["name"] for c in spec.get("containers") or []]
    container = request.GET.get("container") or (containers[0] if len(containers) == 1 else "")
    if not container:
        raise errors.bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
    if container not in containers:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    if not spec.get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    state = next((s for s in status.get("containerStatuses") or [] if s.get("name") == container), None)
    restarts = (state or {}).get("restartCount", 0)
    previous = request.GET.get("previous") in ("true", "1")
    run = restarts - 1 if previous else restarts
    uid = pod["metadata"]["uid"]
    lines = registry.storage.read_log(namespace, name, uid, container, run) if run >= 0 else None
    if lines is None:
        if previous:
            raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        waiting = ((state or {}).get("state") or {}).get("waiting")
        if state is None or (waiting is not None and not restarts):
            reason = (waiting or {}).get("reason", "ContainerCreating")
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        lines = []
    since_seconds, since_time = _int_param(request, "sinceSeconds"), request.GET.get("sinceTime")
    if since_seconds is not None or since_time:
        cutoff = (format_rfc3339_micro(registry.storage.now() - timedelta(seconds=since_seconds))
                  if since_seconds is not None else since_time)
        try:
            cutoff_time = parse_rfc3339(cutoff)
        except ValueError:
            raise errors.bad_request(f"sinceTime: invalid RFC 3339 time {since_time!r}") from None
        lines = [line for line in lines if parse_rfc3339(line[0]) >= cutoff_time]
    tail = _int_param(request, "tailLines")
    if tail is not None:
        lines = lines[-tail:] if tail else []
    timestamps = request.GET.get("timestamps") in ("true", "1")
    text = "".join(
        (f"{_nano(stamp)} {line}\n" if timestamps else f"{line}\n") for stamp, line in lines
    )
    data = text.encode()
    limit = _int_param(request, "limitBytes")
    if limit is not None:
        data = data[:limit]
    return HttpResponse(data, content_type="text/plain")


def _nano(stamp: str) -> str:
    """kubelet log timestamps are RFC 3339 with nanoseconds: 2025-01-01T00:00:05.000000000Z."""
    moment = parse_rfc3339(stamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


@api_endpoint
def api_not_found(request, *args, **kwargs):
    raise errors.not_found_path()


def page_not_found(request, exception=None):
    return status_response(errors.not_found_path())


def server_error(request):
    return status_response(errors.internal_error("the server could not handle the request"))
