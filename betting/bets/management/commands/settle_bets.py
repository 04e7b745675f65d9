from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from betting.bets.services import bets_settle
from core.jobs import job_run


class Command(BaseCommand):
    help = "Settle every open bet whose game is final or called off: result, payout in the ledger, closing-line value."

    def handle(self, *args: Any, **options: Any) -> None:
        with job_run("settle_bets", {}) as run:
            summary = bets_settle()
            run.counts = {"settled": summary.settled, **summary.results}
        results = ", ".join(f"{k} {v}" for k, v in sorted(summary.results.items())) or "nothing to settle"
        self.stdout.write(self.style.SUCCESS(f"{summary.settled} bet(s) settled: {results}"))
