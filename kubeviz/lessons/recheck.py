"""Checks that follow the cluster: the server evaluates a step's checks again whenever its cluster changed, so the
step turns green by itself (and the teacher's grid with it), whether the learner works in the editor, with kubectl
or not at all; the panel's Check button stays, for a learner who wants to know now.

``runs_due`` picks the runs to evaluate: those whose step has not passed and whose cluster's resourceVersion moved
since their checks were last evaluated (by Check or here), the longest unevaluated first, at most ``PER_ROUND``
a round. ``progress_recheck`` evaluates one under the cluster's engine lock (not in a transaction: nothing it reads
needs one, and on SQLite a transaction holds the one write lock), and keeps the result (``LessonProgress.evaluation``) for the panel to show. The server runs a round every
``ROUND_SECONDS`` (``Rechecker``), in the process that plays the clusters.

A check that time alone makes true (a printed AGE, with nothing else changing) turns green at the cluster's next
change, or on Check.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from kubeviz.runtime import shutdown
from kubeviz.runtime.host import host

from .models import LessonProgress
from .services import progress_evaluate, progress_run

logger = logging.getLogger(__name__)

#: Wall seconds between two rounds.
ROUND_SECONDS = 2.0
#: The most runs a round evaluates (the longest waiting first): a class's clusters all changing at once share the
#: rounds instead of taking a core.
PER_ROUND = 10


def runs_due(limit: int = PER_ROUND) -> list[int]:
    """The ids of the runs to evaluate now: step not passed, cluster changed since the last evaluation."""
    rows = LessonProgress.objects.values_list("pk", "step", "passed", "evaluation", "cluster__resource_version")
    if host.leases is not None:  # several processes: each evaluates the runs of the clusters whose engine it runs
        from kubeviz.runtime.lease import held_here

        rows = rows.filter(cluster_id__in=held_here())
    due = []
    for pk, step, passed, evaluation, resource_version in rows:
        if step in passed:
            continue
        evaluation = evaluation or {}
        if evaluation.get("step") == step and evaluation.get("resourceVersion") == resource_version:
            continue
        due.append((evaluation.get("checkedAt", ""), pk))
    due.sort()
    return [pk for _, pk in due[:limit]]


def progress_recheck(pk: int) -> bool | None:
    """Evaluate the checks of run ``pk`` again; answers whether its step passed (None: the run is gone)."""
    progress = LessonProgress.objects.select_related("cluster", "lesson").filter(pk=pk).first()
    if progress is None:
        return None
    # The engine's lock (its traces are whole), not a transaction: on SQLite a transaction takes the database's one
    # write lock as it begins, and reading the cluster to evaluate checks must not hold back every writer.
    with host.lock(progress.cluster.name):
        progress.refresh_from_db()
        if progress.step >= len(progress.lesson.content["steps"]):
            return None
        results = progress_evaluate(progress, progress_run(progress))
    return all(r.passed for r in results)


def recheck_round(limit: int = PER_ROUND) -> list[int]:
    """One round: evaluate the runs that are due; answers the ids of those whose step passed."""
    passed = []
    for pk in runs_due(limit):
        try:
            if progress_recheck(pk):
                passed.append(pk)
        except shutdown.ShuttingDown:
            raise
        except Exception:  # noqa: BLE001 - one run's failure (its cluster deleted meanwhile) is not the others'
            logger.exception("re-evaluating the checks of lesson run %s failed", pk)
    return passed


def _round_in_thread() -> list[int]:
    try:
        return recheck_round()
    finally:
        close_old_connections()


class Rechecker:
    """The server's rounds (see the module docstring), on its event loop; each round in a worker thread of its own,
    beside the requests."""

    def __init__(self):
        self._task: asyncio.Task | None = None

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubeviz-lesson-recheck")

    async def _run(self) -> None:
        while not shutdown.requested():
            await asyncio.sleep(ROUND_SECONDS)
            try:
                await sync_to_async(_round_in_thread, thread_sensitive=False)()
            except shutdown.ShuttingDown:
                return
            except Exception:  # noqa: BLE001 - a failed round is tried again at the next
                logger.exception("lesson recheck round failed")


rechecker = Rechecker()
