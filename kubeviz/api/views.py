"""The Kubernetes REST surface of one simulated cluster, under ``/clusters/<name>``.

Paths below the prefix are Kubernetes' own (``/api/v1/namespaces/default/pods``, ``/apis/batch/v1/...``), so
kubectl and the official clients work unchanged. Every answer is JSON; every failure a ``metav1.Status``.
Views stay thin: they parse the request, call the registry inside a transaction, and shape the response.
"""

import functools
import gzip
import json
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from controllers.apimachinery.timeutil import format_rfc3339_micro, parse_rfc3339

from kubeviz.store.models import Cluster
from kubeviz.store.actor import acting_as, user_of
from kubeviz.sim.signals import api_write_answered
from kubeviz.store.services import registry_for

from apiserver import discovery, errors, kinds, openapi, paging, printers, protobuf
from apiserver.goencoding import INT64_MAX, INT64_MIN
from apiserver.manifests import ManifestError, load_documents, load_json
from apiserver.registry import delete_warnings, validate_delete_options
from apiserver.kinds import ResourceType, resource_for_path

from . import logstream, watch

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
    """Turn StatusErrors (and anything unexpected) into Status JSON."""

    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except errors.StatusError as error:
            return status_response(error)
        except RequestDataTooBig:  # a body sent without its length (the middleware refuses the others)
            return status_response(errors.body_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        except Exception:  # noqa: BLE001 - the API never answers with a stack trace
            logger.exception("unhandled error serving %s %s", request.method, request.path)
            return status_response(errors.internal_error("the server could not handle the request"))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# A response body larger than this is gzipped for a client that accepts it (the APIResponseCompression feature,
# on by default: responsewriters.go's defaultGzipThresholdBytes, at gzip's fastest level).
GZIP_THRESHOLD_BYTES = 128 * 1024


def _accepts_gzip(request) -> bool:
    """``negotiateContentEncoding``: some comma-separated token of Accept-Encoding is exactly ``gzip``."""
    return any(token.strip() == "gzip" for token in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","))


