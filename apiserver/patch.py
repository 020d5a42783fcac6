"""PATCH bodies, applied the way kube-apiserver 1.32 applies them.

``kubectl patch``, ``kubectl apply`` (client-side), ``kubectl label``,
``kubectl cordon`` and ``kubectl rollout undo`` all send PATCH requests; the
Content-Type says which of three formats the body is in:

* ``application/merge-patch+json`` — RFC 7386 JSON merge patch: :func:`json_merge_patch`.
* ``application/json-patch+json`` — RFC 6902 JSON patch, via the ``jsonpatch``
  library: :func:`json_patch`.
* ``application/strategic-merge-patch+json`` — Kubernetes' strategic merge patch
  (k8s.io/apimachinery/pkg/util/strategicpatch, apply side only):
  :func:`strategic_merge_patch`. Lists such as ``containers`` are merged by a key
  (``name``) instead of being replaced, and the patch may carry directives
  (``$patch``, ``$setElementOrder/<list>``, ``$retainKeys``,
  ``$deleteFromPrimitiveList/<list>``). Which lists merge, and on which key, comes
  from the ``patchStrategy``/``patchMergeKey`` struct tags of k8s.io/api; this
  module carries them as :data:`SCHEMAS`, a small type graph, so a rule written once
  for ``PodSpec.containers`` applies under a Pod, a Job template, a CronJob's
  ``jobTemplate.spec.template`` and a DaemonSet template alike.

Failures raise :class:`PatchError` carrying the HTTP code, Status reason and
message the real API server would answer with (``patch.go`` in
k8s.io/apiserver/pkg/endpoints/handlers).

The real server decodes the patched JSON into typed Go structs, which silently
drops leftover directive keys and ``null`` fields. Values this module copies
wholesale from a patch are cleaned the same way, so the stored object looks like
what the real server would store.

Pure Python (no Django): the registry and tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonpatch

from controllers.apimachinery.objcopy import deep_copy

from .manifests import ManifestError, load_documents, load_json

__all__ = [
    "FieldMeta",
    "MAX_JSON_PATCH_OPERATIONS",
    "PatchError",
    "SCHEMAS",
    "json_merge_patch",
    "json_patch",
    "strategic_merge_patch",
]


class PatchError(Exception):
    """A patch the API server would reject.

    ``code``/``reason`` are the Status fields to answer with; ``str(error)`` and
    ``message`` are the Status message. ``detail`` keeps the underlying library
    message where the real server hides it behind a generic one.
    """

    def __init__(self, message: str, *, code: int = 422, reason: str = "Invalid", detail: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.detail = detail


# apimachinery/pkg/api/errors NewGenericServerResponse(422, ...): the patch library's
# message is replaced by this generic one.
UNPROCESSABLE_MESSAGE = "the server rejected our request due to an error in our request"

# k8s.io/apiserver/pkg/endpoints/handlers/patch.go maxJSONPatchOperations.
MAX_JSON_PATCH_OPERATIONS = 10000


def _bad_request(message: str) -> PatchError:
    return PatchError(message, code=400, reason="BadRequest")


def _unprocessable(detail: str) -> PatchError:
    return PatchError(UNPROCESSABLE_MESSAGE, code=422, reason="Invalid", detail=detail)


def _internal(message: str) -> PatchError:
    # An error that is not a Status: ErrorToAPIStatus answers 500 with an empty reason.
    return PatchError(message, code=500, reason="")


# --- RFC 7386 ---------------------------------------------------------------------


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch; returns a new document and leaves both inputs untouched.

    Objects merge recursively, ``null`` deletes a key, anything else (lists
    included) replaces. A patch that is not an object replaces the target.
    """
    if not isinstance(patch, dict):
        return deep_copy(patch)
    return _merge_into(deep_copy(target) if isinstance(target, dict) else {}, patch)


def _merge_into(result: dict, patch: dict) -> dict:
    """Merge ``patch`` into ``result`` (a copy the caller owns) in place."""
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = _merge_into(current if isinstance(current, dict) else {}, value)
        else:
            result[key] = deep_copy(value)
    return result


# --- RFC 6902 ---------------------------------------------------------------------


