"""The classroom: teachers' classes, the learners who joined them, each learner's sandbox per lesson, and the
capabilities (bearer tokens) that reach a cluster's Kubernetes API.

A teacher is a Django user (``manage.py createteacher``). A ``Classroom`` has lessons (in order), a short join code
and an optional time window. A ``Learner`` joined one class with the code and a display name; the same name in the
same class is the same learner (``name_key``), so joining again on another browser finds their sandboxes. A
``Sandbox`` is a learner's cluster for one lesson, made by an explicit Start; its progress is the cluster's
``LessonProgress``. A ``Capability`` is an unguessable token for one cluster's API (``/k/<token>/...``, or as a
bearer token), held by a learner or a teacher; it dies with its cluster or its holder.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

#: Join codes: no 0/O, 1/I/L, so that a code read off a projector is typed right.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def new_token() -> str:
    """256 random bits, URL-safe: a capability is only as strong as it is hard to guess."""
    return secrets.token_urlsafe(32)


class Classroom(models.Model):
    name = models.CharField(max_length=100)
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classes")
    join_code = models.CharField(max_length=16, unique=True, default=new_join_code)
    lessons = models.ManyToManyField("lessons.Lesson", through="ClassLesson", related_name="classes")
    # Learners join and start sandboxes from opens_at to closes_at (either may be open-ended).
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    # The hard limits of each sandbox's ResourceQuota ``sandbox`` (empty: the server's KUBEVIZ_DEFAULT_QUOTA).
    quota = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "class"
        verbose_name_plural = "classes"

    def __str__(self):
        return self.name

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.opens_at is None or self.opens_at <= now) and (self.closes_at is None or now < self.closes_at)

    def ordered_lessons(self):
        return self.lessons.order_by("classlesson__order", "order", "slug")


class ClassLesson(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE)
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["classroom", "lesson"], name="classroom_lesson_once")]

    def __str__(self):
        return f"{self.classroom} #{self.order}: {self.lesson}"


def name_key(display_name: str) -> str:
    """What makes two display names the same learner: case and spacing do not count."""
    return " ".join(display_name.split()).casefold()


class Learner(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="learners")
    display_name = models.CharField(max_length=40)
    name_key = models.CharField(max_length=40)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name_key"]
        constraints = [models.UniqueConstraint(fields=["classroom", "name_key"], name="classroom_learner_name")]

    def __str__(self):
        return self.display_name

    @property
    def username(self) -> str:
        """The learner as the Kubernetes API names its user (in Forbidden messages)."""
        return f"kubeviz:learner:{self.pk}"


class Sandbox(models.Model):
    """A learner's cluster for one lesson. ``last_active`` is when the learner (a page, the API, a live stream)
    last used it: an idle sandbox is paused, and deleted later (``lifecycle.sandboxes_sweep``)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="sandboxes")
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, related_name="sandboxes")
    cluster = models.OneToOneField("store.Cluster", on_delete=models.CASCADE, related_name="sandbox")
    created_at = models.DateTimeField(auto_now_add=True)
    last_active = models.DateTimeField(default=timezone.now)
    # When the sweep paused it for being idle (cleared when it is used again).
    idle_paused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["learner", "lesson__order"]
        constraints = [models.UniqueConstraint(fields=["learner", "lesson"], name="sandbox_one_per_lesson")]

    def __str__(self):
        return f"{self.learner} / {self.lesson.slug}: {self.cluster.name}"


class Capability(models.Model):
    """A bearer token for one cluster's Kubernetes API, held by a learner or a teacher, reading or writing."""

    class Access(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    token = models.CharField(max_length=64, unique=True, default=new_token)
    cluster = models.ForeignKey("store.Cluster", on_delete=models.CASCADE, related_name="capabilities")
    access = models.CharField(max_length=8, choices=Access.choices)
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="capabilities")
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="capabilities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(learner__isnull=False, teacher__isnull=True) | Q(learner__isnull=True,
                                                                            teacher__isnull=False),
                name="capability_one_holder",
            ),
        ]

    def __str__(self):
        return f"{self.access} on {self.cluster_id} for {self.learner_id or self.teacher_id}"
