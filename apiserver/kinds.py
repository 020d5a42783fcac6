"""The kinds kubeviz serves, each declared once: identity and behaviour in one entry.

An entry says what kube-apiserver spreads over a kind's type registration, its ``pkg/registry/<group>/<kind>``
strategy and its printer handlers: group, version, kind, plural, scope, short names, subresources, whether spec
changes bump ``metadata.generation``, the verbs served; then the strategy (defaulting, admission, PrepareForCreate /
PrepareForUpdate, Validate / ValidateUpdate and the status strategy's), the printer (``kubectl get`` columns), the
strict JSON schema the decoder checks bodies against, the protobuf message table and the strategic-merge root type.
The functions and tables an entry names live with their kind's neighbours (``defaults.py``, ``validation.py``,
``printers.py``, ``protobuf.py``, ``patch.py``); this module pairs them with the kind, and nothing else keeps a list
of kinds: routing, discovery, OpenAPI, the registry, storage, Status messages, the engine's client, the live stream
and the dashboard all read ``RESOURCE_TYPES`` (README, "Adding a kind").

Below the table are the lookups, and the steps every kind shares around its strategy hooks (upstream's
``rest.BeforeCreate`` / ``BeforeUpdate``), for an object whose kind is in the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from controllers.apimachinery.objcopy import deep_copy

from . import defaults, printers, protobuf, schema, validation
from .fielderrors import FieldError
from .printers import Printer
from .resources import VERBS, ResourceType, Strategy

__all__ = [
    "RESOURCE_TYPES",
    "SHOWN_TYPES",
    "ResourceType",
    "Strategy",
    "admit",
    "apply_defaults",
    "decode_protobuf",
    "drop_unknown_fields",
    "group_versions",
    "prepare_for_create",
    "prepare_for_update",
    "printer_for",
    "resource_for_kind",
    "resource_for_object",
    "resource_for_path",
    "structural_errors",
    "table",
    "validate_create",
    "validate_update",
]

# Values follow a real 1.32 API server (kubectl-compat.md §1.3). The order is the API's: discovery, the live
# stream's snapshot and a namespace's deletion go through the kinds in it.
RESOURCE_TYPES = (
    ResourceType(
        "", "v1", "Namespace", "namespaces", False, ("ns",), subresources=("status",),
        verbs=tuple(v for v in VERBS if v != "deletecollection"),
        strategy=Strategy(
            defaults=defaults.set_defaults_namespace,
            admit=None,
            prepare_for_create=defaults.prepare_namespace_for_create,
            prepare_for_update=defaults.prepare_namespace_for_update,
            validate=validation.validate_namespace,
            validate_update=validation.validate_namespace_strategy_update,
            validate_status_update=validation.validate_status_update,
        ),
        printer=Printer(printers.NAMESPACE_COLUMNS, printers.print_namespace),
        schema="namespace-v1.json",
        protobuf=protobuf.NAMESPACE,
        strategic_merge="Namespace",
    ),
    ResourceType(
        "", "v1", "Node", "nodes", False, ("no",), subresources=("status",),
        strategy=Strategy(
            defaults=defaults.set_defaults_node,
            admit=defaults.admit_node,
            prepare_for_create=None,
            prepare_for_update=None,
            validate=validation.validate_node,
            validate_update=validation.validate_node_strategy_update,
            validate_status_update=validation.validate_node_strategy_update,
        ),
        printer=Printer(printers.NODE_COLUMNS, printers.print_node),
        schema="node-v1.json",
        protobuf=None,
        strategic_merge="Node",
    ),
    ResourceType(
        "", "v1", "Pod", "pods", True, ("po",), ("all",), subresources=("status", "log"),
        strategy=Strategy(
            defaults=defaults.set_defaults_pod,
            admit=defaults.admit_pod,
            prepare_for_create=defaults.prepare_pod_for_create,
            prepare_for_update=None,
            validate=validation.validate_pod_create,
            validate_update=validation.validate_pod_update,
            validate_status_update=validation.validate_status_update,
        ),
        printer=Printer(printers.POD_COLUMNS, printers.print_pod, printers.pod_row_conditions),
        schema="pod-v1.json",
        protobuf=protobuf.POD,
        strategic_merge="Pod",
    ),
    ResourceType(
        "", "v1", "Event", "events", True, ("ev",),
        strategy=Strategy(
            defaults=None,
            admit=None,
            prepare_for_create=None,
            prepare_for_update=None,
            validate=validation.validate_event,
            validate_update=validation.validate_event_update,
            validate_status_update=None,
        ),
        printer=Printer(printers.EVENT_COLUMNS, printers.print_event),
        schema="event-v1.json",
        protobuf=None,
        strategic_merge="Event",
    ),
    ResourceType(
        "", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), subresources=("status",),
        strategy=Strategy(
            defaults=defaults.set_defaults_resource_quota,
            admit=None,
            prepare_for_create=defaults.prepare_resource_quota_for_create,
            prepare_for_update=None,
            validate=validation.validate_resource_quota,
            validate_update=validation.validate_resource_quota_update,
            validate_status_update=validation.validate_resource_quota_status_update,
        ),
        printer=Printer(printers.RESOURCE_QUOTA_COLUMNS, printers.print_resource_quota),
        schema="resourcequota-v1.json",
        protobuf=protobuf.RESOURCE_QUOTA,
        strategic_merge="ResourceQuota",
    ),
    ResourceType(
        "batch", "v1", "Job", "jobs", True, (), ("all",), ("status",), has_generation=True,
        strategy=Strategy(
            defaults=defaults.set_defaults_job,
            admit=None,
            prepare_for_create=defaults.prepare_job_for_create,
            prepare_for_update=None,
            validate=validation.validate_job,
            validate_update=validation.validate_job_update,
            validate_status_update=validation.validate_status_update,
        ),
        printer=Printer(printers.JOB_COLUMNS, printers.print_job),
        schema="job-batch-v1.json",
        protobuf=protobuf.JOB,
        strategic_merge="Job",
    ),
    ResourceType(
        "batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), ("status",), has_generation=True,
        strategy=Strategy(
            defaults=defaults.set_defaults_cron_job,
            admit=None,
            prepare_for_create=defaults.prepare_cron_job_for_create,
            prepare_for_update=None,
            validate=validation.validate_cron_job_create,
            validate_update=validation.validate_cron_job_update,
            validate_status_update=validation.validate_status_update,
        ),
        printer=Printer(printers.CRONJOB_COLUMNS, printers.print_cronjob),
        schema="cronjob-batch-v1.json",
        protobuf=protobuf.CRONJOB,
        strategic_merge="CronJob",
    ),
    ResourceType(
        "apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), ("status",), has_generation=True,
        strategy=Strategy(
            defaults=defaults.set_defaults_daemon_set,
            admit=None,
            prepare_for_create=defaults.prepare_daemon_set_for_create,
            prepare_for_update=defaults.prepare_daemon_set_for_update,
            validate=validation.validate_daemon_set,
            validate_update=validation.validate_daemon_set_update,
            validate_status_update=validation.validate_status_update,
        ),
        printer=Printer(printers.DAEMONSET_COLUMNS, printers.print_daemonset),
        schema="daemonset-apps-v1.json",
        protobuf=None,
        strategic_merge="DaemonSet",
    ),
    ResourceType(
        "apps", "v1", "ControllerRevision", "controllerrevisions", True,
        strategy=Strategy(
            defaults=None,
            admit=None,
            prepare_for_create=None,
            prepare_for_update=None,
            validate=validation.validate_controller_revision,
            validate_update=validation.validate_controller_revision_update,
            validate_status_update=None,
        ),
        printer=Printer(printers.CONTROLLER_REVISION_COLUMNS, printers.print_controller_revision),
        schema="controllerrevision-apps-v1.json",
        protobuf=None,
        strategic_merge="ControllerRevision",
    ),
    ResourceType(
        "coordination.k8s.io", "v1", "Lease", "leases", True, shown=False,
        strategy=Strategy(
            defaults=None,
            admit=None,
            prepare_for_create=None,
            prepare_for_update=None,
            validate=validation.validate_lease,
            validate_update=validation.validate_lease_update,
            validate_status_update=None,
        ),
        printer=Printer(printers.LEASE_COLUMNS, printers.print_lease),
        schema="lease-coordination-v1.json",
        protobuf=None,
        strategic_merge="Lease",
    ),
)

#: The kinds the dashboard shows, in the table's order.
SHOWN_TYPES = tuple(r for r in RESOURCE_TYPES if r.shown)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCE_TYPES}
_BY_KIND = {(r.group, r.kind): r for r in RESOURCE_TYPES}
_BY_API_VERSION_KIND = {(r.api_version, r.kind): r for r in RESOURCE_TYPES}
# Objects name their kind; a kind name is one kind here, whatever its group (a test holds that).
_BY_KIND_NAME = {r.kind: r for r in RESOURCE_TYPES}
_PROTOBUF_MESSAGES = {(r.api_version, r.kind): r.protobuf for r in RESOURCE_TYPES if r.protobuf is not None}


def resource_for_path(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def resource_for_kind(group: str, kind: str) -> ResourceType | None:
    return _BY_KIND.get((group, kind))


def resource_for_object(api_version: str, kind: str) -> ResourceType | None:
    return _BY_API_VERSION_KIND.get((api_version, kind))


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core first, in a stable order."""
    seen: list[tuple[str, str]] = []
    for r in RESOURCE_TYPES:
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def _resource_of(obj: dict) -> ResourceType | None:
    return _BY_KIND_NAME.get(obj.get("kind"))


