from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from betting.predictions import registry
from betting.predictions.management.commands._common import add_league, add_market, league_of
from core.ops.jobs import job_run


class Command(BaseCommand):
    help = "Make an earlier model the active one: the previously active model, or --version V."

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        # Django's own --version (print Django's version) would shadow the model --version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_league(parser)
        add_market(parser)
        parser.add_argument("--version", help="Version to activate, YYYYMMDD_HHMMSS.")

    def handle(self, *args: Any, **options: Any) -> None:
        league = league_of(options["league"])
        try:
            with job_run("rollback_model", {k: options[k] for k in ("league", "market", "version")}) as run:
                now, before = registry.rollback(league, options["market"], options["version"])
                run.counts = {"active": now.version, "was": before.version if before else None}
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Active {league.code} {options['market']} model: {now.version} "
                f"(was {before.version if before else 'none'})"
            )
        )
