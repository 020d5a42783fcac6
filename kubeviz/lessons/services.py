"""Writes to the lesson tables: loading the lesson files; a learner's run of a lesson (its steps, what they apply,
the hints they ask for, the predictions they commit, the checks as last evaluated).

A run is carried across requests by its ``LessonProgress``: ``progress_run`` makes the ``LessonRun`` that goes on
where it left off, and every change a teacher watches sends ``signals.progress_changed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controllers.apimachinery.timeutil import format_rfc3339

from .checks import ApplyRecord, StepWindow
from .format import LoadReport
from .models import Lesson, LessonProgress
from .runner import LessonRun, Prediction, apply_records, database_lesson_cluster
from .signals import progress_changed

#: The longest apply error kept for the teacher's grid (characters).
MAX_ERROR_CHARS = 500


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def lessons_sync(*, report: LoadReport) -> SyncResult:
    """Store every valid lesson of ``report`` (keyed by slug; rewritten only when its content hash changed) and
    remove lessons whose file is gone. A lesson whose file is now broken keeps its last good version: nothing is
    ever half-loaded."""
    result = SyncResult()
    # A broken file cannot tell its slug; its lesson is the one last loaded from a file of the same name.
    broken_files = {PurePath(problem.file).name for problem in report.problems}
    with transaction.atomic():
        existing = {lesson.slug: lesson for lesson in Lesson.objects.select_for_update()}
        for lesson in report.lessons:
            values = {"order": lesson.order, "level": lesson.content["level"], "minutes": lesson.content["minutes"],
                      "title": lesson.content["title"], "summary": lesson.content["summary"],
                      "content": lesson.content, "source": lesson.source, "content_hash": lesson.content_hash}
            row = existing.pop(lesson.slug, None)
            if row is None:
                Lesson.objects.create(slug=lesson.slug, **values)
                result.created.append(lesson.slug)
            elif row.content_hash != lesson.content_hash or row.source != lesson.source:
                for key, value in values.items():
                    setattr(row, key, value)
                row.save()
                result.updated.append(lesson.slug)
            else:
                result.unchanged.append(lesson.slug)
        for slug, row in existing.items():
            if PurePath(row.source).name in broken_files:
                continue
            row.delete()
            result.removed.append(slug)
    return result


def add_applies(progress: LessonProgress, records: list[ApplyRecord]) -> None:
    """Append ``records`` to the applies of the step ``progress`` is at (read again under a lock, so that two
    requests of one learner both land), and keep the refusal of the last apply for the teacher (or forget the
    previous one when this apply was accepted)."""
    if not records:
        return
    refused = [message for r in records if r.outcome == "rejected" for message in (r.messages or ["rejected"])]
    error = {"message": "; ".join(refused)[:MAX_ERROR_CHARS], "at": timezone.now().isoformat()} if refused else {}
    with transaction.atomic():
        row = LessonProgress.objects.select_for_update().only("applies", "last_error").get(pk=progress.pk)
        progress.applies = [*row.applies, *(asdict(r) for r in records)]
        progress.last_error = error
        LessonProgress.objects.filter(pk=progress.pk).update(applies=progress.applies, last_error=error)
        if error or row.last_error:
            progress_changed.send(sender=LessonProgress, progress=progress)


def record_applies(sender, *, cluster, results=None, error=None, **kwargs) -> None:
    """Receiver of ``kubeviz.sim.signals.manifests_applied``: an apply from the player's editor (or an upload) on a
    lesson's sandbox cluster counts for the step's ``apply`` checks, as "show me" does."""
    progress = LessonProgress.objects.filter(cluster=cluster).first()
    if progress is not None:
        add_applies(progress, apply_records("editor", results=results, error=error))


def record_api_write(sender, *, cluster, door, error=None, **kwargs) -> None:
    """Receiver of ``kubeviz.sim.signals.api_write_answered``: a write through the Kubernetes API (the learner's
    kubectl, the client, the console) on a lesson's sandbox. A refused one is the learner's last error for the
    teacher's grid, as a refused apply from the editor is; an accepted one forgets it. Only classroom mode has a
    grid: elsewhere an API write costs no query here."""
    if not settings.KUBEVIZ_CLASSROOM:
        return
    if error is None:
        changed = LessonProgress.objects.filter(cluster=cluster).exclude(last_error={})
        progress = changed.first()
        if progress is not None and changed.update(last_error={}):
            progress.last_error = {}
            progress_changed.send(sender=LessonProgress, progress=progress)
        return
    progress = LessonProgress.objects.filter(cluster=cluster).first()
    if progress is None:
        return
    message = f"{door}: {error.message}"[:MAX_ERROR_CHARS]
    progress.last_error = {"message": message, "at": timezone.now().isoformat()}
    LessonProgress.objects.filter(pk=progress.pk).update(last_error=progress.last_error)
    progress_changed.send(sender=LessonProgress, progress=progress)


def applies_of(progress: LessonProgress) -> list[ApplyRecord]:
    return [ApplyRecord(**record) for record in progress.applies]


# --- a learner's run --------------------------------------------------------------------------------------------


def window_json(window: StepWindow) -> dict:
    return {"resource_version": window.resource_version, "trace_sequence": window.trace_sequence,
            "started": window.started.isoformat(), "lesson_resource_version": window.lesson_resource_version,
            "lesson_trace_sequence": window.lesson_trace_sequence, "snapshot": window.snapshot}


def progress_run(progress: LessonProgress, *, who: str | None = None) -> LessonRun:
    """A ``LessonRun`` carrying on where the stored progress left off (its step, window, applies, prediction);
    its writes are recorded as the lesson's, made for ``who`` (the learner or teacher asking, in classroom mode)."""
    w = progress.window
    started = (w["lesson_resource_version"], w["lesson_trace_sequence"]) if w else None
    run = LessonRun(progress.lesson.parsed(), database_lesson_cluster(progress.cluster, who=who), started=started)
    if w:
        run.step_index = progress.step
        run.window = StepWindow(
            resource_version=w["resource_version"], trace_sequence=w["trace_sequence"],
            started=datetime.fromisoformat(w["started"]), lesson_resource_version=w["lesson_resource_version"],
            lesson_trace_sequence=w["lesson_trace_sequence"], snapshot=w.get("snapshot") or {})
        run.applies = applies_of(progress)
        committed = progress.predictions.get(run.step["id"])
        run.prediction = Prediction.from_json(committed) if committed else None
    return run


