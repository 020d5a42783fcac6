"""Lesson files: loading them and checking them against the lesson format, with the line of every mistake.

A lesson is one YAML document (``lessons/README.md`` describes it for teachers). This module reads it with the
same position-keeping loader the apply endpoint uses (``apiserver.manifests.load_documents``), walks it
against a small declarative schema, and then checks what a schema cannot: step ids are unique, a solution names
manifests that exist, embedded manifests and selectors parse, operators fit their values. Every problem is
reported as ``file:line:column: path: message``; a lesson with any problem is refused whole, never half-loaded.

What comes out is the lesson as plain JSON-ready data with the defaults filled in (``Lesson.content``), which is
what the runner, the database and the browser player read.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from controllers.apimachinery import fields as fieldsel
from controllers.apimachinery import labels as labelsel
from controllers.apimachinery.timeutil import parse_rfc3339
from controllers.programs import parse_go_duration

from apiserver.manifests import ManifestError, load_documents
from apiserver.kinds import RESOURCE_TYPES

API_VERSION = "kubeviz.io/v1alpha1"
KIND = "Lesson"
LANGUAGES = ("zh-Hans", "en")
LEVELS = ("beginner", "intermediate", "advanced")
KINDS = tuple(sorted({r.kind for r in RESOURCE_TYPES}))
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "notIn", "contains", "startsWith", "endsWith", "matches",
             "exists", "absent")
ORDERING_OPERATORS = ("<", "<=", ">", ">=")
TEXT_OPERATORS = ("startsWith", "endsWith", "matches")
UNARY_OPERATORS = ("exists", "absent")
MOMENTS = ("now", "always", "ever")
DEFAULT_TIMEOUT = 600.0
SLUG_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_LESSON_BYTES = 512 * 1024


class LessonError(Exception):
    """One or more problems in one lesson file; ``problems`` are ``Problem``s in file order."""

    def __init__(self, problems: list["Problem"]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass
class Lesson:
    """A validated lesson: ``content`` is the normalised document (defaults filled in, durations in seconds)."""

    slug: str
    content: dict
    source: str
    content_hash: str

    @property
    def order(self) -> int:
        return self.content["order"]

    @property
    def steps(self) -> list[dict]:
        return self.content["steps"]

    def manifest(self, name: str, *, before_step: int | None = None) -> dict | None:
        """The manifest called ``name`` from any step (or only steps up to ``before_step``), last one wins."""
        found = None
        for index, step in enumerate(self.steps):
            if before_step is not None and index > before_step:
                break
            for manifest in step["manifests"]:
                if manifest["name"] == name:
                    found = manifest
        return found


# --- paths ------------------------------------------------------------------------------------------------


def render_path(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_SEGMENT_RE = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]|(\.)")


def parse_field_path(text: str) -> list:
    """``status.conditions[type=Complete].reason`` -> ``["status", "conditions", (("type", "Complete"),), "reason"]``.

    ``[3]`` is a list index, ``[key=value]`` (or ``[k1=v1,k2=v2]``) picks the first list item whose fields have
    those values (compared as text), and any
    other ``[text]`` is a map key that may contain dots (``metadata.labels[batch.kubernetes.io/job-name]``).
    Raises ``ValueError`` for an empty or malformed path.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a field path must not be empty")
    parts: list = []
    position, expect_name = 0, True
    while position < len(text):
        match = _SEGMENT_RE.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the field path {text!r} at character {position + 1}")
        name, bracket, dot = match.groups()
        if name is not None:
            if not expect_name:
                raise ValueError(f"cannot read the field path {text!r}: a '.' is missing before {name!r}")
            parts.append(name)
            expect_name = False
        elif bracket is not None:
            if expect_name and not parts:
                raise ValueError(f"the field path {text!r} must start with a field name")
            if bracket.strip() == "":
                raise ValueError(f"the field path {text!r} has an empty [ ]")
            if bracket.isdigit():
                parts.append(int(bracket))
            elif "=" in bracket:
                pairs = []
                for term in bracket.split(","):
                    key, equals, value = term.partition("=")
                    if not equals or not key.strip():
                        raise ValueError(f"cannot read the filter [{bracket}] in {text!r}: expected key=value[,key=value]")
                    pairs.append((key.strip(), value.strip()))
                parts.append(tuple(pairs))
            else:
                parts.append(bracket)
            expect_name = False
        else:
            if expect_name:
                raise ValueError(f"cannot read the field path {text!r}: '..' or a leading '.'")
            expect_name = True
        position = match.end()
    if expect_name:
        raise ValueError(f"the field path {text!r} ends with '.'")
    return parts


_MISSING = object()


