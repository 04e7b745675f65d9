from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.management.commands._pull import add_common, run_pull
from betting.games.pulls import props_pull


class Command(BaseCommand):
    help = (
        "Pull player props (PROPS_MARKETS) for a league's upcoming games through The Odds API per-event "
        "endpoint, at most PROPS_MAX_EVENTS_PER_PULL events and never below ODDS_API_QUOTA_RESERVE, or replay "
        "a recorded per-event response with --from-file. A replay changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_common(parser, with_date=False)
        parser.add_argument("--odds-format", choices=["decimal", "american"], help="Default: ODDS_API_ODDS_FORMAT.")

    def handle(self, *args: Any, **options: Any) -> None:
        run_pull(
            self,
            lambda: props_pull(
                league_code=options["league"], from_file=options["from_file"], odds_format=options["odds_format"]
            ),
        )