def compress_large_responses(view):
    """Gzip what ``view`` answers as the API server's ``SerializeObject`` does: a JSON body over the threshold,
    for a client that accepts gzip, with ``Content-Encoding: gzip`` and ``Vary: Accept-Encoding``. Streams
    (watches, logs) are not objects and stay as they are, as do the simulator's HTML pages (where a secret
    beside what a page reflects would leak through the compressed length: BREACH)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if (not response.streaming and response.get("Content-Type", "").startswith(JSON)
                and len(response.content) > GZIP_THRESHOLD_BYTES and _accepts_gzip(request)):
            response.content = gzip.compress(response.content, compresslevel=1, mtime=0)
            response["Content-Encoding"] = "gzip"
            patch_vary_headers(response, ["Accept-Encoding"])
        return response

    return wrapper


def kubernetes_endpoint(view):
    """An endpoint of the Kubernetes API: an ``api_endpoint`` that asks for no CSRF token, which kubectl and the
    client libraries cannot send; a browser on another origin is refused before it reaches one
    (``kubeviz.security.cross_site_refusal``)."""
    return csrf_exempt(api_endpoint(view))


def get_cluster(name: str) -> Cluster:
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise errors.StatusError(404, "NotFound", f'clusters "{name}" not found', {"name": name, "kind": "clusters"})
    return cluster


def request_cluster(request, name: str) -> Cluster:
    """``get_cluster(name)``, or the cluster classroom mode's authorization already found for this request (one
    query fewer on every call through a capability)."""
    found = getattr(request, "kubeviz_cluster", None)
    if found is not None and found.name == name:
        return found
    return get_cluster(name)


def _query_flag_dry_run(request) -> bool:
    values = request.GET.getlist("dryRun")
    for value in values:
        if value != "All":
            raise errors.bad_request(f'dryRun values must be "All", not {value!r}')
    return bool(values)


YAML = "application/yaml"
# What a request body may be (an empty Content-Type is read as the first), and upstream's answer to the rest.
BODY_MEDIA_TYPES = (JSON, YAML, protobuf.MEDIA_TYPE)


def request_body(request, media_types) -> bytes:
    """The body of a request to the simulator's own endpoints (``/sim``, the console, the lesson panel), whose
    Content-Type must be one of ``media_types`` (415 otherwise): a page on another site can send a body without
    asking first only as text/plain, a form or multipart, so none of those is read. An empty body needs none."""
    body = request.body
    if body and (request.content_type or "").lower() not in media_types:
        raise errors.unknown_body_format(media_types)
    return body


def _read_json_body(request, resource: ResourceType, registry=None, namespace: str = ""):
    content_type = (request.content_type or "").lower()
    if content_type and content_type not in BODY_MEDIA_TYPES:
        raise errors.unknown_body_format(BODY_MEDIA_TYPES)
    if content_type == protobuf.MEDIA_TYPE:
        # client-go 1.32's typed clients (kubectl create job/cronjob/namespace) send protobuf; answers stay JSON.
        try:
            return kinds.decode_protobuf(request.body, lookup_owner=_owner_lookup(registry, namespace))
        except protobuf.ProtobufError as exc:
            raise errors.StatusError(415, "UnsupportedMediaType", str(exc), {}) from None
    if content_type == YAML:
        # As the API server's YAML serializer (sigs.k8s.io/yaml): the first document, converted to JSON.
        try:
            documents = load_documents(request.body)
        except ManifestError as exc:
            if exc.status != 400:  # too big
                raise errors.StatusError(exc.status, exc.reason, exc.message, {}) from None
            where = f"line {exc.line}: " if exc.line else ""
            raise errors.bad_request(f"error converting YAML to JSON: yaml: {where}{exc.message}") from None
        return documents[0].obj if documents else None
    try:
        return load_json(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _list_body(resource: ResourceType, chunk: paging.Chunk) -> dict:
    for item in chunk.items:
        item.setdefault("apiVersion", resource.api_version)
        item.setdefault("kind", resource.kind)
    return {
        "kind": resource.list_kind,
        "apiVersion": resource.api_version,
        "metadata": chunk.list_meta,
        "items": chunk.items,
    }


def _owner_lookup(registry, namespace: str):
    """For the protobuf decoder: the stored object a Job's ownerReference names (``create job --from``)."""
    if registry is None:
        return None

    def lookup(uid: str):
        found = registry.storage.find_by_uid(uid)
        if found is None or (found[1].get("metadata") or {}).get("namespace", "") != namespace:
            return None
        return found[1]

    return lookup


def _table_version(request) -> str | None:
    return printers.negotiate_table_version(request.META.get("HTTP_ACCEPT", ""))


def _include_object(request) -> str:
    try:
        return printers.include_object_param(request.GET.get("includeObject"))
    except ValueError as exc:
        raise errors.bad_request(str(exc)) from None


def _table_response(request, registry, resource: ResourceType, objects: list[dict], rv: str, version: str,
                    list_meta: dict | None = None):
    """The Table of ``objects``; a list's carries the list's ``list_meta`` (continue, remainingItemCount), as the
    table convertor copies it."""
    body = kinds.table(resource.kind, objects, registry.storage.now(), include_object=_include_object(request),
                       resource_version=rv, api_version=version)
    if list_meta:
        body["metadata"] = {**body["metadata"], **list_meta}
    return json_response(body)


def _warned(response: HttpResponse, headers: dict) -> HttpResponse:
    """An error answered with the warnings the request had gathered before it failed (the API server sends what
    ``warning.AddWarning`` recorded whatever the outcome: a Job's delete warns even when the Job is not found)."""
    for key, value in headers.items():
        response[key] = value
    return response


def _warning_headers(warnings) -> dict:
    if not warnings:
        return {}
    # RFC 7234 warn-text is a quoted-string: its quotes and backslashes escaped, as the API server's
    # NewWarningHeader writes it (client-go unquotes it before kubectl prints "Warning: ...").
    quoted = (w.replace("\\", "\\\\").replace('"', '\\"') for w in warnings)
    return {"Warning": ", ".join(f'299 - "{w}"' for w in quoted)}


@kubernetes_endpoint
def version(request, cluster):
    get_cluster(cluster)
    return json_response(discovery.version_info())


