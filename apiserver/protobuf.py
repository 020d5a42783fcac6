"""Protobuf request bodies: what client-go 1.32's typed clients send (kubectl-compat.md §7).

``kubectl create job X --from=cronjob/Y``, ``kubectl create cronjob`` and ``kubectl create namespace`` go through
client-go's typed clientset, which since 1.32 encodes bodies as ``application/vnd.kubernetes.protobuf`` and never
retries in JSON. The body is the magic ``k8s\\x00`` followed by a ``runtime.Unknown`` message
(``apimachinery/pkg/runtime/generated.proto``): ``typeMeta`` (apiVersion, kind) and ``raw``, the object's own
message as generated from the Go types (``k8s.io/api/*/generated.proto``).

This module is a small proto2 wire-format reader plus hand-written field tables for the objects kubectl's typed
client creates here: Job, CronJob, Namespace and Pod, with ObjectMeta and the PodSpec subset they carry. It turns
them into the JSON the rest of the API server works with. Two rules make the result look like the JSON kubectl
would have sent:

* gogo-protobuf writes every non-pointer field, zero values included (``""``, ``0``, empty messages, an empty
  ``creationTimestamp``), so zero values of non-pointer fields are dropped (JSON's ``omitempty``), while pointer
  fields (``*int32``, ``*bool``, ``*PodSecurityContext``) keep whatever they hold;
* a field the tables do not know is ignored while it holds a zero value; with content it is refused with a 415
  naming the field, rather than silently lost. The one exception keeps ``create job --from`` working for any
  CronJob: kubectl copies ``cronJob.spec.jobTemplate.spec`` into the Job verbatim, so when such a Job's spec uses
  a field beyond the tables, the spec is taken from the owning CronJob instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5


class ProtobufError(Exception):
    """A body this server cannot decode (answered with 415 UnsupportedMediaType)."""


class UnsupportedField(ProtobufError):
    pass


# --- the wire format ---------------------------------------------------------------------------------------

def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated protobuf body (varint)")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("malformed protobuf body (varint too long)")


def iter_fields(data: bytes):
    """``(field number, wire type, value)`` for each field of one message: ints for varints and fixed
    values, bytes for length-delimited ones."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("malformed protobuf body (field number 0)")
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        elif wire_type == BYTES:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated protobuf body (length-delimited field)")
            value, pos = data[pos:pos + length], pos + length
        elif wire_type == FIXED64:
            value, pos = int.from_bytes(data[pos:pos + 8], "little"), pos + 8
        elif wire_type == FIXED32:
            value, pos = int.from_bytes(data[pos:pos + 4], "little"), pos + 4
        else:
            raise ProtobufError(f"unsupported protobuf wire type {wire_type}")
        if pos > len(data):
            raise ProtobufError("truncated protobuf body")
        yield number, wire_type, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# --- field tables ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string, int, bool, message, map, quantity_map, time, quantity, int_or_string, skip
    message: dict | None = None
    repeated: bool = False
    pointer: bool = False  # a Go pointer: present means set, zero values included
    inline: bool = False  # a Go embedded struct: its fields go into the parent's JSON object


def S(name, **kw):
    return Field(name, "string", **kw)


def I(name, **kw):  # noqa: E743 - short names keep the tables readable
    return Field(name, "int", **kw)


def B(name, **kw):
    return Field(name, "bool", **kw)


def M(name, message, **kw):
    return Field(name, "message", message, **kw)


TYPE_META = {1: S("apiVersion"), 2: S("kind")}
UNKNOWN = {1: M("typeMeta", TYPE_META), 2: Field("raw", "bytes"), 3: S("contentEncoding"), 4: S("contentType")}

OWNER_REFERENCE = {5: S("apiVersion"), 1: S("kind"), 3: S("name"), 4: S("uid"), 6: B("controller", pointer=True),
                   7: B("blockOwnerDeletion", pointer=True)}
