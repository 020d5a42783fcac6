"""Evaluating a lesson's checks: pure functions of what a cluster shows.

A check never touches a cluster. It reads a ``ClusterView`` (objects now, every change since a resourceVersion,
the controllers' reconcile traces, container logs) and a ``StepWindow`` (where the step began), plus the results
of the applies made during the step, and answers a ``CheckResult``: passed or not, the lesson's message for the
learner, and a technical ``detail`` saying what was seen ("Job default/pi status.succeeded is 0, expected == 1").

Check kinds (``lessons/README.md`` has the teacher's view):

* ``field``  one object's field (``path``, with ``[type=Complete]`` list filters) or printed column (``column``,
  as ``kubectl get`` prints it) compared with ``op``/``value``; with ``at: always|ever`` over the step's history.
* ``count``  how many objects match kind, namespace, label and field selectors, pod STATUS text, readiness,
  ``where`` clauses (or how many distinct values of ``distinct`` they have); also ``at: always|ever``.
* ``event``  Events written since the step began (or in the whole lesson) matching reason/message/type/object.
* ``log``    a container log contains a text or matches a regular expression.
* ``trace``  the controllers recorded a reconcile whose controller/object/trigger/observed/decision/action match.
* ``apply``  an apply made in this step was accepted or rejected (with a message), e.g. a Job with
  ``restartPolicy: Always``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from controllers.apimachinery import fields as fieldsel
from controllers.apimachinery import labels as labelsel
from controllers.pods import is_pod_ready, is_pod_terminal, pod_status_text

from apiserver.kinds import RESOURCE_TYPES

from .format import MISSING, parse_field_path, resolve_path

# Kinds whose objects live outside namespaces.
CLUSTER_SCOPED = tuple(r.kind for r in RESOURCE_TYPES if not r.namespaced)


class ClusterView(Protocol):
    """What checks read. ``kubeviz.lessons.runner`` implements it over the registry (memory or database)."""

    def now(self) -> datetime: ...

    def objects(self, kind: str) -> list[dict]:
        """Every object of a kind, in every namespace, as the API serves it."""

    def resource_version(self) -> int: ...

    def changes_since(self, resource_version: int) -> list[tuple[str, str, dict]]:
        """``(type, kind, object)`` for every change after ``resource_version``, in order."""

    def traces(self) -> list[dict]:
        """Recent reconcile traces (``TraceRecord.as_json``), oldest first."""

    def read_log(self, namespace: str, pod: str, uid: str, container: str, restart_count: int) -> list | None:
        """One container run's ``[timestamp, text]`` lines."""


@dataclass(frozen=True)
class StepWindow:
    """Where a step began: the resourceVersion, the last trace sequence and the time."""

    resource_version: int
    trace_sequence: int
    started: datetime
    lesson_resource_version: int = 0
    lesson_trace_sequence: int = 0
    #: objects of the kinds the step's history checks read, as they were when the step began
    snapshot: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ApplyRecord:
    """One document of an apply made during a step (the runner and the player record them)."""

    manifest: str
    kind: str
    name: str
    outcome: str  # created, configured, unchanged, rejected
    messages: list[str] = field(default_factory=list)


@dataclass
class CheckResult:
    passed: bool
    message: dict  # the lesson's text per language, shown when the check fails
    detail: str  # what was seen, for teachers and for `lessons check`
    check: dict

    def as_json(self) -> dict:
        return {"passed": self.passed, "message": self.message, "detail": self.detail, "type": self.check["type"],
                "id": self.check.get("id")}


# --- comparing --------------------------------------------------------------------------------------------


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equal(actual, expected) -> bool:
    if actual == expected and type(actual) is type(expected):
        return True
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    a, e = _number(actual), _number(expected)
    if a is not None and e is not None and not (isinstance(actual, str) and isinstance(expected, str)):
        return a == e
    return actual == expected


