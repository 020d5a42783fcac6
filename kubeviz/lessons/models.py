"""Lessons as the server serves them: one row per lesson, loaded from ``lessons/*.yaml`` by ``lessons load``.

The files stay the source of truth (teachers write and review them in git); the table is what pages and the
lesson player read, so a request never parses YAML. ``content`` is the validated, normalised lesson
(``kubeviz.lessons.format``) and ``content_hash`` tells whether a reload changed anything.
"""

from django.db import models
from django.utils import timezone


class Lesson(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    slug = models.SlugField(max_length=100, unique=True)
    order = models.IntegerField(default=0)
    level = models.CharField(max_length=16, choices=Level.choices)
    minutes = models.PositiveIntegerField()
    # {"zh-Hans": ..., "en": ...}
    title = models.JSONField()
    summary = models.JSONField()
    content = models.JSONField()
    source = models.CharField(max_length=255, help_text="The file the lesson was loaded from, relative to the project.")
    content_hash = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self):
        return self.slug

    def parsed(self):
        """The lesson as the runner takes it (``kubeviz.lessons.format.Lesson``)."""
        from .format import Lesson as LessonContent

        return LessonContent(slug=self.slug, content=self.content, source=self.source,
                             content_hash=self.content_hash)


class LessonProgress(models.Model):
    """Where one learner's run of a lesson is: its sandbox cluster, the current step and the step's window.

    The learner holds ``{slug: {cluster, step}}`` in a signed cookie; this row keeps what a ``LessonRun`` needs
    to carry on across requests (where the step began, for history, event and trace checks) and how many of the
    step's actions the player has done.
    """

    cluster = models.OneToOneField("store.Cluster", on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    step = models.PositiveIntegerField(default=0)
    # checks.StepWindow as JSON: resource versions, trace sequences, start time, snapshot of history kinds
    window = models.JSONField(default=dict)
    actions_done = models.PositiveIntegerField(default=0)
    # indexes of the steps whose checks all passed at least once
    passed = models.JSONField(default=list)
    # what was applied during the step (from the editor, an upload or "show me"), for ``apply`` checks:
    # checks.ApplyRecord fields, oldest first
    applies = models.JSONField(default=list)
    # When (wall clock) the current step began: a teacher sees who is stuck, and for how long.
    step_started_at = models.DateTimeField(default=timezone.now)
    # {step id: how many of the step's hints the learner asked for}
    hints = models.JSONField(default=dict)
    # {step id: the prediction committed in a predict step and its grade} (``runner.Prediction.as_json``)
    predictions = models.JSONField(default=dict)
    # The last apply's refusal, {"message", "at"} (wall clock, ISO); {} once an apply is accepted again.
    last_error = models.JSONField(default=dict)
    # The step's checks as last evaluated (``checks.Evaluation.as_json``: where the cluster stood, the results),
    # by the learner's Check or by the server as the cluster changes (``recheck``).
    evaluation = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.lesson.slug} on {self.cluster.name} (step {self.step})"
