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

from apiserver.kinds import resource_for_kind

from controllers.apimachinery.timeutil import parse_rfc3339

from .watch import POLL_SECONDS, run_blocking

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


def log_line(stamp: str, line: str, timestamps: bool) -> str:
    """One line of a pods/log answer, with the kubelet's timestamp in front when asked for."""
    return f"{nano_stamp(stamp)} {line}\n" if timestamps else f"{line}\n"


def nano_stamp(stamp: str) -> str:
    """kubelet log timestamps are RFC 3339 with nanoseconds: 2025-01-01T00:00:05.000000000Z."""
    moment = parse_rfc3339(stamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


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
        new, running = await run_blocking(_poll, follow)
        if new:
            follow.seen += len(new)
            data = "".join(log_line(stamp, text, follow.timestamps) for stamp, text in new).encode()
            if budget is not None:
                data = data[:budget]
                budget -= len(data)
            yield data
            continue
        if not running:
            return
        await asyncio.sleep(POLL_SECONDS)