def compare(actual, op: str, expected) -> bool:
    """``actual op expected``; a missing value (``MISSING``) only satisfies ``absent`` and ``!=``."""
    if op == "exists":
        return actual is not MISSING and actual is not None
    if op == "absent":
        return actual is MISSING or actual is None
    if actual is MISSING:
        return op in ("!=", "notIn")
    if op == "==":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if op in ("<", "<=", ">", ">="):
        a, e = _number(actual), _number(expected)
        if a is None or e is None:
            return False
        return {"<": a < e, "<=": a <= e, ">": a > e, ">=": a >= e}[op]
    if op == "in":
        return any(_equal(actual, item) for item in expected)
    if op == "notIn":
        return not any(_equal(actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, str):
            return str(expected) in actual
        if isinstance(actual, list):
            return any(_equal(item, expected) for item in actual)
        if isinstance(actual, dict):
            return str(expected) in actual
        return False
    if not isinstance(actual, str):
        actual = str(actual)
    if op == "startsWith":
        return actual.startswith(expected)
    if op == "endsWith":
        return actual.endswith(expected)
    if op == "matches":
        return re.search(expected, actual) is not None
    raise ValueError(f"unknown operator {op!r}")


def _show(value) -> str:
    if value is MISSING:
        return "missing"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value) if not isinstance(value, (dict, list)) else str(value)[:120]


def _expectation(spec: dict) -> str:
    op = spec.get("op", "==")
    return op if op in ("exists", "absent") else f"{op} {_show(spec.get('value'))}"


# --- selecting objects ------------------------------------------------------------------------------------


