"""Structural decoding checks: what Kubernetes rejects before validation even runs.

A real API server decodes the request body into Go structs
(``sigs.k8s.io/json``, a case-sensitive fork of ``encoding/json``). Two kinds
of problems surface there, each with its own wording:

* unknown fields, collected as strict-decoding errors::

      unknown field "spec.template.spec.containers[0].imagee"

  The caller turns them into a 400 (``fieldValidation=Strict``), ``Warning``
  headers (``Warn``) or silently drops them (``Ignore``, see
  :func:`drop_unknown_fields`);
* values of the wrong JSON type, which fail the whole request::

      json: cannot unmarshal string into Go struct field JobSpec.spec.parallelism of type int32

  Go reports the *struct* that owns the field, the path of JSON field names
  (no list indexes, no map keys) and the Go type; a few types with their own
  decoders (``resource.Quantity``, ``intstr.IntOrString``, ``metav1.Time``)
  word their errors differently.

The field layout comes from kubernetes-validate's bundled v1.32.0 strict JSON
schemas. JSON Schema itself cannot express Go's decoding rules (``null`` is
accepted for every field, enums are not enforced at decode time, int-or-string
``oneOf`` rejects ``null``), so instead of a generic validator each kind's
schema is compiled once into a small tree of decoders and cached.

Quantity parsing (``resource.ParseQuantity``) is checked here too, because
upstream parses quantities while decoding; the implementation is
``controllers.apimachinery.quantity``, re-exported here for validation and
defaulting.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from controllers.apimachinery.quantity import (  # noqa: F401 - re-exported: the decoder's quantity rules
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    ERR_FORMAT_WRONG,
    ERR_NUMERIC,
    ERR_SUFFIX,
    QUANTITY_REGEX_TEXT,
    Quantity,
    QuantityError,
    parse_quantity,
)

from apiserver.fielderrors import go_quote

SCHEMA_VERSION = "v1.32.0-local-strict"

# Go named types the schemas cannot tell apart from their underlying type.
# Keyed by (owning struct, JSON field name); used only to word type errors.
GO_NAMED_TYPES = {
    ("ObjectMeta", "uid"): "types.UID",
    ("OwnerReference", "uid"): "types.UID",
    ("ManagedFieldsEntry", "operation"): "v1.ManagedFieldsOperationType",
    ("LabelSelectorRequirement", "operator"): "v1.LabelSelectorOperator",
    ("PodSpec", "restartPolicy"): "v1.RestartPolicy",
    ("PodSpec", "dnsPolicy"): "v1.DNSPolicy",
    ("PodSpec", "preemptionPolicy"): "v1.PreemptionPolicy",
    ("PodSpec", "overhead"): "v1.ResourceList",
    ("Container", "imagePullPolicy"): "v1.PullPolicy",
    ("Container", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("Container", "restartPolicy"): "v1.ContainerRestartPolicy",
    ("ContainerPort", "protocol"): "v1.Protocol",
    ("ResourceRequirements", "limits"): "v1.ResourceList",
    ("ResourceRequirements", "requests"): "v1.ResourceList",
    ("Toleration", "operator"): "v1.TolerationOperator",
    ("Toleration", "effect"): "v1.TaintEffect",
    ("Taint", "effect"): "v1.TaintEffect",
    ("HostPathVolumeSource", "type"): "v1.HostPathType",
    ("HTTPGetAction", "scheme"): "v1.URIScheme",
    ("PodStatus", "phase"): "v1.PodPhase",
    ("PodStatus", "qosClass"): "v1.PodQOSClass",
    ("PodCondition", "type"): "v1.PodConditionType",
    ("PodCondition", "status"): "v1.ConditionStatus",
    ("NodeStatus", "capacity"): "v1.ResourceList",
    ("NodeStatus", "allocatable"): "v1.ResourceList",
    ("NodeStatus", "phase"): "v1.NodePhase",
    ("NodeCondition", "type"): "v1.NodeConditionType",
    ("NodeCondition", "status"): "v1.ConditionStatus",
    ("NamespaceSpec", "finalizers"): "[]v1.FinalizerName",
    ("NamespaceStatus", "phase"): "v1.NamespacePhase",
    ("ResourceQuotaSpec", "hard"): "v1.ResourceList",
    ("ResourceQuotaSpec", "scopes"): "[]v1.ResourceQuotaScope",
    ("ResourceQuotaStatus", "hard"): "v1.ResourceList",
    ("ResourceQuotaStatus", "used"): "v1.ResourceList",
    ("ScopedResourceSelectorRequirement", "scopeName"): "v1.ResourceQuotaScope",
    ("ScopedResourceSelectorRequirement", "operator"): "v1.ScopeSelectorOperator",
    ("JobSpec", "completionMode"): "v1.CompletionMode",
    ("JobSpec", "podReplacementPolicy"): "v1.PodReplacementPolicy",
    ("JobCondition", "type"): "v1.JobConditionType",
    ("JobCondition", "status"): "v1.ConditionStatus",
    ("PodFailurePolicyRule", "action"): "v1.PodFailurePolicyAction",
    ("PodFailurePolicyOnExitCodesRequirement", "operator"): "v1.PodFailurePolicyOnExitCodesOperator",
    ("PodFailurePolicyOnPodConditionsPattern", "type"): "v1.PodConditionType",
    ("PodFailurePolicyOnPodConditionsPattern", "status"): "v1.ConditionStatus",
    ("CronJobSpec", "concurrencyPolicy"): "v1.ConcurrencyPolicy",
    ("DaemonSetUpdateStrategy", "type"): "v1.DaemonSetUpdateStrategyType",
    ("DaemonSetCondition", "type"): "v1.DaemonSetConditionType",
    ("DaemonSetCondition", "status"): "v1.ConditionStatus",
}

_TIME_LAYOUT = "2006-01-02T15:04:05Z07:00"  # time.RFC3339
_MICRO_TIME_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"  # metav1.RFC3339Micro


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------


@dataclass
class StructuralResult:
    """What decoding found. Parallel lists: ``x[i]`` is described by ``x_keys[i]``.

    ``unknown_fields``: paths as upstream renders them (``spec.foo``,
    ``spec.template.spec.containers[0].imagee``), document order, deduplicated.
    ``type_errors``: full decode error messages (``json: cannot unmarshal ...``,
    ``quantities must match ...``), document order.
    ``*_keys``: the same locations as tuples of dict keys and list indexes, for
    mapping back to YAML line numbers.
    """

    unknown_fields: list[str] = field(default_factory=list)
    unknown_field_keys: list[tuple] = field(default_factory=list)
    type_errors: list[str] = field(default_factory=list)
    type_error_keys: list[tuple] = field(default_factory=list)
    # Index into type_errors of the first error that aborts Go's decoder at once
    # (custom UnmarshalJSON failures); ordinary type errors are only remembered.
    _first_fatal: int | None = None

    @property
    def ok(self) -> bool:
        return not self.unknown_fields and not self.type_errors

    @property
    def decode_error(self) -> str | None:
        """The single error a real server reports (it stops at one), or None.

        A custom-decoder failure aborts decoding and wins; otherwise the first
        ordinary type error. Unknown fields are only reported when this is None.
        """
        if not self.type_errors:
            return None
        index = self._first_fatal if self._first_fatal is not None else 0
        return self.type_errors[index]

    @property
    def decode_error_keys(self) -> tuple | None:
        if not self.type_errors:
            return None
        index = self._first_fatal if self._first_fatal is not None else 0
        return self.type_error_keys[index]

    def strict_messages(self) -> list[str]:
        """``['unknown field "spec.foo"', ...]`` as joined after ``strict decoding error: ``."""
        return [f'unknown field "{_go_quote_inner(p)}"' for p in self.unknown_fields]


def _go_quote_inner(text: str) -> str:
    return go_quote(text)[1:-1]


# ---------------------------------------------------------------------------
# Compiled decoder tree
# ---------------------------------------------------------------------------


class _Node:
    go_type = "interface {}"


class _Any(_Node):
    """Free-form JSON (FieldsV1, RawExtension): anything decodes."""

    def __init__(self, go_type: str):
        self.go_type = go_type


class _Scalar(_Node):
    def __init__(self, kind: str, go_type: str):
        self.kind = kind  # "string", "bool", "int32", "int64", "float64", "bytes"
        self.go_type = go_type


class _List(_Node):
    def __init__(self, item: _Node, go_type: str | None = None):
        self.item = item
        self.go_type = go_type or "[]" + item.go_type


class _Map(_Node):
    def __init__(self, value: _Node, go_type: str | None = None):
        self.value = value
        self.go_type = go_type or "map[string]" + value.go_type


class _Struct(_Node):
    def __init__(self, name: str, go_type: str):
        self.name = name  # reflect.Type.Name(), e.g. "JobSpec"
        self.go_type = go_type  # e.g. "v1.JobSpec"
        self.fields: dict[str, _Node] = {}


class _IntOrString(_Node):
    go_type = "intstr.IntOrString"


class _Quantity(_Node):
    go_type = "resource.Quantity"


class _Time(_Node):
    def __init__(self, layout: str, go_type: str):
        self.layout = layout
        self.go_type = go_type


def _schema_dir() -> str:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("kubernetes-validate is not installed")
    return os.path.join(spec.submodule_search_locations[0], "kubernetes-json-schema", SCHEMA_VERSION)


@lru_cache(maxsize=1)
def _definitions() -> dict:
    with open(os.path.join(_schema_dir(), "_definitions.json"), encoding="utf-8") as fh:
        return json.load(fh)["$defs"]


class _Compiler:
    """Turns JSON-schema definitions into decoder nodes, one node per definition."""

    def __init__(self, defs: dict):
        self.defs = defs
        self.by_name: dict[str, _Node] = {}

    def ref(self, ref: str) -> _Node:
        name = ref.rsplit("/", 1)[-1]
        node = self.by_name.get(name)
        if node is None:
            node = self.definition(name)
        return node

    def definition(self, name: str) -> _Node:
        short = name.rsplit(".", 1)[-1]
        package = name.rsplit(".", 2)[-2]
        special = {
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _IntOrString,
            "io.k8s.apimachinery.pkg.api.resource.Quantity": _Quantity,
        }
        if name in special:
            node = special[name]()
        elif name == "io.k8s.apimachinery.pkg.apis.meta.v1.Time":
            node = _Time(_TIME_LAYOUT, "v1.Time")
        elif name == "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
            node = _Time(_MICRO_TIME_LAYOUT, "v1.MicroTime")
        else:
            schema = self.defs[name]
            if "properties" not in schema:
                node = _Any(f"{package}.{short}")
            else:
                node = _Struct(short, f"{package}.{short}")
                self.by_name[name] = node  # register before recursing: schemas can be recursive
                for prop, sub in schema["properties"].items():
                    node.fields[prop] = self.node(sub, short, prop)
        self.by_name[name] = node
        return node

    def node(self, schema: dict, owner: str, prop: str) -> _Node:
        named = GO_NAMED_TYPES.get((owner, prop))
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "array" in types:
            item = self.node(schema.get("items", {}), owner, "")
            return _List(item, named)
        if "object" in types:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                return _Map(self.node(extra, owner, ""), named)
            return _Any(named or "map[string]interface {}")
        if "integer" in types:
            kind = "int32" if schema.get("format") == "int32" else "int64"
            return _Scalar(kind, named or kind)
        if "number" in types:
            return _Scalar("float64", named or "float64")
        if "boolean" in types:
            return _Scalar("bool", named or "bool")
        if "string" in types:
            if schema.get("format") == "byte":
                return _Scalar("bytes", "[]uint8")
            return _Scalar("string", named or "string")
        return _Any(named or "interface {}")


def schema_path(filename: str) -> str:
    """Where a schema file of kubernetes-validate's v1.32.0 strict schemas is (``job-batch-v1.json``)."""
    return os.path.join(_schema_dir(), filename)


