"""Applying pasted or uploaded YAML, document by document, the way ``kubectl apply -f`` does.

Each document is created when absent and otherwise updated with a three-way strategic merge patch computed from
the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, exactly the annotation kubectl keeps, so a
learner can move between the editor and a real ``kubectl apply`` without surprises: fields removed from the YAML
are removed from the object, fields the server filled in are kept.

Every failure is reported against the document it came from, with the YAML line and column of the offending
field. A syntax error anywhere refuses the whole stream (nothing is applied from a file that does not parse).
"""

import copy
import json
from dataclasses import dataclass, field

from . import errors, fielderrors
from .manifests import Document, ManifestError, load_documents
from .registry import Registry
from .kinds import RESOURCE_TYPES, resource_for_object

# What a manifest of a kind not served is told, from the table of kinds (its order).
_SERVED = ", ".join(f"{r.kind}s" for r in RESOURCE_TYPES[:-1]) + f" and {RESOURCE_TYPES[-1].kind}s"

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

@dataclass
class DocumentResult:
    index: int
    line: int
    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    action: str = ""  # created, configured, unchanged, or "" on failure
    object: dict | None = None
    status: dict | None = None  # the Status of a failure
    errors: list = field(default_factory=list)  # [{"field", "message", "line", "column"}]
    warnings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is None

    def as_json(self) -> dict:
        body = {
            "index": self.index,
            "line": self.line,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
        }
        if self.namespace:
            body["namespace"] = self.namespace
        if self.ok:
            body["action"] = self.action
            body["object"] = self.object
        else:
            body["status"] = self.status
            body["errors"] = self.errors
        if self.warnings:
            body["warnings"] = self.warnings
        return body


