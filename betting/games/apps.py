from __future__ import annotations

import sys

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate

from betting.games import market


class GamesConfig(AppConfig):
    name = "betting.games"
    label = "games"
    verbose_name = "Games, teams and odds"

    def ready(self) -> None:
        configure_quote_bounds()
        setting_changed.connect(_quote_bounds_changed, dispatch_uid="games.quote_bounds")
        post_migrate.connect(load_reference_when_empty, sender=self, dispatch_uid="games.reference_on_migrate")


def configure_quote_bounds() -> None:
    """The pure market module's sanity bounds (QUOTE_MIN_MARGIN, QUOTE_MAX_MARGIN) and de-vig method (DEVIG_METHOD)."""
    market.configure(settings.QUOTE_MIN_MARGIN, settings.QUOTE_MAX_MARGIN)
    market.configure_devig(settings.DEVIG_METHOD)


def _quote_bounds_changed(*, setting: str, **kwargs: object) -> None:
    if setting in ("QUOTE_MIN_MARGIN", "QUOTE_MAX_MARGIN", "DEVIG_METHOD"):
        configure_quote_bounds()


def load_reference_when_empty(*, using: str = "default", plan: object = None, **kwargs: object) -> None:
    """After ``migrate``, a database with no league gets the bundled leagues, teams and aliases (the
    same ``reference_sync`` as ``manage.py sync_reference``), so every command works on a fresh database.

    Only after ``migrate`` (which passes a ``plan``): ``flush`` sends the same signal, and a flushed
    database stays empty, as a restore into it needs. A database that has leagues is left alone
    (``sync_reference`` updates it); one migrated back to before the games tables has none to fill."""
    if plan is None or using != DEFAULT_DB_ALIAS:
        return
    # Models and the ingest (which imports them) cannot be imported with this module: Django
    # imports apps.py before the models are loaded.
    from betting.games.models import League

    if League._meta.db_table not in connections[using].introspection.table_names():
        return
    if League.objects.using(using).exists():
        return
    from betting.games.ingest.reference import reference_sync

    summary = reference_sync()
    if int(str(kwargs.get("verbosity", 1))) >= 1:  # migrate's own output, beside its "Applying ..." lines
        sys.stdout.write(
            f"  Loaded the reference leagues ({summary.leagues}), teams ({summary.teams_created}) "
            f"and aliases ({summary.aliases_created})\n"
        )
