"""Which door a write came in by: the one place that tells (until ``kubeviz.store.actor`` of the history work
lands, which will say it for every change, and this module will read it from there).

The doors are those of a ``Change``'s actor: ``editor`` and ``upload`` (the dashboard's apply, which says which in
the ``X-Kubeviz-Door`` header), ``kubectl`` (its User-Agent, ``kubectl/...``), ``client`` (the official client's
``OpenAPI-Generator/...``), ``console``, ``lesson`` (the lesson runner) and ``api`` for anything else.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

DOORS = ("editor", "upload", "kubectl", "client", "console", "lesson", "api")
PAGE_DOORS = ("editor", "upload")
DOOR_HEADER = "HTTP_X_KUBEVIZ_DOOR"

_current: ContextVar[tuple[str, str] | None] = ContextVar("kubeviz_door", default=None)


def door_of(request) -> str:
    """The door of an HTTP request (see the module docstring)."""
    agent = request.META.get("HTTP_USER_AGENT", "")
    if agent.startswith("kubectl/"):
        return "kubectl"
    if agent.startswith("OpenAPI-Generator/"):
        return "client"
    said = request.META.get(DOOR_HEADER, "")
    if said in PAGE_DOORS:
        return said
    return "api"


def who_of(request) -> str:
    """The display name of whoever sent the request, when classroom mode knows it."""
    principal = getattr(request, "kubeviz_principal", None)
    if principal is None or not getattr(principal, "authenticated", False):
        return ""
    return str(getattr(principal, "username", "") or "")


@contextmanager
def acting_through(door: str, who: str = ""):
    """Writes made inside the block came in by ``door`` (a lesson's actions, a replay's writes)."""
    token = _current.set((door, who))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> tuple[str, str] | None:
    return _current.get()