def resolve_path(obj, parts: list):
    """The value at a parsed field path, or ``MISSING``."""
    value = obj
    for part in parts:
        if isinstance(part, tuple):
            if not isinstance(value, list):
                return _MISSING
            value = next((item for item in value if isinstance(item, dict)
                          and all(_text(item.get(key)) == wanted for key, wanted in part)), _MISSING)
        elif isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return _MISSING
            value = value[part]
        else:
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        if value is _MISSING:
            return _MISSING
    return value


MISSING = _MISSING


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- the schema ---------------------------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.items: list[tuple[list, str, tuple | None]] = []

    def add(self, path, message: str, *, at: tuple[int, int] | None = None) -> None:
        """Record a problem at ``path`` (located there, or at the explicit line and column ``at``)."""
        self.items.append((list(path), message, at))


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


class Spec:
    def __call__(self, value, path, errors: _Errors):
        raise NotImplementedError


class Str(Spec):
    def __init__(self, *, choices=None, pattern=None, pattern_help="", allow_empty=False):
        self.choices, self.pattern, self.pattern_help, self.allow_empty = choices, pattern, pattern_help, allow_empty

    def __call__(self, value, path, errors):
        if not isinstance(value, str):
            errors.add(path, f"expected a string, got {_type_name(value)}")
            return None
        if not value.strip() and not self.allow_empty:
            errors.add(path, "must not be empty")
            return None
        if self.choices is not None and value not in self.choices:
            errors.add(path, f'unknown value "{value}", expected one of {_quoted(self.choices)}')
            return None
        if self.pattern is not None and not self.pattern.match(value):
            errors.add(path, f'"{value}" is not {self.pattern_help}')
            return None
        return value


class Int(Spec):
    def __init__(self, *, minimum=None):
        self.minimum = minimum

    def __call__(self, value, path, errors):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(path, f"expected an integer, got {_type_name(value)}")
            return None
        if self.minimum is not None and value < self.minimum:
            errors.add(path, f"must be at least {self.minimum}, got {value}")
            return None
        return value


class Number(Spec):
    def __init__(self, *, minimum=None, exclusive=False):
        self.minimum, self.exclusive = minimum, exclusive

    def __call__(self, value, path, errors):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.add(path, f"expected a number, got {_type_name(value)}")
            return None
        if self.minimum is not None and (value <= self.minimum if self.exclusive else value < self.minimum):
            errors.add(path, f"must be {'more than' if self.exclusive else 'at least'} {self.minimum}, got {value}")
            return None
        return value


class Bool(Spec):
    def __call__(self, value, path, errors):
        if not isinstance(value, bool):
            errors.add(path, f"expected true or false, got {_type_name(value)}")
            return None
        return value


class Duration(Spec):
    """A Go duration (``90s``, ``2m``, ``1h30m``) or a number of seconds; normalised to seconds."""

    def __call__(self, value, path, errors):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < 0:
                errors.add(path, f"a duration must not be negative, got {value}")
                return None
            return float(value)
        if isinstance(value, str):
            try:
                return parse_go_duration(value)
            except ValueError:
                pass
        errors.add(path, f"expected a duration such as 30s, 2m or 1h30m, got {json.dumps(value, ensure_ascii=False)}")
        return None


class Time(Spec):
    def __call__(self, value, path, errors):
        if isinstance(value, str):
            try:
                parse_rfc3339(value)
                return value
            except ValueError:
                pass
        errors.add(path, f"expected an RFC 3339 time such as 2025-01-01T00:00:00Z, got {json.dumps(value)}")
        return None


class Text(Spec):
    """Text in every lesson language: ``{zh-Hans: ..., en: ...}``."""

    def __call__(self, value, path, errors):
        if not isinstance(value, dict):
            errors.add(path, f"expected a text in each language ({_quoted(LANGUAGES)}), got {_type_name(value)}")
            return None
        result = {}
        for language in value:
            if language not in LANGUAGES:
                errors.add([*path, language], f'unknown language "{language}", expected {_quoted(LANGUAGES)}')
        for language in LANGUAGES:
            if language not in value:
                errors.add(path, f'the "{language}" text is missing')
                continue
            text = value[language]
            if not isinstance(text, str) or not text.strip():
                errors.add([*path, language], "expected a non-empty string")
                continue
            result[language] = text
        return result if len(result) == len(LANGUAGES) else None


class Scalar(Spec):
    """A value to compare with: string, number, boolean, null, or a list of those (for ``in``)."""

    def __call__(self, value, path, errors):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, (list, dict)):
                    errors.add([*path, i], f"expected a string, number or boolean, got {_type_name(item)}")
            return value
        if isinstance(value, dict):
            errors.add(path, "expected a string, number, boolean or list, got a mapping")
            return None
        return value


