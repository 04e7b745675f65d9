"""What the fetch_* commands share: their flags, running a pull, and reporting it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from betting.games.pulls import PullResult
from core.errors import SharplineError
from core.management.args import DATE, LEAGUE, Arg, OneOf, file_arg
from core.management.base import SharplineCommand, command_errors

FROM_FILE = Arg.of(
    "--from-file", type=file_arg, metavar="PATH", help="Replay a recorded payload instead of calling the provider."
)
ODDS_FORMAT = Arg.of("--odds-format", choices=["decimal", "american"], help="Default: ODDS_API_ODDS_FORMAT.")


class PullCommand(SharplineCommand):
    """A fetch_* command: ``pull`` runs it with the parsed options; the result is reported, a known
    failure (PullError, ParseError, IngestFailed, ProviderError, AlreadyRunning, a file) is a CommandError."""

    arguments: ClassVar[tuple[Arg | OneOf, ...]] = (LEAGUE, DATE, FROM_FILE)

    def pull(self, options: Mapping[str, Any]) -> PullResult:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors(SharplineError, OSError, say=lambda exc: f"{type(exc).__name__}: {exc}"):
            result = self.pull(options)
        counts = {k: v for k, v in result.counts.items() if v not in ({}, [], 0, None)}
        summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) or "nothing to do"
        style = self.style.SUCCESS if result.status == "success" else self.style.WARNING
        self.stdout.write(style(f"{result.status}: {summary}") + (f"\n{result.note}" if result.note else ""))
        self.stdout.write(f"(job run #{result.job_run_id})")