def _pause(cluster) -> None:
    """Stop the cluster's clock as the clock endpoint does (the caller holds the engine lock)."""
    from kubeviz.runtime.host import host
    from kubeviz.store.services import publish_clock

    cluster.refresh_from_db()
    if cluster.paused:
        return
    cluster.paused = True
    cluster.save(update_fields=["paused"])
    host.clock_changed(cluster)
    cluster.refresh_from_db()
    publish_clock(cluster)


def progress_begin_step(progress: LessonProgress, run: LessonRun, index: int) -> list[str]:
    """Enter step ``index``: its window starts now and its setup actions run. A predict step whose prediction is
    not committed yet stops the clock first: the learner predicts before the clock moves. Answers the problems of
    setup actions that could not be done."""
    step = run.lesson.steps[index]
    if step.get("predict") and step["id"] not in progress.predictions:
        _pause(progress.cluster)
    problems = run.begin_step(index)
    progress.step = index
    progress.actions_done = 0
    progress.applies = []
    progress.step_started_at = timezone.now()
    progress.evaluation = {}
    progress.window = dict(window_json(run.window), actions_since=run.cluster.now().isoformat())
    progress.save()
    progress_changed.send(sender=LessonProgress, progress=progress)
    return problems


def progress_evaluate(progress: LessonProgress, run: LessonRun) -> list:
    """Evaluate the step's checks now and keep the result (``evaluation``); a step whose checks all pass is passed
    from then on. Answers the ``CheckResult``s."""
    results = run.evaluate()
    passed = all(r.passed for r in results)
    progress.evaluation = {
        "step": progress.step, "resourceVersion": run.cluster.resource_version(),
        "now": format_rfc3339(run.cluster.now()), "checkedAt": timezone.now().isoformat(), "passed": passed,
        "results": [{"passed": r.passed, "message": r.message, "detail": r.detail, "type": r.check["type"]}
                    for r in results],
    }
    fields = ["evaluation", "updated_at"]
    newly = passed and progress.step not in progress.passed
    if newly:
        progress.passed = sorted({*progress.passed, progress.step})
        fields.append("passed")
    progress.save(update_fields=fields)
    if newly:
        progress_changed.send(sender=LessonProgress, progress=progress)
    return results


def hint_reveal(progress: LessonProgress) -> int:
    """Show the learner the next hint of their step (counted for the teacher); answers how many they have seen."""
    step = progress.lesson.content["steps"][progress.step]
    total = len(step.get("hints") or [])
    seen = min(int(progress.hints.get(step["id"], 0)) + 1, total)
    if seen != progress.hints.get(step["id"], 0):
        progress.hints = {**progress.hints, step["id"]: seen}
        progress.save(update_fields=["hints", "updated_at"])
        progress_changed.send(sender=LessonProgress, progress=progress)
    return seen


class PredictionCommitted(Exception):
    """The step's prediction was committed already: a prediction is made once, before the clock moves."""


def prediction_commit(progress: LessonProgress, run: LessonRun, value) -> Prediction:
    """Commit the learner's prediction for their predict step: the clock moves, the simulation grades it, and it is
    kept (with when it was made) for the learner and the class's tally. Raises ``PredictionCommitted``, or
    ``runner.PredictionError`` for an answer that does not fit the question."""
    step = run.step
    if step["id"] in progress.predictions:
        raise PredictionCommitted(step["id"])
    prediction = run.predict(value)
    progress.predictions = {**progress.predictions,
                            step["id"]: dict(prediction.as_json(), committed=timezone.now().isoformat())}
    progress.window = dict(progress.window, actions_since=run.cluster.now().isoformat())
    progress.save(update_fields=["predictions", "window", "updated_at"])
    progress_changed.send(sender=LessonProgress, progress=progress)
    return prediction
