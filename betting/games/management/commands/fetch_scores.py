from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.management.commands._pull import add_common, run_pull
from betting.games.pulls import scores_pull


class Command(BaseCommand):
    help = (
        "Pull a day's scoreboard (ESPN: schedule, live status, final scores) for a league, or replay a recorded "
        "one with --from-file. A final from another source that disagrees is flagged for review, not overwritten."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_common(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run_pull(
            self,
            lambda: scores_pull(league_code=options["league"], day=options["date"], from_file=options["from_file"]),
        )
