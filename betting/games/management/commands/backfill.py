from __future__ import annotations

import sys
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import CommandError
from tqdm import tqdm

from betting.games.backfill import WHATS, backfill_run
from core.errors import SharplineError
from core.management.args import END, LEAGUE, NO_PROGRESS, START, Arg
from core.management.base import SharplineCommand, command_errors


def credits_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ArgumentTypeError(f"expected a whole number of credits, 0 or more, got {text!r}")
    return value


class Command(SharplineCommand):
    help = (
        "Backfill a league's past days: ESPN scoreboards (--what scores), The Odds API historical snapshots "
        "(--what odds: an opening one and a closing one before each start time; credits estimated and printed "
        "first) or both. Resumable: the days done are skipped, the failed ones retried; a second run changes nothing."
    )

    arguments = (
        LEAGUE,
        START,
        END,
        Arg.of("--what", required=True, choices=[*WHATS, "both"], help="What to fetch."),
        Arg.of("--dry-run", action="store_true", help="Print the plan and its cost; ask nothing."),
        Arg.of("--max-credits", type=credits_arg, help="Refuse the run if the odds would cost more credits than this."),
        NO_PROGRESS.but(help="Print progress lines, not a bar."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        whats = list(WHATS) if options["what"] == "both" else [options["what"]]
        on_terminal = sys.stderr.isatty() and not options["no_progress"] and not options["dry_run"]
        bar = tqdm(unit=" unit", file=self.stderr, leave=False) if on_terminal else None
        with command_errors(SharplineError):  # refused, pull failed, already running, provider down, bad payload
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
        if result.refused:
            raise CommandError(f"refused, nothing spent: {result.refused}")
        if result.failed or result.stopped:
            raise CommandError(
                f"{len(result.failed)} day(s) failed, {result.left} left"
                + (f" ({result.stopped})" if result.stopped else "")
                + ": run the same command again to retry them"
            )