def _metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    return metadata


# --- the generic registry steps around a kind's strategy (an object of a kind not in the table passes through) --

def apply_defaults(obj: dict, *, in_place: bool = False) -> dict:
    """A copy of ``obj`` with upstream's API defaults filled in (idempotent); ``in_place``: ``obj`` itself,
    for a caller that owns it (the registry, which copies a request body once)."""
    out = obj if in_place else deep_copy(obj)
    resource = _resource_of(out)
    if resource is not None and resource.strategy.defaults is not None:
        resource.strategy.defaults(out)
    return out


def admit(obj: dict, *, in_place: bool = False) -> dict:
    """The mutating admission plugins a create of ``obj``'s kind passes through, on a copy (``in_place``: on
    ``obj`` itself)."""
    resource = _resource_of(obj)
    if resource is None or resource.strategy.admit is None:
        return obj if in_place else deep_copy(obj)
    return resource.strategy.admit(obj, in_place=in_place)


def prepare_for_create(obj: dict, *, uid: str, in_place: bool = False) -> dict:
    """What BeforeCreate and the kind's ``PrepareForCreate`` do, on a copy.

    Sets ``metadata.uid``; clears the deletion fields, and the namespace of cluster-scoped kinds; ``generation: 1``
    for kinds that keep one; then the kind's own hook (Job selector generation, DaemonSet template generation, Pod
    ``Pending`` phase and QoS class, Namespace ``kubernetes`` finalizer; status reset). ``creationTimestamp``,
    ``resourceVersion`` and ``generateName`` expansion are the caller's. Call it after :func:`apply_defaults` (and
    :func:`admit`), before :func:`validate_create`. ``in_place``: change ``obj`` itself rather than a copy.
    """
    out = obj if in_place else deep_copy(obj)
    resource = _resource_of(out)
    metadata = _metadata(out)
    metadata["uid"] = uid
    metadata.pop("deletionTimestamp", None)
    metadata.pop("deletionGracePeriodSeconds", None)
    if resource is None:
        return out
    if not resource.namespaced:
        metadata.pop("namespace", None)
    if resource.has_generation:
        metadata["generation"] = 1
    if resource.strategy.prepare_for_create is not None:
        resource.strategy.prepare_for_create(out)
    return out


