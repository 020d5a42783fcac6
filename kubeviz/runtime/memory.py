"""A whole simulated cluster in memory: the registry over ``MemoryStorage`` and an engine on top.

This is what the ``simulate`` command, the benchmarks and many tests run: the same API rules and the same
controllers as the server, with no database and no clock but the simulated one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from controllers.engine import Engine
from controllers.manager import default_controllers

from apiserver.apply import apply_manifests
from apiserver.client import RegistryClient
from apiserver.registry import Registry
from apiserver.kinds import RESOURCE_TYPES
from apiserver.storage import MemoryStorage
from kubeviz.store.services import populate_cluster


@dataclass
class MemoryCluster:
    storage: MemoryStorage
    registry: Registry
    engine: Engine

    @property
    def now(self) -> datetime:
        return self.storage.now()

    def apply(self, source: str | bytes, *, namespace: str = "default"):
        """Apply YAML as ``POST /sim/clusters/<name>/apply`` does; answers the per-document results."""
        return apply_manifests(self.registry, source, namespace=namespace)

    def advance(self, seconds: float) -> None:
        self.engine.run_until(self.now + timedelta(seconds=seconds))

    def patch(self, kind: str, name: str, patch: dict, *, namespace: str = "") -> dict:
        """A JSON merge patch through the API rules, as ``kubectl patch --type merge`` sends it."""
        result = self.registry.patch(_resource(kind), namespace, name, json.dumps(patch), "application/merge-patch+json")
        return result.object

    def objects(self, kind: str) -> list[dict]:
        resource = _resource(kind)
        items, _ = self.storage.list(resource)
        for item in items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
        return items


def _resource(kind: str):
    return next(r for r in RESOURCE_TYPES if r.kind == kind)


def memory_cluster(*, nodes: int = 3, seed: int = 0, start: datetime, control_plane: bool = True) -> MemoryCluster:
    storage = MemoryStorage(now=start, seed=seed)
    registry = Registry(storage)
    populate_cluster(registry, nodes=nodes, control_plane=control_plane)
    engine = Engine(RegistryClient(registry), default_controllers(), seed=str(seed))
    return MemoryCluster(storage, registry, engine)
