from __future__ import annotations

import sys
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from betting.games.backfill import WHATS, backfill_run
from betting.games.management.commands._pull import date_arg
from core.errors import SharplineError


def credits_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ArgumentTypeError(f"expected a whole number of credits, 0 or more, got {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Backfill a league's past days: ESPN scoreboards (--what scores), The Odds API historical snapshots "
        "(--what odds: an opening one and a closing one before each start time; credits estimated and printed "
        "first) or both. Resumable: the days done are skipped, the failed ones retried; a second run changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--league", required=True, help="League code, e.g. NBA or MLB.")
        parser.add_argument("--from", dest="start", required=True, type=date_arg, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, type=date_arg, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--what", required=True, choices=[*WHATS, "both"], help="What to fetch.")
        parser.add_argument("--dry-run", action="store_true", help="Print the plan and its cost; ask nothing.")
        parser.add_argument(
            "--max-credits", type=credits_arg, help="Refuse the run if the odds would cost more credits than this."
        )
        parser.add_argument("--no-progress", action="store_true", help="Print progress lines, not a bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        whats = list(WHATS) if options["what"] == "both" else [options["what"]]
        on_terminal = sys.stderr.isatty() and not options["no_progress"] and not options["dry_run"]
        bar = tqdm(unit=" unit", file=self.stderr, leave=False) if on_terminal else None
        try:
            result = backfill_run(
                league_code=options["league"],
                whats=whats,
                start=options["start"],
                end=options["end"],
                max_credits=options["max_credits"],
                dry_run=options["dry_run"],
                say=self.stdout.write,
                progress=bar,
            )
        except SharplineError as exc:  # refused, pull failed, already running, provider down, bad payload
            raise CommandError(str(exc)) from exc
        if result.refused:
            raise CommandError(f"refused, nothing spent: {result.refused}")
        if result.failed or result.stopped:
            raise CommandError(
                f"{len(result.failed)} day(s) failed, {result.left} left"
                + (f" ({result.stopped})" if result.stopped else "")
                + ": run the same command again to retry them"
            )
