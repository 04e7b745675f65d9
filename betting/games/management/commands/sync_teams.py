from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.ingest.reference import reference_sync
from core.jobs import job_run


class Command(BaseCommand):
    help = "Load the bundled leagues, teams and team-name aliases (idempotent; never deletes)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--league", action="append", help="Only this league code (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        with job_run("sync_teams", {"leagues": options["league"] or "all"}) as run:
            summary = reference_sync(league_codes=options["league"])
            run.counts = vars(summary)
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.leagues} league(s): teams {summary.teams_created} created, {summary.teams_updated} updated; "
                f"aliases {summary.aliases_created} created, {summary.aliases_updated} updated"
            )
        )
