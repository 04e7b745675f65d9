from __future__ import annotations

from typing import Any

from betting.games.pulls import reference_sync_job
from core.management.args import LEAGUE
from core.management.base import SharplineCommand


class Command(SharplineCommand):
    help = "Load the bundled leagues, teams and team-name aliases (idempotent; never deletes)."
    arguments = (LEAGUE.but(required=False, action="append", help="Only this league code (repeatable)."),)

    def handle(self, *args: Any, **options: Any) -> None:
        summary = reference_sync_job(league_codes=options["league"])
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.leagues} league(s): teams {summary.teams_created} created, {summary.teams_updated} updated; "
                f"aliases {summary.aliases_created} created, {summary.aliases_updated} updated"
            )
        )
