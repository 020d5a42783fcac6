"""Who made a write: the actor every ``Change`` records beside the object.

A change's actor is one of

- ``{"type": "controller", "controller": <name, as in traces>, "trace": <trace sequence>}``: a reconcile decided
  it (the engine host sets it around each sync, ``controller_scope``);
- ``{"type": "user", "door": <door>, "who": <display name or null>}``: someone wrote through one of the doors
  (``DOORS``): the dashboard's editor or its file upload, kubectl, the official client, the dashboard's console,
  a lesson, or anything else that speaks the API;
- ``{"type": "system", "what": ...}``: the simulator itself (a cluster bootstrapped, a node joining, a kubelet
  stopping, an Event's TTL running out).

Code that writes says who it writes as with ``acting_as(actor)``, a context manager over a context variable, which
the store reads as it records each change (``current()``). A write outside any says it is unattributed.
"""

from __future__ import annotations

import secrets
import threading
from contextlib import contextmanager
from contextvars import ContextVar

#: The doors a user's write comes through.
EDITOR, UPLOAD, KUBECTL, CLIENT, CONSOLE, LESSON, API = "editor", "upload", "kubectl", "client", "console", "lesson", "api"
DOORS = (EDITOR, UPLOAD, KUBECTL, CLIENT, CONSOLE, LESSON, API)
#: The header the dashboard sends with an apply: which of its doors the YAML came through.
DOOR_HEADER = "X-Kubeviz-Door"
#: The console's kubectl names its run in an impersonation extra (kubeconfig ``as-user-extra``): the one header a
#: kubeconfig makes kubectl send over plain HTTP.
CONSOLE_USER = "kubeviz:console"
CONSOLE_EXTRA = "kubeviz.io/console-run"

UNATTRIBUTED = {"type": "system", "what": "unattributed"}

_current: ContextVar[dict | None] = ContextVar("kubeviz_actor", default=None)


def controller(name: str, trace: int) -> dict:
    return {"type": "controller", "controller": name, "trace": trace}


def user(door: str, who: str | None = None) -> dict:
    if door not in DOORS:
        raise ValueError(f"unknown door {door!r}")
    return {"type": "user", "door": door, "who": who}


def system(what: str) -> dict:
    return {"type": "system", "what": what}


@contextmanager
def acting_as(actor: dict):
    """Every write inside the block is recorded as ``actor``'s."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def current() -> dict:
    """The actor of a write made now."""
    return _current.get() or UNATTRIBUTED


def controller_scope(name: str, trace: int):
    """The engine's seam (``Engine.acting``): a sync's writes are its controller's, with the sequence its trace
    gets."""
    return acting_as(controller(name, trace))


# -- telling a request's door ----------------------------------------------------------------------------------

_console_runs: set[str] = set()
_console_guard = threading.Lock()


@contextmanager
def console_run():
    """A token naming one console command while it runs; its kubectl sends it back (``console_extra_header``),
    which tells its writes from those of a kubectl run elsewhere."""
    token = secrets.token_urlsafe(16)
    with _console_guard:
        _console_runs.add(token)
    try:
        yield token
    finally:
        with _console_guard:
            _console_runs.discard(token)


def door_of(request) -> str:
    """The door a request came through: ``editor``/``upload`` as the dashboard's apply says (``DOOR_HEADER``), the
    console as its run's token says, ``kubectl`` and ``client`` by their User-Agent, else ``api``."""
    said = request.headers.get(DOOR_HEADER, "").strip().lower()
    if said in (EDITOR, UPLOAD):
        return said
    for name, value in request.META.items():
        if name.startswith("HTTP_IMPERSONATE_EXTRA_") and value in _console_runs:
            return CONSOLE
    agent = request.headers.get("User-Agent", "")
    if agent.startswith("kubectl/"):
        return KUBECTL
    if agent.startswith("OpenAPI-Generator/"):
        return CLIENT
    return API


def who_of(request) -> str | None:
    """The display name of whoever asks, in classroom mode (a learner's name, a teacher's username); else None."""
    principal = getattr(request, "kubeviz_principal", None)
    if principal is None or not principal.authenticated:
        return None
    learner = principal.learner or (principal.capability.learner if principal.capability is not None
                                    and principal.capability.learner_id else None)
    if learner is not None:
        return learner.display_name
    teacher = principal.user if principal.user is not None else getattr(principal.capability, "teacher", None)
    return teacher.get_username() if teacher is not None else None


def user_of(request) -> dict:
    """The actor of a request's writes."""
    return user(door_of(request), who_of(request))
