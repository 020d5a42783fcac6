"""Lessons as the server serves them: one row per lesson, loaded from ``lessons/*.yaml`` by ``lessons load``.

The files stay the source of truth (teachers write and review them in git); the table is what pages and the
lesson player read, so a request never parses YAML. ``content`` is the validated, normalised lesson
(``kubeviz.lessons.format``) and ``content_hash`` tells whether a reload changed anything.
"""

from django.db import models


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
