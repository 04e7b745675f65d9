from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from betting.predictions import registry
from betting.predictions.management.commands._common import MARKET, league_of
from core.management.args import LEAGUE, Arg
from core.management.base import SharplineCommand, command_errors
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = "Make an earlier model the active one: the previously active model, or --version V."

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        # Django's own --version (print Django's version) would shadow the model --version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    arguments = (LEAGUE, MARKET, Arg.of("--version", help="Version to activate, YYYYMMDD_HHMMSS."))

    def handle(self, *args: Any, **options: Any) -> None:
        league = league_of(options["league"])
        params = {k: options[k] for k in ("league", "market", "version")}
        with command_errors(registry.RegistryError), job_run("rollback_model", params) as run:
            now, before = registry.rollback(league, options["market"], options["version"])
            run.counts = {"active": now.version, "was": before.version if before else None}
        self.stdout.write(
            self.style.SUCCESS(
                f"Active {league.code} {options['market']} model: {now.version} "
                f"(was {before.version if before else 'none'})"
            )
        )
