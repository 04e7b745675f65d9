from __future__ import annotations

from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "betting.predictions"
    label = "predictions"
    verbose_name = "Models and predictions"
