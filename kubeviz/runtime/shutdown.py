"""Stopping the simulation when the server stops.

On SIGTERM (or Ctrl-C) Daphne stops its Twisted reactor, and before closing its ports it cancels the requests in
flight. A request's sync view runs in a worker thread, though, which nothing can cancel: a clock advance of a month
would go on, and the interpreter, which waits for its worker threads at exit, with it, until the month was
simulated. So the engine host looks at one process-wide flag before each slice of a run and gives up when it is
set, and the flag is set as the server begins to shut down. Each slice commits on its own, so what is stored is
then the last slice done, as after a crash.
"""

from __future__ import annotations

import threading
from typing import Callable

from apiserver.errors import StatusError

_requested = threading.Event()


class ShuttingDown(StatusError):
    """A simulation run abandoned because the server is shutting down; a request that was driving it is answered
    as upstream's ``NewServiceUnavailable``."""

    def __init__(self):
        super().__init__(503, "ServiceUnavailable", "the server is shutting down", {})


def requested() -> bool:
    return _requested.is_set()


def raise_if_requested() -> None:
    if _requested.is_set():
        raise ShuttingDown()


def request() -> None:
    """Ask every simulation run of this process to stop at its next slice (and the player to stop ticking)."""
    _requested.set()


def follow_reactor(wait_until_idle: Callable[[], object]) -> None:
    """Request the stop when Daphne's reactor begins to shut down, and hold the shutdown until the simulation runs
    in progress have given up (``wait_until_idle`` returns).

    Daphne 4.2 has no ASGI lifespan events, and the reactor replaces any SIGTERM handler of ours with its own
    (which calls ``reactor.stop()``) when it starts, so the reactor's "shutdown" system event is the hook. The
    "before" phase is the one to use: Twisted goes on to close the ports and stop the event loop only once every
    "before" trigger's Deferred has fired. Waiting there matters: the instant a run is in the middle of still
    publishes its changes through the event loop (``events.collected``), and a thread that hands work to a stopped
    loop waits for ever. Registering in a process whose reactor never runs (a management command, a test) does
    nothing.
    """
    import daphne.server  # noqa: F401 - installs the asyncio reactor Daphne runs, before anything else asks for one
    from twisted.internet import reactor, threads

    def stop():
        request()
        return threads.deferToThread(wait_until_idle)

    reactor.addSystemEventTrigger("before", "shutdown", stop)
