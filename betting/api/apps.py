from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "betting.api"
    label = "api"
    verbose_name = "JSON API and its tokens"
