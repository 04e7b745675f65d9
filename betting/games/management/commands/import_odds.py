from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from betting.games.providers import odds_api
from betting.games.providers.records import ParseError
from betting.games.services import odds_ingest
from core.jobs import job_run


class Command(BaseCommand):
    help = (
        "Load recorded The Odds API v4 odds responses (JSON files, e.g. a backfill or the bundled sample): "
        "games are matched or created, quotes appended only when a price or line moved. Idempotent."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--odds-format", choices=["decimal", "american"], default="decimal")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = []
        for path in options["files"]:
            with job_run("import_odds", {"file": str(path), "odds_format": options["odds_format"]}) as run:
                try:
                    report = odds_api.parse(path.read_bytes(), odds_format=options["odds_format"])
                except (OSError, ParseError) as exc:
                    run.status, run.error = "failed", f"{path}: {exc}"
                    failed.append(run.error)
                    self.stderr.write(self.style.ERROR(f"FAILED, nothing written: {run.error}"))
                    continue
                summary = odds_ingest(records=report.records)
                run.counts = {**summary.as_counts(), "parse_skipped": report.skipped}
                if summary.unknown_teams:
                    run.status = "partial"
                    run.error = "unknown team names: " + ", ".join(sorted(set(summary.unknown_teams)))
            self.stdout.write(
                f"{path}: {summary.events} events, {summary.games_created} games created, "
                f"{summary.quotes_created} quotes appended, {summary.quotes_unchanged} unchanged"
            )
            for reason, count in {**report.skipped, **summary.skipped}.items():
                self.stdout.write(f"  skipped {count} x {reason}")
            if summary.unknown_teams:
                names = ", ".join(sorted(set(summary.unknown_teams)))
                self.stdout.write(self.style.WARNING(f"  unknown teams (see the admin): {names}"))
        if failed:
            raise CommandError("; ".join(failed))
