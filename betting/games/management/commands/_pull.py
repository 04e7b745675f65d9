"""What the fetch_* commands share: arguments, running a pull, and reporting it."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from betting.games.pulls import PullResult
from core.errors import SharplineError


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"expected a date written YYYY-MM-DD, got {text!r}") from None


def file_arg(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ArgumentTypeError(f"no such file: {text}")
    return path


def add_common(parser: ArgumentParser, *, league_default: str | None = None, with_date: bool = True) -> None:
    parser.add_argument(
        "--league", required=league_default is None, default=league_default, help="League code, e.g. NBA."
    )
    if with_date:
        parser.add_argument("--date", type=date_arg, help="YYYY-MM-DD (default: today).")
    parser.add_argument(
        "--from-file", type=file_arg, metavar="PATH", help="Replay a recorded payload instead of calling the provider."
    )


def run_pull(command: BaseCommand, pull: Callable[[], PullResult]) -> None:
    try:
        result = pull()
    except (SharplineError, OSError) as exc:  # PullError, ParseError, IngestFailed, ProviderError, AlreadyRunning
        raise CommandError(f"{type(exc).__name__}: {exc}") from exc
    counts = {k: v for k, v in result.counts.items() if v not in ({}, [], 0, None)}
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) or "nothing to do"
    style = command.style.SUCCESS if result.status == "success" else command.style.WARNING
    command.stdout.write(style(f"{result.status}: {summary}") + (f"\n{result.note}" if result.note else ""))
    command.stdout.write(f"(job run #{result.job_run_id})")
