"""The recording file: a cluster's origin and its inputs as JSON, written and read (with every check).

::

    {"kind": "KubevizRecording", "version": 1,
     "cluster": {"name": "demo", "seed": 1, "nodes": 3, "controlPlane": true, "start": "2025-01-01T00:00:00Z",
                 "quota": {"pods": "1000"}},
     "inputs": [
       {"type": "write", "time": "2025-01-01T00:00:00Z", "syncs": 0, "started": false, "resourceVersion": 42,
        "door": "kubectl", "who": "", "verb": "create", "apiGroup": "batch", "kind": "Job", "namespace": "default",
        "object": {...}, "fieldValidation": "Strict"},
       {"type": "clock", "time": "2025-01-01T00:02:00.250000Z", "syncs": 12, "started": true, "resourceVersion": 97},
       {"type": "node", ..., "node": {"name": "node-4", "labels": {"disk": "ssd"}, "taints": null,
        "controlPlane": false, "index": null}},
       {"type": "restart", ...}
     ]}

Every input has the engine's position (``time``, ``syncs``: how many syncs had run at that instant, ``started``)
and the cluster's ``resourceVersion`` after it. A ``write`` is the request as the registry received it: ``verb``
(create, update, patch, delete, deletecollection), the resource (``apiGroup``, ``kind``), ``namespace``,
``name``, the ``object`` as sent (create, update) or the ``patch`` text and its ``patchType``, and the request's
options (``subresource``, ``fieldValidation``, ``requireResourceVersion``, ``force``, ``propagationPolicy``,
``gracePeriodSeconds``, ``preconditions``, ``labelSelector``, ``fieldSelector``). ``parse`` refuses anything else
with ``RecordingError`` naming the field (``inputs[12].object: must be a JSON object``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from controllers.apimachinery.timeutil import format_rfc3339, format_rfc3339_micro, parse_rfc3339

from apiserver.kinds import resource_for_kind

from kubeviz.store.actor import DOORS
from .registry import VERB_OPTIONS

KIND = "KubevizRecording"
VERSION = 1
TYPES = ("write", "node", "clock", "restart")
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")


class RecordingError(Exception):
    """A recording that cannot be read or replayed; ``code`` is the HTTP status to answer."""

    def __init__(self, message: str, code: int = 422):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Step:
    """One input of a recording, as read."""

    type: str
    time: datetime
    syncs: int
    started: bool
    resource_version: int
    door: str = ""
    who: str = ""
    actor: dict | None = None
    request: dict | None = None

    @property
    def position(self) -> tuple[datetime, int, bool]:
        return self.time, self.syncs, self.started


@dataclass
class Recording:
    name: str
    seed: int
    nodes: int
    control_plane: bool
    start: datetime
    quota: dict | None
    steps: list[Step] = field(default_factory=list)


# -- writing -----------------------------------------------------------------------------------------------------


def step_json(step: Step) -> dict:
    body = {"type": step.type, "time": format_rfc3339_micro(step.time), "syncs": step.syncs,
            "started": step.started, "resourceVersion": step.resource_version}
    if step.type == "write":
        body.update(door=step.door, who=step.who, actor=step.actor, **(step.request or {}))
    elif step.type == "node":
        body.update(door=step.door, who=step.who, actor=step.actor, node=step.request)
    return body


def recording_json(recording: Recording) -> dict:
    return {
        "kind": KIND,
        "version": VERSION,
        "cluster": {"name": recording.name, "seed": recording.seed, "nodes": recording.nodes,
                    "controlPlane": recording.control_plane, "start": format_rfc3339(recording.start),
                    "quota": recording.quota},
        "inputs": [step_json(step) for step in recording.steps],
    }


# -- reading -----------------------------------------------------------------------------------------------------


def loads(raw: bytes | str, *, max_bytes: int) -> Recording:
    """Read a recording file: its size, its JSON, then ``parse``."""
    if len(raw) > max_bytes:
        raise RecordingError(f"the recording is {len(raw)} bytes; the limit is {max_bytes} bytes "
                             f"(KUBEVIZ_MAX_RECORDING_BYTES)", code=413)
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise RecordingError(f"the recording is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(raw.strip()) - 1 else ""
        raise RecordingError(f"the recording is not valid JSON{hint}: {exc.msg} at line {exc.lineno} column "
                             f"{exc.colno}") from None
    return parse(data)


def _fail(path: str, message: str):
    raise RecordingError(f"{path}: {message}")


def _int(data: dict, key: str, path: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"{path}.{key}", f"must be an integer, not {json.dumps(value)[:40]}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        _fail(f"{path}.{key}", f"{value} is out of range ({minimum} to {maximum})")
    return value


def _bool(data: dict, key: str, path: str, default=None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        _fail(f"{path}.{key}", "must be true or false")
    return value


def _str(data: dict, key: str, path: str, *, default=None, choices=None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        _fail(f"{path}.{key}", "must be a string")
    if choices is not None and value not in choices:
        _fail(f"{path}.{key}", f"{json.dumps(value)[:60]} is not one of {', '.join(choices)}")
    return value


def _time(data: dict, key: str, path: str) -> datetime:
    value = data.get(key)
    try:
        return parse_rfc3339(value)
    except (TypeError, ValueError):
        _fail(f"{path}.{key}", f"{json.dumps(value)[:60]} is not an RFC 3339 time")


def _object(data: dict, key: str, path: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        _fail(f"{path}.{key}", "must be a JSON object")
    return value


CLUSTER_FIELDS = {"name", "seed", "nodes", "controlPlane", "start", "quota"}
POSITION_FIELDS = {"type", "time", "syncs", "started", "resourceVersion"}
WRITE_FIELDS = {"door", "who", "actor", "verb", "apiGroup", "kind", "namespace", "name", "object", "patch"}
NODE_FIELDS = {"name", "labels", "taints", "controlPlane", "index"}


def parse(data) -> Recording:
    """A recording from its JSON (``loads``), every field checked; ``RecordingError`` names the first that is
    wrong, and where."""
    from kubeviz.store.services import SEED_MAX, SEED_MIN, SIM_TIME_MAX, SIM_TIME_MIN

    if not isinstance(data, dict):
        _fail("recording", "must be a JSON object")
    if data.get("kind") != KIND:
        _fail("kind", f"must be {KIND}, not {json.dumps(data.get('kind'))[:60]}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        _fail("version", "must be an integer")
    if version > VERSION:
        _fail("version", f"{version} is newer than this server reads (version {VERSION}): upgrade kubeviz to "
                         f"import it")
    if version < 1:
        _fail("version", f"{version} is not a version of the format")
    unknown = sorted(set(data) - {"kind", "version", "cluster", "inputs"})
    if unknown:
        _fail(unknown[0], "unknown field")
    cluster = _object(data, "cluster", "recording")
    unknown = sorted(set(cluster) - CLUSTER_FIELDS)
    if unknown:
        _fail(f"cluster.{unknown[0]}", "unknown field")
    quota = cluster.get("quota")
    if quota is not None and (not isinstance(quota, dict)
                              or not all(isinstance(k, str) and isinstance(v, str) for k, v in quota.items())):
        _fail("cluster.quota", "must be an object of quantities (strings), or null")
    start = _time(cluster, "start", "cluster")
    if not SIM_TIME_MIN <= start <= SIM_TIME_MAX:
        _fail("cluster.start", f"must be from {format_rfc3339(SIM_TIME_MIN)} to {format_rfc3339(SIM_TIME_MAX)}")
    recording = Recording(
        name=_str(cluster, "name", "cluster", default=""),
        seed=_int(cluster, "seed", "cluster", minimum=SEED_MIN, maximum=SEED_MAX),
        nodes=_int(cluster, "nodes", "cluster", minimum=0),
        control_plane=_bool(cluster, "controlPlane", "cluster", default=True),
        start=start, quota=quota,
    )
    inputs = data.get("inputs")
    if not isinstance(inputs, list):
        _fail("inputs", "must be a list")
    previous = (start, 0)
    last_rv = 0
    for index, item in enumerate(inputs):
        step = _step(item, f"inputs[{index}]")
        path = f"inputs[{index}]"
        if step.time > SIM_TIME_MAX:
            _fail(f"{path}.time", f"must not be after {format_rfc3339(SIM_TIME_MAX)}")
        if (step.time, step.syncs) < previous:
            _fail(f"{path}.time", "goes back before the input before it (inputs are in the order they happened)")
        if step.resource_version < last_rv:
            _fail(f"{path}.resourceVersion", f"{step.resource_version} is less than the input before it's "
                                             f"({last_rv})")
        previous, last_rv = (step.time, step.syncs), step.resource_version
        recording.steps.append(step)
    return recording


def _actor(item: dict, path: str) -> dict | None:
    """A write's actor (``kubeviz.store.actor``): a user through a door, or the simulator; absent, the door's user."""
    value = item.get("actor")
    if value is None:
        return None
    if not isinstance(value, dict):
        _fail(f"{path}.actor", "must be a JSON object or null")
    kind = _str(value, "type", f"{path}.actor", choices=("user", "system"))
    if kind == "user":
        if set(value) - {"type", "door", "who"}:
            _fail(f"{path}.actor.{sorted(set(value) - {'type', 'door', 'who'})[0]}", "unknown field")
        door = _str(value, "door", f"{path}.actor", choices=DOORS)
        who = value.get("who")
        if who is not None and not isinstance(who, str):
            _fail(f"{path}.actor.who", "must be a string or null")
        return {"type": "user", "door": door, "who": who}
    if set(value) - {"type", "what"}:
        _fail(f"{path}.actor.{sorted(set(value) - {'type', 'what'})[0]}", "unknown field")
    return {"type": "system", "what": _str(value, "what", f"{path}.actor")}


def _step(item, path: str) -> Step:
    if not isinstance(item, dict):
        _fail(path, "must be a JSON object")
    type_ = _str(item, "type", path, choices=TYPES)
    step = Step(type=type_, time=_time(item, "time", path), syncs=_int(item, "syncs", path, minimum=0),
                started=_bool(item, "started", path), resource_version=_int(item, "resourceVersion", path, minimum=0))
    allowed = set(POSITION_FIELDS)
    if type_ == "write":
        verb = _str(item, "verb", path, choices=tuple(VERB_OPTIONS))
        allowed |= WRITE_FIELDS | set(VERB_OPTIONS[verb])
        step.door = _str(item, "door", path, default="api", choices=DOORS)
        step.who = _str(item, "who", path, default="")
        group, kind = _str(item, "apiGroup", path, default=""), _str(item, "kind", path)
        if resource_for_kind(group, kind) is None:
            _fail(f"{path}.kind", f"{json.dumps(kind)[:60]} of API group {json.dumps(group)[:60]} is no kind this "
                                  f"server serves")
        _str(item, "namespace", path, default="")
        if verb in ("update", "patch", "delete"):
            _str(item, "name", path)
        if verb in ("create", "update"):
            _object(item, "object", path)
        if verb == "patch":
            _str(item, "patch", path)
            _str(item, "patchType", path, choices=PATCH_TYPES)
        for key in ("subresource", "fieldValidation", "propagationPolicy", "labelSelector", "fieldSelector"):
            if key in item and key in allowed:
                _str(item, key, path)
        for key in ("requireResourceVersion", "force"):
            if key in item and key in allowed:
                _bool(item, key, path)
        if "gracePeriodSeconds" in item and "gracePeriodSeconds" in allowed:
            _int(item, "gracePeriodSeconds", path, minimum=0)
        if "preconditions" in item and "preconditions" in allowed:
            _object(item, "preconditions", path)
        step.actor = _actor(item, path)
        step.request = {k: v for k, v in item.items() if k in allowed - POSITION_FIELDS - {"door", "who", "actor"}}
    elif type_ == "node":
        allowed |= {"door", "who", "actor", "node"}
        step.door = _str(item, "door", path, default="api", choices=DOORS)
        step.who = _str(item, "who", path, default="")
        step.actor = _actor(item, path)
        node = _object(item, "node", path)
        unknown = sorted(set(node) - NODE_FIELDS)
        if unknown:
            _fail(f"{path}.node.{unknown[0]}", "unknown field")
        _str(node, "name", f"{path}.node")
        _bool(node, "controlPlane", f"{path}.node", default=False)
        if node.get("labels") is not None and not isinstance(node["labels"], dict):
            _fail(f"{path}.node.labels", "must be an object or null")
        if node.get("taints") is not None and not isinstance(node["taints"], list):
            _fail(f"{path}.node.taints", "must be a list or null")
        if node.get("index") is not None:
            _int(node, "index", f"{path}.node", minimum=0, maximum=1_000_000)
        step.request = {key: node.get(key) for key in NODE_FIELDS}
        step.request["controlPlane"] = bool(node.get("controlPlane", False))
    unknown = sorted(set(item) - allowed)
    if unknown:
        _fail(f"{path}.{unknown[0]}", "unknown field")
    return step
