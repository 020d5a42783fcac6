"""The one table of kinds (apiserver/kinds.py): every kind declared whole, once, and nowhere else."""

import ast
import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from apiserver import patch, printers
from apiserver.kinds import RESOURCE_TYPES, structural_errors
from apiserver.resources import ResourceType, Strategy

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
KIND_NAMES = {r.kind for r in RESOURCE_TYPES}
BEHAVIOUR = ("strategy", "printer", "schema", "protobuf", "strategic_merge")


def test_a_declaration_must_name_every_piece():
    """No piece of a kind has a default: leaving one out of a declaration is a TypeError at import, so a kind
    without (say) a validator says ``validate=None`` on purpose."""
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(Strategy))
    behaviour = {f.name: f for f in dataclasses.fields(ResourceType) if f.name in BEHAVIOUR}
    assert set(behaviour) == set(BEHAVIOUR)
    assert all(f.default is dataclasses.MISSING and f.kw_only for f in behaviour.values())
    with pytest.raises(TypeError):
        ResourceType("apps", "v1", "Deployment", "deployments", True, printer=None, schema="deployment-apps-v1.json",
                     protobuf=None, strategic_merge=None)  # no strategy


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=lambda r: r.kind)
def test_every_kind_has_what_its_verbs_need(resource):
    strategy = resource.strategy
    for hook in dataclasses.fields(Strategy):
        value = getattr(strategy, hook.name)
        assert value is None or callable(value), hook.name
    if "create" in resource.verbs:
        assert strategy.validate is not None
    if {"update", "patch"} & set(resource.verbs):
        assert strategy.validate_update is not None
        assert resource.strategic_merge in patch.SCHEMAS
        assert "metadata" in patch.SCHEMAS[resource.strategic_merge]
    # A /status subresource has its status strategy; a kind without one has none.
    assert (strategy.validate_status_update is not None) == ("status" in resource.subresources)
    # The schema file exists, is the kind's, and is checked against.
    obj = {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": {"name": "x"}, "bogus": 1}
    assert structural_errors(obj).unknown_fields == ["bogus"]
    # The printer prints a cell per column.
    assert isinstance(resource.printer, printers.Printer)
    bare = {"apiVersion": resource.api_version, "kind": resource.kind,
            "metadata": {"name": "x", "namespace": "default", "creationTimestamp": "2025-01-01T00:00:00Z"}}
    (row,) = resource.printer.table([bare], NOW)["rows"]
    assert len(row["cells"]) == len(resource.printer.columns)
    # A protobuf message table starts with the object's metadata.
    if resource.protobuf is not None:
        assert resource.protobuf[1].name == "metadata"


def test_names_are_unique():
    kinds = [r.kind for r in RESOURCE_TYPES]
    assert len(kinds) == len(set(kinds))  # objects name their kind without a group: one kind per name
    paths = [(r.group, r.version, r.plural) for r in RESOURCE_TYPES]
    assert len(paths) == len(set(paths))
    short_names = [n for r in RESOURCE_TYPES for n in r.short_names]
    assert len(short_names) == len(set(short_names))


def _kind_lists(path: Path):
    """Dict, set, tuple and list literals in a module that name two or more served kinds (as keys or members)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            items = node.keys
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            items = node.elts
        else:
            continue
        named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in KIND_NAMES}
        if len(named) >= 2:
            yield f"{path.relative_to(ROOT)}:{node.lineno}", sorted(named)


# Tables that name kinds for a reason of their own, not to declare them.
ALLOWED = {
    # the strategic merge type graph: Go struct types, some of which are kinds (a kind's entry names its root)
    "apiserver/patch.py",
}


def test_no_second_list_of_kinds():
    """Only kinds.py lists the kinds: per-kind tables elsewhere in the API server or the Django project would be
    a second place to add a kind to."""
    found = []
    for package in ("apiserver", "kubeviz"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "kinds.py" or str(path.relative_to(ROOT)) in ALLOWED:
                continue
            found += list(_kind_lists(path))
    assert found == []