class Anything(Spec):
    def __call__(self, value, path, errors):
        return value


class ListOf(Spec):
    def __init__(self, item: Spec, *, min_items=0):
        self.item, self.min_items = item, min_items

    def __call__(self, value, path, errors):
        if not isinstance(value, list):
            errors.add(path, f"expected a list, got {_type_name(value)}")
            return None
        if len(value) < self.min_items:
            errors.add(path, f"expected at least {self.min_items} item(s)")
        return [self.item(item, [*path, i], errors) for i, item in enumerate(value)]


class MapOf(Spec):
    def __init__(self, value: Spec):
        self.value = value

    def __call__(self, value, path, errors):
        if not isinstance(value, dict):
            errors.add(path, f"expected a mapping, got {_type_name(value)}")
            return None
        return {k: self.value(v, [*path, k], errors) for k, v in value.items()}


class Nullable(Spec):
    def __init__(self, inner: Spec):
        self.inner = inner

    def __call__(self, value, path, errors):
        return None if value is None else self.inner(value, path, errors)


class OneOfTypes(Spec):
    """The first spec whose type fits: ``OneOfTypes((str, Str()), (dict, Record(...)))``."""

    def __init__(self, *options, describe: str):
        self.options, self.describe = options, describe

    def __call__(self, value, path, errors):
        for types, spec in self.options:
            if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
                return spec(value, path, errors)
        errors.add(path, f"expected {self.describe}, got {_type_name(value)}")
        return None


@dataclass
class F:
    """A field of a ``Record``: its spec, whether it is required, and its default."""

    spec: Spec
    required: bool = False
    default: Any = None
    has_default: bool = False


def opt(spec: Spec, default=_MISSING) -> F:
    return F(spec, False, default, default is not _MISSING)


def req(spec: Spec) -> F:
    return F(spec, True)


class Record(Spec):
    def __init__(self, fields: dict[str, F], *, check: Callable | None = None):
        self.fields, self.check = fields, check

    def __call__(self, value, path, errors):
        if not isinstance(value, dict):
            errors.add(path, f"expected a mapping, got {_type_name(value)}")
            return None
        result = {}
        for key in value:
            if key not in self.fields:
                errors.add([*path, key], f'unknown field "{key}", expected one of {_quoted(self.fields)}')
        for name, f in self.fields.items():
            if name in value:
                result[name] = f.spec(value[name], [*path, name], errors)
            elif f.required:
                errors.add(path, f'the field "{name}" is required')
            elif f.has_default:
                # defaults go through their spec too: a default mapping gets its own defaults filled in
                default = json.loads(json.dumps(f.default))
                result[name] = default if default is None else f.spec(default, [*path, name], errors)
        if self.check is not None:
            self.check(result, value, path, errors)
        return result


class Tagged(Spec):
    """A mapping with exactly one of ``variants`` as its key, plus ``common`` fields: an action or a check.

    Normalised to ``{"type": <variant>, <variant>: <body>, **common}``.
    """

    def __init__(self, what: str, variants: dict[str, Spec], common: dict[str, F] | None = None):
        self.what, self.variants, self.common = what, variants, common or {}
        self.article = "an" if what[0] in "aeiou" else "a"

    def __call__(self, value, path, errors):
        if not isinstance(value, dict):
            errors.add(path, f"expected {self.article} {self.what} (a mapping with one of {_quoted(self.variants)}), "
                             f"got {_type_name(value)}")
            return None
        chosen = [k for k in value if k in self.variants]
        for key in value:
            if key not in self.variants and key not in self.common:
                errors.add([*path, key], f'unknown {self.what} "{key}", expected one of '
                                         f'{_quoted([*self.variants, *self.common])}')
        if len(chosen) != 1:
            if not chosen:
                errors.add(path, f"{self.article} {self.what} needs exactly one of {_quoted(self.variants)}")
            else:
                errors.add([*path, chosen[1]], f'{self.article} {self.what} has one kind only: "{chosen[0]}" and "{chosen[1]}" '
                                               f"given")
            return None
        variant = chosen[0]
        result = {"type": variant, variant: self.variants[variant](value[variant], [*path, variant], errors)}
        common = Record(self.common)({k: v for k, v in value.items() if k in self.common}, path, errors)
        result.update(common or {})
        return result


# --- field checks shared by checks and actions ----------------------------------------------------------------


def _kind_spec() -> Str:
    return Str(choices=KINDS)


def _selector_ok(result, raw, path, errors, key="selector", field_key="fieldSelector", kind=None):
    if isinstance(result.get(key), str):
        try:
            labelsel.parse_selector(result[key])
        except labelsel.SelectorError as exc:
            errors.add([*path, key], f"not a label selector: {exc}")
    if isinstance(result.get(field_key), str):
        try:
            parsed = fieldsel.parse_field_selector(result[field_key])
            if kind:
                fieldsel.check_supported(kind, parsed)
        except fieldsel.SelectorError as exc:
            errors.add([*path, field_key], f"not a field selector for {kind or 'this kind'}: {exc}")


