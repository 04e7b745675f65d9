from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from betting.bets.imports import LAYOUTS, import_bets
from betting.bets.models import Bankroll

SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Import the bets you placed at your books from a CSV onto one of your bankrolls (all or nothing: a row "
        "that matches no game imports nothing and is listed), then settle them with their CLV."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="The username the bets belong to.")
        parser.add_argument("--bankroll", required=True, help="A bankroll name (one the user may bet on) or id.")
        parser.add_argument("--layout", default="generic", choices=sorted(LAYOUTS))
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args: Any, **options: Any) -> None:
        from betting.bets.selectors import bankrolls_for

        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        mine = bankrolls_for(user, perm="bet")
        wanted = options["bankroll"]
        bankroll: Bankroll | None = mine.filter(name=wanted).order_by("owner_id").first()
        if bankroll is None and wanted.isdigit():
            bankroll = mine.filter(pk=int(wanted)).first()
        if bankroll is None:
            raise CommandError(f"{user} may bet on no bankroll {wanted!r}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no file {path}")
        show = not options["no_progress"] and sys.stderr.isatty()

        def progress(done: int, total: int, note: str) -> None:
            if show and total:
                width = 40
                filled = int(width * done / total)
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done * 100 // total:3d}% {note:<8}")
                sys.stderr.flush()

        with path.open("rb") as handle:
            result = import_bets(handle, user=user, bankroll=bankroll, layout=options["layout"], progress=progress)
        if show:
            sys.stderr.write("\n")
        for error in result.errors:
            self.stderr.write(error)
        for problem in result.unmatched[:SHOWN_PROBLEMS]:
            self.stderr.write(f"line {problem.line}: {problem.reason}")
        if len(result.unmatched) > SHOWN_PROBLEMS:
            self.stderr.write(f"... and {len(result.unmatched) - SHOWN_PROBLEMS} more rows to correct")
        if not result.ok:
            raise CommandError(
                f"nothing imported: {len(result.unmatched)} of {result.rows} rows to correct"
                + (f", {'; '.join(result.errors)}" if result.errors else "")
            )
        self.stdout.write(
            f"{result.created} bets imported onto {bankroll.name}, {len(result.duplicates)} duplicates skipped, "
            f"{result.settled} settled, in {result.seconds:.1f}s"
            + (f"; run settle_bets to settle the other {result.settle_later}" if result.settle_later else "")
        )
