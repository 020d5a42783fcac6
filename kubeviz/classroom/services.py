"""Writes of the classroom, named ``<entity>_<action>``: classes, learners joining, sandboxes and their resets,
pausing or playing every sandbox of a class.

A sandbox's cluster is deleted through ``cluster_delete`` (its watchers are told, its capabilities go with it) and
its engine dropped (``host.forget``), whoever asks: a reset, a learner removed, a class deleted, the idle sweep.
What changes a learner's row of the teacher's grid publishes it (``grid``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apiserver.quota import HardLimitsError, parse_hard_limits
from kubeviz.runtime.host import host
from kubeviz.store.models import Cluster
from kubeviz.store.services import ClusterError, cluster_delete, publish_clock

from . import grid
from .models import Capability, ClassLesson, Classroom, Learner, Sandbox, name_key

MAX_DISPLAY_NAME = 40
MAX_CLASS_NAME = 100


class ClassroomError(Exception):
    """A request the classroom cannot honour; the message (in the request's language) is shown to the person who
    made it."""


def clean_display_name(raw: str) -> str:
    """A display name as kept: spaces collapsed, 1 to 40 characters, no control characters."""
    name = " ".join((raw or "").split())
    if not name:
        raise ClassroomError(_("Type the name the class will see you as."))
    if len(name) > MAX_DISPLAY_NAME:
        raise ClassroomError(_("A name has at most %(count)d characters.") % {"count": MAX_DISPLAY_NAME})
    if any(not ch.isprintable() for ch in name):
        raise ClassroomError(_("A name cannot hold control characters."))
    return name


def class_create(*, teacher, name: str, lessons, opens_at: datetime | None = None,
                 closes_at: datetime | None = None, quota: str = "") -> Classroom:
    """A class; ``quota`` is its sandboxes' ResourceQuota limits as ``kubectl create quota --hard`` takes them
    (``pods=10,requests.cpu=2``), empty for the server's default."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_CLASS_NAME:
        raise ClassroomError(_("A class needs a name of 1 to %(count)d characters.") % {"count": MAX_CLASS_NAME})
    lessons = list(lessons)
    if not lessons:
        raise ClassroomError(_("Pick at least one lesson."))
    if opens_at and closes_at and closes_at <= opens_at:
        raise ClassroomError(_("The class must close after it opens."))
    try:
        hard = parse_hard_limits(quota)
    except HardLimitsError as error:
        raise ClassroomError(_("The quota per sandbox %(error)s") % {"error": error}) from None
    for _attempt in range(10):
        try:
            with transaction.atomic():
                classroom = Classroom.objects.create(name=name, teacher=teacher, opens_at=opens_at,
                                                     closes_at=closes_at, quota=hard)
                ClassLesson.objects.bulk_create(
                    ClassLesson(classroom=classroom, lesson=lesson, order=i) for i, lesson in enumerate(lessons))
                return classroom
        except IntegrityError:  # the join code was taken: draw another
            continue
    raise ClassroomError(_("Could not find a free join code; try again."))


def find_class(code: str) -> Classroom | None:
    code = "".join((code or "").split()).upper()
    return Classroom.objects.filter(join_code=code).first() if code else None


def learner_join(*, classroom: Classroom, display_name: str, now: datetime | None = None) -> Learner:
    """The learner of this class with this name (case and spacing aside), made on their first join."""
    if not classroom.is_open(now):
        raise ClassroomError(_("This class is not open for joining now."))
    name = clean_display_name(display_name)
    key = name_key(name)
    created = False
    try:
        with transaction.atomic():
            learner, created = Learner.objects.get_or_create(
                classroom=classroom, name_key=key, defaults={"display_name": name})
    except IntegrityError:  # joined at the same moment from two browsers
        learner = Learner.objects.get(classroom=classroom, name_key=key)
    Learner.objects.filter(pk=learner.pk).update(last_seen=timezone.now())
    if created:
        grid.publish_learner(learner.pk)
    return learner


class SandboxExists(Exception):
    """The learner already has a sandbox for this lesson (a second Start raced the first)."""


def sandbox_create(*, learner: Learner, progress) -> Sandbox:
    """Record ``progress.cluster`` (just made for ``progress.lesson``) as the learner's sandbox, with the learner's
    capability for its API. Raises SandboxExists when one exists already."""
    try:
        with transaction.atomic():
            sandbox = Sandbox.objects.create(learner=learner, lesson=progress.lesson, cluster=progress.cluster)
            Capability.objects.create(cluster=progress.cluster, learner=learner, access=Capability.Access.WRITE)
    except IntegrityError:
        raise SandboxExists() from None
    grid.publish_learner(learner.pk)
    return sandbox


def sandbox_learner_capability(sandbox: Sandbox) -> Capability:
    capability = Capability.objects.filter(cluster=sandbox.cluster_id, learner=sandbox.learner_id,
                                           access=Capability.Access.WRITE).first()
    if capability is None:
        capability = Capability.objects.create(cluster_id=sandbox.cluster_id, learner_id=sandbox.learner_id,
                                               access=Capability.Access.WRITE)
    return capability


def cluster_discard(name: str) -> None:
    """Delete a cluster and drop its engine (nothing if it is already gone)."""
    try:
        cluster_delete(name=name)
    except ClusterError:
        pass
    host.forget(name)


def sandboxes_delete(sandboxes) -> list[str]:
    """Delete these sandboxes' clusters (the sandboxes, their progress and capabilities go with them)."""
    names = [name for name in sandboxes.values_list("cluster__name", flat=True)]
    for name in names:
        cluster_discard(name)
    return names


def forks_delete(learners) -> list[str]:
    """Delete the clusters these learners forked from their sandboxes or imported (``kubeviz.recordings``)."""
    from kubeviz.recordings.models import Origin

    names = list(Origin.objects.filter(learner__in=learners).values_list("cluster__name", flat=True))
    for name in names:
        cluster_discard(name)
    return names


def learner_reset(*, learner: Learner) -> list[str]:
    """Every sandbox of the learner deleted (and their forks): their next Start begins each lesson afresh."""
    names = sandboxes_delete(Sandbox.objects.filter(learner=learner)) + forks_delete([learner])
    grid.publish_learner(learner.pk)
    return names


def learner_remove(*, learner: Learner) -> None:
    """The learner leaves the class (a duplicate, or someone who should not be there): sandboxes and all."""
    learner_reset(learner=learner)
    grid.publish_removed(learner.classroom_id, learner.pk)
    learner.delete()


def _progress_made(sandbox: Sandbox) -> tuple[int, int]:
    """How far a sandbox's lesson went: its steps passed, then its current step."""
    progress = getattr(sandbox.cluster, "lesson_progress", None)
    return (len(progress.passed), progress.step) if progress is not None else (0, 0)


def learner_merge(*, duplicate: Learner, into: Learner) -> list[str]:
    """``duplicate`` is the same person as ``into`` (who joined again under another name): their sandboxes become
    ``into``'s, the capabilities that reach them too (a kubeconfig downloaded keeps working), and ``duplicate`` leaves
    the class. Where both have a sandbox for the same lesson the one further on is kept (``into``'s on a tie) and the
    other deleted. Answers the clusters deleted."""
    if duplicate.classroom_id != into.classroom_id:
        raise ClassroomError(_("Only learners of the same class can be merged."))
    if duplicate.pk == into.pk:
        raise ClassroomError(_("A learner cannot be merged into themselves."))
    deleted = []
    kept = {sandbox.lesson_id: sandbox
            for sandbox in Sandbox.objects.filter(learner=into).select_related("cluster__lesson_progress")}
    for sandbox in Sandbox.objects.filter(learner=duplicate).select_related("cluster__lesson_progress"):
        other = kept.get(sandbox.lesson_id)
        if other is not None:
            # deleting a cluster deletes its sandbox: the lesson's place is free for the one moved below
            loser = other if _progress_made(sandbox) > _progress_made(other) else sandbox
            deleted.append(loser.cluster.name)
            cluster_discard(loser.cluster.name)
            if loser is sandbox:
                continue
        with transaction.atomic():
            Sandbox.objects.filter(pk=sandbox.pk).update(learner=into)
            Capability.objects.filter(cluster_id=sandbox.cluster_id, learner=duplicate).update(learner=into)
    Learner.objects.filter(pk=into.pk).update(last_seen=max(into.last_seen, duplicate.last_seen))
    grid.publish_removed(duplicate.classroom_id, duplicate.pk)
    duplicate.delete()
    grid.publish_learner(into.pk)
    return deleted


def class_reset(*, classroom: Classroom) -> list[str]:
    names = sandboxes_delete(Sandbox.objects.filter(learner__classroom=classroom)) + forks_delete(
        Learner.objects.filter(classroom=classroom))
    grid.publish_refresh(classroom.pk)
    return names


def class_delete(*, classroom: Classroom) -> None:
    class_reset(classroom=classroom)
    grid.publish_deleted(classroom.pk)
    classroom.delete()


def cluster_set_paused(cluster: Cluster, paused: bool) -> bool:
    """Pause or play a cluster's clock as the clock endpoint does (a run under way stops at its next slice);
    answers whether it changed."""
    with host.transaction(cluster.name):
        cluster.refresh_from_db()
        if cluster.paused == paused:
            return False
        cluster.paused = paused
        cluster.save(update_fields=["paused"])
        host.clock_changed(cluster)
        cluster.refresh_from_db()
        publish_clock(cluster)
    return True


def class_clock(*, classroom: Classroom, paused: bool) -> int:
    """Pause (or play) every sandbox of the class: "eyes on me", and then back to work. Playing also wakes the
    sandboxes the idle sweep paused. Answers how many clocks changed."""
    changed = 0
    sandboxes = Sandbox.objects.filter(learner__classroom=classroom).select_related("cluster")
    for sandbox in sandboxes:
        try:
            changed += cluster_set_paused(sandbox.cluster, paused)
        except Cluster.DoesNotExist:  # deleted meanwhile (a reset)
            continue
    if not paused:
        sandboxes.update(idle_paused_at=None, last_active=timezone.now())
    grid.publish_refresh(classroom.pk)
    return changed