def _ns(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def object_key(kind: str, obj: dict) -> str:
    return f"{kind}/{_ns(obj)}/{_name(obj)}"


def _namespace_matches(kind: str, wanted: str, obj: dict) -> bool:
    return kind in CLUSTER_SCOPED or wanted == "*" or _ns(obj) == wanted


def is_active_pod(pod: dict) -> bool:
    """Pending or Running, not being deleted: what the Job controller counts as active."""
    return not is_pod_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def object_filter(spec: dict):
    """A predicate for the objects a ``count`` check (or a selecting action) means."""
    kind = spec["kind"]
    labels = labelsel.parse_selector(spec.get("selector") or "")
    fields = fieldsel.parse_field_selector(spec.get("fieldSelector") or "")
    namespace = spec.get("namespace", "default")
    wheres = [(parse_field_path(w["path"]), w.get("op", "=="), w.get("value")) for w in spec.get("where") or ()]

    def matches(obj: dict) -> bool:
        if not _namespace_matches(kind, namespace, obj):
            return False
        if not labels.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if not fields.matches(fieldsel.field_set(kind, obj)):
            return False
        if spec.get("status") is not None and pod_status_text(obj) != spec["status"]:
            return False
        if spec.get("ready") is not None and is_pod_ready(obj) != spec["ready"]:
            return False
        if spec.get("active") is not None:
            active = is_active_pod(obj) if kind == "Pod" else not (obj.get("metadata") or {}).get("deletionTimestamp")
            if active != spec["active"]:
                return False
        return all(compare(resolve_path(obj, path), op, value) for path, op, value in wheres)

    return matches


def _count(spec: dict, objects) -> int:
    matches = object_filter(spec)
    chosen = [obj for obj in objects if matches(obj)]
    if spec.get("distinct"):
        path = parse_field_path(spec["distinct"])
        values = {repr(resolve_path(obj, path)) for obj in chosen if resolve_path(obj, path) is not MISSING}
        return len(values)
    return len(chosen)


def _find(view_objects: list[dict], spec: dict) -> dict | None:
    kind = spec["kind"]
    for obj in view_objects:
        if _name(obj) == spec["name"] and _namespace_matches(kind, spec.get("namespace", "default"), obj):
            return obj
    return None


# --- history ----------------------------------------------------------------------------------------------


def states_since(view: ClusterView, kind: str, window: "StepWindow"):
    """Every state of ``kind``'s objects since the window began: the state then, and after each change.

    The state at the start is the window's snapshot of that kind (the runner takes one for every kind a
    history check of the step reads). Without one it is approximated from the objects now: an object changed
    during the window enters with its first in-window version.
    """
    changes = [c for c in view.changes_since(window.resource_version) if c[1] == kind]
    if kind in window.snapshot:
        start = {object_key(kind, o): o for o in window.snapshot[kind]}
    else:
        touched: dict[str, tuple[str, dict]] = {}
        for type_, _, obj in changes:
            touched.setdefault(object_key(kind, obj), (type_, obj))
        start = {object_key(kind, o): o for o in view.objects(kind) if object_key(kind, o) not in touched}
        start.update({key: obj for key, (type_, obj) in touched.items() if type_ != "ADDED"})
    live = dict(start)
    yield list(live.values())
    for type_, _, obj in changes:
        key = object_key(kind, obj)
        if type_ == "DELETED":
            live.pop(key, None)
        else:
            live[key] = obj
        yield list(live.values())


# --- the check kinds --------------------------------------------------------------------------------------


@dataclass
class Context:
    view: ClusterView
    window: StepWindow
    applies: list[ApplyRecord] = field(default_factory=list)


def _field(spec: dict, ctx: Context) -> tuple[bool, str]:
    kind = spec["kind"]
    where = f"{kind} {spec.get('namespace', 'default') + '/' if kind not in CLUSTER_SCOPED else ''}{spec['name']}"
    if spec.get("column"):
        from apiserver.kinds import table

        obj = _find(ctx.view.objects(kind), spec)
        if obj is None:
            return compare(MISSING, spec["op"], spec.get("value")), f"{where} does not exist"
        printed = table(kind, [obj], ctx.view.now())
        names = [c["name"].upper() for c in printed["columnDefinitions"]]
        column = spec["column"].upper()
        if column not in names:
            return False, f"kubectl prints no column {spec['column']} for {kind} (columns: {', '.join(names)})"
        actual = printed["rows"][0]["cells"][names.index(column)]
        ok = compare(actual, spec["op"], spec.get("value"))
        return ok, f"{where} {column} is {_show(actual)}, expected {_expectation(spec)}"
    path = parse_field_path(spec["path"])
    at = spec.get("at", "now")
    if at == "now":
        obj = _find(ctx.view.objects(kind), spec)
        actual = MISSING if obj is None else resolve_path(obj, path)
        ok = compare(actual, spec["op"], spec.get("value"))
        seen = "does not exist" if obj is None else f"{spec['path']} is {_show(actual)}"
        return ok, f"{where} {seen}, expected {_expectation(spec)}"
    seen_values = []
    for objects in states_since(ctx.view, kind, ctx.window):
        obj = _find(objects, spec)
        actual = MISSING if obj is None else resolve_path(obj, path)
        if not seen_values or seen_values[-1] != _show(actual):
            seen_values.append(_show(actual))
        ok = compare(actual, spec["op"], spec.get("value"))
        if at == "always" and not ok:
            return False, f"{where} {spec['path']} was {_show(actual)} at one point, expected always {_expectation(spec)}"
        if at == "ever" and ok:
            return True, f"{where} {spec['path']} was {_show(actual)} at one point"
    if at == "always":
        return True, f"{where} {spec['path']} was always {_expectation(spec)}"
    return False, (f"{where} {spec['path']} never was {_expectation(spec)} "
                   f"(values seen: {', '.join(seen_values[:8]) or 'none'})")


def _describe_count(spec: dict) -> str:
    parts = [spec["kind"] + ("s" if not spec["kind"].endswith("s") else "")]
    if spec["kind"] not in CLUSTER_SCOPED:
        parts.append(f"in {spec.get('namespace', 'default')}" if spec.get("namespace") != "*" else "in any namespace")
    for key in ("selector", "fieldSelector"):
        if spec.get(key):
            parts.append(f"{key} {spec[key]}")
    if spec.get("status") is not None:
        parts.append(f"STATUS {spec['status']}")
    if spec.get("ready") is not None:
        parts.append("ready" if spec["ready"] else "not ready")
    if spec.get("active") is not None:
        parts.append("active" if spec["active"] else "not active")
    for w in spec.get("where") or ():
        parts.append(f"where {w['path']} {_expectation(w)}")
    text = " ".join(parts)
    return f"distinct {spec['distinct']} of {text}" if spec.get("distinct") else text


def _count_check(spec: dict, ctx: Context) -> tuple[bool, str]:
    at = spec.get("at", "now")
    what = _describe_count(spec)
    if at == "now":
        n = _count(spec, ctx.view.objects(spec["kind"]))
        return compare(n, spec["op"], spec["value"]), f"{what}: {n}, expected {_expectation(spec)}"
    counts = []
    for objects in states_since(ctx.view, spec["kind"], ctx.window):
        n = _count(spec, objects)
        if not counts or counts[-1] != n:
            counts.append(n)
        ok = compare(n, spec["op"], spec["value"])
        if at == "always" and not ok:
            return False, f"{what}: {n} at one point, expected always {_expectation(spec)}"
        if at == "ever" and ok:
            return True, f"{what}: {n} at one point"
    shown = " → ".join(str(c) for c in counts[:20]) + (" …" if len(counts) > 20 else "")
    if at == "always":
        return True, f"{what}: always {_expectation(spec)} (counts seen: {shown})"
    return False, f"{what}: never {_expectation(spec)} (counts seen: {shown})"


def _events(spec: dict, ctx: Context) -> list[dict]:
    since = ctx.window.resource_version if spec.get("since", "step") == "step" else ctx.window.lesson_resource_version
    latest: dict[str, dict] = {}
    for type_, kind, obj in ctx.view.changes_since(since):
        if kind == "Event" and type_ != "DELETED":
            latest[object_key(kind, obj)] = obj
    return list(latest.values())


def _event_check(spec: dict, ctx: Context) -> tuple[bool, str]:
    found = []
    for event in _events(spec, ctx):
        involved = event.get("involvedObject") or {}
        if spec.get("reason") and event.get("reason") != spec["reason"]:
            continue
        if spec.get("message") and spec["message"] not in (event.get("message") or ""):
            continue
        if spec.get("type") and event.get("type") != spec["type"]:
            continue
        if spec.get("involvedKind") and involved.get("kind") != spec["involvedKind"]:
            continue
        if spec.get("involvedName") and involved.get("name") != spec["involvedName"]:
            continue
        if spec.get("namespace") and _ns(event) != spec["namespace"]:
            continue
        found.append(event)
    wanted = ", ".join(f"{k} {spec[k]!r}" for k in ("type", "reason", "message", "involvedKind", "involvedName")
                       if spec.get(k))
    scope = "since the step began" if spec.get("since", "step") == "step" else "in this lesson"
    ok = compare(len(found), spec["op"], spec["value"])
    sample = f" (e.g. {found[0].get('reason')}: {found[0].get('message')})" if found else ""
    return ok, f"events with {wanted} {scope}: {len(found)}, expected {_expectation(spec)}{sample}"


def _log_check(spec: dict, ctx: Context) -> tuple[bool, str]:
    namespace = spec.get("namespace", "default")
    pods = [p for p in ctx.view.objects("Pod") if _ns(p) == namespace]
    if spec.get("pod"):
        pods = [p for p in pods if _name(p) == spec["pod"]]
    else:
        selector = labelsel.parse_selector(spec["selector"])
        pods = [p for p in pods if selector.matches((p.get("metadata") or {}).get("labels") or {})]
    if not pods:
        return False, f"no pod {spec.get('pod') or 'matching ' + spec.get('selector', '')} in {namespace}"
    for pod in pods:
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        if spec.get("container"):
            containers = [c for c in containers if c == spec["container"]]
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        for container in containers:
            run = int((statuses.get(container) or {}).get("restartCount") or 0) - (1 if spec.get("previous") else 0)
            if run < 0:
                continue
            lines = ctx.view.read_log(namespace, _name(pod), pod["metadata"].get("uid", ""), container, run) or []
            text = "\n".join(str(line[1]) if isinstance(line, (list, tuple)) else str(line) for line in lines)
            if spec.get("contains") is not None and spec["contains"] in text:
                return True, f"the log of {_name(pod)}/{container} contains {spec['contains']!r}"
            if spec.get("matches") is not None and re.search(spec["matches"], text, re.MULTILINE):
                return True, f"the log of {_name(pod)}/{container} matches {spec['matches']!r}"
    wanted = spec.get("contains") or spec.get("matches")
    return False, f"no log of {', '.join(_name(p) for p in pods)} shows {wanted!r}"


def _trace_check(spec: dict, ctx: Context) -> tuple[bool, str]:
    since = ctx.window.trace_sequence if spec.get("since", "step") == "step" else ctx.window.lesson_trace_sequence
    found = 0
    for record in ctx.view.traces():
        if record["sequence"] <= since:
            continue
        if spec.get("controller") and record["controller"] != spec["controller"]:
            continue
        if spec.get("object") and record["object"] != spec["object"]:
            continue
        if any(spec.get(key) and spec[key] not in (record.get(key) or "") for key in ("trigger", "observed",
                                                                                        "decision")):
            continue
        if spec.get("action") and not any(spec["action"] in a for a in record.get("actions") or ()):
            continue
        found += 1
    wanted = ", ".join(f"{k} {spec[k]!r}" for k in ("controller", "object", "trigger", "observed", "decision",
                                                       "action") if spec.get(k))
    return compare(found, spec["op"], spec["value"]), f"traces with {wanted}: {found}, expected {_expectation(spec)}"


def _apply_check(spec: dict, ctx: Context) -> tuple[bool, str]:
    def fits(record: ApplyRecord) -> bool:
        if spec.get("kind") and record.kind != spec["kind"]:
            return False
        if spec.get("name") and record.name != spec["name"]:
            return False
        if spec.get("manifest") and record.manifest != spec["manifest"]:
            return False
        return True

    records = [r for r in ctx.applies if fits(r)]
    what = " ".join(filter(None, [spec.get("kind"), spec.get("name"), spec.get("manifest")])) or "anything"
    if not records:
        return False, f"{what} was not applied in this step"
    last = records[-1]
    outcome = spec["outcome"]
    ok = last.outcome != "rejected" if outcome == "accepted" else last.outcome == outcome
    if ok and spec.get("message"):
        ok = any(spec["message"] in m for m in last.messages)
    said = f": {last.messages[0]}" if last.messages else ""
    return ok, f"the last apply of {what} was {last.outcome}{said}"


def measure(spec: dict, ctx: Context):
    """What the cluster shows now for a predict step's ``measure`` (``format.MEASURE``): ``(value, detail)``, the
    value ``MISSING`` when the object or field is not there."""
    kind = spec["type"]
    body = spec[kind]
    if kind == "count":
        value = _count(body, ctx.view.objects(body["kind"]))
        return value, f"{_describe_count(body)}: {value}"
    where = f"{body['kind']} {body['namespace'] + '/' if body['kind'] not in CLUSTER_SCOPED else ''}{body['name']}"
    obj = _find(ctx.view.objects(body["kind"]), body)
    if obj is None:
        return MISSING, f"{where} does not exist"
    if body.get("column"):
        from apiserver.kinds import table

        printed = table(body["kind"], [obj], ctx.view.now())
        names = [c["name"].upper() for c in printed["columnDefinitions"]]
        column = body["column"].upper()
        if column not in names:
            return MISSING, f"kubectl prints no column {body['column']} for {body['kind']}"
        value = printed["rows"][0]["cells"][names.index(column)]
        return value, f"{where} {column} is {_show(value)}"
    value = resolve_path(obj, parse_field_path(body["path"]))
    return value, f"{where} {body['path']} is {_show(value)}"


def same_answer(predicted, actual) -> bool:
    """Whether a prediction is what the simulation shows ("2" is 2, "true" is True, as checks compare)."""
    return actual is not MISSING and _equal(actual, predicted)


def show_value(value) -> str:
    return _show(value)


EVALUATORS = {"field": _field, "count": _count_check, "event": _event_check, "log": _log_check,
              "trace": _trace_check, "apply": _apply_check}


def evaluate(check: dict, ctx: Context) -> CheckResult:
    """Evaluate one normalised check (``format.CHECK``) in ``ctx``."""
    kind = check["type"]
    passed, detail = EVALUATORS[kind](check[kind], ctx)
    return CheckResult(bool(passed), copy.deepcopy(check.get("message") or {}), detail, check)


def evaluate_all(checks: list[dict], ctx: Context) -> list[CheckResult]:
    return [evaluate(check, ctx) for check in checks]