def _path_ok(result, path, errors, key="path"):
    if isinstance(result.get(key), str):
        try:
            parse_field_path(result[key])
        except ValueError as exc:
            errors.add([*path, key], str(exc))


def _comparison_ok(result, raw, path, errors, *, value_required=True):
    op = result.get("op")
    if op is None:
        return
    has_value = "value" in raw
    if op in UNARY_OPERATORS:
        if has_value:
            errors.add([*path, "value"], f'the operator "{op}" takes no value')
        return
    if not has_value:
        if value_required:
            errors.add(path, f'the field "value" is required with the operator "{op}"')
        return
    value = result.get("value")
    if op in ORDERING_OPERATORS and (isinstance(value, bool) or not isinstance(value, (int, float))):
        errors.add([*path, "value"], f'the operator "{op}" compares numbers, got {_type_name(value)}')
    if op in ("in", "notIn") and not isinstance(value, list):
        errors.add([*path, "value"], f'the operator "{op}" needs a list of values, got {_type_name(value)}')
    if op in TEXT_OPERATORS and not isinstance(value, str):
        errors.add([*path, "value"], f'the operator "{op}" needs a string, got {_type_name(value)}')
    if op == "matches" and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            errors.add([*path, "value"], f"not a regular expression: {exc}")


def _op_spec():
    return Str(choices=OPERATORS)


def _where_check(result, raw, path, errors):
    _path_ok(result, path, errors)
    _comparison_ok(result, raw, path, errors)


WHERE = Record({"path": req(Str()), "op": opt(_op_spec(), "=="), "value": opt(Scalar())}, check=_where_check)


def _field_check(result, raw, path, errors):
    if ("path" in raw) == ("column" in raw):
        errors.add(path, 'a field check needs exactly one of "path" or "column"')
    _path_ok(result, path, errors)
    if "column" in raw and result.get("at") not in (None, "now"):
        errors.add([*path, "at"], 'a column is printed at one moment: use "at: now" with "column"')
    _comparison_ok(result, raw, path, errors)


def _count_check(result, raw, path, errors):
    _selector_ok(result, raw, path, errors, kind=result.get("kind"))
    if "distinct" in raw:
        _path_ok(result, path, errors, "distinct")
    if ("status" in raw or "ready" in raw) and result.get("kind") not in (None, "Pod"):
        errors.add(path, '"status" and "ready" apply to pods only (kind: Pod)')
    _comparison_ok(result, raw, path, errors)
    if result.get("op") in TEXT_OPERATORS + ("contains", "exists", "absent"):
        errors.add([*path, "op"], f'a count is a number: "{result["op"]}" does not apply')


def _number_comparison(result, raw, path, errors):
    _comparison_ok(result, raw, path, errors, value_required=False)
    if result.get("op") in TEXT_OPERATORS + ("contains", "exists", "absent"):
        errors.add([*path, "op"], f'a count is a number: "{result["op"]}" does not apply')


def _event_check(result, raw, path, errors):
    _number_comparison(result, raw, path, errors)
    if not any(k in raw for k in ("reason", "message", "involvedName")):
        errors.add(path, 'an event check needs at least one of "reason", "message" or "involvedName"')


def _log_check(result, raw, path, errors):
    if ("pod" in raw) == ("selector" in raw):
        errors.add(path, 'a log check needs exactly one of "pod" or "selector"')
    _selector_ok(result, raw, path, errors)
    if "matches" in raw and isinstance(result.get("matches"), str):
        try:
            re.compile(result["matches"])
        except re.error as exc:
            errors.add([*path, "matches"], f"not a regular expression: {exc}")
    if ("contains" in raw) == ("matches" in raw):
        errors.add(path, 'a log check needs exactly one of "contains" or "matches"')


def _trace_check(result, raw, path, errors):
    _number_comparison(result, raw, path, errors)
    if not any(k in raw for k in ("decision", "observed", "trigger", "action")):
        errors.add(path, 'a trace check needs at least one of "decision", "observed", "trigger" or "action"')


FIELD = Record({
    "kind": req(_kind_spec()), "name": req(Str()), "namespace": opt(Str(), "default"),
    "path": opt(Str()), "column": opt(Str()), "op": opt(_op_spec(), "=="), "value": opt(Scalar()),
    "at": opt(Str(choices=MOMENTS), "now"),
}, check=_field_check)

