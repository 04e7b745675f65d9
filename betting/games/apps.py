from __future__ import annotations

from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "betting.games"
    label = "games"
    verbose_name = "Games, teams and odds"