@compress_large_responses
@kubernetes_endpoint
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
    if resource is None or (namespace is not None and not resource.namespaced):
        raise errors.not_found_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    if (resource.group, resource.plural, subresource) in SIMULATED_AWAY:
        get_cluster(cluster)
        raise simulated_away(resource, subresource, name or "")
    if len(rest) > 3:
        raise errors.not_found_path()
    if subresource and subresource not in resource.subresources:
        raise errors.not_found_path()
    if resource.namespaced and name is not None and namespace is None:
        raise errors.not_found_path()
    found = request_cluster(request, cluster)
    registry = registry_for(found)
    actor = user_of(request)
    writes = request.method in WRITE_METHODS and "dryRun" not in request.GET
    try:
        with acting_as(actor):
            if name is None:
                response = _collection(request, registry, resource, namespace)
            elif subresource == "log":
                response = _pod_log(request, registry, resource, namespace, name)
            else:
                response = _item(request, registry, resource, namespace or "", name, subresource)
    except errors.StatusError as error:
        if writes:
            api_write_answered.send_robust(sender=Cluster, cluster=found, door=actor["door"], error=error)
        raise
    if writes:
        api_write_answered.send_robust(sender=Cluster, cluster=found, door=actor["door"], error=None)
    return response


#: The methods of the Kubernetes API that write.
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# Subresources that need a real container runtime or network: answered at once with a Status saying so,
# instead of an upgrade that never comes (kubectl would hang).
SIMULATED_AWAY = {
    ("", "pods", "exec"), ("", "pods", "attach"), ("", "pods", "portforward"), ("", "pods", "proxy"),
    ("", "pods", "eviction"), ("", "pods", "binding"), ("", "pods", "ephemeralcontainers"), ("", "pods", "resize"),
    ("", "nodes", "proxy"),
}


def simulated_away(resource: ResourceType, subresource: str, name: str) -> errors.StatusError:
    what = {"exec": "exec into containers", "attach": "attach to containers", "portforward": "forward ports",
            "proxy": "proxy connections", "eviction": "evict pods (the Eviction API)",
            "binding": "bind pods through the API", "ephemeralcontainers": "add ephemeral containers",
            "resize": "resize running pods"}[subresource]
    details = {"name": name, "kind": f"{resource.plural}/{subresource}"} if name else {}
    return errors.StatusError(
        405, "MethodNotAllowed",
        f"{resource.plural}/{subresource} is not available: this is a simulated kubeviz cluster whose containers "
        f"do not really run, so it cannot {what}",
        details,
    )


def _query_int64(request, name: str) -> int:
    """An integer of ListOptions as the parameter codec reads it (Go's ``strconv.ParseInt``); 0 when absent."""
    values = request.GET.getlist(name)
    if not values:
        return 0
    raw = values[0]
    if not re.fullmatch(r"[+-]?[0-9]+", raw):
        raise errors.bad_request(f"strconv.ParseInt: parsing {json.dumps(raw, ensure_ascii=False)}: invalid syntax")
    if not INT64_MIN <= int(raw) <= INT64_MAX:
        raise errors.bad_request(f"strconv.ParseInt: parsing {json.dumps(raw)}: value out of range")
    return int(raw)


def _is_watch(request) -> bool:
    return request.GET.get("watch") in ("true", "1")


