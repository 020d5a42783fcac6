"""The OpenAPI v3 documents kubectl reads before it creates, applies or replaces anything.

``kubectl create|apply|replace`` validate by default (``--validate=strict``): kubectl first asks ``/openapi/v3``
whether the server checks fields itself, by looking in the group-version's document for a PATCH operation of the
kind (``x-kubernetes-group-version-kind``) that takes a ``fieldValidation`` query parameter
(cli-runtime ``resource/query_param_verifier_v3.go``). When it does, kubectl sends ``fieldValidation=Strict`` and
the registry checks the fields; when the document is missing, kubectl fails with ``failed to download openapi``
(kubectl-compat.md §6).

So each document describes every path of the group-version with its operations and parameters, but no schemas:
``components.schemas`` stays empty, and the PATCH request bodies list no strategic-merge media type, so kubectl's
apply computes its patches from the types compiled into it, exactly as against a real server. The index links
each document with a content hash, as kube-apiserver does, so kubectl's HTTP cache keeps a document until it
changes. ``/openapi/v2`` is an empty document (see ``V2_DOCUMENT``).
"""

from __future__ import annotations

import functools
import hashlib
import json

from .kinds import RESOURCE_TYPES, ResourceType, group_versions

_QUERY = {
    "dryRun": "When present, indicates that modifications should not be persisted. Valid value: All.",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request "
                       "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
    "force": "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields "
             "owned by other people.",
    "pretty": "If 'true', then the output is pretty printed.",
    "labelSelector": "A selector to restrict the list of returned objects by their labels.",
    "fieldSelector": "A selector to restrict the list of returned objects by their fields.",
    "resourceVersion": "resourceVersion sets a constraint on what resource versions a request may be served from.",
    "timeoutSeconds": "Timeout for the list/watch call.",
    "watch": "Watch for changes to the described resources and return them as a stream of add, update, and "
             "remove notifications.",
    "allowWatchBookmarks": "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
    "limit": "limit is a maximum number of responses to return for a list call.",
    "continue": "The continue option should be set when retrieving more results from the server.",
    "gracePeriodSeconds": "The duration in seconds before the object should be deleted.",
    "propagationPolicy": "Whether and how garbage collection will be performed.",
}
_BOOLEAN = {"force", "watch", "allowWatchBookmarks"}
_INTEGER = {"timeoutSeconds", "limit", "gracePeriodSeconds"}

# ``/openapi/v2``, which kubectl asks for only in protobuf (gnostic's openapi_v2.Document): an empty Document, no
# bytes at all. kubectl validates a kind that the v3 documents do not describe (``apiVersion: batch/v2``, a typo in
# ``kind``) against it on the client; finding no schema it passes the object on, and the REST mapping then says
# what a real cluster says: ``no matches for kind "Job" in version "batch/v2"``. Without it, "failed to download
# openapi".
# (kubectl asks for "...spec.v2@v1.0+protobuf"; the answer's type is written with a dot, which Go's mime parser
# accepts, as kube-openapi's handler writes it)
V2_MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
V2_DOCUMENT = b""

PATCH_MEDIA_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")


def _param(name: str, where: str = "query") -> dict:
    schema = {"type": "boolean"} if name in _BOOLEAN else {"type": "integer"} if name in _INTEGER else {
        "type": "string"}
    param = {"name": name, "in": where, "description": _QUERY.get(name, ""), "schema": schema}
    if where == "path":
        param["required"] = True
        param["description"] = f"{name} of the resource" if name == "name" else "object name and auth scope"
    return param


def _gvk(resource: ResourceType) -> dict:
    return {"group": resource.group, "version": resource.version, "kind": resource.kind}


def _operation(resource: ResourceType, verb: str, action: str, params: list[str], *, body: tuple = ()) -> dict:
    operation = {
        "tags": [f"{resource.group or 'core'}_{resource.version}"],
        "description": f"{verb} {resource.kind}",
        "operationId": f"{verb}{resource.kind}",
        "parameters": [_param(p) for p in params],
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(resource),
    }
    if body:
        operation["requestBody"] = {"content": {media: {"schema": {"type": "object"}} for media in body},
                                    "required": True}
    return operation


def _prefix(resource: ResourceType) -> str:
    return f"/api/{resource.version}" if not resource.group else f"/apis/{resource.group}/{resource.version}"


def _paths_for(resource: ResourceType) -> dict:
    prefix = _prefix(resource)
    scope = f"{prefix}/namespaces/{{namespace}}/{resource.plural}" if resource.namespaced else \
        f"{prefix}/{resource.plural}"
    scope_params = [_param("namespace", "path")] if resource.namespaced else []
    write = ["dryRun", "fieldManager", "fieldValidation", "pretty"]
    listing = ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "pretty",
               "resourceVersion", "timeoutSeconds", "watch"]
    paths = {
        scope: {
            "get": _operation(resource, "list", "list", listing),
            "post": _operation(resource, "create", "post", write, body=("application/json", "application/yaml")),
            "delete": _operation(resource, "deletecollection", "deletecollection",
                                 ["dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty"]),
            "parameters": list(scope_params),
        },
        f"{scope}/{{name}}": {
            "get": _operation(resource, "read", "get", ["pretty"]),
            "put": _operation(resource, "replace", "put", write, body=("application/json", "application/yaml")),
            "patch": _operation(resource, "patch", "patch", write + ["force"], body=PATCH_MEDIA_TYPES),
            "delete": _operation(resource, "delete", "delete",
                                 ["dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty"]),
            "parameters": [_param("name", "path")] + scope_params,
        },
    }
    for sub in resource.subresources:
        if sub == "status":
            paths[f"{scope}/{{name}}/status"] = {
                "get": _operation(resource, "read", "get", ["pretty"]) | {"operationId": f"read{resource.kind}Status"},
                "put": _operation(resource, "replace", "put", write, body=("application/json",))
                | {"operationId": f"replace{resource.kind}Status"},
                "patch": _operation(resource, "patch", "patch", write + ["force"], body=PATCH_MEDIA_TYPES)
                | {"operationId": f"patch{resource.kind}Status"},
                "parameters": [_param("name", "path")] + scope_params,
            }
    if resource.namespaced:
        paths[f"{prefix}/{resource.plural}"] = {
            "get": _operation(resource, "list", "list", listing) | {
                "operationId": f"list{resource.kind}ForAllNamespaces"},
        }
    return paths


def _gv_path(group: str, version: str) -> str:
    """The index key, as client-go ``openapi3/root.go`` builds it: ``api/v1``, ``apis/batch/v1``."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


@functools.cache
def _documents() -> dict[str, tuple[dict, str]]:
    documents = {}
    for group, version in group_versions():
        paths: dict = {}
        for resource in RESOURCE_TYPES:
            if (resource.group, resource.version) == (group, version):
                paths.update(_paths_for(resource))
        document = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": {}},
        }
        encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        documents[_gv_path(group, version)] = (document, hashlib.sha512(encoded).hexdigest().upper())
    return documents


def index() -> dict:
    """``GET /openapi/v3``: where each group-version's document is, relative to the server."""
    return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
                      for key, (_, digest) in _documents().items()}}


def document(gv_path: str) -> tuple[dict | None, str]:
    """The document of ``api/v1`` or ``apis/<group>/<version>`` and its hash, or ``(None, "")``."""
    return _documents().get(gv_path.strip("/"), (None, ""))
