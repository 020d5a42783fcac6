"""Kubernetes API errors as ``metav1.Status`` objects.

Constructors are named after ``k8s.io/apimachinery/pkg/api/errors`` and word their messages the same way, because
kubectl prints them verbatim (``Error from server (NotFound): jobs.batch "pi" not found``) and builds its own
text for 422s from ``details.causes``.
"""

from .resources import ResourceType


class StatusError(Exception):
    """An API failure that is answered with a Status object and its HTTP code."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None, *,
                 list_meta: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        # The Status's own ListMeta: a 410 to a list in chunks hands a token to go on with.
        self.list_meta = list_meta or {}
        # (path, message) pairs locating a decoding failure in the request body, for the YAML apply endpoint.
        self.field_paths: list[tuple] = []

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.list_meta),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # StatusReasonUnknown, left out as omitempty does
            del body["reason"]
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(resource: ResourceType | None, name: str) -> dict:
    details: dict = {"name": name} if name else {}
    if resource is not None:
        if resource.group:
            details["group"] = resource.group
        details["kind"] = resource.plural
    return details


def not_found(resource: ResourceType, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name))


def already_exists(resource: ResourceType, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{resource.qualified} "{name}" already exists', _details(resource, name))


def forbidden(resource: ResourceType, name: str, reason: str) -> StatusError:
    """``NewForbidden``, as admission plugins refuse a request: ``pods "pi-x7k2p" is forbidden: <reason>``."""
    message = f'{resource.qualified} "{name}" is forbidden: {reason}' if name else \
        f"{resource.qualified} is forbidden: {reason}"
    details = {"name": name} if name else {}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return StatusError(403, "Forbidden", message, details)


def conflict(resource: ResourceType, name: str, detail: str | None = None) -> StatusError:
    detail = detail or "the object has been modified; please apply your changes to the latest version and try again"
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {detail}',
        _details(resource, name),
    )


def invalid(resource: ResourceType, name: str, errors: list) -> StatusError:
    """422 with one cause per field error, worded as ``apierrors.NewInvalid``."""
    return invalid_kind(resource.group, resource.kind, name, errors)


def invalid_kind(group: str, kind: str, name: str, errors: list) -> StatusError:
    """``invalid`` of a kind the API serves no resource of (``DeleteOptions.meta.k8s.io``)."""
    rendered = list(dict.fromkeys(str(e) for e in errors))  # ToAggregate drops repeated messages
    if len(rendered) == 1:
        summary = rendered[0]
    else:
        summary = "[" + ", ".join(rendered) + "]"
    details = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    details["causes"] = [{"reason": e.type, "message": e.message(), "field": e.field} for e in errors]
    qualified = f"{kind}.{group}" if group else kind
    return StatusError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def not_found_path() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_supported(resource_name: str, action: str) -> StatusError:
    return StatusError(
        405, "MethodNotAllowed", f"{action} is not supported on resources of kind {resource_name!r}", {}
    )


def unknown_body_format(accepted) -> StatusError:
    """A body whose Content-Type is none of ``accepted``, in the API server's words."""
    return StatusError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                       "media types include: " + ", ".join(accepted), {})


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted "
                       f"media types include: application/json-patch+json, application/merge-patch+json, "
                       f"application/apply-patch+yaml (got {content_type})", {})


def request_entity_too_large(message: str) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", message, {})


def body_too_large(limit: int) -> StatusError:
    """A request body over the server's limit, in the API server's words."""
    return request_entity_too_large(f"Request entity too large: limit is {limit}")


def namespace_not_found(name: str) -> StatusError:
    return StatusError(404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"})


def internal_error(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}", {})


def list_options_invalid(errors: list) -> StatusError:
    """The handler's answer to ListOptions that fail ``ValidateListOptions``: ``NewInvalid`` of the
    ``ListOptions.meta.k8s.io`` kind, with no name."""
    rendered = list(dict.fromkeys(str(e) for e in errors))
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details = {"group": "meta.k8s.io", "kind": "ListOptions",
               "causes": [{"reason": e.type, "message": e.message(), "field": e.field} for e in errors]}
    return StatusError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {summary}', details)


#: How long the watch cache asks a client to wait before reading again at a resourceVersion it has not reached.
RESOURCE_VERSION_TOO_HIGH_RETRY_SECONDS = 1


def too_large_resource_version(requested: int, current: int) -> StatusError:
    """``storage.NewTooLargeResourceVersionError``: a read at a resourceVersion the cluster has not reached (the
    watch cache gives up waiting for it): 504 Timeout."""
    return StatusError(504, "Timeout", f"Timeout: Too large resource version: {requested}, current: {current}", {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": RESOURCE_VERSION_TOO_HIGH_RETRY_SECONDS,
    })


def invalid_resource_version(value: str) -> StatusError:
    """A resourceVersion that is not an unsigned integer (the versioner's ``ParseResourceVersion``)."""
    from .fielderrors import go_quote

    syntax = "value out of range" if value.isdigit() else "invalid syntax"
    return bad_request(f"invalid resource version: resourceVersion: Invalid value: {go_quote(value)}: "
                       f"strconv.ParseUint: parsing {go_quote(value)}: {syntax}")
