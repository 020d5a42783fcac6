"""``kubectl logs -f``: the pods/log response kept open while the container runs, one chunk per new line.

The kubelet streams a container's log until the container exits; kubectl prints whatever arrives and ends when
the server closes the stream. The simulated kubelet appends lines to the store (``append_log``), so following
is polling that run's lines, on the watch module's thread pool, until the run is over: the container
terminated, restarted (a new run) or the pod is gone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import AsyncIterator

from .resources import resource_for_kind
from .watch import POLL_SECONDS, _run

POD = resource_for_kind("", "Pod")


@dataclass
class LogFollow:
    storage: object
    namespace: str
    pod: str
    uid: str
    container: str
    run: int  # the restartCount of the followed run
    seen: int  # lines already sent
    timestamps: bool = False
    limit_bytes: int | None = None


def _stamp(stamp: str) -> str:
    from .views import _nano

    return _nano(stamp)


def _poll(follow: LogFollow) -> tuple[list, bool]:
    """New lines of the run, and whether the run can still write more."""
    lines = follow.storage.read_log(follow.namespace, follow.pod, follow.uid, follow.container, follow.run) or []
    pod = follow.storage.get(POD, follow.namespace, follow.pod)
    running = False
    if pod is not None and pod["metadata"].get("uid") == follow.uid:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if status.get("name") != follow.container:
                continue
            state = status.get("state") or {}
            running = int(status.get("restartCount") or 0) == follow.run and "terminated" not in state
    return lines[follow.seen:], running


async def follow(first: bytes, follow: LogFollow) -> AsyncIterator[bytes]:
    """The lines so far, then new ones as the run writes them; ends when the run ends or the limit is hit."""
    if first:
        yield first
    budget = follow.limit_bytes
    while budget is None or budget > 0:
        new, running = await _run(_poll, follow)
        if new:
            follow.seen += len(new)
            data = "".join(
                (f"{_stamp(stamp)} {text}\n" if follow.timestamps else f"{text}\n") for stamp, text in new
            ).encode()
            if budget is not None:
                data = data[:budget]
                budget -= len(data)
            yield data
            continue
        if not running:
            return
        await asyncio.sleep(POLL_SECONDS)
