from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from betting.bets.imports import LAYOUTS, import_bets, settle_later_message
from betting.bets.models import Bankroll
from betting.bets.selectors import bankrolls_for
from core.management.args import NO_PROGRESS, Arg
from core.management.base import SharplineCommand

SHOWN_PROBLEMS = 50


class Command(SharplineCommand):
    help = (
        "Import the bets you placed at your books from a CSV onto one of your bankrolls (all or nothing: a row "
        "that matches no game imports nothing and is listed), then settle them with their CLV."
    )

    arguments = (
        Arg.of("file", type=Path),
        Arg.of("--user", required=True, help="The username the bets belong to."),
        Arg.of("--bankroll", required=True, help="A bankroll name (one the user may bet on) or id."),
        Arg.of("--layout", default="generic", choices=sorted(LAYOUTS)),
        NO_PROGRESS.but(help="No progress bar on stderr."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
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
        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(
            f"{result.created} bets imported onto {bankroll.name}, {len(result.duplicates)} duplicates skipped, "
            f"{result.settled} settled, in {result.seconds:.1f}s" + settle_later_message(result)
        )
