"""What a request asks to do, in the authorizer's terms: upstream's ``RequestInfo`` and its ``Forbidden`` message.

The API server reads every request into a verb, an API group, a resource (and subresource), a namespace and a name
before it authorizes it (``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go``, ``NewRequestInfo``), and words
a refusal from those (``endpoints/handlers/responsewriters/errors.go``, ``forbiddenMessage``). kubectl prints the
message verbatim, so it is worded here exactly as upstream words it::

    Error from server (Forbidden): jobs.batch is forbidden: User "system:anonymous" cannot list resource "jobs"
    in API group "batch" in the namespace "default"

Paths are the cluster's own (``/api/v1/...``, ``/version``), without the prefix the server serves the cluster
under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import StatusError

API_PREFIXES = ("api", "apis")
GROUPLESS_API_PREFIXES = ("api",)
SPECIAL_VERBS = ("proxy", "watch")
SPECIAL_VERBS_NO_SUBRESOURCES = ("proxy",)
NAMESPACE_SUBRESOURCES = ("status", "finalize")
#: The verbs that only read; every other verb writes.
READ_VERBS = frozenset({"get", "list", "watch"})
METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}
#: The user of a request that carries no credentials, when anonymous requests are let through to authorization.
ANONYMOUS = "system:anonymous"


@dataclass(frozen=True)
class RequestInfo:
    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def reads(self) -> bool:
        """Whether the request only reads (a non-resource request reads when its verb is get or head)."""
        return self.verb in READ_VERBS or self.verb in ("head", "options")


def _true(values: list[str]) -> bool:
    return bool(values) and values[-1] in ("true", "1", "True", "TRUE", "t", "T")


def new_request_info(method: str, path: str, query: dict[str, list[str]] | None = None) -> RequestInfo:
    """``RequestInfoFactory.NewRequestInfo``: ``query`` maps each parameter to its values (``parse_qs``)."""
    query = query or {}
    method = method.upper()
    parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
    non_resource = RequestInfo(path=path, verb=method.lower())
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    prefix, parts = parts[0], parts[1:]
    group = ""
    if prefix not in GROUPLESS_API_PREFIXES:
        if len(parts) < 3:
            return non_resource
        group, parts = parts[0], parts[1:]
    version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS:
        if len(parts) < 2:
            raise ValueError(f"unable to determine kind and namespace from url, {path}")
        verb, parts = parts[0], parts[1:]
    else:
        verb = METHOD_VERBS.get(method, "")
    namespace = ""
    if parts[0] == "namespaces":
        if len(parts) > 1:
            namespace = parts[1]
            if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
                parts = parts[2:]
    resource, name, subresource = parts[0], "", ""
    if len(parts) >= 3 and verb not in SPECIAL_VERBS_NO_SUBRESOURCES:
        subresource = parts[2]
    if len(parts) >= 2:
        name = parts[1]
    if not name and verb == "get":
        verb = "watch" if _true(query.get("watch", [])) else "list"
        for selector in query.get("fieldSelector", [])[-1:]:
            for term in selector.split(","):
                key, op, value = term.partition("==") if "==" in term else term.partition("=")
                if op and key.strip() == "metadata.name" and value and "/" not in value and value not in (".", ".."):
                    name = value
    if not name and verb == "delete":
        verb = "deletecollection"
    return RequestInfo(path=path, verb=verb, is_resource_request=True, api_prefix=prefix, api_group=group,
                       api_version=version, namespace=namespace, resource=resource, subresource=subresource,
                       name=name)


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string, as near as a Status message needs (quotes and backslashes escaped)."""
    return json.dumps(text, ensure_ascii=False)


def forbidden_message(user: str, info: RequestInfo) -> str:
    """``forbiddenMessage``: who may not do what."""
    if not info.is_resource_request:
        return f"User {go_quote(user)} cannot {info.verb} path {go_quote(info.path)}"
    resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    if info.namespace:
        return (f"User {go_quote(user)} cannot {info.verb} resource {go_quote(resource)} in API group "
                f"{go_quote(info.api_group)} in the namespace {go_quote(info.namespace)}")
    return (f"User {go_quote(user)} cannot {info.verb} resource {go_quote(resource)} in API group "
            f"{go_quote(info.api_group)} at the cluster scope")


def forbidden(user: str, info: RequestInfo, reason: str = "") -> StatusError:
    """``responsewriters.Forbidden``: ``apierrors.NewForbidden`` of the request's group and resource."""
    message = forbidden_message(user, info)
    if reason:
        message = f"{message}: {reason}"
    details: dict = {}
    if info.is_resource_request and info.resource:
        qualified = f"{info.resource}.{info.api_group}" if info.api_group else info.resource
        if info.name:
            text = f"{qualified} {go_quote(info.name)} is forbidden: {message}"
            details["name"] = info.name
        else:
            text = f"{qualified} is forbidden: {message}"
        if info.api_group:
            details["group"] = info.api_group
        details["kind"] = info.resource
    else:
        text = f"forbidden: {message}"
    return StatusError(403, "Forbidden", text, details)


def unauthorized() -> StatusError:
    """What the authentication filter answers for credentials it does not accept (``apierrors.NewUnauthorized``:
    no details)."""
    return StatusError(401, "Unauthorized", "Unauthorized", None)
