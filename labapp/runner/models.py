"""One row per console command or script run: the job record (claimed once) and its stored output."""

import uuid

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
    limit = models.CharField(max_length=16, blank=True, help_text="memory, time, output, processes, disk")
    message = models.TextField(blank=True, help_text="Learner-facing note: a limit, a refusal, an infra failure")
    refused = models.BooleanField(default=False)
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


class ScriptDraft(models.Model):
    """The script editor's content, saved per lab session."""

    session = models.OneToOneField(LabSession, on_delete=models.CASCADE, related_name="script_draft")
    source = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
