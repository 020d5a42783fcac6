"""The teacher's live grid of a class: its payloads, and publishing them to the class's channel-layer group.

The grid is a table of learners × the steps of each lesson of the class. A teacher's page (``static/js/grid/``)
opens ``/ws/classes/<id>/`` (``consumers.ClassConsumer``), gets a snapshot, then a message each time a learner's
row changed; its reducer applies them. Messages to the page::

    {"type": "snapshot", "class": {"id", "name"}, "now": ISO wall time,
     "lessons": [{"slug", "title", "steps": [{"index", "id", "title", "hints": N,
                                              "predict": null | {"question", "choices", "answer"}}]}],
     "learners": [row, ...]}                       # sorted by name
    {"type": "learner", "learner": row}           # a learner joined, or their row changed
    {"type": "learner.removed", "id": N}

    row  = {"id", "name", "v": version, "lessons": {slug: cell}}   # a lesson not started has no cell
    cell = {"cluster", "step", "passed": [index, ...], "stepStarted": ISO wall time,
            "hints": {index: N}, "predictions": {index: {"value", "actual", "correct"}},
            "lastError": null | {"message", "at"}, "idle": bool, "paused": bool}

``v`` orders two versions of one row (nanoseconds when it was read): a row read before the snapshot but delivered
after it is older than the snapshot's and is dropped. Everything a learner wrote (their name, a prediction, an
apply's error) travels as data, and the page shows it as text.

What changes a row publishes it, once the change is committed: progress in a lesson (``lessons.signals``), a
learner joining, starting a lesson, reset or removed; a class-wide change (a reset, pausing every sandbox) sends
``grid.refresh``, on which each page gets a fresh snapshot.
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language

from kubeviz.lessons.models import LessonProgress

from .models import Classroom, Learner, Sandbox

logger = logging.getLogger(__name__)

def class_group(classroom_id: int) -> str:
    return f"classroom.{classroom_id}"


# -- payloads ------------------------------------------------------------------------------------------------------


def _text(value) -> str:
    """A lesson's text in the active language (as the lesson player picks it)."""
    if not isinstance(value, dict):
        return value or ""
    lang = "zh-Hans" if (get_language() or "").lower().startswith("zh") else "en"
    return value.get(lang) or value.get("en") or next(iter(value.values()), "")


def _choice(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def lessons_json(classroom: Classroom) -> list[dict]:
    """The class's lessons and their steps, in the class's order."""
    lessons = []
    for lesson in classroom.ordered_lessons():
        steps = []
        for index, step in enumerate(lesson.content.get("steps") or []):
            predict = step.get("predict")
            steps.append({
                "index": index, "id": step["id"], "title": _text(step["title"]), "hints": len(step.get("hints") or []),
                "predict": None if predict is None else {
                    "question": _text(predict["question"]),
                    "choices": [_choice(c) for c in predict.get("choices") or []],
                    "answer": _choice(predict["answer"]),
                },
            })
        lessons.append({"slug": lesson.slug, "title": _text(lesson.title), "steps": steps})
    return lessons


def _cell(sandbox: Sandbox, progress: LessonProgress | None) -> dict:
    cell = {"cluster": sandbox.cluster.name, "step": 0, "passed": [], "stepStarted": None, "hints": {},
            "predictions": {}, "lastError": None, "idle": sandbox.idle_paused_at is not None,
            "paused": sandbox.cluster.paused}
    if progress is None:
        return cell
    index_of = {step["id"]: i for i, step in enumerate(sandbox.lesson.content.get("steps") or [])}
    cell.update({
        "step": progress.step,
        "passed": sorted(progress.passed),
        "stepStarted": progress.step_started_at.isoformat(),
        "hints": {str(index_of[step_id]): n for step_id, n in progress.hints.items() if step_id in index_of and n},
        "predictions": {str(index_of[step_id]): {"value": p.get("value"), "actual": p.get("actual"),
                                                 "correct": bool(p.get("correct"))}
                        for step_id, p in progress.predictions.items() if step_id in index_of},
        "lastError": progress.last_error or None,
    })
    return cell


def _rows(learners) -> list[dict]:
    learners = list(learners)
    version = time.time_ns()
    sandboxes = (Sandbox.objects.filter(learner__in=learners)
                 .select_related("cluster", "lesson", "cluster__lesson_progress"))
    cells: dict[int, dict] = {}
    for sandbox in sandboxes:
        progress = getattr(sandbox.cluster, "lesson_progress", None)
        cells.setdefault(sandbox.learner_id, {})[sandbox.lesson.slug] = _cell(sandbox, progress)
    return [{"id": learner.pk, "name": learner.display_name, "v": version, "lessons": cells.get(learner.pk, {})}
            for learner in learners]


def learner_row(learner: Learner) -> dict:
    return _rows([learner])[0]


def snapshot(classroom: Classroom) -> dict:
    return {
        "type": "snapshot",
        "class": {"id": classroom.pk, "name": classroom.name},
        "now": timezone.now().isoformat(),
        "lessons": lessons_json(classroom),
        "learners": _rows(classroom.learners.order_by("name_key")),
    }


# -- publishing ----------------------------------------------------------------------------------------------------


def _send(classroom_id: int, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(class_group(classroom_id), message)
    except Exception:  # noqa: BLE001 - the grid is a view: a lost message must not fail the learner's request
        logger.exception("could not publish to the grid of class %s", classroom_id)


def publish_learner(learner_id: int) -> None:
    """Send the learner's row to their class's grids, once the current transaction commits."""

    def send():
        learner = Learner.objects.filter(pk=learner_id).first()
        if learner is not None:
            _send(learner.classroom_id, {"type": "grid.learner", "learner": learner_row(learner)})

    transaction.on_commit(send)


def publish_removed(classroom_id: int, learner_id: int) -> None:
    transaction.on_commit(lambda: _send(classroom_id, {"type": "grid.removed", "id": learner_id}))


def publish_refresh(classroom_id: int) -> None:
    """Every grid of the class reads a fresh snapshot (after a change to many rows)."""
    transaction.on_commit(lambda: _send(classroom_id, {"type": "grid.refresh"}))


def publish_deleted(classroom_id: int) -> None:
    transaction.on_commit(lambda: _send(classroom_id, {"type": "grid.deleted"}))


def progress_changed(sender, *, progress, **kwargs) -> None:
    """Receiver of ``kubeviz.lessons.signals.progress_changed``: a learner's run of a sandbox moved on."""
    learner_id = Sandbox.objects.filter(cluster_id=progress.cluster_id).values_list("learner_id", flat=True).first()
    if learner_id is not None:
        publish_learner(learner_id)


def clock_paused_changed(sender, *, cluster, **kwargs) -> None:
    """Receiver of ``kubeviz.sim.signals.clock_paused_changed``: a sandbox's clock was paused or played."""
    learner_id = Sandbox.objects.filter(cluster_id=cluster.pk).values_list("learner_id", flat=True).first()
    if learner_id is not None:
        publish_learner(learner_id)
