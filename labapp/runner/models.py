"""One row per console command or script run: the job record (claimed once) and its stored output."""

import uuid
from functools import cached_property

from django.db import models

from labapp.labs.models import LabSession


class Run(models.Model):
    class Kind(models.TextChoices):
        CLI = "cli", "Console command"
        SCRIPT = "script", "Script"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED_INFRA = "failed_infra", "Infrastructure failure"

    FINISHED = (Status.DONE, Status.FAILED_INFRA)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="runner_runs")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.TextField(help_text="The console line or the script")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=100, blank=True, help_text="host:pid that claimed it")
    stdout = models.TextField(blank=True)
    stderr = models.TextField(blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    limit = models.CharField(max_length=16, blank=True, help_text="memory, time, output, processes, disk, stopped")
    message = models.TextField(blank=True, help_text="Learner-facing note: a limit, a refusal, an infra failure")
    refused = models.BooleanField(default=False)
    stop_requested = models.BooleanField(default=False, help_text="The learner pressed Stop; the worker kills the run")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["session", "kind", "created_at"]), models.Index(fields=["status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def stopped_by_learner(self) -> bool:
        return self.limit == "stopped"

    @cached_property
    def usage_error(self):
        """The AWS CLI's usage error with its "maybe you meant" first (labapp/runner/output.py), or None."""
        from .output import usage_error

        if self.kind != self.Kind.CLI or not self.exit_code or self.refused or not self.stderr:
            return None
        return usage_error(self.stderr, self.source)

    @cached_property
    def trimmed_traceback(self):
        """A script's traceback without botocore/boto3/urllib3 frames (labapp/runner/output.py), or None."""
        from .output import trim_traceback

        if self.kind != self.Kind.SCRIPT or not self.stderr:
            return None
        return trim_traceback(self.stderr)

    @property
    def unwrapped(self) -> bool:
        """`--output table` and `help` text are laid out in columns: shown without wrapping."""
        if self.kind != self.Kind.CLI:
            return False
        words = self.source.split()
        table = "--output=table" in words or any(a == "--output" and b == "table" for a, b in zip(words, words[1:]))
        return table or (bool(words) and words[-1] == "help")


class ScriptDraft(models.Model):
    """The script editor's content, saved per lab session."""

    session = models.OneToOneField(LabSession, on_delete=models.CASCADE, related_name="script_draft")
    source = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
