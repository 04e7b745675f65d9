from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from betting.games.ingest.archive import FORMATS, ImportSummary, history_import_files
from betting.games.ingest.common import ImportFailed
from core.management.args import LEAGUE, NO_PROGRESS, Arg
from core.management.base import SharplineCommand, command_errors
from core.observe.progress import Progress


class Command(SharplineCommand):
    help = (
        "Import historical games, scores and lines from season archives: sportsbookreviewsonline "
        "(--format sbr, .xlsx or .csv; NBA or MLB) or the Kaggle NBA set (--format kaggle). "
        "Each file is imported whole or not at all; a second run changes nothing."
    )

    arguments = (
        Arg.of("files", nargs="+", type=Path, metavar="FILE"),
        LEAGUE,
        Arg.of("--format", required=True, choices=FORMATS, dest="fmt"),
        Arg.of(
            "--season", type=int, help="Year the season starts, when the file name does not say (2017 for 2017-18)."
        ),
        NO_PROGRESS,
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def bar(path: Path) -> Progress:  # a bar on a terminal, a few log lines elsewhere
            return self.progress(path.name, options, unit="games")

        with command_errors(ImportFailed):
            result = history_import_files(
                league_code=options["league"],
                fmt=options["fmt"],
                paths=options["files"],
                season=options["season"],
                progress_factory=bar,
            )
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