def last_applied_configuration(doc: dict) -> str:
    """The annotation value kubectl writes: compact JSON of the manifest with an empty annotations map kept."""
    applied = copy.deepcopy(doc)
    annotations = applied.setdefault("metadata", {}).setdefault("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    return json.dumps(applied, separators=(",", ":"), sort_keys=True) + "\n"


def three_way_patch(last: dict | None, new: dict) -> dict:
    """A patch that turns what was last applied into ``new`` while keeping fields others set: keys the
    learner removed since the last apply become ``null`` (deleted), everything in ``new`` is merged."""
    result = copy.deepcopy(new)
    if not isinstance(last, dict):
        return result
    for key, old_value in last.items():
        if key not in new:
            result[key] = None
        elif isinstance(old_value, dict) and isinstance(new[key], dict):
            result[key] = three_way_patch(old_value, new[key])
    return result


def _positioned(document: Document, field_path, message: str) -> dict:
    line, column = document.position(field_path) if field_path else (document.line, document.column)
    return {"field": field_path if isinstance(field_path, str) else _render_path(field_path), "message": message,
            "line": line, "column": column}


def _render_path(path) -> str:
    text = ""
    for part in path or ():
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_result(result: DocumentResult, document: Document, error: errors.StatusError) -> DocumentResult:
    result.status = error.status()
    causes = (error.details or {}).get("causes") or []
    if causes:
        result.errors = [_positioned(document, c.get("field") or "", c.get("message", "")) for c in causes]
    elif error.field_paths:
        result.errors = [_positioned(document, path, msg) for path, msg in error.field_paths]
    else:
        result.errors = [_positioned(document, "", error.message)]
    return result


def _apply_document(registry: Registry, document: Document, *, namespace: str, dry_run: bool) -> DocumentResult:
    obj = document.obj
    result = DocumentResult(index=document.index, line=document.line)
    if not isinstance(obj, dict):
        return _error_result(result, document, errors.bad_request(
            "a manifest must be a mapping with apiVersion, kind and metadata"))
    result.api_version = str(obj.get("apiVersion") or "")
    result.kind = str(obj.get("kind") or "")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    result.name = str(meta.get("name") or "")
    if not result.api_version or not result.kind:
        missing = "apiVersion" if not result.api_version else "kind"
        error = errors.bad_request(f"Object 'Kind' is missing in '{json.dumps(obj)[:200]}'"
                                   if missing == "kind" else f"Object 'apiVersion' is missing in "
                                   f"'{json.dumps(obj)[:200]}'")
        error.field_paths = [([], error.message)]
        return _error_result(result, document, error)
    resource = resource_for_object(result.api_version, result.kind)
    if resource is None:
        error = errors.StatusError(
            404, "NotFound",
            f'no matches for kind "{result.kind}" in version "{result.api_version}": kubeviz simulates {_SERVED}',
            {},
        )
        error.field_paths = [(["kind"], error.message)]
        return _error_result(result, document, error)
    ns = str(meta.get("namespace") or namespace) if resource.namespaced else ""
    result.namespace = ns
    try:
        if not result.name:
            if meta.get("generateName"):
                created = _create(registry, resource, ns, obj, dry_run)
                result.name = created.object["metadata"]["name"]
                result.action, result.object, result.warnings = "created", created.object, list(created.warnings)
                return result
            raise errors.invalid(resource, "", [fielderrors.required("metadata.name", "name or generateName is required")])
        live = registry.storage.get(resource, ns, result.name)
        if live is None:
            created = _create(registry, resource, ns, obj, dry_run)
            result.action, result.object, result.warnings = "created", created.object, list(created.warnings)
            return result
        last = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
        try:
            last_doc = json.loads(last) if last else None
        except ValueError:
            last_doc = None
        desired = _with_last_applied(obj)
        patch_doc = three_way_patch(last_doc, desired)
        updated = registry.patch(
            resource, ns, result.name, json.dumps(patch_doc), "application/strategic-merge-patch+json",
            dry_run=dry_run,
        )
        same = updated.object["metadata"].get("resourceVersion") == live["metadata"].get("resourceVersion")
        result.action = "unchanged" if same else "configured"
        result.object, result.warnings = updated.object, list(updated.warnings)
        return result
    except errors.StatusError as error:
        return _error_result(result, document, error)


def _with_last_applied(obj: dict) -> dict:
    desired = copy.deepcopy(obj)
    annotations = desired.setdefault("metadata", {}).setdefault("annotations", {}) or {}
    desired["metadata"]["annotations"] = annotations
    annotations[LAST_APPLIED] = last_applied_configuration(obj)
    return desired


def _create(registry: Registry, resource, namespace: str, obj: dict, dry_run: bool):
    return registry.create(resource, namespace, _with_last_applied(obj), dry_run=dry_run)


def expand_lists(documents: list[Document]) -> list[tuple[Document, object]]:
    """``kind: List`` documents stand for their items, each reported at its own position."""
    expanded = []
    for document in documents:
        obj = document.obj
        if isinstance(obj, dict) and obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            for i, item in enumerate(obj["items"]):
                expanded.append((_ItemDocument(document, i, item), item))
        else:
            expanded.append((document, obj))
    return expanded


class _ItemDocument:
    """One item of a List document, answering positions relative to ``items[i]``."""

    def __init__(self, parent: Document, item_index: int, obj):
        self.parent, self.item_index, self.obj = parent, item_index, obj
        self.index = parent.index
        self.line, self.column = parent.position(["items", item_index])

    def position(self, path):
        if isinstance(path, str):
            return self.parent.position(f"items[{self.item_index}].{path}" if path else f"items[{self.item_index}]")
        return self.parent.position(["items", self.item_index, *path])


def apply_manifests(
    registry: Registry, source: str | bytes, *, namespace: str = "default", dry_run: bool = False,
    max_bytes: int = 1024 * 1024, atomic_document=None,
) -> list[DocumentResult]:
    """Apply every document of ``source``; raises ManifestError when the stream cannot be read at all.

    ``atomic_document`` is a context-manager factory that wraps each document's writes (a database transaction
    in the server), so a failing document leaves nothing behind.
    """
    documents = load_documents(source, max_bytes=max_bytes)
    results = []
    for document, _ in expand_lists(documents):
        if atomic_document is None:
            results.append(_apply_document(registry, document, namespace=namespace, dry_run=dry_run))
            continue
        try:
            with atomic_document():
                outcome = _apply_document(registry, document, namespace=namespace, dry_run=dry_run)
                if not outcome.ok:
                    raise _Rollback(outcome)
        except _Rollback as rollback:
            outcome = rollback.outcome
        results.append(outcome)
    return results


class _Rollback(Exception):
    def __init__(self, outcome):
        super().__init__("rollback")
        self.outcome = outcome


__all__ = ["DocumentResult", "ManifestError", "apply_manifests", "three_way_patch", "LAST_APPLIED"]