def _json_type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch (``add``, ``remove``, ``replace``, ``move``, ``copy``, ``test``).

    Returns a new document. A body that is not a list of objects is a 400 with Go's
    decoding message; more than 10000 operations is a 413; any operation that fails
    (a failing ``test``, a missing path, an unknown op) is a 422 Invalid with the
    generic message, exactly as kube-apiserver answers.
    """
    if operations is None:  # JSON null decodes to an empty patch
        return deep_copy(target)
    if not isinstance(operations, list):
        raise _bad_request(
            f"json: cannot unmarshal {_json_type_name(operations)} into Go value of type jsonpatch.Patch"
        )
    for op in operations:
        if not isinstance(op, dict):
            raise _bad_request(
                f"json: cannot unmarshal {_json_type_name(op)} into Go value of type jsonpatch.Operation"
            )
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
            f"got {len(operations)}",
            code=413,
            reason="RequestEntityTooLarge",
        )
    try:
        return jsonpatch.JsonPatch(operations).apply(target, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise _unprocessable(str(err)) from None


# --- strategic merge patch: schema --------------------------------------------------


@dataclass(frozen=True)
class FieldMeta:
    """Patch metadata of one field (its ``patchStrategy`` / ``patchMergeKey`` tags).

    ``schema`` names the entry of :data:`SCHEMAS` describing the value (for a list,
    its elements); None means "no tagged fields below". ``strategy`` is ``merge`` or
    '' (maps merge key by key, lists are replaced atomically). ``retain_keys``
    records ``retainKeys`` for documentation: the ``$retainKeys`` directive itself
    is honoured wherever it appears, as upstream does.
    """

    schema: str | None = None
    strategy: str = ""
    merge_key: str = ""
    retain_keys: bool = False


_PLAIN = FieldMeta()


def _struct(schema: str) -> FieldMeta:
    return FieldMeta(schema)


def _merge_by(key: str, schema: str | None = None, *, retain_keys: bool = False) -> FieldMeta:
    return FieldMeta(schema, "merge", key, retain_keys)


_MERGE_PRIMITIVES = FieldMeta(strategy="merge")  # e.g. finalizers: set-like union

# Struct types and their tagged fields (k8s.io/api v0.32 core/v1, batch/v1, apps/v1 and
# apimachinery meta/v1 types.go). Untagged fields need no entry.
SCHEMAS: dict[str, dict[str, FieldMeta]] = {
    "ObjectMeta": {
        "ownerReferences": _merge_by("uid"),
        "finalizers": _MERGE_PRIMITIVES,
    },
    "PodTemplateSpec": {"metadata": _struct("ObjectMeta"), "spec": _struct("PodSpec")},
    "PodSpec": {
        "volumes": _merge_by("name", retain_keys=True),
        "initContainers": _merge_by("name", "Container"),
        "containers": _merge_by("name", "Container"),
        "ephemeralContainers": _merge_by("name", "Container"),
        "imagePullSecrets": _merge_by("name"),
        "hostAliases": _merge_by("ip"),
        "topologySpreadConstraints": _merge_by("topologyKey"),
        "schedulingGates": _merge_by("name"),
        "resourceClaims": _merge_by("name", retain_keys=True),
    },
    "Container": {
        "ports": _merge_by("containerPort"),
        "env": _merge_by("name"),
        "volumeMounts": _merge_by("mountPath"),
        "volumeDevices": _merge_by("devicePath"),
    },
    "PodStatus": {
        "conditions": _merge_by("type"),
        "hostIPs": _merge_by("ip"),
        "podIPs": _merge_by("ip"),
        "resourceClaimStatuses": _merge_by("name", retain_keys=True),
    },
    "Pod": {"metadata": _struct("ObjectMeta"), "spec": _struct("PodSpec"), "status": _struct("PodStatus")},
    "JobSpec": {"template": _struct("PodTemplateSpec")},
    "JobStatus": {"conditions": _merge_by("type")},
    "Job": {"metadata": _struct("ObjectMeta"), "spec": _struct("JobSpec"), "status": _struct("JobStatus")},
    "JobTemplateSpec": {"metadata": _struct("ObjectMeta"), "spec": _struct("JobSpec")},
    "CronJobSpec": {"jobTemplate": _struct("JobTemplateSpec")},
    "CronJob": {"metadata": _struct("ObjectMeta"), "spec": _struct("CronJobSpec")},
    "DaemonSetSpec": {"template": _struct("PodTemplateSpec")},
    "DaemonSetStatus": {"conditions": _merge_by("type")},
    "DaemonSet": {"metadata": _struct("ObjectMeta"), "spec": _struct("DaemonSetSpec"),
                  "status": _struct("DaemonSetStatus")},
    "NodeSpec": {"podCIDRs": _MERGE_PRIMITIVES},
    "NodeStatus": {"conditions": _merge_by("type"), "addresses": _merge_by("type")},
    "Node": {"metadata": _struct("ObjectMeta"), "spec": _struct("NodeSpec"), "status": _struct("NodeStatus")},
    "NamespaceStatus": {"conditions": _merge_by("type")},
    "Namespace": {"metadata": _struct("ObjectMeta"), "status": _struct("NamespaceStatus")},
    "Event": {"metadata": _struct("ObjectMeta")},
    "Lease": {"metadata": _struct("ObjectMeta")},
    "ControllerRevision": {"metadata": _struct("ObjectMeta")},
    "ResourceQuota": {"metadata": _struct("ObjectMeta")},
}

def _lookup(schema: str | None, key: str) -> FieldMeta:
    if schema is None:
        return _PLAIN
    return SCHEMAS.get(schema, {}).get(key, _PLAIN)


# --- strategic merge patch: Go-flavoured helpers -------------------------------------

_DIRECTIVE_MARKER = "$patch"
_DELETE, _REPLACE, _MERGE = "delete", "replace", "merge"
_RETAIN_KEYS_DIRECTIVE = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"

# mergepatch errors the handler maps to 400 (interpretStrategicMergePatchError).
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list"
ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT = "strategic merge patch format is not supported"
# ... and to 422 with the generic message.
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"


def _kind(value: Any) -> str:
    """The Go dynamic type a JSON value decodes to (ints are preserved as int64)."""
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "string"


def _same(a: Any, b: Any) -> bool:
    """Go ``==`` on two interface{} scalars: same dynamic type and value."""
    return _kind(a) == _kind(b) and a == b


def _go_v(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for decoded JSON."""
    if value is None:
        return "<nil>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


