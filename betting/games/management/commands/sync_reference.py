from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.pulls import reference_sync_job


class Command(BaseCommand):
    help = "Load the bundled leagues, teams and team-name aliases (idempotent; never deletes)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--league", action="append", help="Only this league code (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = reference_sync_job(league_codes=options["league"])
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.leagues} league(s): teams {summary.teams_created} created, {summary.teams_updated} updated; "
                f"aliases {summary.aliases_created} created, {summary.aliases_updated} updated"
            )
        )
