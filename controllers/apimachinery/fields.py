"""Field selectors and the per-kind selectable fields, as in Kubernetes 1.32.

``kubectl get pods --field-selector spec.nodeName=node-1`` and the kubelet's and
scheduler's watches filter on a handful of fields per kind. Upstream does this in
two steps, both reproduced here:

1. ``fields.ParseSelector`` (k8s.io/apimachinery/pkg/fields/selector.go) turns the
   string into terms (``=``, ``==``, ``!=``; comma = AND; ``\\,`` ``\\=`` ``\\\\``
   escapes) — :func:`parse_field_selector`.
2. The API server passes every term through the kind's field label conversion
   function (``AddFieldLabelConversionFunc`` in ``pkg/apis/<group>/v1/conversion.go``,
   or ``runtime.DefaultMetaV1FieldSelectorConversion``), rejecting unknown labels
   with a 400, then matches against the object's field set (the registry's
   ``GetAttrs`` / ``ToSelectableFields``) — :func:`check_supported` and
   :func:`field_set`.

Pure Python: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from controllers.apimachinery.labels import SelectorError

__all__ = [
    "FieldSelector",
    "SelectorError",
    "check_supported",
    "escape_value",
    "field_set",
    "parse_field_selector",
    "supported_field_labels",
    "unescape_value",
]

EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="

# Operators tried at each position of a term, in upstream's order.
_TERM_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)


def escape_value(value: str) -> str:
    """``fields.EscapeValue``: backslash-escape ``\\``, ``,`` and ``=``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    """``fields.UnescapeValue``; raises :class:`SelectorError` on a bad escape."""
    if not any(ch in value for ch in "\\,="):
        return value
    out = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Upstream formats the offending rune with %v, i.e. as its code point.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of ``(field, operator, value)`` terms; no terms selects everything.

    ``operator`` is ``=`` or ``!=`` (``==`` parses to ``=``, as upstream's hasTerm).
    Terms are kept in upstream's order: sorted by their raw text before parsing.
    """

    requirements: tuple[tuple[str, str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        """True when every term holds; a field missing from ``fields`` reads as ''."""
        for field, op, value in self.requirements:
            have = fields.get(field, "")
            if (have == value) != (op == EQUALS):
                return False
        return True

    def requires_exact_match(self, field: str) -> tuple[str, bool]:
        """The value ``field`` must equal, if some ``=`` term pins it."""
        for name, op, value in self.requirements:
            if name == field and op == EQUALS:
                return value, True
        return "", False

    def __str__(self) -> str:
        return ",".join(f"{field}{op}{escape_value(value)}" for field, op, value in self.requirements)


def _split_terms(text: str) -> list[str]:
    if not text:
        return []
    terms = []
    start = 0
    in_slash = False
    for i, ch in enumerate(text):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """``fields.ParseSelector``: parse ``a=b,c!=d``; '' selects everything.

    Raises :class:`SelectorError` with upstream's wording, e.g.
    ``invalid selector: 'foo'; can't understand 'foo'``.
    """
    requirements = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        value = unescape_value(rhs)
        # Transform with the identity function drops a term with empty field and value.
        if not lhs and not value:
            continue
        requirements.append((lhs, NOT_EQUALS if op == NOT_EQUALS else EQUALS, value))
    return FieldSelector(tuple(requirements))


# --- per-kind field labels (1.32 conversion functions and registry GetAttrs) ---------

_POD_LABELS = (
    "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
    "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
    "status.podIP", "status.podIPs", "status.nominatedNodeName",
)
_EVENT_LABELS = (
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
    "metadata.namespace", "metadata.name",
)
_NODE_LABELS = ("metadata.name", "spec.unschedulable")
_NAMESPACE_LABELS = ("status.phase", "metadata.name")
_JOB_LABELS = ("metadata.name", "metadata.namespace", "status.successful")
_DEFAULT_LABELS = ("metadata.name", "metadata.namespace")

# Kinds with their own conversion function; every other kind gets upstream's default.
_SUPPORTED = {
    "Pod": _POD_LABELS,
    "Event": _EVENT_LABELS,
    "Node": _NODE_LABELS,
    "Namespace": _NAMESPACE_LABELS,
    "Job": _JOB_LABELS,
}

# Old v1 clients send spec.host; the Pod conversion function renames it.
_POD_RENAMES = {"spec.host": "spec.nodeName"}


def supported_field_labels(kind: str) -> tuple[str, ...]:
    """The field labels the 1.32 API server accepts in ``fieldSelector=`` for ``kind``."""
    return _SUPPORTED.get(kind, _DEFAULT_LABELS)


def _unsupported_message(kind: str, label: str) -> str:
    if kind == "Job":
        return f'field label "{label}" not supported for batchv1.Job'
    if kind in _SUPPORTED:
        return f"field label not supported: {label}"
    return f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'


def check_supported(kind: str, selector: FieldSelector) -> FieldSelector:
    """Run every term through ``kind``'s field label conversion, as the API server does.

    Returns the converted selector (Pod ``spec.host`` becomes ``spec.nodeName``).
    Raises :class:`SelectorError` with the 1.32 message for the first unsupported
    label: ``field label not supported: <label>`` (Pod, Event, Node, Namespace),
    ``field label "<label>" not supported for batchv1.Job`` (Job), and
    ``"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"``
    for kinds without their own function (CronJob, DaemonSet, ControllerRevision, Lease).
    """
    allowed = supported_field_labels(kind)
    converted = []
    for field, op, value in selector.requirements:
        if kind == "Pod":
            field = _POD_RENAMES.get(field, field)
        if field not in allowed:
            raise SelectorError(_unsupported_message(kind, field))
        converted.append((field, op, value))
    return FieldSelector(tuple(converted))


def _str(value: object) -> str:
    return "" if value is None else str(value)


def _bool(value: object) -> str:
    # strconv.FormatBool of a Go bool whose zero value is false.
    return "true" if value is True else "false"


def _meta_fields(obj: Mapping, namespaced: bool) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": _str(meta.get("name"))}
    if namespaced:
        fields["metadata.namespace"] = _str(meta.get("namespace"))
    return fields


def _pod_fields(pod: Mapping) -> dict[str, str]:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    # Upstream reads podIPs[0] of the internal object; a v1 object that only has
    # status.podIP converts to podIPs=[podIP].
    pod_ip = _str(pod_ips[0].get("ip")) if pod_ips else _str(status.get("podIP"))
    fields = {
        "spec.nodeName": _str(spec.get("nodeName")),
        "spec.restartPolicy": _str(spec.get("restartPolicy")),
        "spec.schedulerName": _str(spec.get("schedulerName")),
        "spec.serviceAccountName": _str(spec.get("serviceAccountName")),
        "spec.hostNetwork": _bool(spec.get("hostNetwork")),
        "status.phase": _str(status.get("phase")),
        "status.podIP": pod_ip,
        "status.nominatedNodeName": _str(status.get("nominatedNodeName")),
    }
    # status.podIPs passes the conversion function but is not in the field set, so
    # it always reads as '' (upstream's TODO in ToSelectableFields).
    fields.update(_meta_fields(pod, namespaced=True))
    return fields


def _event_fields(event: Mapping) -> dict[str, str]:
    involved = event.get("involvedObject") or {}
    source = (event.get("source") or {}).get("component") or event.get("reportingComponent")
    fields = {
        "involvedObject.kind": _str(involved.get("kind")),
        "involvedObject.namespace": _str(involved.get("namespace")),
        "involvedObject.name": _str(involved.get("name")),
        "involvedObject.uid": _str(involved.get("uid")),
        "involvedObject.apiVersion": _str(involved.get("apiVersion")),
        "involvedObject.resourceVersion": _str(involved.get("resourceVersion")),
        "involvedObject.fieldPath": _str(involved.get("fieldPath")),
        "reason": _str(event.get("reason")),
        # The core/v1 name of the internal ReportingController field.
        "reportingComponent": _str(event.get("reportingComponent")),
        "source": _str(source),
        "type": _str(event.get("type")),
    }
    fields.update(_meta_fields(event, namespaced=True))
    return fields


def _node_fields(node: Mapping) -> dict[str, str]:
    fields = {"spec.unschedulable": _bool((node.get("spec") or {}).get("unschedulable"))}
    fields.update(_meta_fields(node, namespaced=False))
    return fields


def _namespace_fields(namespace: Mapping) -> dict[str, str]:
    fields = {
        "status.phase": _str((namespace.get("status") or {}).get("phase")),
        # Upstream keeps "name" for backward compatibility; the v1 conversion
        # function never lets a client select on it.
        "name": _str((namespace.get("metadata") or {}).get("name")),
    }
    fields.update(_meta_fields(namespace, namespaced=False))
    return fields


def _job_fields(job: Mapping) -> dict[str, str]:
    succeeded = (job.get("status") or {}).get("succeeded") or 0
    fields = {"status.successful": str(int(succeeded))}
    fields.update(_meta_fields(job, namespaced=True))
    return fields


_FIELD_SETS = {
    "Pod": _pod_fields,
    "Event": _event_fields,
    "Node": _node_fields,
    "Namespace": _namespace_fields,
    "Job": _job_fields,
}


def field_set(kind: str, obj: Mapping) -> dict[str, str]:
    """The object's selectable fields (registry ``GetAttrs``), all values strings.

    Kinds without a special table (CronJob, DaemonSet, ControllerRevision, Lease, …)
    get ``metadata.name`` and ``metadata.namespace`` (``DefaultNamespaceScopedAttr``);
    Node and Namespace, being cluster-scoped, have no ``metadata.namespace``.
    """
    build = _FIELD_SETS.get(kind)
    if build is not None:
        return build(obj)
    return _meta_fields(obj, namespaced=True)
