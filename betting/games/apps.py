from __future__ import annotations

from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "betting.games"
    label = "games"
    verbose_name = "Games, teams and odds"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        configure_quote_bounds()
        setting_changed.connect(_quote_bounds_changed, dispatch_uid="games.quote_bounds")


def configure_quote_bounds() -> None:
    """The pure market module's sanity bounds (QUOTE_MIN_MARGIN, QUOTE_MAX_MARGIN) and de-vig method (DEVIG_METHOD)."""
    from django.conf import settings

    from betting.games import market

    market.configure(settings.QUOTE_MIN_MARGIN, settings.QUOTE_MAX_MARGIN)
    market.configure_devig(settings.DEVIG_METHOD)


def _quote_bounds_changed(*, setting: str, **kwargs: object) -> None:
    if setting in ("QUOTE_MIN_MARGIN", "QUOTE_MAX_MARGIN", "DEVIG_METHOD"):
        configure_quote_bounds()
