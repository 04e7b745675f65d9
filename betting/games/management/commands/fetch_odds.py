from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.management.commands._pull import add_common, run_pull
from betting.games.pulls import odds_pull


class Command(BaseCommand):
    help = (
        "Pull bookmaker odds (The Odds API v4: h2h, spreads, totals) for a league, or replay a recorded "
        "response with --from-file. Quotes are appended only when a price or line moved; a replay changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_common(parser)
        parser.add_argument("--odds-format", choices=["decimal", "american"], help="Default: ODDS_API_ODDS_FORMAT.")

    def handle(self, *args: Any, **options: Any) -> None:
        run_pull(
            self,
            lambda: odds_pull(
                league_code=options["league"],
                day=options["date"],
                from_file=options["from_file"],
                odds_format=options["odds_format"],
            ),
        )
