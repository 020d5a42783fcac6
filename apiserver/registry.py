"""The registry: what kube-apiserver does between a request and storage.

For each verb it decodes and checks the body, applies defaults and the per-kind strategy (generated Job
selectors, ``generation`` bumps, status kept apart from spec), validates with upstream's messages, enforces
optimistic concurrency, and implements graceful deletion, finalizers and owner-reference garbage collection. It is
pure Python over a ``Storage`` so the same rules hold for the HTTP API, the engine and the ``simulate`` command.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from controllers.apimachinery import fields as fieldsel
from controllers.apimachinery import labels as labelsel
from controllers.apimachinery.names import ALPHANUMS
from controllers.apimachinery.objcopy import deep_copy
from controllers.apimachinery.timeutil import format_rfc3339

from . import errors, fielderrors, paging, patch, quota, schema
from .kinds import (
    RESOURCE_TYPES,
    admit,
    apply_defaults,
    prepare_for_create,
    prepare_for_update,
    resource_for_kind,
    validate_create,
    validate_update,
)
from .resources import ResourceType
from .storage import FutureRevision, HistoryCompacted, KeyExists, KeyNotFound, Storage, VersionConflict

NAMESPACE = resource_for_kind("", "Namespace")
POD = resource_for_kind("", "Pod")
NODE = resource_for_kind("", "Node")

# Namespaces every cluster has and that may not be deleted (upstream's namespace lifecycle admission).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"

# Kinds whose delete, when no propagationPolicy is given, orphans dependents (batch/v1 Jobs keep this for
# backward compatibility; kubectl always sends Background).
ORPHAN_BY_DEFAULT = {("batch", "Job")}
# What a delete of such a Job that names no policy answers (pkg/registry/batch/job/storage/storage.go).
JOB_DELETE_OPTION_WARNING = (
    "child pods are preserved by default when jobs are deleted; "
    "set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"
)

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")

PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


@dataclass
class Result:
    object: dict
    created: bool = False
    warnings: tuple[str, ...] = ()


def _meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {}) if isinstance(obj, dict) else {}


class Registry:
    """Kubernetes API semantics for one cluster's storage."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self._gc_pending: list[str] = []
        self._gc_running = False

    # -- helpers -------------------------------------------------------------------------------------------

    def _rng(self, purpose: str) -> random.Random:
        # Derived from the cluster seed and the write position, so a replay of the same writes names objects
        # the same way, and nothing has to be kept between requests.
        return random.Random(f"{self.storage.seed}/{self.storage.current_resource_version()}/{purpose}")

    def _new_uid(self, purpose: str) -> str:
        # The same derivation as _rng's, hashed straight to 128 bits (seeding a Random costs several times more).
        key = f"{self.storage.seed}/{self.storage.current_resource_version()}/uid:{purpose}".encode()
        return str(uuid.UUID(bytes=hashlib.blake2b(key, digest_size=16).digest(), version=4))

    def now_rfc3339(self) -> str:
        """The cluster's simulated time as Kubernetes writes timestamps."""
        return format_rfc3339(self.storage.now())

    def _check_namespace(self, resource: ResourceType, namespace: str) -> None:
        if not resource.namespaced:
            return
        if self.storage.get(NAMESPACE, "", namespace) is None:
            raise errors.namespace_not_found(namespace)

    def _decode(self, resource: ResourceType, body, field_validation: str,
                trusted: bool = False, owned: bool = False,
                status_only: bool = False) -> tuple[dict, tuple[str, ...]]:
        """Type and field checks of a request body, as the API server's decoder does them.

        The answer is the registry's own copy of the body, which the rest of the write changes in place.
        ``trusted`` bodies come from the simulated controllers, which build well-typed objects: they skip the
        structural walk (defaulting and validation still run). An ``owned`` body is already the registry's
        (a patch result) and is not copied again."""
        if field_validation not in FIELD_VALIDATION:
            raise errors.bad_request(
                f"fieldValidation parameter unsupported: {field_validation}. Supported values: Ignore, Warn, Strict"
            )
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"{resource.kind} in version \"{resource.version}\" cannot be handled as a {resource.kind}: "
                f"the body must be a JSON object"
            )
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if kind not in (None, "", resource.kind) or api_version not in (None, "", resource.api_version):
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({resource.api_version})"
                if api_version not in (None, "", resource.api_version)
                else f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
            )
        if trusted and status_only:
            # only the status of a /status write is kept: copy just that
            obj = dict(body, metadata=dict(body.get("metadata") or {}), status=deep_copy(body.get("status", {})))
        else:
            obj = body if owned else deep_copy(body)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        if trusted:
            return obj, ()
        if not isinstance(obj.get("metadata", {}), dict):
            obj["metadata"] = {}
        result = schema.structural_errors(obj, resource.schema)
        prefix = f'{resource.kind} in version "{resource.version}" cannot be handled as a {resource.kind}: '
        if result.type_errors:
            error = errors.bad_request(prefix + result.decode_error)
            error.field_paths = list(zip(result.type_error_keys, result.type_errors))
            raise error
        warnings: tuple[str, ...] = ()
        if result.unknown_fields:
            unknown = [f'unknown field "{path}"' for path in result.unknown_fields]
            if field_validation == "Strict":
                error = errors.bad_request(prefix + "strict decoding error: " + ", ".join(unknown))
                error.field_paths = list(zip(result.unknown_field_keys, unknown))
                raise error
            if field_validation == "Warn":
                warnings = tuple(unknown)
            obj = schema.drop_unknown_fields(obj, resource.schema)
        return obj, warnings

    def _validate(self, resource: ResourceType, obj: dict, old: dict | None = None, status_update: bool = False) -> None:
        found = validate_create(obj) if old is None else validate_update(obj, old, status_update=status_update)
        if found:
            raise errors.invalid(resource, _meta(obj).get("name", ""), found)

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str, *, resource_version: str = "") -> dict:
        """The object now. A ``resource_version`` asks, as a get from the watch cache does, for the object as it is
        at that version or any later one: the newest serves it, unless the cluster has not reached the version
        yet (504 Too large resource version)."""
        if resource_version:
            requested = parse_resource_version(resource_version)
            current = self.storage.current_resource_version()
            if requested > current:
                raise errors.too_large_resource_version(requested, current)
        obj = self.storage.get(resource, namespace, name)
        if obj is None:
            raise errors.not_found(resource, name)
        return obj

    def list(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> tuple[list[dict], str]:
        labels_match, fields_match = self.selectors(resource, label_selector, field_selector)
        items, rv = self.storage.list(resource, namespace)
        return [o for o in items if labels_match(o) and fields_match(o)], rv

    def get_list(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> paging.Chunk:
        """A list as the API server answers one (the store's ``ListPredicate`` and the storage's ``GetList``),
        in chunks when asked (``paging.py``).

        With a ``continue_`` token the list goes on from the token's key at the token's resourceVersion (410
        ``Expired`` when that is compacted, answering a token that goes on at the newest). Without one, a
        ``limit`` makes the first chunk, at the newest resourceVersion; a ``resource_version`` of ``"0"`` asks
        for any state, which the watch cache serves whole, ignoring ``limit``, and so does a field selector that
        names the one object to list.

        A read at a past revision is the etcd store's: ``resource_version_match`` ``Exact`` (or, the legacy way, a
        ``resource_version`` with a ``limit`` and no match) lists the objects as they were at that revision, in
        chunks or whole, 410 ``Expired`` once the history no longer reaches back to it; ``NotOlderThan`` (or a bare
        ``resource_version``) is served by the newest state. Either answers 504 Too large resource version for a
        revision the cluster has not reached."""
        _validate_list_options(resource_version, resource_version_match, continue_)
        requested = parse_resource_version(resource_version) if resource_version else None
        exact = requested is not None and (
            resource_version_match == paging.EXACT
            or (not resource_version_match and limit > 0 and requested > 0 and not continue_))
        lsel, fsel = self._parse_selectors(resource, label_selector, field_selector)

        def matches(obj):
            return lsel.matches(_meta(obj).get("labels") or {}) and fsel.matches(fieldsel.field_set(resource.kind, obj))

        if continue_:
            key_prefix = paging.storage_prefix(namespace)
            try:
                start, revision = paging.decode_continue(continue_, key_prefix)
            except paging.InvalidContinue as exc:
                raise errors.bad_request(f"invalid continue token: {exc}") from None
            if resource_version not in ("", "0"):
                raise errors.bad_request(paging.RESOURCE_VERSION_WITH_CONTINUE)
            read_at = revision if revision > 0 else None
        elif exact:
            start, read_at, key_prefix = "", requested, paging.storage_prefix(namespace)
        else:
            if requested:  # not older than: the newest state is, once the cluster got there
                current = self.storage.current_resource_version()
                if requested > current:
                    raise errors.too_large_resource_version(requested, current)
            single = fsel.requires_exact_match("metadata.name")[1] and (namespace is not None
                                                                         or not resource.namespaced)
            if limit <= 0 or resource_version == "0" or single:
                items, rv = self.list(resource, namespace, label_selector=label_selector,
                                      field_selector=field_selector)
                return paging.Chunk(items, rv)
            start, read_at, key_prefix = "", None, paging.cache_prefix(namespace)
        try:
            found = self.storage.list_range(resource, namespace, start=start, revision=read_at,
                                            size_hint=limit + 1 if limit > 0 else 0)
            return paging.take(found.objects, found.count, limit=max(limit, 0),
                               matches=None if lsel.empty and fsel.empty else matches,
                               key_prefix=key_prefix, resource_version=found.revision)
        except HistoryCompacted:
            if not continue_:  # an exact revision compacted, or compacted while a first chunk was read
                raise errors.StatusError(410, "Expired", paging.EXPIRED) from None
            raise errors.StatusError(410, "Expired", paging.INCONSISTENT_CONTINUE, list_meta={
                "continue": paging.encode_continue(start, key_prefix, paging.LATEST)}) from None
        except FutureRevision as exc:
            if exact:
                raise errors.too_large_resource_version(requested, self.storage.current_resource_version()) \
                    from None
            raise errors.StatusError(500, "", exc.message) from None

    def _parse_selectors(self, resource: ResourceType, label_selector: str, field_selector: str):
        try:
            lsel = labelsel.parse_selector(label_selector or "")
            fsel = fieldsel.parse_field_selector(field_selector or "")
            fieldsel.check_supported(resource.kind, fsel)
        except fieldsel.SelectorError as exc:
            raise errors.bad_request(str(exc)) from None
        except labelsel.SelectorError as exc:
            raise errors.bad_request(str(exc)) from None
        return lsel, fsel

    def selectors(self, resource: ResourceType, label_selector: str, field_selector: str):
        """Two predicates over objects, or a 400 Status for a selector upstream would refuse."""
        lsel, fsel = self._parse_selectors(resource, label_selector, field_selector)

        def labels_match(obj):
            return lsel.matches(_meta(obj).get("labels") or {})

        def fields_match(obj):
            return fsel.matches(fieldsel.field_set(resource.kind, obj))

        return labels_match, fields_match

    # -- writes --------------------------------------------------------------------------------------------

    def create(
        self,
        resource: ResourceType,
        namespace: str,
        body,
        *,
        dry_run: bool = False,
        field_validation: str = "Strict",
        trusted: bool = False,
        kubelet_ready: bool = False,
    ) -> Result:
        """Create as kube-apiserver does. ``kubelet_ready`` is for a Node the simulator's own kubelet registers,
        Ready from its first status: the not-ready taint admission would give it is left off, because the node
        lifecycle controller would take it away again in the same instant (one write instead of two, and a new
        cluster's nodes never show it)."""
        obj, warnings = self._decode(resource, body, field_validation, trusted)
        meta = _meta(obj)
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise errors.internal_error("resourceVersion should not be set on objects to be created")
        self._check_namespace(resource, namespace)
        if not meta.get("name") and meta.get("generateName"):
            rng = self._rng("name:" + meta["generateName"])
            meta["name"] = meta["generateName"][:58] + "".join(rng.choice(ALPHANUMS) for _ in range(5))
        for transient in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "managedFields", "selfLink"):
            meta.pop(transient, None)
        meta["uid"] = self._new_uid(f"{resource.kind}/{namespace}/{meta.get('name', '')}")
        meta["creationTimestamp"] = self.now_rfc3339()
        apply_defaults(obj, in_place=True)
        prepare_for_create(obj, uid=meta["uid"], in_place=True)
        if not (kubelet_ready and resource is NODE):
            admit(obj, in_place=True)
        self._validate(resource, obj)
        # Validating admission (ResourceQuota) refuses before storage would find a namesake, as upstream's does;
        # the quotas are charged only for a create that is going ahead.
        charges = quota.admit_create(self.storage, resource, namespace, obj)
        if (dry_run or charges) and self.storage.get(resource, namespace if resource.namespaced else "",
                                                      obj["metadata"]["name"]):
            raise errors.already_exists(resource, obj["metadata"]["name"])
        if dry_run:
            return Result(obj, created=True, warnings=warnings)
        quota.charge(self.storage, charges)
        try:
            stored = self.storage.create(resource, obj)
        except KeyExists:
            raise errors.already_exists(resource, obj["metadata"]["name"]) from None
        return Result(stored, created=True, warnings=warnings)

    def update(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        body,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: str = "Strict",
        require_resource_version: bool = True,
        trusted: bool = False,
    ) -> Result:
        obj, warnings = self._decode(resource, body, field_validation, trusted, status_only=subresource == "status")
        meta = _meta(obj)
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if resource.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        old = self.get(resource, namespace if resource.namespaced else "", name)
        given_rv = meta.get("resourceVersion") or ""
        if not given_rv and require_resource_version:
            raise errors.invalid(
                resource, name, [_rv_required()]
            )
        if given_rv and given_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(resource, name)
        return self._write_update(resource, old, obj, subresource=subresource, dry_run=dry_run,
                                  warnings=warnings)

    def _write_update(self, resource, old, obj, *, subresource, dry_run, warnings=()) -> Result:
        """Write ``obj`` (the registry's own copy of a body) over ``old``.

        What the new object takes from ``old`` is shared, not copied: stored objects are never changed in place,
        and defaults are applied before anything of ``old`` is attached."""
        name = old["metadata"]["name"]
        old_meta = old["metadata"]
        if subresource == "status":
            # Only the status is written; the rest stays as stored (ResetObjectMetaForStatus, spec kept).
            status = obj.get("status", {})
            apply_defaults({"apiVersion": old.get("apiVersion"), "kind": old.get("kind"), "metadata": {},
                            "status": status}, in_place=True)
            new = dict(old, metadata=dict(old_meta), status=status)
            meta = new["metadata"]
        else:
            new = obj
            meta = new["metadata"]
            for kept in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                         "generation", "namespace", "name"):
                if kept in old_meta:
                    meta[kept] = old_meta[kept]
                else:
                    meta.pop(kept, None)
            apply_defaults(new, in_place=True)
            if "status" in old and ("status" in resource.subresources or "status" not in new):
                new["status"] = old["status"]
            prepare_for_update(new, old, in_place=True)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        self._validate(resource, new, old, status_update=subresource == "status")
        if new == old:
            return Result(old, warnings=warnings)  # a no-op write bumps nothing and tells no watcher
        if dry_run:
            return Result(new, warnings=warnings)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and old_meta.get("finalizers"):
            # The last finalizer went: the deletion that was waiting for it completes now.
            if self._deletion_may_finish(resource, new):
                try:
                    stored = self.storage.update(resource, new, old_meta["resourceVersion"])
                    gone = self.storage.delete(resource, meta.get("namespace", ""), name)
                except (KeyNotFound, VersionConflict):
                    raise errors.conflict(resource, name) from None
                self._after_delete(resource, gone)
                return Result(stored, warnings=warnings)
        try:
            stored = self.storage.update(resource, new, old_meta["resourceVersion"])
        except KeyNotFound:
            raise errors.not_found(resource, name) from None
        except VersionConflict:
            raise errors.conflict(resource, name) from None
        return Result(stored, warnings=warnings)

    def patch(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        body: bytes | str,
        content_type: str,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: str = "Strict",
        force: bool = False,
        trusted: bool = False,
    ) -> Result:
        media = (content_type or "").split(";")[0].strip().lower()
        patch_type = PATCH_TYPES.get(media)
        if patch_type is None:
            raise errors.unsupported_media_type(media or "<none>")
        try:
            document = patch.decode_patch_body(body, patch_type)
        except patch.PatchError as exc:
            raise errors.StatusError(exc.code, exc.reason, exc.message, {}) from None
        ns = namespace if resource.namespaced else ""
        current = self.storage.get(resource, ns, name)
        if current is None:
            if patch_type == "apply":
                document = dict(document)
                _meta(document).setdefault("name", name)
                return self.create(resource, namespace, document, dry_run=dry_run,
                                   field_validation=field_validation)
            raise errors.not_found(resource, name)
        try:
            if patch_type == "json":
                patched = patch.json_patch(current, document)
            elif patch_type == "merge":
                patched = patch.json_merge_patch(current, document)
            else:
                patched = patch.strategic_merge_patch(current, document, resource.strategic_merge)
        except patch.PatchError as exc:
            details = {"name": name, "kind": resource.plural}
            if resource.group:
                details["group"] = resource.group
            raise errors.StatusError(exc.code, exc.reason, exc.message, details) from None
        if not isinstance(patched, dict):
            raise errors.bad_request("the patched object is not a JSON object")
        patched_meta = _meta(patched)
        given_rv = patched_meta.get("resourceVersion")
        if given_rv and given_rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(resource, name)
        obj, warnings = self._decode(resource, patched, field_validation, trusted=trusted, owned=True)
        if _meta(obj).get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({_meta(obj).get('name')}) does not match the name on the URL ({name})"
            )
        return self._write_update(resource, current, obj, subresource=subresource, dry_run=dry_run,
                                  warnings=warnings)

    # -- deletion ------------------------------------------------------------------------------------------

    def delete(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict | None = None,
        dry_run: bool = False,
    ) -> dict:
        """Delete as kube-apiserver does; answers the object (still present, with a deletionTimestamp, when
        finalizers or a grace period remain) or the object as it was removed."""
        validate_delete_options(propagation_policy)
        ns = namespace if resource.namespaced else ""
        obj = self.get(resource, ns, name)
        meta = obj["metadata"]
        preconditions = preconditions or {}
        if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
            raise errors.conflict(
                resource, name,
                f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in object meta: "
                f"{meta.get('uid')}",
            )
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta["resourceVersion"]:
            raise errors.conflict(
                resource, name,
                f"Precondition failed: ResourceVersion in precondition: {preconditions['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        if resource is NAMESPACE and name in IMMORTAL_NAMESPACES:
            raise errors.StatusError(
                403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                {"name": name, "kind": "namespaces"},
            )
        if dry_run:
            return obj
        if propagation_policy is None:
            propagation_policy = "Orphan" if (resource.group, resource.kind) in ORPHAN_BY_DEFAULT else "Background"
        finalizers = list(meta.get("finalizers") or [])
        if propagation_policy == "Orphan" and FINALIZER_ORPHAN not in finalizers:
            finalizers.append(FINALIZER_ORPHAN)
        elif propagation_policy == "Foreground" and FINALIZER_FOREGROUND not in finalizers:
            finalizers.append(FINALIZER_FOREGROUND)
        grace = self._grace_period(resource, obj, grace_period_seconds)
        if meta.get("deletionTimestamp"):
            # Already terminating: a second delete may only shorten the grace period.
            if grace == 0 and resource is POD and not finalizers:
                return self._remove(resource, obj)
            return obj
        if not finalizers and grace == 0:
            return self._remove(resource, obj)
        new = deep_copy(obj)
        new_meta = new["metadata"]
        new_meta["finalizers"] = finalizers or None
        if not finalizers:
            new_meta.pop("finalizers")
        new_meta["deletionTimestamp"] = format_rfc3339(self.storage.now() + timedelta(seconds=grace))
        new_meta["deletionGracePeriodSeconds"] = grace
        if resource.has_generation:
            new_meta["generation"] = new_meta.get("generation", 1) + 1
        stored = self.storage.update(resource, new, meta["resourceVersion"])
        self.collect_garbage(stored["metadata"]["uid"])
        return self.storage.get(resource, ns, name) or stored

    def delete_collection(
        self,
        resource: ResourceType,
        namespace: str | None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> tuple[list[dict], str]:
        """``DeleteCollection``: list what the selectors match, then delete each with the same options (one that
        is gone meanwhile is skipped). Answers the list as it was before the deletes, and its resourceVersion."""
        validate_delete_options(propagation_policy)
        items, rv = self.list(resource, namespace, label_selector=label_selector, field_selector=field_selector)
        for item in items:
            meta = item["metadata"]
            try:
                self.delete(resource, meta.get("namespace", ""), meta["name"], propagation_policy=propagation_policy,
                            grace_period_seconds=grace_period_seconds, dry_run=dry_run)
            except errors.StatusError as error:
                if error.code != 404:
                    raise
        return items, rv

    @staticmethod
    def _grace_period(resource: ResourceType, obj: dict, requested: int | None) -> int:
        if resource is not POD:
            return 0
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        # Pods never scheduled, or already finished, have nothing to stop: they go at once.
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(int(requested), 0)
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def _remove(self, resource: ResourceType, obj: dict) -> dict:
        meta = obj["metadata"]
        try:
            gone = self.storage.delete(resource, meta.get("namespace", ""), meta["name"])
        except KeyNotFound:
            raise errors.not_found(resource, meta["name"]) from None
        self._after_delete(resource, gone)
        return gone

    def _after_delete(self, resource: ResourceType, gone: dict) -> None:
        if resource is NAMESPACE:
            self._delete_namespace_contents(gone["metadata"]["name"])
        uid = gone["metadata"]["uid"]
        for dep_resource, dependent in list(self.storage.dependents_of(uid)):
            self._collect_dependent(dep_resource, dependent, uid)
        for ref in gone["metadata"].get("ownerReferences") or ():
            self.collect_garbage(ref.get("uid", ""))

    def _delete_namespace_contents(self, namespace: str) -> None:
        for resource in RESOURCE_TYPES:
            if not resource.namespaced:
                continue
            items, _ = self.storage.list(resource, namespace)
            for item in items:
                if self.storage.get(resource, namespace, item["metadata"]["name"]) is not None:
                    self.delete(resource, namespace, item["metadata"]["name"], propagation_policy="Background",
                                grace_period_seconds=0)

    def _collect_dependent(self, resource: ResourceType, dependent: dict, owner_uid: str) -> None:
        """The owner is gone: the dependent goes too, unless it has another owner that still exists."""
        refs = dependent["metadata"].get("ownerReferences") or []
        others = [r for r in refs if r.get("uid") != owner_uid and self.storage.find_by_uid(r.get("uid", ""))]
        if others:
            new = deep_copy(dependent)
            new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != owner_uid]
            self.storage.update(resource, new, dependent["metadata"]["resourceVersion"])
            return
        if dependent["metadata"].get("deletionTimestamp"):
            return
        self.delete(resource, dependent["metadata"].get("namespace", ""), dependent["metadata"]["name"],
                    propagation_policy="Background")

    def collect_garbage(self, owner_uid: str) -> None:
        """Finish an owner's orphan or foreground deletion when its dependents allow it (the garbage collector's
        part of deletion). Owners found while collecting are handled in turn, not recursively."""
        if not owner_uid:
            return
        self._gc_pending.append(owner_uid)
        if self._gc_running:
            return
        self._gc_running = True
        try:
            while self._gc_pending:
                self._collect_owner(self._gc_pending.pop(0))
        finally:
            self._gc_running = False

    def _collect_owner(self, owner_uid: str) -> None:
        found = self.storage.find_by_uid(owner_uid)
        if found is None:
            return
        resource, owner = found
        meta = owner["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = list(meta.get("finalizers") or [])
        dependents = list(self.storage.dependents_of(owner_uid))
        if FINALIZER_ORPHAN in finalizers:
            for dep_resource, dependent in dependents:
                new = deep_copy(dependent)
                refs = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
                if refs:
                    new["metadata"]["ownerReferences"] = refs
                else:
                    new["metadata"].pop("ownerReferences", None)
                self.storage.update(dep_resource, new, dependent["metadata"]["resourceVersion"])
            finalizers.remove(FINALIZER_ORPHAN)
            dependents = []
        if FINALIZER_FOREGROUND in finalizers:
            blocking = [
                (r, d) for r, d in dependents
                if any(ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion")
                       for ref in d["metadata"].get("ownerReferences") or ())
            ]
            for dep_resource, dependent in blocking:
                dep_meta = dependent["metadata"]
                current = self.storage.get(dep_resource, dep_meta.get("namespace", ""), dep_meta["name"])
                if current is not None and not current["metadata"].get("deletionTimestamp"):
                    self.delete(dep_resource, dep_meta.get("namespace", ""), dep_meta["name"],
                                propagation_policy="Foreground")
            if any(self.storage.find_by_uid(d["metadata"]["uid"]) for _, d in blocking):
                self._set_finalizers(resource, owner, finalizers)
                return
            finalizers.remove(FINALIZER_FOREGROUND)
        self._set_finalizers(resource, owner, finalizers)

    def _set_finalizers(self, resource: ResourceType, owner: dict, finalizers: list[str]) -> None:
        current = self.storage.get(resource, owner["metadata"].get("namespace", ""), owner["metadata"]["name"])
        if current is None:
            return
        if list(current["metadata"].get("finalizers") or []) == finalizers:
            if not finalizers and self._deletion_may_finish(resource, current):
                self._remove(resource, current)
            return
        new = deep_copy(current)
        if finalizers:
            new["metadata"]["finalizers"] = finalizers
        else:
            new["metadata"].pop("finalizers", None)
        stored = self.storage.update(resource, new, current["metadata"]["resourceVersion"])
        if not finalizers and self._deletion_may_finish(resource, stored):
            self._remove(resource, stored)

    def _deletion_may_finish(self, resource: ResourceType, obj: dict) -> bool:
        """A terminating pod waits for its kubelet (the grace period); anything else goes with its finalizers."""
        if resource is not POD:
            return True
        return self._grace_period(resource, obj, None) == 0 or obj["metadata"].get("deletionGracePeriodSeconds") == 0


def delete_warnings(resource: ResourceType, propagation_policy: str | None) -> tuple[str, ...]:
    """The warnings a delete or deletecollection answers with (``REST.Delete`` / ``DeleteCollection`` of batch/v1
    Jobs): the request said neither ``propagationPolicy`` nor ``orphanDependents``, so the Job's pods are orphaned,
    not deleted. ``propagation_policy`` is the request's, before any default (``orphanDependents`` turned into
    one)."""
    if propagation_policy is None and (resource.group, resource.kind) in ORPHAN_BY_DEFAULT:
        return (JOB_DELETE_OPTION_WARNING,)
    return ()


MAX_RESOURCE_VERSION = 2**64 - 1


def parse_resource_version(value: str) -> int:
    """A resourceVersion as the API object versioner reads one (``strconv.ParseUint``); 400 otherwise."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_RESOURCE_VERSION:
        raise errors.invalid_resource_version(value)
    return int(value)


def _validate_list_options(resource_version: str, match: str, continue_: str) -> None:
    """``ValidateListOptions`` of a list (not a watch): the combinations of resourceVersionMatch it refuses."""
    found = []
    if match:
        if not resource_version:
            found.append(fielderrors.forbidden(
                "resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if continue_:
            found.append(fielderrors.forbidden(
                "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
        if match not in (paging.EXACT, paging.NOT_OLDER_THAN):
            found.append(fielderrors.not_supported("resourceVersionMatch", match,
                                                   [paging.EXACT, paging.NOT_OLDER_THAN, ""]))
        if match == paging.EXACT and resource_version == "0":
            found.append(fielderrors.forbidden(
                "resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'))
    if found:
        raise errors.list_options_invalid(found)


def _rv_required():
    # upstream prints the uint64 zero value as 0x0
    return fielderrors.invalid("metadata.resourceVersion", fielderrors.GoValue("0x0"), "must be specified for an update")


def validate_delete_options(propagation_policy: str | None) -> None:
    """``ValidateDeleteOptions``, which the API server's delete handlers run before anything else (before the
    object is looked up): its error names the options, not the object."""
    if propagation_policy not in (None, "Foreground", "Background", "Orphan"):
        error = fielderrors.not_supported("propagationPolicy", propagation_policy,
                                          ["Foreground", "Background", "Orphan", "nil"])
        raise errors.invalid_kind("meta.k8s.io", "DeleteOptions", "", [error])
