"""What a kind declaration holds: its identity (``ResourceType``) and its behaviour (``Strategy``, printer, schema,
protobuf and patch tables).

The declarations themselves are in ``kinds.py``, one entry per kind, and every layer reads them there. This module
only defines their shape, so that modules the declarations refer to (errors, storage, protobuf) can name the type
without importing the table. Values follow a real 1.32 API server (kubectl-compat.md §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .fielderrors import FieldError
    from .printers import Printer

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Strategy:
    """A kind's registry strategy (``pkg/registry/<group>/<kind>/strategy.go``) with its scheme defaulting.

    Every hook is named in every declaration, ``None`` where upstream's strategy does nothing beyond the generic
    steps (``kinds.prepare_for_create`` and ``prepare_for_update`` do those: uid, generation, status kept apart).
    Hooks change the object in place; validators answer field errors in upstream's order.
    """

    # SetDefaults_<Kind> (pkg/apis/<group>/v1/defaults.go); runs on every write and must be idempotent.
    defaults: Callable[[dict], None] | None
    # The mutating admission plugins a create of the kind passes (ServiceAccount, TaintNodesByCondition...),
    # called as admit(obj, in_place=True).
    admit: Callable[..., dict] | None
    # PrepareForCreate beyond the generic steps (Job selector generation, Pod phase...).
    prepare_for_create: Callable[[dict], None] | None
    # PrepareForUpdate beyond the generic steps: (new, old, status_update) -> None.
    prepare_for_update: Callable[[dict, dict, bool], None] | None
    # Validate (create), ValidateUpdate, and the status strategy's ValidateUpdate.
    validate: Callable[[dict], list[FieldError]] | None
    validate_update: Callable[[dict, dict], list[FieldError]] | None
    validate_status_update: Callable[[dict, dict], list[FieldError]] | None


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
    # The behaviour, named in every declaration (None says "nothing of that kind here", on purpose).
    strategy: Strategy = field(kw_only=True, compare=False)
    # The table convertor: kubectl get's columns and cells (None: rest.DefaultTableConvertor, Name and Created At).
    printer: Printer | None = field(kw_only=True, compare=False)
    # The strict JSON schema file of kubernetes-validate the decoder checks bodies against (schema.py).
    schema: str = field(kw_only=True, compare=False)
    # The protobuf message table of the kind (protobuf.py), for client-go's typed clients; None: JSON only.
    protobuf: dict | None = field(kw_only=True, compare=False)
    # The kind's root type in patch.SCHEMAS, for strategic merge patches; None: that patch type is refused.
    strategic_merge: str | None = field(kw_only=True, compare=False)

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
