"""Cross-cutting records: every job that runs leaves a ``JobRun``."""

from __future__ import annotations

from collections.abc import Mapping

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

    def finish(self, *, status: str, counts: Mapping[str, object] | None = None, error: str = "") -> None:
        self.status = status
        self.finished_at = timezone.now()
        if counts is not None:
            self.counts = counts
        self.error = error[:10000]
        self.save(update_fields=["status", "finished_at", "counts", "error"])


class ApiCredential(models.Model):
    """A provider's API key, encrypted at rest (``core.ops.secrets``). The plaintext is never stored,
    shown or logged; ``last4`` and ``fingerprint`` tell keys apart without revealing them."""

    provider = models.CharField(max_length=40, unique=True, help_text="Provider name, e.g. odds_api.")
    ciphertext = models.TextField(help_text="Fernet token of the key (FIELD_ENCRYPTION_KEYS).")
    fingerprint = models.CharField(max_length=16, help_text="Keyed hash of the key, to compare two keys.")
    last4 = models.CharField(max_length=4, help_text="The key's last four characters, for the masked display.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="When the key was last set.")
    rotated_at = models.DateTimeField(null=True, blank=True, help_text="When it was last re-encrypted.")

    class Meta:
        ordering = ["provider"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.provider} {self.masked}"

    @property
    def masked(self) -> str:
        return "••••••••" + self.last4


class KillSwitch(models.Model):
    """The operator's switches, one row shared by every process: stop new bets, pause provider
    pulls. ``BETTING_KILL_SWITCH`` in the environment stops bets whatever this row says."""

    SINGLETON = 1

    betting_stopped = models.BooleanField(default=False, help_text="No new bets while on.")
    pulls_paused = models.BooleanField(default=False, help_text="Live provider pulls are skipped while on.")
    reason = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.CharField(max_length=100, blank=True, help_text="Operator token fingerprint or user.")

    class Meta:
        verbose_name = "kill switch"

    def __str__(self) -> str:
        bets = "bets stopped" if self.betting_stopped else "bets allowed"
        pulls = "pulls paused" if self.pulls_paused else "pulls running"
        return f"{bets}, {pulls}"


class OpsAudit(models.Model):
    """Every call to an operator endpoint: accepted, refused or rate limited."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        INVALID = "invalid", "Invalid input"
        UNAUTHORIZED = "unauthorized", "No or wrong token"
        RATE_LIMITED = "rate_limited", "Rate limited"
        DISABLED = "disabled", "Endpoints disabled"
        NOT_ALLOWED = "not_allowed", "Method not allowed"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    endpoint = models.CharField(max_length=100, db_index=True)
    action = models.CharField(max_length=40, blank=True, help_text="What was asked: run, stop, resume.")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, db_index=True)
    status_code = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=10)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    token_fingerprint = models.CharField(max_length=16, blank=True, help_text="Keyed hash of the token presented.")
    user_agent = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    detail = models.TextField(blank=True, help_text="The answer's message, task ids.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "operator call"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.endpoint} {self.status_code}"


class HealthEvent(models.Model):
    """A readiness check changed state (``core.health.checks``): written only on change, by the beat job."""

    class State(models.TextChoices):
        OK = "ok", "OK"
        WARN = "warn", "Warning"
        FAIL = "fail", "Failing"

    # Not "check": that name belongs to Django's Model.check() (system checks).
    name = models.CharField("check", max_length=100, help_text="Check name, e.g. database, odds:NBA, breaker:espn.")
    old_state = models.CharField(max_length=4, choices=State.choices, blank=True, help_text="Empty: first seen.")
    new_state = models.CharField(max_length=4, choices=State.choices)
    critical = models.BooleanField(default=False, help_text="A failure of this check makes /ready answer 503.")
    detail = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["name", "-at"], name="healthevent_name_recent")]

    def __str__(self) -> str:
        return f"{self.name} {self.old_state or 'new'} -> {self.new_state} at {self.at:%Y-%m-%d %H:%M}"