@lru_cache(maxsize=None)
def _compiled(filename: str | None, kind: str) -> _Struct | None:
    if filename is None:
        return None
    with open(schema_path(filename), encoding="utf-8") as fh:
        top = json.load(fh)
    compiler = _compiler()
    root = _Struct(kind, f"v1.{kind}")
    for prop, sub in top["properties"].items():
        root.fields[prop] = compiler.node(sub, kind, prop)
    return root


@lru_cache(maxsize=1)
def _compiler() -> _Compiler:
    return _Compiler(_definitions())


# ---------------------------------------------------------------------------
# Walking an object
# ---------------------------------------------------------------------------


class _Walker:
    def __init__(self, prune: bool = False):
        self.result = StructuralResult()
        self.prune = prune
        self._seen_unknown: set[str] = set()

    # keys: the strict path (dict keys and list indexes);
    # struct/fields: Go's errorContext (owning struct name, JSON field names only).
    def walk(self, node: _Node, value, keys: tuple, struct: str, fields: tuple):
        if value is None:
            return value  # null decodes into anything (pointers/maps/slices become nil)
        if isinstance(node, _Struct):
            if not isinstance(value, dict):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)
                return value
            out = {} if self.prune else value
            for key, sub in value.items():
                child = node.fields.get(key)
                if child is None:
                    self.unknown(keys + (key,))
                    continue
                walked = self.walk(child, sub, keys + (key,), node.name, fields + (key,))
                if self.prune:
                    out[key] = walked
            return out
        if isinstance(node, _Map):
            if not isinstance(value, dict):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)
                return value
            out = {} if self.prune else value
            for key, sub in value.items():
                walked = self.walk(node.value, sub, keys + (key,), struct, fields)
                if self.prune:
                    out[key] = walked
            return out
        if isinstance(node, _List):
            if not isinstance(value, list):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)
                return value
            walked = [self.walk(node.item, sub, keys + (i,), struct, fields) for i, sub in enumerate(value)]
            return walked if self.prune else value
        if isinstance(node, _Scalar):
            self.scalar(node, value, keys, struct, fields)
            return value
        if isinstance(node, _IntOrString):
            if not isinstance(value, str):
                desc = _int_literal_problem(value, "int32")
                if desc is not None:
                    self.type_error(desc, "int32", keys, struct, fields, fatal=True)
            return value
        if isinstance(node, _Quantity):
            text = _quantity_text(value)
            try:
                parse_quantity(text)
            except QuantityError as err:
                self.fatal(str(err), keys)
            return value
        if isinstance(node, _Time):
            if not isinstance(value, str):
                self.type_error(_json_kind(value), "string", keys, struct, fields, fatal=True)
            else:
                problem = go_parse_time_error(value, node.layout)
                if problem:
                    self.fatal(problem, keys)
            return value
        return value  # _Any

    def scalar(self, node: _Scalar, value, keys, struct, fields):
        kind = node.kind
        if kind in ("string", "bytes"):
            if not isinstance(value, str):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)
        elif kind == "bool":
            if not isinstance(value, bool):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)
        elif kind in ("int32", "int64"):
            desc = _int_literal_problem(value, kind)
            if desc is not None:
                self.type_error(desc, node.go_type, keys, struct, fields)
        elif kind == "float64":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.type_error(_json_kind(value), node.go_type, keys, struct, fields)

    def unknown(self, keys: tuple):
        path = render_path(keys)
        if path in self._seen_unknown:
            return
        self._seen_unknown.add(path)
        self.result.unknown_fields.append(path)
        self.result.unknown_field_keys.append(keys)

    def type_error(self, value_desc, go_type, keys, struct, fields, fatal=False):
        if struct or fields:
            message = (
                f"json: cannot unmarshal {value_desc} into Go struct field "
                f"{struct}.{'.'.join(fields)} of type {go_type}"
            )
        else:
            message = f"json: cannot unmarshal {value_desc} into Go value of type {go_type}"
        self._record(message, keys, fatal)

    def fatal(self, message, keys):
        self._record(message, keys, True)

    def _record(self, message, keys, fatal):
        if fatal and self.result._first_fatal is None:
            self.result._first_fatal = len(self.result.type_errors)
        self.result.type_errors.append(message)
        self.result.type_error_keys.append(keys)


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _json_number_literal(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value)