def _collection(request, registry, resource, namespace):
    method = request.method
    if method == "GET":
        limit = _query_int64(request, "limit")
        if _is_watch(request):
            return _watch(request, registry, resource, namespace)
        chunk = registry.get_list(
            resource,
            namespace,
            label_selector=request.GET.get("labelSelector", ""),
            field_selector=request.GET.get("fieldSelector", ""),
            limit=limit,
            continue_=request.GET.get("continue", ""),
            resource_version=request.GET.get("resourceVersion", ""),
            resource_version_match=request.GET.get("resourceVersionMatch", ""),
        )
        table_version = _table_version(request)
        if table_version:
            return _table_response(request, registry, resource, chunk.items, chunk.resource_version, table_version,
                                   chunk.list_meta)
        return json_response(_list_body(resource, chunk))
    if method == "POST":
        if resource.namespaced and namespace is None:
            raise errors.not_found_path()
        body = _read_json_body(request, resource, registry, namespace or "")
        with transaction.atomic():
            result = registry.create(
                resource,
                namespace or "",
                body,
                dry_run=_query_flag_dry_run(request),
                field_validation=_field_validation(request),
            )
        return json_response(result.object, status=201, headers=_warning_headers(result.warnings))
    if method == "DELETE":
        # Not every kind serves deletecollection (Namespaces do not), nor does the all-namespaces path of a
        # namespaced kind.
        if "deletecollection" not in resource.verbs or (resource.namespaced and namespace is None):
            raise errors.method_not_supported(resource.plural, "deletecollection")
        options = _delete_options(request)
        validate_delete_options(options.get("propagationPolicy"))
        warnings = _warning_headers(delete_warnings(resource, options.get("propagationPolicy")))
        try:
            with transaction.atomic():
                items, rv = registry.delete_collection(
                    resource, namespace,
                    label_selector=request.GET.get("labelSelector", ""),
                    field_selector=request.GET.get("fieldSelector", ""),
                    propagation_policy=options.get("propagationPolicy"),
                    grace_period_seconds=options.get("gracePeriodSeconds"),
                    dry_run=_query_flag_dry_run(request) or options.get("dryRun") == ["All"],
                )
        except errors.StatusError as error:
            return _warned(status_response(error), warnings)
        return json_response(_list_body(resource, paging.Chunk(items, rv)), headers=warnings)
    raise errors.method_not_supported(resource.plural, method.lower())


def _delete_options(request) -> dict:
    options = {}
    if request.body:
        try:
            options = load_json(request.body)
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


def _field_validation(request) -> str:
    """The request's fieldValidation directive; none (or an empty one) is Warn, as the API server resolves it.
    kubectl sends Strict (its --validate flag); a client that sends nothing gets warnings, not a refusal."""
    return request.GET.get("fieldValidation") or "Warn"


def _item(request, registry, resource, namespace, name, subresource):
    method = request.method
    ns = namespace if resource.namespaced else ""
    dry_run = _query_flag_dry_run(request) if method != "GET" else False
    field_validation = _field_validation(request)
    if method == "GET":
        if _is_watch(request) and not subresource:
            # The deprecated single-object watch is a watch of the collection narrowed to one name.
            return _watch(request, registry, resource, namespace if resource.namespaced else None, name=name)
        obj = registry.get(resource, ns, name, resource_version=request.GET.get("resourceVersion", ""))
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        table_version = _table_version(request)
        if table_version and not subresource:
            return _table_response(request, registry, resource, [obj], obj["metadata"].get("resourceVersion", ""),
                                   table_version)
        return json_response(obj)
    if method == "PUT":
        body = _read_json_body(request, resource, registry, ns)
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
        validate_delete_options(options.get("propagationPolicy"))
        dry_run = dry_run or options.get("dryRun") == ["All"]
        warnings = _warning_headers(delete_warnings(resource, options.get("propagationPolicy")))
        try:
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
        except errors.StatusError as error:
            return _warned(status_response(error), warnings)
        # Pods answer with the object even once it is gone (the pod registry's ReturnDeletedObject).
        if still_there or resource.kind == "Pod":
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            return json_response(obj, headers=warnings)
        details = {"name": name, "kind": resource.plural, "uid": before["metadata"]["uid"]}
        if resource.group:
            details["group"] = resource.group
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details},
            headers=warnings,
        )
    raise errors.method_not_supported(resource.plural, method.lower())


