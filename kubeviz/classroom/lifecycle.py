"""Idle sandboxes: paused after ``KUBEVIZ_IDLE_PAUSE_SECONDS`` without use (no engine work for them from then on),
deleted after ``KUBEVIZ_IDLE_DELETE_SECONDS`` (0: never).

"Use" is what ``access.touch_cluster`` records: a page, a lesson panel call, the Kubernetes API through the
sandbox's capability, a live stream opening; and, while a stream stays open, this process's heartbeat
(``heartbeat``: every cluster with a live feed here is in use). ``sandboxes_sweep`` is the one function that
decides; the server runs it every ``SWEEP_SECONDS`` in classroom mode (``sweeper``), and
``manage.py sandboxes sweep`` runs it once (from cron, or when the server's sweeper is not wanted).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from kubeviz.runtime import shutdown
from kubeviz.store.models import Cluster

from . import grid
from .models import Sandbox
from .services import cluster_discard, cluster_set_paused

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


@dataclass
class SweepResult:
    paused: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def cluster_pause(cluster: Cluster) -> None:
    """Pause a cluster's clock as the clock endpoint does: the run under way stops at its next slice."""
    cluster_set_paused(cluster, True)


def sandboxes_sweep(*, now: datetime | None = None, pause_after: float | None = None,
                    delete_after: float | None = None) -> SweepResult:
    """Pause the sandboxes idle for ``pause_after`` seconds and delete those idle for ``delete_after`` (0: never);
    both default to the settings."""
    now = now or timezone.now()
    pause_after = settings.KUBEVIZ_IDLE_PAUSE_SECONDS if pause_after is None else pause_after
    delete_after = settings.KUBEVIZ_IDLE_DELETE_SECONDS if delete_after is None else delete_after
    result = SweepResult()
    if delete_after:
        old = Sandbox.objects.filter(last_active__lt=now - timedelta(seconds=delete_after))
        for name, learner_id in list(old.values_list("cluster__name", "learner_id")):
            cluster_discard(name)
            grid.publish_learner(learner_id)
            result.deleted.append(name)
    idle = (Sandbox.objects.select_related("cluster")
            .filter(last_active__lt=now - timedelta(seconds=pause_after), cluster__paused=False))
    for sandbox in idle:
        cluster_pause(sandbox.cluster)
        Sandbox.objects.filter(pk=sandbox.pk).update(idle_paused_at=now)
        grid.publish_learner(sandbox.learner_id)
        result.paused.append(sandbox.cluster.name)
    return result


def heartbeat(names) -> int:
    """The clusters watched live in this process are in use now (answers how many sandboxes that touched)."""
    names = list(names)
    if not names:
        return 0
    return Sandbox.objects.filter(cluster__name__in=names).update(last_active=timezone.now(), idle_paused_at=None)


class Sweeper:
    """The server's periodic sweep (classroom mode): heartbeat of this process's live streams, then the sweep."""

    def __init__(self):
        self._task: asyncio.Task | None = None

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubeviz-sandbox-sweeper")

    async def _run(self) -> None:
        from kubeviz.live.hub import hub

        while not shutdown.requested():
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await sync_to_async(heartbeat, thread_sensitive=True)(hub.feeds())
                result = await sync_to_async(sandboxes_sweep, thread_sensitive=True)()
                if result.paused or result.deleted:
                    logger.info("idle sandboxes: paused %s, deleted %s", result.paused, result.deleted)
            except shutdown.ShuttingDown:
                return
            except Exception:  # noqa: BLE001 - a failed sweep is tried again at the next
                logger.exception("sandbox sweep failed")


sweeper = Sweeper()