def _int_literal_problem(value, kind: str) -> str | None:
    """Go's description of a JSON value that does not fit an int field, or None if it fits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _json_kind(value)
    # YAML 2.0 reaches the server as JSON 2 (Go marshals integral floats without a fraction).
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e21):
        return "number " + _json_number_literal(value)
    low, high = _INT_RANGES[kind]
    if not low <= int(value) <= high:
        return "number " + _json_number_literal(value)
    return None


def _quantity_text(value) -> str:
    """The text Quantity.UnmarshalJSON hands to ParseQuantity for a JSON value."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _json_number_literal(value)
    return json.dumps(value, separators=(",", ":"))


def render_path(keys) -> str:
    """Strict-decoding path: ``spec.template.spec.containers[0].imagee``."""
    out = []
    for key in keys:
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif out:
            out.append("." + key)
        else:
            out.append(key)
    return "".join(out)


def structural_errors(obj: dict, schema_file: str | None) -> StructuralResult:
    """Decode-time problems of ``obj`` (unknown fields, wrong JSON types) as upstream words them, against the
    schema file of its kind (``kinds.structural_errors`` finds it from the object's apiVersion and kind).

    No schema file (a kind not served) yields an empty result: recognising the kind is the caller's job.
    """
    root = _compiled(schema_file, str(obj.get("kind")))
    walker = _Walker()
    if root is not None:
        walker.walk(root, obj, (), "", ())
    return walker.result