OBJECT_META = {
    1: S("name"), 2: S("generateName"), 3: S("namespace"), 4: S("selfLink"), 5: S("uid"), 6: S("resourceVersion"),
    7: I("generation"), 8: Field("creationTimestamp", "time"), 9: Field("deletionTimestamp", "time", pointer=True),
    10: I("deletionGracePeriodSeconds", pointer=True), 11: Field("labels", "map"), 12: Field("annotations", "map"),
    13: M("ownerReferences", OWNER_REFERENCE, repeated=True), 14: S("finalizers", repeated=True),
}
LABEL_SELECTOR = {
    1: Field("matchLabels", "map"),
    2: M("matchExpressions", {1: S("key"), 2: S("operator"), 3: S("values", repeated=True)}, repeated=True),
}
LOCAL_OBJECT_REFERENCE = {1: S("name")}
KEY_SELECTOR = {1: M("localObjectReference", LOCAL_OBJECT_REFERENCE, inline=True), 2: S("key"),
                3: B("optional", pointer=True)}
ENV_VAR = {
    1: S("name"), 2: S("value"),
    3: M("valueFrom", {
        1: M("fieldRef", {1: S("apiVersion"), 2: S("fieldPath")}, pointer=True),
        2: M("resourceFieldRef", {1: S("containerName"), 2: S("resource"), 3: Field("divisor", "quantity")},
             pointer=True),
        3: M("configMapKeyRef", KEY_SELECTOR, pointer=True),
        4: M("secretKeyRef", KEY_SELECTOR, pointer=True),
    }, pointer=True),
}
ENV_FROM = {
    1: S("prefix"),
    2: M("configMapRef", {1: M("localObjectReference", LOCAL_OBJECT_REFERENCE, inline=True),
                          2: B("optional", pointer=True)}, pointer=True),
    3: M("secretRef", {1: M("localObjectReference", LOCAL_OBJECT_REFERENCE, inline=True),
                       2: B("optional", pointer=True)}, pointer=True),
}
CONTAINER_PORT = {1: S("name"), 2: I("hostPort"), 3: I("containerPort"), 4: S("protocol"), 5: S("hostIP")}
RESOURCE_REQUIREMENTS = {1: Field("limits", "quantity_map"), 2: Field("requests", "quantity_map"),
                         3: M("claims", {1: S("name"), 2: S("request")}, repeated=True)}
VOLUME_MOUNT = {1: S("name"), 2: B("readOnly"), 7: S("recursiveReadOnly", pointer=True), 3: S("mountPath"),
                4: S("subPath"), 5: S("mountPropagation", pointer=True), 6: S("subPathExpr")}
PROBE_HANDLER = {
    1: M("exec", {1: S("command", repeated=True)}, pointer=True),
    2: M("httpGet", {1: S("path"), 2: Field("port", "int_or_string"), 3: S("host"), 4: S("scheme"),
                     5: M("httpHeaders", {1: S("name"), 2: S("value")}, repeated=True)}, pointer=True),
    3: M("tcpSocket", {1: Field("port", "int_or_string"), 2: S("host")}, pointer=True),
}
PROBE = {1: M("handler", PROBE_HANDLER, inline=True), 2: I("initialDelaySeconds"), 3: I("timeoutSeconds"),
         4: I("periodSeconds"), 5: I("successThreshold"), 6: I("failureThreshold"),
         7: I("terminationGracePeriodSeconds", pointer=True)}
