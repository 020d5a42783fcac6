"""What the engine needs from the API server: a small, kind-addressed client (client-go's clientset and its
informers' list, in one).

The engine never touches a database or HTTP; it reads and writes through this protocol, which
``apiserver.client`` implements over the real registry (defaults, validation, resourceVersions, garbage
collection) for both the database and the in-memory storage. Errors come back as ``ClientError`` carrying the
Kubernetes Status code and reason, so controllers can react as upstream's do (NotFound on delete is fine, a
Conflict means "look again").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ClientError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    @property
    def not_found(self) -> bool:
        return self.code == 404

    @property
    def conflict(self) -> bool:
        return self.code == 409 and self.reason == "Conflict"


class HistoryGone(Exception):
    """The API server's change history no longer reaches back to what the engine last saw: relist."""


@dataclass(frozen=True)
class WatchEvent:
    """One committed write as a watch reports it (apimachinery's ``watch.Event{Type, Object}``, with the kind beside
    it): what the engine's informers receive. Not the Django model ``kubeviz.store.models.Change``, which is the
    row of the change log such an event is read from."""

    type: str  # ADDED, MODIFIED, DELETED
    kind: str
    object: dict

    @property
    def resource_version(self) -> int:
        return int(self.object["metadata"]["resourceVersion"])


@dataclass(frozen=True)
class APIResource:
    """A served resource as discovery describes it (``metav1.APIResource``), as much as controllers need: the
    quota controller counts ``count/<resource>.<group>`` of every namespaced one (``GetQuotableResources``)."""

    group: str
    resource: str
    kind: str
    namespaced: bool


@dataclass(frozen=True)
class LogEntry:
    namespace: str
    pod: str
    uid: str
    container: str
    restart_count: int
    lines: tuple  # ((datetime, text), ...)


class Client(Protocol):
    def now(self) -> datetime: ...

    def set_now(self, now: datetime) -> None: ...

    def resource_version(self) -> int: ...

    def list(self, kind: str) -> list[dict]:
        """Every object of ``kind`` in every namespace."""

    def api_resources(self) -> list[APIResource]:
        """The resources the API server serves (discovery)."""

    def changes_since(self, resource_version: int) -> list[WatchEvent]:
        """Changes committed after ``resource_version``, oldest first; raises HistoryGone."""

    def create(self, obj: dict) -> dict: ...

    def update_status(self, obj: dict) -> dict:
        """Write ``obj['status']`` through the status subresource; ``obj`` carries the resourceVersion it read."""

    def patch(self, kind: str, namespace: str, name: str, patch: dict, patch_type: str = "merge", *,
              subresource: str = "") -> dict: ...

    def delete(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> None: ...

    def bind(self, namespace: str, name: str, uid: str, node: str) -> dict:
        """Set a pending pod's ``spec.nodeName`` (the pods/binding subresource)."""

    def append_log(self, entry: LogEntry) -> None: ...