_GO_TYPE_NAMES = {"map": "map[string]interface {}", "slice": "[]interface {}", "bool": "bool",
                  "int64": "int64", "float64": "float64", "string": "string", "nil": "%!s(<nil>)"}


def _bad_arg_type(expected_kind: str, actual: Any) -> PatchError:
    return _internal(f"expected a {_GO_TYPE_NAMES[expected_kind]}, but received a {_GO_TYPE_NAMES[_kind(actual)]}")


def _no_merge_key(item: dict, merge_key: str) -> PatchError:
    return _internal(f"map: {_go_v(item)} does not contain declared merge key: {merge_key}")


def _bad_patch_type(directive: Any, item: dict) -> PatchError:
    return _internal(f"unknown patch type: {_go_v(directive)} in map: {_go_v(item)}")


def _discard_nulls(value: Any) -> None:
    """``discardNullValuesFromPatch``: drop null-valued keys at every depth, in place."""
    if isinstance(value, dict):
        for key in list(value):
            if value[key] is None:
                del value[key]
            else:
                _discard_nulls(value[key])
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """``removeDirectives``: maps carrying ``$patch`` vanish, at every depth."""
    if isinstance(value, dict):
        if _DIRECTIVE_MARKER in value:
            return None, False
        for key in list(value):
            new, keep = _remove_directives(value[key])
            if keep:
                value[key] = new
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        out = []
        for item in value:
            new, keep = _remove_directives(item)
            if keep:
                out.append(new)
        return out, True
    return value, True


def _as_stored(value: Any) -> Any:
    """What typed decoding would keep of a value copied from a patch: no nulls, no ``$`` keys."""
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    return value


def _take_from_patch(value: Any) -> tuple[Any, bool]:
    """A patch value for a key the original lacks (or holds with another type)."""
    _discard_nulls(value)
    value, keep = _remove_directives(value)
    return (_as_stored(value), True) if keep else (None, False)