SECURITY_CONTEXT = {
    1: M("capabilities", {1: S("add", repeated=True), 2: S("drop", repeated=True)}, pointer=True),
    2: B("privileged", pointer=True), 4: I("runAsUser", pointer=True), 8: I("runAsGroup", pointer=True),
    5: B("runAsNonRoot", pointer=True), 6: B("readOnlyRootFilesystem", pointer=True),
    7: B("allowPrivilegeEscalation", pointer=True), 9: S("procMount", pointer=True),
}
CONTAINER = {
    1: S("name"), 2: S("image"), 3: S("command", repeated=True), 4: S("args", repeated=True), 5: S("workingDir"),
    6: M("ports", CONTAINER_PORT, repeated=True), 19: M("envFrom", ENV_FROM, repeated=True),
    7: M("env", ENV_VAR, repeated=True), 8: M("resources", RESOURCE_REQUIREMENTS),
    24: S("restartPolicy", pointer=True), 9: M("volumeMounts", VOLUME_MOUNT, repeated=True),
    10: M("livenessProbe", PROBE, pointer=True), 11: M("readinessProbe", PROBE, pointer=True),
    22: M("startupProbe", PROBE, pointer=True),
    13: S("terminationMessagePath"), 20: S("terminationMessagePolicy"), 14: S("imagePullPolicy"),
    15: M("securityContext", SECURITY_CONTEXT, pointer=True),
    16: B("stdin"), 17: B("stdinOnce"), 18: B("tty"),
}
KEY_TO_PATH = {1: S("key"), 2: S("path"), 3: I("mode", pointer=True)}
VOLUME_SOURCE = {
    1: M("hostPath", {1: S("path"), 2: S("type", pointer=True)}, pointer=True),
    2: M("emptyDir", {1: S("medium"), 2: Field("sizeLimit", "quantity", pointer=True)}, pointer=True),
    6: M("secret", {1: S("secretName"), 2: M("items", KEY_TO_PATH, repeated=True), 3: I("defaultMode", pointer=True),
                    4: B("optional", pointer=True)}, pointer=True),
    19: M("configMap", {1: M("localObjectReference", LOCAL_OBJECT_REFERENCE, inline=True),
                        2: M("items", KEY_TO_PATH, repeated=True), 3: I("defaultMode", pointer=True),
                        4: B("optional", pointer=True)}, pointer=True),
}
VOLUME = {1: S("name"), 2: M("volumeSource", VOLUME_SOURCE, inline=True)}
TOLERATION = {1: S("key"), 2: S("operator"), 3: S("value"), 4: S("effect"), 5: I("tolerationSeconds", pointer=True)}
POD_SECURITY_CONTEXT = {2: I("runAsUser", pointer=True), 6: I("runAsGroup", pointer=True),
                        3: B("runAsNonRoot", pointer=True), 4: I("supplementalGroups", repeated=True),
                        5: I("fsGroup", pointer=True), 9: S("fsGroupChangePolicy", pointer=True)}
POD_SPEC = {
    1: M("volumes", VOLUME, repeated=True), 20: M("initContainers", CONTAINER, repeated=True),
    2: M("containers", CONTAINER, repeated=True), 3: S("restartPolicy"),
    4: I("terminationGracePeriodSeconds", pointer=True), 5: I("activeDeadlineSeconds", pointer=True),
    6: S("dnsPolicy"), 7: Field("nodeSelector", "map"), 8: S("serviceAccountName"), 9: S("serviceAccount"),
    21: B("automountServiceAccountToken", pointer=True), 10: S("nodeName"), 11: B("hostNetwork"), 12: B("hostPID"),
    13: B("hostIPC"), 27: B("shareProcessNamespace", pointer=True),
    14: M("securityContext", POD_SECURITY_CONTEXT, pointer=True),
    15: M("imagePullSecrets", LOCAL_OBJECT_REFERENCE, repeated=True), 16: S("hostname"), 17: S("subdomain"),
    19: S("schedulerName"), 22: M("tolerations", TOLERATION, repeated=True), 24: S("priorityClassName"),
    25: I("priority", pointer=True), 29: S("runtimeClassName", pointer=True), 30: B("enableServiceLinks", pointer=True),
    31: S("preemptionPolicy", pointer=True), 35: B("setHostnameAsFQDN", pointer=True), 37: B("hostUsers", pointer=True),
}
POD_TEMPLATE_SPEC = {1: M("metadata", OBJECT_META), 2: M("spec", POD_SPEC)}
JOB_SPEC = {
    1: I("parallelism", pointer=True), 2: I("completions", pointer=True), 3: I("activeDeadlineSeconds", pointer=True),
    7: I("backoffLimit", pointer=True), 12: I("backoffLimitPerIndex", pointer=True),
    13: I("maxFailedIndexes", pointer=True), 4: M("selector", LABEL_SELECTOR, pointer=True),
    5: B("manualSelector", pointer=True), 6: M("template", POD_TEMPLATE_SPEC),
    8: I("ttlSecondsAfterFinished", pointer=True), 9: S("completionMode", pointer=True),
    10: B("suspend", pointer=True), 14: S("podReplacementPolicy", pointer=True), 15: S("managedBy", pointer=True),
}
JOB_TEMPLATE_SPEC = {1: M("metadata", OBJECT_META), 2: M("spec", JOB_SPEC)}
CRONJOB_SPEC = {
    1: S("schedule"), 8: S("timeZone", pointer=True), 2: I("startingDeadlineSeconds", pointer=True),
    3: S("concurrencyPolicy"), 4: B("suspend", pointer=True), 5: M("jobTemplate", JOB_TEMPLATE_SPEC),
    6: I("successfulJobsHistoryLimit", pointer=True), 7: I("failedJobsHistoryLimit", pointer=True),
}
# A create's status is ignored by the registry, so it is read past, not decoded.
_STATUS = Field("status", "skip")
# The objects' own messages; ``kinds.py`` names each kind's (a kind without one is read in JSON only).
JOB = {1: M("metadata", OBJECT_META), 2: M("spec", JOB_SPEC), 3: _STATUS}
CRONJOB = {1: M("metadata", OBJECT_META), 2: M("spec", CRONJOB_SPEC), 3: _STATUS}
NAMESPACE = {1: M("metadata", OBJECT_META), 2: M("spec", {1: S("finalizers", repeated=True)}), 3: _STATUS}
POD = {1: M("metadata", OBJECT_META), 2: M("spec", POD_SPEC), 3: _STATUS}
SCOPE_SELECTOR = {1: M("matchExpressions", {1: S("scopeName"), 2: S("operator"), 3: S("values", repeated=True)},
                       repeated=True)}
