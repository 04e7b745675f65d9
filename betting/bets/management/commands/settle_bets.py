from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from betting.bets.services import bets_settle
from core.observe.progress import Progress
from core.ops.jobs import job_run


class Command(BaseCommand):
    help = "Settle every open bet whose game is final or called off: result, payout in the ledger, closing-line value."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--as-of",
            type=dt.datetime.fromisoformat,
            help="Settle as at this UTC time (replays): only games started before it, settled at it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["as_of"]
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        quiet = options["verbosity"] == 0
        with (
            job_run("settle_bets", {"as_of": now.isoformat() if now else ""}) as run,
            Progress("settle", unit="bets", stream=self.stderr, disable=quiet) as bar,
        ):
            summary = bets_settle(now=now, progress=bar)
            run.counts = {"settled": summary.settled, **summary.results}
        results = ", ".join(f"{k} {v}" for k, v in sorted(summary.results.items())) or "nothing to settle"
        self.stdout.write(self.style.SUCCESS(f"{summary.settled} bet(s) settled: {results}"))