def _extract_key(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        if prefix == _DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise _bad_request(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
        raise _bad_request(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
    return rest


def _slice_element_kind(*slices: list) -> str:
    """``sliceElementType``: 'map' or a scalar kind; errors on mixed kinds or lists of lists."""
    previous = None
    for items in slices:
        for item in items:
            current = _kind(item)
            if previous is None:
                previous = current
                if current == "slice":
                    raise PatchError(UNPROCESSABLE_MESSAGE, code=422, reason="Invalid", detail=ERR_NO_LIST_OF_LISTS)
            elif previous != current:
                raise _internal(f"list element types are not identical: {_go_v(list(slices))}")
    if previous is None:
        raise _internal("no elements in any of the given slices")
    return previous


def _index(items: list, value: Any, merge_key: str, kind: str) -> int:
    def key_of(item: Any) -> Any:
        if kind == "map":
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    wanted = key_of(value)
    for i, item in enumerate(items):
        if _same(key_of(item), wanted):
            return i
    return -1


def _find_by_key(items: list, merge_key: str, value: Any) -> int:
    """``findMapInSliceBasedOnKeyValue``: index of the element whose merge key equals value."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _internal(f"value for key {i} is not a map")
        if merge_key in item and _same(item[merge_key], value):
            return i
    return -1


def _extract_to_delete(items: list) -> tuple[list, list]:
    keep, delete = [], []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type("map", item)
        (delete if item.get(_DIRECTIVE_MARKER) == _DELETE else keep).append(item)
    return keep, delete


def _sort_by_order(to_sort: list, order: list, merge_key: str, kind: str) -> list:
    positions = [_index(order, item, merge_key, kind) for item in to_sort]
    if all(p >= 0 for p in positions):
        return [item for _, item in sorted(zip(positions, to_sort), key=lambda pair: pair[0])]
    # Upstream's comparator answers "less" whenever a position is unknown; Go's
    # stable sort runs insertion sort on such short lists, so replay exactly that.
    pairs = list(zip(positions, to_sort))
    for i in range(1, len(pairs)):
        j = i
        while j > 0 and (pairs[j][0] < pairs[j - 1][0] if pairs[j][0] >= 0 and pairs[j - 1][0] >= 0 else True):
            pairs[j], pairs[j - 1] = pairs[j - 1], pairs[j]
            j -= 1
    return [item for _, item in pairs]


def _normalize_slice_order(to_sort: list, order: list, merge_key: str, kind: str) -> list:
    to_delete: list = []
    if kind == "map":
        for items in (to_sort, order):
            for item in items:
                if not isinstance(item, dict):
                    raise _bad_arg_type("map", item)
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
        to_sort, to_delete = _extract_to_delete(to_sort)
    return _sort_by_order(to_sort, order, merge_key, kind) + to_delete


def _merge_sorted_slice(left: list, right: list, server_order: list, merge_key: str, kind: str) -> list:
    """Interleave server-only items (left) into patch items (right) by live-object order."""
    out = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_element_order(patch_items: list, server_only: list, patch_order: list, server_order: list,
                             merge_key: str, kind: str) -> list:
    """Order precedence: the patch's (or ``$setElementOrder``'s) order, then the live object's."""
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted_slice(server_only, patch_items, server_order, merge_key, kind)


def _partition(merged: list, partition_by: list, merge_key: str) -> tuple[list, list]:
    """Split ``merged`` into items present in ``partition_by`` and the others."""
    present, absent = [], []
    if not merge_key:
        for item in merged:
            found = any(_same(item, other) for other in partition_by)
            (present if found else absent).append(item)
        return present, absent
    for item in merged:
        if not isinstance(item, dict):
            raise _bad_arg_type("map", item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (present if _find_by_key(partition_by, merge_key, item[merge_key]) >= 0 else absent).append(item)
    return present, absent


def _deduplicate_scalars(items: list) -> list:
    # Upstream's in-place algorithm (swap the last element into each duplicate's slot).
    items = list(items)
    length = len(items) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _same(items[i], items[j]):
                items[j] = items[length]
                items = items[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return items


# --- strategic merge patch: the algorithm (strategicpatch/patch.go, apply side) ------


def _merge_map(original: dict | None, patch: dict, schema: str | None) -> dict:
    if _DIRECTIVE_MARKER in patch:
        directive = patch[_DIRECTIVE_MARKER]
        if directive == _REPLACE:
            # Replace the whole map with the patch's content.
            return _as_stored({k: v for k, v in patch.items() if k != _DIRECTIVE_MARKER})
        if directive == _DELETE:
            return {}
        # Upstream rejects any other map-level directive, "merge" included.
        raise _bad_patch_type(directive, patch)
    if original is None:
        original = {}
    _apply_retain_keys(original, patch)
    _merge_set_element_order(original, patch, schema)

    for key in list(patch):
        patch_value = patch[key]
        is_delete_list = False
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST_PREFIX):
            key = _extract_key(key, _DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            is_delete_list = True

        if patch_value is None:  # null deletes
            original.pop(key, None)
            continue

        if key not in original or _kind(original[key]) != _kind(patch_value):
            if not is_delete_list:
                value, keep = _take_from_patch(patch_value)
                if keep:
                    original[key] = value
                else:
                    original.pop(key, None)
            continue

        meta = _lookup(schema, key)
        if isinstance(patch_value, dict):
            if meta.strategy == _REPLACE:
                original[key] = _as_stored(patch_value)
            else:
                original[key] = _merge_map(original[key], patch_value, meta.schema)
        elif isinstance(patch_value, list):
            original[key] = _merge_slice_handler(original[key], patch_value, meta, is_delete_list)
        else:
            original[key] = patch_value
    return original


def _apply_retain_keys(original: dict, patch: dict) -> None:
    """``$retainKeys``: drop keys of ``original`` not listed (e.g. switching a volume's source)."""
    if _RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise _bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    keep = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST_PREFIX, _SET_ELEMENT_ORDER_PREFIX)):
            continue
        if key not in keep:
            raise _bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for key in list(original):
        if key not in keep:
            del original[key]


def _validate_with_set_order(patch_list: list, order: list, merge_key: str) -> None:
    """The patch list must follow ``$setElementOrder``'s relative order (deletions aside)."""
    if not order or not patch_list:
        return
    non_delete = _extract_to_delete(patch_list)[0] if merge_key else patch_list
    p = s = 0
    while p < len(non_delete) and s < len(order):
        item = non_delete[p]
        if isinstance(item, dict) and _DIRECTIVE_MARKER in item:
            p += 1
            continue
        if merge_key:
            for side in (item, order[s]):
                if not isinstance(side, dict):
                    raise _bad_arg_type("map", side)
                if merge_key not in side:
                    raise _no_merge_key(side, merge_key)
            equal = _same(item[merge_key], order[s][merge_key])
        else:
            equal = _same(item, order[s])
        if equal:
            p += 1
        s += 1
    if p < len(non_delete) and s >= len(order):
        raise _internal(
            f"The order in patch list:\n{_go_v(patch_list)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER_PREFIX} list:\n{_go_v(order)}\n"
        )


def _merge_set_element_order(original: dict, patch: dict, schema: str | None) -> None:
    """``mergePatchIntoOriginal``: merge each list named by ``$setElementOrder/<list>`` and order it."""
    for key in list(patch):
        if not key.startswith(_SET_ELEMENT_ORDER_PREFIX):
            continue
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_arg_type("slice", order)
        list_key = _extract_key(key, _SET_ELEMENT_ORDER_PREFIX)
        found_original, found_patch = list_key in original, list_key in patch
        original_list: list = []
        patch_list: list = []
        if found_original:
            original_list = original[list_key]
            if not isinstance(original_list, list):
                raise _bad_arg_type("slice", original_list)
        if found_patch:
            patch_list = patch[list_key]
            if not isinstance(patch_list, list):
                raise _bad_arg_type("slice", patch_list)
        meta = _lookup(schema, list_key)
        _validate_with_set_order(patch_list, order, meta.merge_key)

        if found_original and not found_patch:
            merged = original_list
        elif found_patch and not found_original:
            merged = _as_stored(_remove_directives(patch_list)[0])
        elif found_original and found_patch:
            merged = _merge_slice_handler(original_list, patch_list, meta, False)
        else:
            continue

        present, server_only = _partition(merged, order, meta.merge_key)
        kind = _slice_element_kind(original_list, patch_list)
        original[list_key] = _normalize_element_order(present, server_only, order, original_list,
                                                      meta.merge_key, kind)
        patch.pop(list_key, None)


def _merge_slice_handler(original: list, patch: list, meta: FieldMeta, is_delete_list: bool) -> list:
    if meta.strategy == _MERGE or is_delete_list:
        return _merge_slice(original, patch, meta, is_delete_list)
    return _as_stored(patch)  # no merge strategy: the list is replaced atomically


def _merge_slice(original: list, patch: list, meta: FieldMeta, is_delete_list: bool) -> list:
    if not original and not patch:
        return original
    kind = _slice_element_kind(original, patch)
    merge_key = meta.merge_key
    if kind != "map":
        if is_delete_list:  # $deleteFromPrimitiveList
            return [item for item in original if not any(_same(item, gone) for gone in patch)]
        merged = _deduplicate_scalars(original + patch)
    else:
        if not merge_key:
            raise _internal(f"cannot merge lists without merge key for {meta.schema or ''}")
        original, patch = _merge_special_elements(original, patch, merge_key)
        merged = _merge_plain_elements(original, patch, merge_key, meta.schema)
    present, server_only = _partition(merged, patch, merge_key)
    return _normalize_element_order(present, server_only, patch, original, merge_key, kind)


def _merge_special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Apply ``{"<key>": v, "$patch": "delete"}`` and ``{"$patch": "replace"}`` list items."""
    plain = []
    replace = False
    for item in patch:
        if _DIRECTIVE_MARKER not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE_MARKER]
        if directive == _DELETE:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [o for o in original
                        if not (isinstance(o, dict) and merge_key in o and _same(o[merge_key], item[merge_key]))]
        elif directive == _REPLACE:
            replace = True
        elif directive == _MERGE:
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return _as_stored(plain), []
    return original, plain


def _merge_plain_elements(original: list, patch: list, merge_key: str, schema: str | None) -> list:
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_by_key(merged, merge_key, item[merge_key])
        if index >= 0:
            merged[index] = _merge_map(merged[index], item, schema)
        else:
            merged.append(_as_stored(item))
    return merged


def strategic_merge_patch(target: Any, patch: Any, root: str | None) -> dict:
    """Apply a strategic merge patch to an object whose type is ``root``, an entry of :data:`SCHEMAS` (a kind's
    declaration names it: ``"Job"`` for a Job); returns a new object. ``None`` or a name without an entry: the
    kind takes no strategic merge patches (400), as a custom resource on a real server.

    Follows ``StrategicMergeMapPatch`` (apply side): maps merge, ``null`` deletes,
    lists tagged ``merge`` merge by their key (``containers`` by ``name``, ``env`` by
    ``name``, ``ownerReferences`` by ``uid``, ``conditions`` by ``type``, …) and keep
    the order given by ``$setElementOrder/<list>``, primitive merge lists
    (``finalizers``) union and honour ``$deleteFromPrimitiveList/<list>``, every
    other list is replaced. ``$patch: replace`` replaces a map or list,
    ``$patch: delete`` empties a map or deletes a list element, ``$retainKeys``
    prunes a map. ``$patch: merge`` is rejected, as upstream does.

    Raises :class:`PatchError` with the API server's code/reason/message.
    """
    if root not in SCHEMAS:
        raise _bad_request(ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT)
    if not isinstance(target, dict) or not isinstance(patch, dict):
        raise _bad_request(ERR_BAD_JSON_DOC)
    return _merge_map(deep_copy(target), deep_copy(patch), root)


def decode_patch_body(body: bytes | str, patch_type: str) -> Any:
    """The patch document of a PATCH request: JSON for the JSON, merge and strategic types; YAML (of which JSON
    is a subset) for server-side apply. Raises a 400 ``PatchError`` worded as the API server's decoder."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_request("the patch body is not valid UTF-8") from None
    if patch_type == "apply":
        # The manifest loader: YAML 1.1 values as go-yaml reads them, and bounded size, nesting and aliases.
        try:
            documents = load_documents(body)
        except ManifestError as exc:
            if exc.status != 400:  # too big
                raise PatchError(exc.message, code=exc.status, reason=exc.reason) from None
            where = f"line {exc.line}: " if exc.line else ""
            raise _bad_request(f"error decoding YAML: {where}{exc.message}") from None
        document = documents[0].obj if len(documents) == 1 else None
        if not isinstance(document, dict):
            raise _bad_request("error decoding YAML: the apply configuration must be a mapping")
        return document
    try:
        return load_json(body or "null")
    except ValueError as exc:
        raise _bad_request(f"error decoding patch: {exc}") from None
