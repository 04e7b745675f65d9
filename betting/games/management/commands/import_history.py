from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from betting.games.ingest.archive import FORMATS, ImportSummary, history_import_files
from betting.games.ingest.common import ImportFailed
from core.observe.progress import Progress


class Command(BaseCommand):
    help = (
        "Import historical games, scores and lines from season archives: sportsbookreviewsonline "
        "(--format sbr, .xlsx or .csv; NBA or MLB) or the Kaggle NBA set (--format kaggle). "
        "Each file is imported whole or not at all; a second run changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--league", required=True, help="League code, e.g. NBA or MLB.")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument(
            "--season", type=int, help="Year the season starts, when the file name does not say (2017 for 2017-18)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not draw progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        def bar(path: Path) -> Any:
            # a bar on a terminal, a few log lines elsewhere (core.observe.progress)
            disable = bool(options["no_progress"]) or options["verbosity"] == 0
            return Progress(path.name, unit="games", stream=self.stderr, disable=disable)

        try:
            result = history_import_files(
                league_code=options["league"],
                fmt=options["fmt"],
                paths=options["files"],
                season=options["season"],
                progress_factory=bar,
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        for summary in result.summaries:
            self._report(summary)
        for failure in result.failures:
            self.stderr.write(self.style.ERROR(f"FAILED, nothing written from this file: {failure}"))
        totals = result.totals()
        self.stdout.write(
            f"Total: {totals['files_imported']} file(s) imported, {totals['files_failed']} failed; "
            f"games {totals.get('games_created', 0)} created, {totals.get('games_updated', 0)} updated, "
            f"{totals.get('games_unchanged', 0)} unchanged; quotes {totals.get('quotes_created', 0)} created "
            f"(job run #{result.job_run_id})"
        )
        if result.failures:
            raise CommandError(
                f"{len(result.failures)} file(s) failed and were not imported: " + "; ".join(result.failures)
            )

    def _report(self, summary: ImportSummary) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"{summary.path}: ")
            + f"games {summary.games_created} created, {summary.games_updated} updated, "
            f"{summary.games_unchanged} unchanged; quotes {summary.quotes_created} created, "
            f"{summary.quotes_unchanged} unchanged"
        )
        for reason, count in sorted(summary.skipped.items()):
            self.stdout.write(f"  skipped {count} x {reason}")
        if summary.conflicts:
            self.stdout.write(self.style.WARNING(f"  {len(summary.conflicts)} disagreement(s) flagged for review:"))
            for line in summary.conflicts[:10]:
                self.stdout.write(f"    {line}")
            if len(summary.conflicts) > 10:
                self.stdout.write(f"    ... {len(summary.conflicts) - 10} more: admin, Games, filter 'needs review'")
