"""The model registry and the predictions made with it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from betting.games.models import Game, League, OddsQuote


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", "Full training"
        WARM = "warm", "Warm start"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANDIDATE = "candidate", "Candidate"
        RETIRED = "retired", "Retired"
        REJECTED = "rejected", "Rejected"

    league = models.ForeignKey(League, on_delete=models.PROTECT, related_name="model_versions")
    market = models.CharField(max_length=10, choices=OddsQuote.Market.choices)
    version = models.CharField(max_length=15, help_text="YYYYMMDD_HHMMSS (UTC) of training.")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="The booster a warm start continued.",
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE)
    is_active = models.BooleanField(default=False)
    feature_set_version = models.CharField(max_length=10)
    features = models.JSONField(help_text="Feature names, in the booster's column order.")
    feature_hash = models.CharField(max_length=16)
    params = models.JSONField(help_text="XGBoost parameters, rounds, and the residual sigma of margin models.")
    trained_from = models.DateTimeField(null=True, blank=True)
    trained_until = models.DateTimeField(help_text="Start time of the last game the booster has seen.")
    n_train = models.PositiveIntegerField(help_text="Games in this training step.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Model, Elo and market scores on the same games.")
    artifact = models.CharField(max_length=300, help_text="Booster file (XGBoost UBJSON), relative to MODEL_DIR.")
    note = models.TextField(blank=True, help_text="Why it was promoted, kept or rejected.")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["league", "market", "-version"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(fields=["league", "market", "version"], name="model_unique_version"),
            models.UniqueConstraint(fields=["league", "market"], condition=Q(is_active=True), name="model_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.league.code} {self.market} {self.version}"


class Prediction(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    market = models.CharField(max_length=10, choices=OddsQuote.Market.choices)
    outcome = models.CharField(max_length=5, choices=OddsQuote.Outcome.choices)
    point = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True, help_text="Line priced.")
    probability = models.DecimalField(max_digits=7, decimal_places=6)
    fair_odds = models.DecimalField(max_digits=10, decimal_places=4, help_text="1 / probability, decimal.")
    explanation = models.JSONField(default=list, blank=True, help_text="Largest feature contributions.")
    inputs = models.JSONField(
        default=dict,
        blank=True,
        help_text="As-of facts about the inputs: model_trained_until, model_age_days, "
        "home_last_result_days, away_last_result_days (and more as features grow).",
    )
    stale_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the inputs are too old to bet on; empty when fresh."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["game", "model_version", "market", "outcome"], name="prediction_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(probability__gt=0) & Q(probability__lt=1), name="prediction_probability_range"
            ),
        ]
        indexes = [models.Index(fields=["game", "market", "-created_at"], name="prediction_game_market")]

    def __str__(self) -> str:
        return f"{self.game} {self.market} {self.outcome} {self.probability}"