def prepare_for_update(new: dict, old: dict, *, status_update: bool = False, in_place: bool = False) -> dict:
    """What BeforeUpdate and the kind's ``PrepareForUpdate`` do, on a copy of ``new``.

    ``status_update=False`` (PUT/PATCH on the object): status is kept from ``old`` for kinds with a status
    subresource, and ``generation`` is bumped when ``spec`` changed. ``status_update=True`` (the ``/status``
    subresource): ``spec`` is kept from ``old`` and generation is untouched. Both: uid, creationTimestamp and
    deletion fields come from ``old``; then the kind's own hook. Apply defaults to ``new`` first so that defaulted
    fields compare equal. ``in_place``: change ``new`` itself, sharing (not copying) what it takes from ``old``.
    """
    resource = _resource_of(new)
    out = new if in_place else deep_copy(new)
    if resource is not None and "status" in resource.subresources:
        if status_update:
            if "spec" in old:
                out["spec"] = old["spec"] if in_place else deep_copy(old["spec"])
        else:
            if "status" in old:
                out["status"] = old["status"] if in_place else deep_copy(old["status"])
            else:
                out.pop("status", None)
    metadata = _metadata(out)
    old_metadata = old.get("metadata") or {}
    if not metadata.get("uid") and old_metadata.get("uid"):
        metadata["uid"] = old_metadata["uid"]
    for key in ("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if old_metadata.get(key) is not None:
            metadata[key] = old_metadata[key]
        else:
            metadata.pop(key, None)
    if resource is None:
        return out
    if not resource.namespaced:
        metadata.pop("namespace", None)
    if resource.has_generation:
        generation = old_metadata.get("generation") or 1
        if not status_update and out.get("spec") != old.get("spec"):
            generation += 1
        metadata["generation"] = generation
    if resource.strategy.prepare_for_update is not None:
        resource.strategy.prepare_for_update(out, old, status_update)
    return out


def validate_create(obj: dict) -> list[FieldError]:
    """Validation errors for creating ``obj`` (defaulted and prepared), in upstream order."""
    resource = _resource_of(obj)
    if resource is None or resource.strategy.validate is None:
        return []
    return resource.strategy.validate(obj)


def validate_update(new: dict, old: dict, *, status_update: bool = False) -> list[FieldError]:
    """Validation errors for replacing ``old`` by ``new`` (both defaulted; ``new`` prepared); ``status_update``:
    a write through the ``/status`` subresource."""
    resource = _resource_of(new)
    strategy = resource.strategy if resource is not None else None
    if status_update:
        if strategy is None or strategy.validate_status_update is None:
            return validation.validate_status_update(new, old)
        return strategy.validate_status_update(new, old)
    if strategy is None or strategy.validate_update is None:
        return []
    return strategy.validate_update(new, old)


# --- what the table answers for a kind's other parts -------------------------------------------------------------

def printer_for(kind: str) -> Printer:
    """The table convertor of ``kind`` (``rest.DefaultTableConvertor`` for a kind without its own)."""
    resource = _BY_KIND_NAME.get(kind)
    if resource is None or resource.printer is None:
        return printers.DEFAULT_PRINTER
    return resource.printer


def table(kind: str, objects: list[dict], now: datetime, *, include_object: str = printers.INCLUDE_METADATA,
          resource_version: str = "", api_version: str = "") -> dict:
    """The ``Table`` a 1.32 API server returns for ``objects`` of ``kind`` (see :meth:`Printer.table`)."""
    return printer_for(kind).table(objects, now, include_object=include_object, resource_version=resource_version,
                                   api_version=api_version)


def _schema_file(obj: dict) -> str | None:
    resource = _BY_API_VERSION_KIND.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    return resource.schema if resource is not None else None


def structural_errors(obj: dict) -> schema.StructuralResult:
    """Decode-time problems of ``obj`` against its kind's schema; a kind not served yields an empty result."""
    return schema.structural_errors(obj, _schema_file(obj))


def drop_unknown_fields(obj: dict) -> dict:
    """A pruned deep copy of ``obj`` without the fields its kind's schema does not know (``fieldValidation=Ignore``)."""
    return schema.drop_unknown_fields(obj, _schema_file(obj))


def decode_protobuf(body: bytes, lookup_owner: Callable[[str], dict | None] | None = None) -> dict:
    """The JSON object of a protobuf request body, read with the message table of the kind it names."""
    return protobuf.decode_object(body, _PROTOBUF_MESSAGES, lookup_owner=lookup_owner)
