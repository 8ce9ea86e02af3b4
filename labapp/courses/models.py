"""Authored content, mirrored from the files under courses/ by `manage.py loadcourses`.

Rows are keyed by the files' stable uuids, so renaming a module or a lab keeps learners' history.
Learner state (progress) lives in its own tables and never in these.
"""

from django.conf import settings
from django.db import models


class Course(models.Model):
    uuid = models.UUIDField(unique=True)
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.title


class Module(models.Model):
    uuid = models.UUIDField(unique=True)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "title"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="module_slug_unique")]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    uuid = models.UUIDField(unique=True)
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)
    body_markdown = models.TextField()
    body_html = models.TextField(help_text="Rendered and sanitised at load time")

    class Meta:
        ordering = ["order", "title"]
        constraints = [models.UniqueConstraint(fields=["module", "slug"], name="lesson_slug_unique")]

    def __str__(self) -> str:
        return self.title


class Lab(models.Model):
    uuid = models.UUIDField(unique=True)
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="labs")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    minutes = models.PositiveIntegerField(default=20)
    order = models.PositiveIntegerField(default=0)
    # The validated lab file (parameters, setup, tasks with checks, solution, resources), as data.
    definition = models.JSONField()
    source_path = models.CharField(max_length=500)

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.slug

    @property
    def tasks(self) -> list[dict]:
        return self.definition["tasks"]

    @property
    def max_score(self) -> int:
        return sum(task["points"] for task in self.tasks)


class LessonProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lessons_read")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="lesson_read_once")]
