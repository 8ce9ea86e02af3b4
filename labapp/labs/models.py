"""Learner state for hands-on labs: sessions (one sandbox each), grading attempts, the API journal.

Every background job (provisioning a session, grading an attempt) is a row here first; Celery only
carries its id. Workers claim a row with a conditional UPDATE and hold a lease while they work, so a
duplicate delivery does nothing and a job whose worker died is picked up again when its lease expires.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from labapp.courses.models import Lab


class LabSession(models.Model):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        READY = "ready", "Ready"
        ENDED = "ended", "Ended"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"
        # Submitted for grading in a class: the learner's keys no longer work, and the sandbox is kept as
        # it was (platform calls only) so that a regrade sees what was submitted.
        SUBMITTED = "submitted", "Handed in"

    LIVE = (Status.PROVISIONING, Status.READY)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_sessions")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROVISIONING)
    # The sandbox: a fresh emulated AWS account and the credentials that reach it through the gateway.
    account_id = models.CharField(max_length=12, unique=True)
    access_key_id = models.CharField(max_length=32, unique=True)
    secret_access_key = models.CharField(max_length=64)
    region = models.CharField(max_length=32)
    params = models.JSONField(default=dict, help_text="The lab's per-learner parameters")
    error = models.TextField(blank=True)
    # Provisioning job lease (see module docstring).
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one live session per learner and lab: "Start lab" twice returns the same one.
            models.UniqueConstraint(
                fields=["user", "lab"],
                condition=Q(status__in=["provisioning", "ready"]),
                name="one_live_session_per_lab",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lab.slug} for {self.user} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    def credentials(self) -> dict:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region": self.region,
            "endpoint_url": settings.LAB_GATEWAY_URL,
        }

    def all_account_ids(self) -> list[str]:
        """The session's own account first, then the extra accounts its lab declares."""
        return [self.account_id, *(a.account_id for a in self.extra_accounts.all())]


class SessionAccount(models.Model):
    """An extra account of a session, for labs that need several (`accounts: [partner]` in the lab file):
    a fresh emulated account with its own administrator credentials. The gateway treats a key of it as
    the session's (same status, same expiry), pinned to this account; the emulator lets a request of one
    account of the session read another only where the operation needs it (cross-account AssumeRole)."""

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="extra_accounts")
    name = models.CharField(max_length=32, help_text="The lab file's name for it, e.g. partner")
    account_id = models.CharField(max_length=12, unique=True)
    access_key_id = models.CharField(max_length=32, unique=True)
    secret_access_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["session", "name"], name="one_account_per_name")]

    def __str__(self) -> str:
        return f"{self.name} account {self.account_id} of {self.session_id}"

    def credentials(self) -> dict:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region": self.session.region,
            "endpoint_url": settings.LAB_GATEWAY_URL,
        }


class Attempt(models.Model):
    """One grading run of a session: a "Check my progress" or a final submission."""

    class Kind(models.TextChoices):
        CHECK = "check", "Check"
        SUBMIT = "submit", "Submission"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        FAILED = "failed", "Failed"

    DONE = (Status.GRADED, Status.FAILED)

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CHECK)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed it")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    max_score = models.PositiveIntegerField(null=True, blank=True)
    # [{id, title, points, max_points, passed, feedback}], in the lab's task order.
    results = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"attempt {self.pk} of {self.session_id} ({self.status})"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE


class TaskResult(models.Model):
    """One task's outcome in a graded attempt; kept as rows so instructors can query and aggregate."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="task_results")
    task_id = models.CharField(max_length=64)
    points = models.PositiveIntegerField()
    max_points = models.PositiveIntegerField()
    passed = models.BooleanField()
    feedback = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "task_id"], name="one_result_per_task")]


class ApiCall(models.Model):
    """The journal: one row per API call that passed (or was refused by) the gateway."""

    class Source(models.TextChoices):
        LEARNER = "learner", "Learner"
        SETUP = "setup", "Lab setup"
        PLATFORM = "platform", "Platform"  # graders and panels; hidden from the learner's journal
        PUBLIC = "public", "Anyone"  # unsigned reads of the learner's public objects; never graded as theirs

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="api_calls")
    at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.LEARNER)
    service = models.CharField(max_length=32)
    action = models.CharField(max_length=64)
    region = models.CharField(max_length=32, blank=True)
    status = models.PositiveSmallIntegerField(help_text="HTTP status returned to the caller")
    error_code = models.CharField(max_length=100, blank=True)
    # Key parameters of the request and response (e.g. Bucket, Key, VersionId, DeleteMarker).
    params = models.JSONField(default=dict)
    mutating = models.BooleanField(default=False, help_text="A call that may have changed the sandbox")
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session", "id"])]

    def __str__(self) -> str:
        return f"{self.service}:{self.action} {self.status}"
