"""ControllerRevisions: the rollout history a DaemonSet keeps of its pod template.

A DaemonSet records every pod template it has run as a ``ControllerRevision`` (``apps/v1``) named
``<daemonset>-<hash>``. ``kubectl rollout history`` lists them and ``kubectl rollout undo`` patches the
DaemonSet with a revision's ``data``. This module builds and compares those objects, following upstream's
``pkg/controller/daemon/update.go`` (``getPatch``, ``Match``, ``snapshot``, ``maxRevision``) and
``pkg/controller/controller_utils.go`` (``ComputeHash``).

The template hash
-----------------
Upstream hashes the Go ``PodTemplateSpec`` struct with FNV-32a (through ``hashutil.DeepHashObject``, which
prints the struct with go-spew in field order), appends the collision count as 8 bytes, and renders the 32-bit
sum as decimal digits mapped onto a vowel-free alphabet (``rand.SafeEncodeString``), giving hashes such as
``8c664fdfc``. We cannot reproduce Go's struct printing, so ``compute_hash`` feeds FNV-32a the **canonical JSON**
of the template instead (sorted keys, no whitespace, UTF-8). Everything else is as upstream: same FNV-32a, same
collision-count bytes, same rendering. So our hashes have upstream's shape and properties (deterministic,
change whenever the template changes, ``collisionCount`` moves them) but not its exact values.

Pure Python over plain Kubernetes JSON dicts: nothing here reads the clock or mutates its inputs.
"""

from __future__ import annotations

import copy
import json
from typing import Iterable, Mapping

from controllers.apimachinery.names import ALPHANUMS
from controllers.apimachinery.ownerrefs import new_controller_ref

__all__ = [
    "CONTROLLER_REVISION_HASH_LABEL",
    "compute_hash",
    "fnv32a",
    "get_patch",
    "match",
    "matches_patch",
    "max_revision",
    "new_controller_revision",
    "revision_hash",
    "revision_number",
    "safe_encode_string",
    "sort_by_revision",
]

#: ``apps.DefaultDaemonSetUniqueLabelKey`` / ``ControllerRevisionHashLabelKey``.
CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"

_FNV32_OFFSET_BASIS = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes, start: int = _FNV32_OFFSET_BASIS) -> int:
    """FNV-1a, 32 bits (``hash/fnv.New32a``); ``start`` continues an earlier sum (for a second ``Write``)."""
    value = start
    for byte in data:
        value ^= byte
        value = (value * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode_string(text: str) -> str:
    """``rand.SafeEncodeString``: each byte mapped onto the vowel-free alphabet by ``byte % 27``."""
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in text.encode("utf-8"))


def canonical_json(obj) -> bytes:
    """Sorted-key compact JSON in UTF-8: the stand-in for Go's struct-ordered encoding (see the module text)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_hash(template: Mapping, collision_count: int | None) -> str:
    """``controller.ComputeHash``: FNV-32a of the template, then of the collision count, safe-encoded.

    The collision count, when set, is written as 8 bytes: its value as a little-endian uint32, then 4 zero
    bytes (upstream allocates 8 bytes and fills 4). The 32-bit sum is printed in decimal and each digit mapped
    onto the vowel-free alphabet, so a hash is 1-10 characters from ``456789bcdf``.
    """
    value = fnv32a(canonical_json(template))
    if collision_count is not None:
        value = fnv32a(int(collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\x00" * 4, value)
    return safe_encode_string(str(value))


def get_patch(ds: Mapping) -> dict:
    """``getPatch``: the patch that restores the DaemonSet's template, ``{"spec": {"template": {..., "$patch":
    "replace"}}}``. It is both a revision's ``data`` and what ``Match`` compares."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _revision_data(revision: Mapping):
    data = revision.get("data")
    if isinstance(data, (str, bytes)):
        try:
            return json.loads(data)
        except ValueError:
            return None
    return data


def match(revision: Mapping, ds: Mapping) -> bool:
    """``Match``: does this revision hold the DaemonSet's current template?

    Upstream compares the patch bytes; we compare the decoded JSON, which is the same test without Go's
    key-order dependence. A revision whose ``data`` is a JSON string is decoded first.
    """
    return matches_patch(revision, get_patch(ds))


def matches_patch(revision: Mapping, patch: Mapping) -> bool:
    """``match`` against a ``get_patch`` result computed once (a sync compares it with every revision)."""
    return _revision_data(revision) == patch


def revision_number(revision: Mapping) -> int:
    """``revision.Revision`` (0 when missing)."""
    try:
        return int(revision.get("revision") or 0)
    except (TypeError, ValueError):
        return 0


def revision_hash(revision: Mapping) -> str:
    """The revision's ``controller-revision-hash`` label; its name when the label is missing (upstream relabels
    such revisions with their name "so that we don't need to worry about hash collision")."""
    meta = revision.get("metadata") or {}
    labels = meta.get("labels") or {}
    if CONTROLLER_REVISION_HASH_LABEL in labels:
        return labels[CONTROLLER_REVISION_HASH_LABEL]
    return meta.get("name") or ""


def max_revision(revisions: Iterable[Mapping]) -> int:
    """``maxRevision``: the highest ``revision`` among them, 0 for none."""
    return max((revision_number(r) for r in revisions), default=0)


def sort_by_revision(revisions: Iterable[Mapping]) -> list[Mapping]:
    """``historiesByRevision``: oldest (lowest revision) first; ties by name to stay deterministic."""
    return sorted(revisions, key=lambda r: (revision_number(r), (r.get("metadata") or {}).get("name") or ""))


def new_controller_revision(ds: Mapping, revision: int, hash: str, data: Mapping | None = None) -> dict:
    """``snapshot``: the ControllerRevision recording the DaemonSet's current template.

    Name ``<ds>-<hash>``; labels = the template's labels plus ``controller-revision-hash``; annotations = the
    DaemonSet's (so ``kubernetes.io/change-cause`` shows in ``rollout history``); a controller reference to the
    DaemonSet; ``revision``; ``data`` = ``get_patch(ds)`` unless given.
    """
    meta = ds.get("metadata") or {}
    template = (ds.get("spec") or {}).get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[CONTROLLER_REVISION_HASH_LABEL] = hash
    metadata: dict = {
        "name": f"{meta.get('name') or ''}-{hash}",
        "namespace": meta.get("namespace") or "default",
        "labels": labels,
    }
    if meta.get("annotations"):
        metadata["annotations"] = dict(meta["annotations"])
    metadata["ownerReferences"] = [new_controller_ref(ds, "apps/v1", "DaemonSet")]
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": metadata,
        "data": copy.deepcopy(dict(data)) if data is not None else get_patch(ds),
        "revision": int(revision),
    }
