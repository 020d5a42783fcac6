"""Reading Kubernetes objects (plain JSON dicts) without tripping over absent sections.

Every controller reads ``metadata``, ``spec`` and ``status`` that may be missing or ``null``; these accessors
answer an empty mapping (or string) instead, and never change the object.
"""

from __future__ import annotations

from typing import Mapping


def meta(obj: Mapping) -> Mapping:
    return obj.get("metadata") or {}


def spec(obj: Mapping) -> Mapping:
    return obj.get("spec") or {}


def status(obj: Mapping) -> Mapping:
    return obj.get("status") or {}


def name(obj: Mapping) -> str:
    return meta(obj).get("name") or ""


def namespace(obj: Mapping) -> str:
    """The object's namespace; ``default`` when it names none (as the API server would have set it)."""
    return meta(obj).get("namespace") or "default"


def uid(obj: Mapping) -> str:
    return meta(obj).get("uid") or ""


def key(obj: Mapping) -> str:
    """``namespace/name``, the work-queue key of a namespaced object (``cache.MetaNamespaceKeyFunc``)."""
    return f"{namespace(obj)}/{name(obj)}"


def object_reference(obj: Mapping, api_version: str, kind: str) -> dict:
    """The ``involvedObject`` of an event about ``obj`` (``ref.GetReference``, without resourceVersion).

    ``api_version`` is used when the object does not carry its own ``apiVersion``.
    """
    return {
        "apiVersion": obj.get("apiVersion") or api_version,
        "kind": kind,
        "namespace": namespace(obj),
        "name": name(obj),
        "uid": uid(obj),
    }