COUNT = Record({
    "kind": req(_kind_spec()), "namespace": opt(Str(), "default"), "selector": opt(Str(allow_empty=True), ""),
    "fieldSelector": opt(Str(allow_empty=True), ""), "status": opt(Str()), "ready": opt(Bool()),
    "active": opt(Bool()), "where": opt(ListOf(WHERE), []), "distinct": opt(Str()),
    "op": opt(_op_spec(), "=="), "value": req(Int(minimum=0)), "at": opt(Str(choices=MOMENTS), "now"),
}, check=_count_check)

EVENT = Record({
    "reason": opt(Str()), "message": opt(Str()), "type": opt(Str(choices=("Normal", "Warning"))),
    "involvedKind": opt(_kind_spec()), "involvedName": opt(Str()), "namespace": opt(Str()),
    "since": opt(Str(choices=("step", "lesson")), "step"), "op": opt(_op_spec(), ">="),
    "value": opt(Int(minimum=0), 1),
}, check=_event_check)

LOG = Record({
    "namespace": opt(Str(), "default"), "pod": opt(Str()), "selector": opt(Str()), "container": opt(Str()),
    "contains": opt(Str()), "matches": opt(Str()), "previous": opt(Bool(), False),
}, check=_log_check)

TRACE = Record({
    "controller": opt(Str()), "object": opt(Str()), "trigger": opt(Str()), "observed": opt(Str()),
    "decision": opt(Str()), "action": opt(Str()), "since": opt(Str(choices=("step", "lesson")), "step"),
    "op": opt(_op_spec(), ">="), "value": opt(Int(minimum=0), 1),
}, check=_trace_check)

APPLY = Record({
    "kind": opt(_kind_spec()), "name": opt(Str()), "manifest": opt(Str()),
    "outcome": req(Str(choices=("accepted", "rejected", "created", "configured", "unchanged"))),
    "message": opt(Str()),
})

CHECK_VARIANTS = {"field": FIELD, "count": COUNT, "event": EVENT, "log": LOG, "trace": TRACE, "apply": APPLY}

CHECK = Tagged("check", CHECK_VARIANTS, {"message": req(Text()), "id": opt(Str())})
CONDITION = Tagged("check", CHECK_VARIANTS, {"message": opt(Text()), "id": opt(Str())})

# --- actions ------------------------------------------------------------------------------------------------

LABELS = MapOf(Nullable(Str(allow_empty=True)))
TAINT = Record({"key": req(Str()), "value": opt(Str(allow_empty=True)),
                "effect": req(Str(choices=("NoSchedule", "PreferNoSchedule", "NoExecute")))})
NODE_NAME = Str(pattern=SLUG_RE, pattern_help="a node name (lower case letters, digits and '-')")


def _object_ref(result, raw, path, errors):
    _selector_ok(result, raw, path, errors, kind=result.get("kind"))
    if ("name" in raw) == ("selector" in raw or "fieldSelector" in raw):
        errors.add(path, 'name the object ("name") or select objects ("selector" / "fieldSelector"), not both')


def _patch_check(result, raw, path, errors):
    kind = result.get("type")
    body = result.get("patch")
    if kind == "json" and not isinstance(body, list):
        errors.add([*path, "patch"], "a JSON patch is a list of operations")
    if kind in ("merge", "strategic") and not isinstance(body, dict):
        errors.add([*path, "patch"], f"a {kind} patch is a mapping")


ACTION_VARIANTS = {
    "advance": Duration(),
    "apply": Str(),
    "addNode": Record({"name": req(NODE_NAME), "labels": opt(LABELS, {}), "taints": opt(ListOf(TAINT), []),
                       "controlPlane": opt(Bool(), False)}),
    "removeNode": NODE_NAME,
    "labelNode": Record({"node": req(NODE_NAME), "labels": req(LABELS)}),
    "taintNode": Record({"node": req(NODE_NAME), "key": req(Str()), "value": opt(Str(allow_empty=True)),
                         "effect": req(Str(choices=("NoSchedule", "PreferNoSchedule", "NoExecute")))}),
    "untaintNode": Record({"node": req(NODE_NAME), "key": req(Str()),
                           "effect": opt(Str(choices=("NoSchedule", "PreferNoSchedule", "NoExecute")))}),
    "cordonNode": NODE_NAME,
    "uncordonNode": NODE_NAME,
    "failNode": NODE_NAME,
    "recoverNode": NODE_NAME,
    "patch": Record({"kind": req(_kind_spec()), "name": req(Str()), "namespace": opt(Str(), "default"),
                     "type": opt(Str(choices=("strategic", "merge", "json")), "strategic"),
                     "patch": req(Anything())}, check=_patch_check),
    "delete": Record({"kind": req(_kind_spec()), "name": opt(Str()), "namespace": opt(Str(), "default"),
                      "selector": opt(Str()), "fieldSelector": opt(Str())}, check=_object_ref),
    "undo": Record({"kind": req(Str(choices=("DaemonSet",))), "name": req(Str()),
                    "namespace": opt(Str(), "default"), "toRevision": opt(Int(minimum=0), 0)}),
}

