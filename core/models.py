"""Cross-cutting records: every job that runs leaves a ``JobRun``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=100, db_index=True, help_text="Job name, e.g. import_history.")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    params = models.JSONField(default=dict, blank=True, help_text="What the job was asked to do.")
    counts = models.JSONField(default=dict, blank=True, help_text="What it did: rows created, skipped, ...")
    error = models.TextField(blank=True, help_text="What went wrong, if anything.")
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task id, when run as a task.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_job_recent")]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> float | None:
        """Seconds the job took, or None while it runs."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def finish(self, *, status: str, counts: dict[str, Any] | None = None, error: str = "") -> None:
        self.status = status
        self.finished_at = timezone.now()
        if counts is not None:
            self.counts = counts
        self.error = error[:10000]
        self.save(update_fields=["status", "finished_at", "counts", "error"])