def drop_unknown_fields(obj: dict, schema_file: str | None) -> dict:
    """A pruned deep copy of ``obj`` without unknown fields (``fieldValidation=Ignore``), against the schema file
    of its kind."""
    root = _compiled(schema_file, str(obj.get("kind")))
    if root is None:
        return copy.deepcopy(obj)
    pruned = _Walker(prune=True).walk(root, obj, (), "", ())
    return copy.deepcopy(pruned)


# ---------------------------------------------------------------------------
# metav1.Time parsing errors (Go's time.Parse wording)
# ---------------------------------------------------------------------------


def go_parse_time_error(value: str, layout: str = _TIME_LAYOUT) -> str | None:
    """None when ``value`` parses with Go's RFC 3339 layout, else time.Parse's error text."""
    prefix = f"parsing time {_go_quote(value)} as {_go_quote(layout)}: "
    rest = value
    # (element, digits) sequence of the RFC 3339 layout; literals between them.
    steps = [("2006", 4), ("-", None), ("01", 2), ("-", None), ("02", 2), ("T", None), ("15", 2),
             (":", None), ("04", 2), (":", None), ("05", 2)]
    numbers = {}
    for elem, width in steps:
        if width is None:
            if not rest.startswith(elem):
                return prefix + f"cannot parse {_go_quote(rest)} as {_go_quote(elem)}"
            rest = rest[len(elem):]
            continue
        chunk = rest[:width]
        if len(chunk) < width or not chunk.isdigit():
            return prefix + f"cannot parse {_go_quote(rest)} as {_go_quote(elem)}"
        numbers[elem] = int(chunk)
        rest = rest[width:]
    if rest.startswith(".") or rest.startswith(","):
        digits = re.match(r"[.,]([0-9]*)", rest)
        rest = rest[digits.end():]
    if rest.startswith("Z"):
        rest = rest[1:]
    else:
        zone = re.match(r"[+-][0-9]{2}:[0-9]{2}", rest)
        if not zone:
            return prefix + f"cannot parse {_go_quote(rest)} as {_go_quote('Z07:00')}"
        rest = rest[zone.end():]
    if rest:
        return f"parsing time {_go_quote(value)}: extra text: {_go_quote(rest)}"
    ranges = [("01", "month", 1, 12), ("02", "day", 1, 31), ("15", "hour", 0, 23), ("04", "minute", 0, 59),
              ("05", "second", 0, 59)]
    for elem, name, low, high in ranges:
        if not low <= numbers[elem] <= high:
            return f"parsing time {_go_quote(value)}: {name} out of range"
    return None


_go_quote = go_quote