ACTION = Tagged("action", ACTION_VARIANTS, {"waitFor": opt(CONDITION), "timeout": opt(Duration(), DEFAULT_TIMEOUT),
                                            "note": opt(Text())})

# --- predictions ----------------------------------------------------------------------------------------------


def _measure_field_check(result, raw, path, errors):
    if ("path" in raw) == ("column" in raw):
        errors.add(path, 'a field measure needs exactly one of "path" or "column"')
    _path_ok(result, path, errors)


def _measure_count_check(result, raw, path, errors):
    _selector_ok(result, raw, path, errors, kind=result.get("kind"))
    if "distinct" in raw:
        _path_ok(result, path, errors, "distinct")
    if ("status" in raw or "ready" in raw) and result.get("kind") not in (None, "Pod"):
        errors.add(path, '"status" and "ready" apply to pods only (kind: Pod)')


#: What a prediction is graded against: a check's ``field`` (one value) or ``count`` (a number) as it is at one
#: moment, without a comparison.
MEASURE_VARIANTS = {
    "field": Record({"kind": req(_kind_spec()), "name": req(Str()), "namespace": opt(Str(), "default"),
                     "path": opt(Str()), "column": opt(Str())}, check=_measure_field_check),
    "count": Record({"kind": req(_kind_spec()), "namespace": opt(Str(), "default"),
                     "selector": opt(Str(allow_empty=True), ""), "fieldSelector": opt(Str(allow_empty=True), ""),
                     "status": opt(Str()), "ready": opt(Bool()), "active": opt(Bool()), "where": opt(ListOf(WHERE), []),
                     "distinct": opt(Str())}, check=_measure_count_check),
}
MEASURE = Tagged("measure", MEASURE_VARIANTS)
ANSWER = OneOfTypes(((str, int, float, bool), Scalar()), describe="a string, number or boolean")


def _answer_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _predict_check(result, raw, path, errors):
    measure = result.get("measure") or {}
    answer = result.get("answer")
    choices = result.get("choices")
    if measure.get("type") == "count":
        if isinstance(answer, bool) or not isinstance(answer, int) or answer < 0:
            if "answer" in raw:
                errors.add([*path, "answer"], f"a count measure answers a whole number, got {_answer_text(answer)}")
        for i, choice in enumerate(choices or []):
            if isinstance(choice, bool) or not isinstance(choice, int):
                errors.add([*path, "choices", i], f"a count measure answers a whole number, got {_answer_text(choice)}")
    elif measure.get("type") == "field" and not choices:
        errors.add(path, 'a field measure needs "choices": the answers a learner picks from')
    if choices:
        texts = [_text(c) for c in choices]
        for i, text in enumerate(texts):
            if texts.index(text) != i:
                errors.add([*path, "choices", i], f'the choice "{text}" is listed twice')
        if "answer" in raw and answer is not None and _text(answer) not in texts:
            errors.add([*path, "answer"], f"the answer {_answer_text(answer)} is not one of the choices")


PREDICT = Record({
    "question": req(Text()),
    "measure": req(MEASURE),
    "after": opt(Duration(), 0.0),
    "choices": opt(ListOf(ANSWER, min_items=2)),
    "answer": req(ANSWER),
    "explain": opt(Text()),
}, check=_predict_check)

# --- steps and the lesson -----------------------------------------------------------------------------------

MANIFEST = Record({"name": req(Str(pattern=re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*\.ya?ml$"),
                                   pattern_help="a file name ending in .yaml")),
                   "yaml": req(Str())})

SOLUTION = Record({"apply": opt(ListOf(Str()), []), "actions": opt(ListOf(ACTION), [])})

STEP = Record({
    "id": req(Str(pattern=SLUG_RE, pattern_help="a step id (lower case letters, digits and '-')")),
    "title": req(Text()),
    "text": req(Text()),
    "kubectl": opt(ListOf(Str()), []),
    "manifests": opt(ListOf(MANIFEST), []),
    "setup": opt(ListOf(ACTION), []),
    "actions": opt(ListOf(ACTION), []),
    "checks": opt(ListOf(CHECK), []),
    "hints": opt(ListOf(Text()), []),
    "solution": opt(SOLUTION, {"apply": [], "actions": []}),
    "predict": opt(PREDICT),
})

NODE = Record({"name": req(NODE_NAME), "labels": opt(LABELS, {}), "taints": opt(ListOf(TAINT), [])})

