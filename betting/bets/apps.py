from __future__ import annotations

from django.apps import AppConfig


class BetsConfig(AppConfig):
    name = "betting.bets"
    label = "bets"
    verbose_name = "Bets and bankroll"
