"""Playing clusters in real time: the clock of every unpaused cluster follows the wall clock times its speed.

One asyncio task per server process ticks every ``TICK`` seconds and advances each playing cluster by the wall
time that passed since its last run, times its speed (0.25x to 100x). A cluster with nothing due and nothing
written since is left for a few ticks (``EngineHost.idle``): its stored clock then moves in steps of up to
``IDLE_SECONDS``, and an event due meanwhile is still run at its tick. The engine work runs in a thread of the
player's own (``sync_to_async``); each cluster's runs take its lock, as the API's do. If a tick takes longer than
the wall time it covers, the next tick simply advances further: the simulated clock never drifts from ``speed x
wall time`` for long, and ``lag`` records how late each cluster's last run started. Ticking ends when the server
shuts down (``shutdown``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from kubeviz.store.models import Cluster

from . import shutdown
from .host import host
from .lease import clusters_to_play

logger = logging.getLogger(__name__)

TICK = 0.1
# The most wall time one tick spends on one cluster: a cluster with more work than its speed allows falls behind
# (``lag``) rather than holding back the clocks of the others.
PLAY_BUDGET = 0.25


class Player:
    def __init__(self):
        self._task: asyncio.Task | None = None
        self._last: dict[str, float] = {}  # when each cluster's last run started (monotonic)
        self._seen: dict[str, float] = {}  # when each cluster was last looked at, run or left idle
        self._resumed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kubeviz-player")
        # how far (wall seconds) the last tick of each cluster started behind its schedule
        self.lag: dict[str, float] = {}

    def ensure_started(self) -> None:
        """Start ticking on the running event loop, once per process."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubeviz-player")

    async def _run(self) -> None:
        next_tick = time.monotonic()
        while not shutdown.requested():
            next_tick += TICK
            try:
                await sync_to_async(self._tick_in_thread, thread_sensitive=False, executor=self._executor)()
            except shutdown.ShuttingDown:
                return
            except Exception:  # noqa: BLE001 - one bad tick must not stop every cluster's clock
                logger.exception("player tick failed")
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)

    def _tick_in_thread(self) -> None:
        try:
            self.tick()
        finally:
            close_old_connections()  # the thread's connection is kept while usable and young (CONN_MAX_AGE)

    def tick(self) -> None:
        if not self._resumed:  # the first tick of a process goes on with the advances a stopped one left
            self._resumed = True
            host.resume_advances()
        now = time.monotonic()
        playing = list(Cluster.objects.filter(paused=False))
        if host.leases is not None:  # several processes: this one plays the clusters whose lease it holds
            playing = clusters_to_play(playing, host)
        names = {c.name for c in playing}
        for name in list(self._last):
            if name not in names:
                del self._last[name]
                self._seen.pop(name, None)
                self.lag.pop(name, None)
        for cluster in playing:
            last, seen = self._last.get(cluster.name), self._seen.get(cluster.name, now)
            self._seen[cluster.name] = now
            if last is None:
                self._last[cluster.name] = now
                continue
            elapsed = now - last
            if host.idle(cluster, elapsed):  # nothing due yet: a later tick moves its clock as far
                continue
            self._last[cluster.name] = now
            self.lag[cluster.name] = max(0.0, now - seen - TICK)
            host.play(cluster, elapsed, budget=PLAY_BUDGET)


player = Player()