CLUSTER = Record({
    "nodes": opt(OneOfTypes((int, Int(minimum=0)), (list, ListOf(NODE)), describe="a number of nodes or a list"), 3),
    "controlPlane": opt(Bool(), True),
    "seed": opt(Int(), 0),
    "start": opt(Time(), "2025-01-01T00:00:00Z"),
    "speed": opt(Number(minimum=0, exclusive=True), 1.0),
    # A recording (GET /sim/clusters/<name>/recording) the lesson's cluster starts as, a path beside the lesson
    # file; its seed, nodes, start and control plane are the recording's.
    "recording": opt(Str(), None),
})
#: What a cluster that starts from a recording takes from it, so the lesson may not say.
FROM_RECORDING = ("nodes", "controlPlane", "seed", "start")

LESSON = Record({
    "apiVersion": req(Str(choices=(API_VERSION,))),
    "kind": req(Str(choices=(KIND,))),
    "slug": req(Str(pattern=SLUG_RE, pattern_help="a slug (lower case letters, digits and '-')")),
    "order": req(Int(minimum=0)),
    "level": req(Str(choices=LEVELS)),
    "minutes": req(Int(minimum=1)),
    "title": req(Text()),
    "summary": req(Text()),
    "cluster": opt(CLUSTER, {}),
    "steps": req(ListOf(STEP, min_items=1)),
})


# --- checks a schema cannot make ----------------------------------------------------------------------------


def _semantic_checks(content: dict, raw: dict, errors: _Errors, document) -> None:
    seen_ids: dict[str, int] = {}
    manifests_so_far: set[str] = set()
    raw_cluster = raw.get("cluster") if isinstance(raw.get("cluster"), dict) else {}
    if raw_cluster.get("recording") is not None:
        for key in FROM_RECORDING:
            if key in raw_cluster:
                errors.add(["cluster", key], "a cluster that starts from a recording takes its nodes, control plane, "
                                             "seed and start from the recording")
    nodes = content.get("cluster", {}).get("nodes")
    if isinstance(nodes, list):
        names = [n.get("name") for n in nodes if isinstance(n, dict)]
        for i, name in enumerate(names):
            if name is not None and names.index(name) != i:
                errors.add(["cluster", "nodes", i, "name"], f'the node "{name}" is listed twice')
    for index, step in enumerate(content.get("steps") or []):
        if not isinstance(step, dict):
            continue
        base = ["steps", index]
        step_id = step.get("id")
        if step_id in seen_ids:
            errors.add([*base, "id"], f'the step id "{step_id}" is already used by steps[{seen_ids[step_id]}]')
        elif step_id:
            seen_ids[step_id] = index
        names_here: set[str] = set()
        for m_index, manifest in enumerate(step.get("manifests") or []):
            if not isinstance(manifest, dict) or manifest.get("name") is None:
                continue
            if manifest["name"] in names_here:
                errors.add([*base, "manifests", m_index, "name"],
                           f'the manifest "{manifest["name"]}" is listed twice in this step')
            names_here.add(manifest["name"])
            _manifest_parses(manifest, [*base, "manifests", m_index, "yaml"], errors, document)
        manifests_so_far |= names_here
        solution = step.get("solution") or {}
        for a_index, name in enumerate(solution.get("apply") or []):
            if isinstance(name, str) and name not in manifests_so_far:
                errors.add([*base, "solution", "apply", a_index],
                           f'no manifest "{name}" in this step or an earlier one')
        for group, actions in (("setup", step.get("setup")), ("actions", step.get("actions")),
                               ("solution.actions", solution.get("actions"))):
            prefix = [*base, *group.split(".")]
            for a_index, action in enumerate(actions or []):
                if isinstance(action, dict) and action.get("type") == "apply" and isinstance(action.get("apply"), str):
                    if action["apply"] not in manifests_so_far:
                        errors.add([*prefix, a_index, "apply"],
                                   f'no manifest "{action["apply"]}" in this step or an earlier one')


def _manifest_parses(manifest: dict, path: list, errors: _Errors, document) -> None:
    text = manifest.get("yaml")
    if not isinstance(text, str):
        return
    try:
        documents = load_documents(text)
    except ManifestError as exc:
        # A block scalar's text starts on the line after its key, indented: report the error where it is in
        # the file (this assumes the usual literal block, ``yaml: |``).
        key_line, key_column = document.position(path)
        at = None
        if exc.line is not None:
            at = (key_line + exc.line, (exc.column or 1) + key_column + 1)
        errors.add(path, f"the manifest does not parse: {exc.message}", at=at)
        return
    if not documents:
        errors.add(path, "the manifest is empty")
    for doc in documents:
        if not isinstance(doc.obj, dict) or not doc.obj.get("kind") or not doc.obj.get("apiVersion"):
            errors.add(path, f"document {doc.index + 1} of the manifest needs apiVersion and kind")


