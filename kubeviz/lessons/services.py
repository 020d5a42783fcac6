"""Writes to the lesson tables: loading the lesson files, recording what a learner applies during a step."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import PurePath

from django.db import transaction

from .checks import ApplyRecord
from .format import LoadReport
from .models import Lesson, LessonProgress
from .runner import apply_records


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
    requests of one learner both land)."""
    if not records:
        return
    with transaction.atomic():
        row = LessonProgress.objects.select_for_update().only("applies").get(pk=progress.pk)
        progress.applies = [*row.applies, *(asdict(r) for r in records)]
        LessonProgress.objects.filter(pk=progress.pk).update(applies=progress.applies)


def record_applies(sender, *, cluster, results=None, error=None, **kwargs) -> None:
    """Receiver of ``kubeviz.sim.signals.manifests_applied``: an apply from the player's editor (or an upload) on a
    lesson's sandbox cluster counts for the step's ``apply`` checks, as "show me" does."""
    progress = LessonProgress.objects.filter(cluster=cluster).first()
    if progress is not None:
        add_applies(progress, apply_records("editor", results=results, error=error))


def applies_of(progress: LessonProgress) -> list[ApplyRecord]:
    return [ApplyRecord(**record) for record in progress.applies]
