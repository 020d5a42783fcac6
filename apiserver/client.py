"""The engine's ``controllers.client.Client`` over the real registry.

The simulated controllers write through the same registry as kubectl does (defaults, validation, resourceVersions,
graceful deletion, garbage collection), so what they create is exactly what a learner could have created by hand.
Works over either storage: the database one in the server, the in-memory one in ``simulate`` and benchmarks.
"""

from __future__ import annotations

import json

from controllers.apimachinery.timeutil import format_rfc3339, format_rfc3339_micro
from controllers.client import APIResource, ClientError, HistoryGone, LogEntry, WatchEvent

from apiserver import errors
from apiserver.registry import Registry
from apiserver.kinds import RESOURCE_TYPES
from apiserver.storage import HistoryCompacted, KeyNotFound, VersionConflict

BY_KIND = {r.kind: r for r in RESOURCE_TYPES}


def _client_error(error: errors.StatusError) -> ClientError:
    return ClientError(error.code, error.reason, error.message)


class RegistryClient:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.storage = registry.storage

    def now(self):
        return self.storage.now()

    def set_now(self, now) -> None:
        self.storage.set_now(now)

    def resource_version(self) -> int:
        return self.storage.current_resource_version()

    def list(self, kind: str) -> list[dict]:
        items, _ = self.storage.list(BY_KIND[kind], None)
        return items

    def api_resources(self) -> list[APIResource]:
        return [APIResource(r.group, r.plural, r.kind, r.namespaced) for r in RESOURCE_TYPES]

    def changes_since(self, resource_version: int) -> list[WatchEvent]:
        try:
            events = self.storage.changes_since(resource_version)
        except HistoryCompacted:
            raise HistoryGone(resource_version) from None
        return [WatchEvent(e.type, e.resource.kind, e.object) for e in events]

    def create(self, obj: dict) -> dict:
        resource = BY_KIND[obj["kind"]]
        namespace = obj["metadata"].get("namespace", "") if resource.namespaced else ""
        try:
            return self.registry.create(resource, namespace, obj, trusted=True).object
        except errors.StatusError as error:
            raise _client_error(error) from None

    def update_status(self, obj: dict) -> dict:
        resource = BY_KIND[obj["kind"]]
        meta = obj["metadata"]
        try:
            return self.registry.update(
                resource, meta.get("namespace", ""), meta["name"], obj,
                subresource="status" if "status" in resource.subresources else "", trusted=True,
            ).object
        except errors.StatusError as error:
            raise _client_error(error) from None

    def patch(self, kind, namespace, name, patch, patch_type="merge", *, subresource="") -> dict:
        content_type = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }[patch_type]
        try:
            return self.registry.patch(BY_KIND[kind], namespace, name, json.dumps(patch), content_type,
                                       subresource=subresource, trusted=True).object
        except errors.StatusError as error:
            raise _client_error(error) from None

    def delete(self, kind, namespace, name, *, uid=None, propagation_policy=None, grace_period_seconds=None):
        try:
            self.registry.delete(
                BY_KIND[kind], namespace, name, propagation_policy=propagation_policy,
                grace_period_seconds=grace_period_seconds, preconditions={"uid": uid} if uid else None,
            )
        except errors.StatusError as error:
            raise _client_error(error) from None

    def bind(self, namespace, name, uid, node) -> dict:
        """pods/binding: only an unbound pod can be bound, once."""
        pod_resource = BY_KIND["Pod"]
        pod = self.storage.get(pod_resource, namespace, name)
        if pod is None or (uid and pod["metadata"].get("uid") != uid):
            raise ClientError(404, "NotFound", f'pods "{name}" not found')
        if (pod.get("spec") or {}).get("nodeName"):
            raise ClientError(409, "Conflict", f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"')
        if pod["metadata"].get("deletionTimestamp"):
            raise ClientError(409, "Conflict", f"pod {name} is being deleted, cannot be assigned to a host")
        bound = dict(pod, spec=dict(pod["spec"], nodeName=node))
        status = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        previous = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        since = previous["lastTransitionTime"] if previous and previous.get("status") == "True" else None
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": since or format_rfc3339(self.storage.now())})
        bound["status"] = dict(status, conditions=conditions)
        try:
            return self.storage.update(pod_resource, bound, pod["metadata"]["resourceVersion"])
        except (KeyNotFound, VersionConflict):
            raise ClientError(409, "Conflict", f'Operation cannot be fulfilled on pods/binding "{name}"') from None

    def append_log(self, entry: LogEntry) -> None:
        lines = [[format_rfc3339_micro(t) if not isinstance(t, str) else t, text] for t, text in entry.lines]
        self.storage.append_log(entry.namespace, entry.pod, entry.uid, entry.container, entry.restart_count, lines)