# --- loading ------------------------------------------------------------------------------------------------


def display_path(path: Path | str, base: Path | None = None) -> str:
    """A path as people should read it: relative to ``base`` (the project) when under it."""
    path = Path(path)
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)


def parse_lesson(source: str | bytes, *, file: str = "<lesson>") -> Lesson:
    """Validate one lesson's text; answers the ``Lesson`` or raises ``LessonError`` with every problem found."""
    if isinstance(source, bytes) and len(source) > MAX_LESSON_BYTES or len(source) > MAX_LESSON_BYTES:
        raise LessonError([Problem(file, None, None, "", f"the file is larger than {MAX_LESSON_BYTES} bytes")])
    try:
        documents = load_documents(source, max_bytes=MAX_LESSON_BYTES)
    except ManifestError as exc:
        raise LessonError([Problem(file, exc.line, exc.column, "", exc.message)]) from None
    if len(documents) != 1:
        line = documents[1].line if len(documents) > 1 else None
        message = "the file is empty" if not documents else "a lesson file holds one YAML document, found several"
        raise LessonError([Problem(file, line, 1 if line else None, "", message)])
    document = documents[0]
    errors = _Errors()
    content = LESSON(document.obj, [], errors)
    if isinstance(document.obj, dict) and isinstance(content, dict):
        _semantic_checks(content, document.obj, errors, document)
    if errors.items:
        problems = []
        for path, message, at in errors.items:
            line, column = at or document.position(path)
            problems.append(Problem(file, line, column, render_path(path), message))
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise LessonError(problems)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return Lesson(slug=content["slug"], content=content, source=file, content_hash=digest)


@dataclass
class LoadReport:
    lessons: list[Lesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_lesson_file(path: Path, *, base: Path | None = None) -> Lesson:
    name = display_path(path, base)
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise LessonError([Problem(name, None, None, "", exc.strerror or str(exc))]) from None
    lesson = parse_lesson(source, file=name)
    if lesson.content["cluster"].get("recording") is not None:
        _attach_recording(lesson, path)
    return lesson


def _attach_recording(lesson: Lesson, path: Path) -> None:
    """Read the recording a lesson's cluster starts from (beside the lesson file) into the lesson, checked as an
    import checks one, so that a stored lesson needs no file and a broken recording is the lesson's problem."""
    from django.conf import settings

    from kubeviz.recordings.format import RecordingError, loads, recording_json

    relative = lesson.content["cluster"]["recording"]

    def problem(message: str) -> LessonError:
        """The problem at the lesson's ``cluster.recording`` (the file is read again for its place only then)."""
        document = load_documents(path.read_bytes(), max_bytes=MAX_LESSON_BYTES)[0]
        line, column = document.position(["cluster", "recording"])
        return LessonError([Problem(lesson.source, line, column, "cluster.recording", message)])

    target = path.parent / relative
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise problem("the recording must be a path beside the lesson file (no absolute path, no '..')")
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise problem(f"{relative}: {exc.strerror or exc}") from None
    try:
        recording = loads(raw, max_bytes=settings.KUBEVIZ_MAX_RECORDING_BYTES)
    except RecordingError as exc:
        raise problem(f"{relative}: {exc.message}") from None
    lesson.content["cluster"]["recordingData"] = recording_json(recording)
    lesson.content_hash = hashlib.sha256(
        json.dumps(lesson.content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def load_lessons(directory: Path, *, base: Path | None = None) -> LoadReport:
    """Every ``*.yaml`` lesson in ``directory``, ordered by ``order`` then slug; a broken file is left out
    and its problems reported, and so is every file whose slug repeats an earlier file's."""
    report = LoadReport()
    by_slug: dict[str, Lesson] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            lesson = load_lesson_file(path, base=base)
        except LessonError as error:
            report.problems.extend(error.problems)
            continue
        if lesson.slug in by_slug:
            report.problems.append(Problem(lesson.source, None, None, "slug",
                                           f'the slug "{lesson.slug}" is already used by {by_slug[lesson.slug].source}'))
            continue
        by_slug[lesson.slug] = lesson
    report.lessons = sorted(by_slug.values(), key=lambda lesson: (lesson.order, lesson.slug))
    return report


def lessons_dir() -> Path:
    """Where the built-in lessons live (``KUBEVIZ_LESSONS_DIR``, default ``lessons/`` beside ``manage.py``)."""
    from django.conf import settings

    return Path(getattr(settings, "KUBEVIZ_LESSONS_DIR", settings.BASE_DIR / "lessons"))