RESOURCE_QUOTA_SPEC = {1: Field("hard", "quantity_map"), 2: S("scopes", repeated=True),
                       3: M("scopeSelector", SCOPE_SELECTOR, pointer=True)}
RESOURCE_QUOTA = {1: M("metadata", OBJECT_META), 2: M("spec", RESOURCE_QUOTA_SPEC), 3: _STATUS}


# --- decoding ----------------------------------------------------------------------------------------------

def _is_zero(value) -> bool:
    return value in ("", 0, False, None) or value == {} or value == []


def _time(data: bytes) -> str | None:
    seconds = nanos = 0
    for number, _, value in iter_fields(data):
        if number == 1:
            seconds = _signed(value)
        elif number == 2:
            nanos = _signed(value)
    if seconds == 0 and nanos == 0 or seconds == -62135596800:  # an empty message, or Go's zero time
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _string(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(f"{path}: invalid UTF-8 in protobuf string") from None


def _map_entry(data: bytes, value_kind: str, path: str) -> tuple[str, object]:
    key, value = "", ""
    for number, _, raw in iter_fields(data):
        if number == 1:
            key = _string(raw, path)
        elif number == 2:
            value = _quantity(raw, path) if value_kind == "quantity" else _string(raw, path)
    return key, value


def _quantity(data: bytes, path: str) -> str:
    for number, _, raw in iter_fields(data):
        if number == 1:
            return _string(raw, path)
    return ""


def _int_or_string(data: bytes, path: str):
    kind, int_value, str_value = 0, 0, ""
    for number, _, raw in iter_fields(data):
        if number == 1:
            kind = _signed(raw)
        elif number == 2:
            int_value = _signed(raw)
        elif number == 3:
            str_value = _string(raw, path)
    return str_value if kind == 1 else int_value


def _scalar(spec: Field, wire_type: int, raw, path: str):
    expected = BYTES if spec.kind not in ("int", "bool") else VARINT
    if wire_type != expected:
        raise ProtobufError(f"{path}: unexpected protobuf wire type {wire_type}")
    if spec.kind == "string":
        return _string(raw, path)
    if spec.kind == "bytes":
        return raw
    if spec.kind == "int":
        return _signed(raw)
    if spec.kind == "bool":
        return bool(raw)
    if spec.kind == "time":
        return _time(raw)
    if spec.kind == "quantity":
        return _quantity(raw, path)
    if spec.kind == "int_or_string":
        return _int_or_string(raw, path)
    if spec.kind == "message":
        return decode_message(raw, spec.message, path)
    raise AssertionError(spec.kind)


def decode_message(data: bytes, table: dict[int, Field], path: str = "") -> dict:
    """One message as a JSON object, following ``table``; zero values of non-pointer fields are left out."""
    found: dict[str, object] = {}
    for number, wire_type, raw in iter_fields(data):
        spec = table.get(number)
        where = f"{path}.{spec.name}" if spec is not None else f"{path}.<field {number}>"
        if spec is None:
            if _raw_is_zero(wire_type, raw):
                continue
            raise UnsupportedField(where.lstrip("."))
        if spec.kind == "skip":
            continue
        if spec.kind in ("map", "quantity_map"):
            key, value = _map_entry(raw, "quantity" if spec.kind == "quantity_map" else "string", where)
            found.setdefault(spec.name, {})[key] = value
        elif spec.repeated:
            if spec.kind == "int" and wire_type == BYTES:  # a packed repeated scalar
                values, pos = [], 0
                while pos < len(raw):
                    value, pos = _varint(raw, pos)
                    values.append(_signed(value))
                found.setdefault(spec.name, []).extend(values)
            else:
                found.setdefault(spec.name, []).append(_scalar(spec, wire_type, raw, where))
        else:
            found[spec.name] = _scalar(spec, wire_type, raw, where)
    result: dict[str, object] = {}
    for spec in table.values():
        if spec.name not in found:
            continue
        value = found[spec.name]
        if value is None or (not spec.pointer and _is_zero(value)):
            continue
        if spec.inline:
            result.update(value)
        else:
            result[spec.name] = value
    return result


def _raw_is_zero(wire_type: int, raw) -> bool:
    """Whether an unknown field holds nothing: 0, an empty string, or a message of such zero values (gogo writes
    non-pointer fields even when empty)."""
    if wire_type != BYTES:
        return raw == 0
    if not raw:
        return True
    try:
        return all(_raw_is_zero(w, v) for _, w, v in iter_fields(raw))
    except ProtobufError:
        return False


def decode_unknown(body: bytes) -> tuple[str, str, bytes]:
    """``(apiVersion, kind, raw)`` from a ``k8s\\x00`` + ``runtime.Unknown`` body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the protobuf body does not start with the Kubernetes magic number k8s\\x00")
    envelope = {}
    for number, _, raw in iter_fields(body[len(MAGIC):]):
        envelope[number] = raw
    type_meta = decode_message(envelope.get(1, b""), TYPE_META)
    encoding = _string(envelope.get(3, b""), "contentEncoding")
    if encoding:
        raise ProtobufError(f"protobuf content encoding {encoding!r} is not supported")
    return type_meta.get("apiVersion", ""), type_meta.get("kind", ""), envelope.get(2, b"")


def decode_object(body: bytes, messages: Mapping[tuple[str, str], dict],
                  lookup_owner: Callable[[str], dict | None] | None = None) -> dict:
    """The JSON object of a protobuf request body; raises ProtobufError (→ 415). ``messages`` are the message
    tables of the kinds served in protobuf, by (apiVersion, kind) (``kinds.decode_protobuf`` passes them)."""
    api_version, kind, raw = decode_unknown(body)
    table = messages.get((api_version, kind))
    if table is None:
        supported = ", ".join(sorted(k for _, k in messages))
        raise ProtobufError(
            f"kubeviz cannot decode a protobuf {kind or 'object'} ({api_version or 'no apiVersion'}): this simulated "
            f"cluster reads protobuf bodies only for {supported}; send the object as JSON instead "
            f"(for example with kubectl create -f or kubectl apply -f)"
        )
    metadata_table = {n: (f if n == 1 else Field(f.name, "skip")) for n, f in table.items()}
    obj: dict = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(raw, metadata_table))
    try:
        rest = decode_message(raw, {n: (Field(f.name, "skip") if n == 1 else f) for n, f in table.items()})
    except UnsupportedField as exc:
        spec = _spec_from_owner(obj, lookup_owner) if kind == "Job" else None
        if spec is None:
            raise ProtobufError(
                f"kubeviz cannot decode the protobuf field {kind}.{exc}: this simulated cluster reads only part "
                f"of the {kind} message; send the object as JSON instead (for example with kubectl create -f)"
            ) from None
        rest = {"spec": spec}
    obj.update(rest)
    return obj


def _spec_from_owner(job: dict, lookup_owner) -> dict | None:
    """``create job --from=cronjob/X`` copies the CronJob's job template spec: take it from the CronJob."""
    if lookup_owner is None:
        return None
    for ref in (job.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "CronJob" and ref.get("apiVersion") == "batch/v1":
            owner = lookup_owner(ref.get("uid", ""))
            if owner is not None and owner.get("kind", "CronJob") == "CronJob":
                template = ((owner.get("spec") or {}).get("jobTemplate") or {}).get("spec")
                if template is not None:
                    return copy.deepcopy(template)
    return None
