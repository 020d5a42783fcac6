"""Controller owner references, as ``metav1.NewControllerRef`` / ``GetControllerOf``.

A Job owns its pods and a DaemonSet its pods and ControllerRevisions through an
``ownerReferences`` entry with ``controller: true``. Controllers adopt, release
and count objects by asking "who is my controller?", always by UID, never by name
(a deleted and recreated owner with the same name must not adopt old children).

Pure Python: standard library only.
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["get_controller_of", "is_controlled_by", "new_controller_ref"]


def new_controller_ref(owner: Mapping, api_version: str, kind: str) -> dict:
    """``metav1.NewControllerRef``: a controlling, deletion-blocking reference to ``owner``.

    Keys come in the order the API server serialises ``OwnerReference``.
    """
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def get_controller_of(obj: Mapping) -> dict | None:
    """``metav1.GetControllerOf``: a copy of the first ``controller: true`` reference, or None."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") is True:
            return dict(ref)
    return None


def is_controlled_by(obj: Mapping, owner: Mapping) -> bool:
    """``metav1.IsControlledBy``: ``obj``'s controller reference carries ``owner``'s UID."""
    ref = get_controller_of(obj)
    if ref is None:
        return False
    return ref.get("uid", "") == (owner.get("metadata") or {}).get("uid", "")
