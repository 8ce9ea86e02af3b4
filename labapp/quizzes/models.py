"""Practice questions (authored content, mirrored from courses/<course>/<module>/questions.yaml by the
course loader) and the learner's quiz and exam state.

Questions are keyed by their files' stable uuids. Learner state lives in QuizAttempt/QuizAnswer (module
quizzes, immediate feedback) and ExamAttempt (the timed practice exam, no feedback until the end). The
exam's deadline is stored here, so a reload never restarts the clock.
"""

import uuid

from django.conf import settings
from django.db import models

from labapp.courses.models import Course, Lab, Lesson, Module

# The id of a choice that has no explicit one: its letter by authored position (the loader does the same).
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class Question(models.Model):
    class Type(models.TextChoices):
        SINGLE = "single", "Single answer"
        MULTIPLE = "multiple", "Multiple answers"

    uuid = models.UUIDField(unique=True)
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="questions")
    type = models.CharField(max_length=10, choices=Type.choices)
    answers = models.PositiveSmallIntegerField(help_text="How many choices are correct")
    prompt_html = models.TextField(help_text="Rendered and sanitised at load time")
    # [{"id": "a", "html": "...", "correct": bool}, ...] in the authored order, which learners never see:
    # each attempt shows its own order (labapp.quizzes.choice_order) and answers name choices by id.
    choices = models.JSONField()
    explanation_html = models.TextField()
    lesson = models.ForeignKey(Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions")
    anchor = models.CharField(max_length=200, blank=True)
    lab = models.ForeignKey(Lab, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    source_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["module__order", "order"]

    def __str__(self) -> str:
        return f"{self.module.slug} #{self.order + 1}"

    @property
    def choice_rows(self) -> list[dict]:
        """The choices, each with its id (rows loaded before choices had ids are known by their letter)."""
        return [{**choice, "id": choice.get("id") or LETTERS[i]} for i, choice in enumerate(self.choices)]

    @property
    def correct_ids(self) -> list[str]:
        return sorted(choice["id"] for choice in self.choice_rows if choice.get("correct"))

    def is_correct(self, selected_ids) -> bool:
        return sorted(set(selected_ids)) == self.correct_ids

    @property
    def choose_label(self) -> str:
        words = {2: "two", 3: "three", 4: "four", 5: "five"}
        return f"(Choose {words.get(self.answers, self.answers)}.)" if self.type == self.Type.MULTIPLE else ""


class QuizAttempt(models.Model):
    """One pass through a module's questions. Retaking starts a new attempt; the best score is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="quiz_attempts")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    correct = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="Questions in the module when the attempt started")
    choice_seed = models.CharField(max_length=32, blank=True, default="",
                                   help_text="Orders each question's choices for this attempt; empty: authored order")

    class Meta:
        ordering = ["-started_at", "-id"]


class QuizAnswer(models.Model):
    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="quiz_answers")
    selected = models.JSONField(help_text="Ids of the chosen choices")
    correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="quiz_answer_once")]


class ExamAttempt(models.Model):
    """A timed practice exam. The questions are drawn once and stored, so a reload shows the same exam;
    the deadline is stored, so a reload never resets the clock; answers after it are refused."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_attempts")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="exam_attempts")
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    timed_out = models.BooleanField(default=False)
    question_ids = models.JSONField(help_text="Question pks in the order shown")
    choice_seed = models.CharField(max_length=32, blank=True, default="",
                                   help_text="Orders each question's choices for this attempt; empty: authored order")
    # {"<question pk>": [choice ids]}
    answers = models.JSONField(default=dict)
    # Question pks the learner flagged for review, so a reload (or another device) keeps the flags.
    flagged = models.JSONField(default=list, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    max_score = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None
