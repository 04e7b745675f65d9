from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.games.management.commands._pull import add_common, run_pull
from betting.games.pulls import injuries_pull


class Command(BaseCommand):
    help = (
        "Pull the injury report page (CBS layout, checked before it is trusted), or replay a recorded page "
        "(.html) or ESPN injuries data (.json) with --from-file."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_common(parser, league_default="NBA")

    def handle(self, *args: Any, **options: Any) -> None:
        run_pull(self, lambda: injuries_pull(league_code=options["league"], from_file=options["from_file"]))
