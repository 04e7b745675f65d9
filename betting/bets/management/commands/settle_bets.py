from __future__ import annotations

from typing import Any

from betting.bets.services import bets_settle
from core.management.args import AS_OF
from core.management.base import SharplineCommand
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = "Settle every open bet whose game is final or called off: result, payout in the ledger, closing-line value."
    arguments = (AS_OF.but(help="Settle as at this UTC time (replays): only games started before it, settled at it."),)

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["as_of"]
        with (
            job_run("settle_bets", {"as_of": now.isoformat() if now else ""}) as run,
            self.progress("settle", options, unit="bets") as bar,
        ):
            summary = bets_settle(now=now, progress=bar)
            run.counts = {"settled": summary.settled, **summary.results}
        results = ", ".join(f"{k} {v}" for k, v in sorted(summary.results.items())) or "nothing to settle"
        self.stdout.write(self.style.SUCCESS(f"{summary.settled} bet(s) settled: {results}"))
