"""The instructor workspace: classes, their members and roles, assignments, submissions and regrades.

Learner work itself stays in `labapp.labs` (sessions, attempts, the journal) and `labapp.quizzes`; this
app only points at it. A submission is a row here naming the Attempt (kind "submit") that graded it, and
the moment it was made: the journal "up to then" is the session's ApiCall rows at or before that moment.
An Attempt is never changed after it is graded, so a submission's original result is frozen by
construction; a regrade writes its result beside it (on the RegradeItem and the Submission's
`regraded_*` fields) and never over it.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from labapp.courses.models import Lab, Module
from labapp.labs.models import Attempt, LabSession

# Join codes avoid letters and digits that look alike when read aloud or from a projector.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class Classroom(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Learners join with this code or the invite link built from it; resetting it stops old links.
    join_code = models.CharField(max_length=16, unique=True, default=new_join_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="classrooms_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        TA = "ta", "Teaching assistant"

    STAFF = (Role.INSTRUCTOR, Role.TA)

    class Via(models.TextChoices):
        CREATED = "created", "Created the class"
        CODE = "code", "Join code or link"
        ROSTER = "roster", "Roster import"
        ADDED = "added", "Added by an instructor"

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="class_memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.LEARNER)
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.CODE)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classroom", "user"], name="one_membership_per_class")]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.classroom} ({self.role})"


class Assignment(models.Model):
    class Kind(models.TextChoices):
        LAB = "lab", "Lab"
        QUIZ = "quiz", "Module quiz"

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments")
    module = models.ForeignKey(
        Module, on_delete=models.PROTECT, null=True, blank=True, related_name="quiz_assignments",
        help_text="For a quiz: the module whose quiz is assigned",
    )
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField()
    time_limit_minutes = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Minutes from the learner's first start (a lab session, a quiz attempt) to submitting",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="lab", lab__isnull=False, module__isnull=True)
                | Q(kind="quiz", lab__isnull=True, module__isnull=False),
                name="assignment_names_one_lab_or_one_quiz",
            ),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("opens_at")), name="assignment_due_after_open"),
            # One assignment per lab (and per quiz) in a class: a submission from the lab page is then
            # unambiguous within a class.
            models.UniqueConstraint(fields=["classroom", "lab"], name="lab_assigned_once_per_class"),
            models.UniqueConstraint(fields=["classroom", "module"], name="quiz_assigned_once_per_class"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.classroom})"

    @property
    def title(self) -> str:
        if self.kind == self.Kind.LAB:
            return self.lab.title
        return f"Quiz: {self.module.title}"

    @property
    def short_title(self) -> str:
        return self.lab.slug if self.kind == self.Kind.LAB else f"quiz-{self.module.slug}"


class Extension(models.Model):
    """A later due date for one learner on one assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions")
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="extensions_granted"
    )
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "learner"], name="one_extension_per_learner")]


class Submission(models.Model):
    """A learner's final, graded lab attempt for an assignment. One per learner and assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    session = models.ForeignKey(LabSession, on_delete=models.PROTECT, related_name="submissions")
    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="submission")
    submitted_at = models.DateTimeField(help_text="The journal of the submission is the calls up to this moment")
    started_at = models.DateTimeField(help_text="When the learner first started this lab for the assignment")
    due_at = models.DateTimeField(help_text="The due date that applied (with the learner's extension)")
    late = models.BooleanField(default=False)
    late_reason = models.CharField(max_length=100, blank=True)
    # The latest regrade's result; the original stays on `attempt`.
    regraded_score = models.PositiveIntegerField(null=True, blank=True)
    regraded_max_score = models.PositiveIntegerField(null=True, blank=True)
    regraded_results = models.JSONField(null=True, blank=True)
    regraded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [models.UniqueConstraint(fields=["assignment", "learner"], name="one_submission_per_learner")]

    def __str__(self) -> str:
        return f"{self.learner} → {self.assignment}"

    @property
    def score(self):
        return self.regraded_score if self.regraded_at else self.attempt.score

    @property
    def max_score(self):
        return self.regraded_max_score if self.regraded_at else self.attempt.max_score

    @property
    def results(self):
        return self.regraded_results if self.regraded_at else self.attempt.results


class RegradeRun(models.Model):
    """An instructor's "regrade all submissions" of one lab assignment; each submission is an item."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="regrade_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class RegradeItem(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Regraded"
        SKIPPED = "skipped", "Kept the original"
        FAILED = "failed", "Failed"

    FINISHED = (Status.DONE, Status.SKIPPED, Status.FAILED)

    run = models.ForeignKey(RegradeRun, on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="regrades")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # What the submission scored before this regrade, kept for the comparison.
    old_score = models.PositiveIntegerField(null=True, blank=True)
    old_max_score = models.PositiveIntegerField(null=True, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    max_score = models.PositiveIntegerField(null=True, blank=True)
    results = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Why the item was skipped or failed")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "lease_until"])]