def _watch(request, registry, resource, namespace, name=None):
    """Prepare a watch (everything that can still fail with a plain Status) and answer its event stream."""
    field_selector = request.GET.get("fieldSelector", "")
    if name is not None:
        field_selector = ",".join(filter(None, [f"metadata.name={name}", field_selector]))
    label_selector = request.GET.get("labelSelector", "")
    labels_match, fields_match = registry.selectors(resource, label_selector, field_selector)
    raw_rv = request.GET.get("resourceVersion", "")
    try:
        start_rv = int(raw_rv) if raw_rv else 0
        if start_rv < 0:
            raise ValueError
    except ValueError:
        raise errors.bad_request(f'resourceVersion: Invalid value: "{raw_rv}": must be a non-negative integer') from None
    timeout = request.GET.get("timeoutSeconds")
    try:
        timeout_seconds = float(int(timeout)) if timeout not in (None, "") else None
    except ValueError:
        raise errors.bad_request(f'timeoutSeconds: Invalid value: "{timeout}": must be an integer') from None
    table_version = _table_version(request)
    include_object = _include_object(request)
    filtered = bool(label_selector or field_selector)
    current, list_rv = registry.list(resource, namespace, label_selector=label_selector,
                                     field_selector=field_selector)

    def matches(obj):
        return labels_match(obj) and fields_match(obj)

    plan = watch.WatchPlan(
        # Unset or "0": start from the state just listed, announced as synthetic ADDED events.
        start_rv=start_rv or int(list_rv),
        now=registry.storage.now(),
        event_filter=watch.EventFilter(resource, namespace, matches, filtered=filtered, known=current),
        encoder=watch.EventEncoder(resource, table_version, include_object),
        initial=current if not start_rv else [],
        timeout=timeout_seconds,
        bookmarks=request.GET.get("allowWatchBookmarks") in ("true", "1"),
    )
    response = StreamingHttpResponse(watch.stream(plan, watch.DatabaseSource(registry.storage.cluster)),
                                     content_type=JSON)
    response["Cache-Control"] = "no-cache, private"
    return response


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
    seen = len(lines)
    tail = _int_param(request, "tailLines")
    if tail is not None:
        lines = lines[-tail:] if tail else []
    timestamps = request.GET.get("timestamps") in ("true", "1")
    text = "".join(logstream.log_line(stamp, line, timestamps) for stamp, line in lines)
    data = text.encode()
    limit = _int_param(request, "limitBytes")
    if limit is not None:
        data = data[:limit]
    if request.GET.get("follow") in ("true", "1") and run >= 0 and not previous:
        follow = logstream.LogFollow(
            storage=registry.storage, namespace=namespace, pod=name, uid=uid, container=container, run=run,
            seen=seen, timestamps=timestamps, limit_bytes=None if limit is None else limit - len(data),
        )
        response = StreamingHttpResponse(logstream.follow(data, follow), content_type="text/plain")
        response["Cache-Control"] = "no-cache, private"
        return response
    return HttpResponse(data, content_type="text/plain")


@kubernetes_endpoint
def openapi_document(request, cluster, path):
    """``/openapi/v3`` (the index) and ``/openapi/v3/<api/v1|apis/g/v>``; ``/openapi/v2`` as an empty document."""
    get_cluster(cluster)
    if request.method != "GET":
        raise errors.method_not_supported("openapi", request.method.lower())
    parts = [p for p in path.split("/") if p]
    if parts == ["v2"]:
        return HttpResponse(openapi.V2_DOCUMENT, content_type=openapi.V2_MEDIA_TYPE,
                            headers={"Cache-Control": "no-cache, private"})
    if parts == ["v3"]:
        return json_response(openapi.index(), headers={"Cache-Control": "no-cache, private"})
    if parts[:1] == ["v3"] and len(parts) > 1:
        document, digest = openapi.document("/".join(parts[1:]))
        if document is None:
            raise errors.not_found_path()
        headers = {"Etag": f'"{digest}"'}
        if request.GET.get("hash") == digest:
            headers["Cache-Control"] = "public, immutable"
            headers["Expires"] = "Thu, 31 Dec 2099 00:00:00 GMT"
        else:
            headers["Cache-Control"] = "no-cache, private"
        return json_response(document, headers=headers)
    raise errors.not_found_path()


@kubernetes_endpoint
def api_not_found(request, *args, **kwargs):
    raise errors.not_found_path()


def bad_request_page(request, exception=None):
    """``handler400``: a request Django refuses before any view (a Host the server does not answer to), as a
    Status."""
    return status_response(errors.bad_request(str(exception) if exception else "bad request"))


def page_not_found(request, exception=None):
    return status_response(errors.not_found_path())


def server_error(request):
    return status_response(errors.internal_error("the server could not handle the request"))
