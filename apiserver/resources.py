"""The resource types kubeviz serves, described once.

Routing, discovery, error messages (``jobs.batch "pi" not found``) and the storage all read this table, so a kind is
added in exactly one place. Values follow a real 1.32 API server (kubectl-compat.md §1.3).
"""

from dataclasses import dataclass, field

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # Kinds whose spec changes bump metadata.generation.
    has_generation: bool = False
    # What the kind serves (discovery lists them; a collection delete of a kind without "deletecollection" is 405).
    verbs: tuple[str, ...] = VERBS
    # Whether the dashboard shows the kind: its objects are in the live stream's snapshot and events, and the
    # page's state (a Lease only moves the stream's resourceVersion on).
    shown: bool = True
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """The name used in Status messages: ``jobs.batch``, plain ``pods`` for the core group."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """The kind as 422 messages spell it: ``Job.batch``, plain ``Pod`` for the core group."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def path(self) -> str:
        """The API path of the kind's group version: ``api/v1``, ``apis/batch/v1``."""
        return f"apis/{self.group}/{self.version}" if self.group else f"api/{self.version}"


RESOURCE_TYPES = (
    ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",), subresources=("status",),
                 verbs=tuple(v for v in VERBS if v != "deletecollection")),
    ResourceType("", "v1", "Node", "nodes", False, ("no",), subresources=("status",)),
    ResourceType("", "v1", "Pod", "pods", True, ("po",), ("all",), subresources=("status", "log")),
    ResourceType("", "v1", "Event", "events", True, ("ev",)),
    ResourceType("batch", "v1", "Job", "jobs", True, (), ("all",), ("status",), has_generation=True),
    ResourceType("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), ("status",), has_generation=True),
    ResourceType("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), ("status",), has_generation=True),
    ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True, shown=False),
)

#: The kinds the dashboard shows, in the table's order.
SHOWN_TYPES = tuple(r for r in RESOURCE_TYPES if r.shown)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCE_TYPES}
_BY_KIND = {(r.group, r.kind): r for r in RESOURCE_TYPES}
_BY_API_VERSION_KIND = {(r.api_version, r.kind): r for r in RESOURCE_TYPES}


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
