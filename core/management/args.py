"""The flags the management commands share, each defined once, and the value types they parse.

A command lists its flags in ``arguments`` (``core.management.base.SharplineCommand``): the shared
ones from here (``LEAGUE``, ``JSON``, ``DATE``...), a variant of one (``LEAGUE.but(required=False)``)
or its own (``Arg.of("--warm", action="store_true")``)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError, _ArgumentGroup
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Arg:
    """One ``parser.add_argument(*flags, **options)``, declared once."""

    flags: tuple[str, ...]
    options: dict[str, Any]  # argparse's keyword arguments: a type, a default, choices...

    @classmethod
    def of(cls, *flags: str, **options: Any) -> Arg:
        return cls(flags, options)

    def but(self, **changes: Any) -> Arg:
        """The same flag with some options changed (another help, not required...)."""
        return Arg(self.flags, {**self.options, **changes})

    def add_to(self, parser: ArgumentParser | _ArgumentGroup) -> None:
        parser.add_argument(*self.flags, **self.options)


class OneOf:
    """Flags of which a command takes at most one (a mutually exclusive group)."""

    def __init__(self, *args: Arg) -> None:
        self.args = args

    def add_to(self, parser: ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for arg in self.args:
            arg.add_to(group)


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"expected a date written YYYY-MM-DD, got {text!r}") from None


def moment_arg(text: str) -> dt.datetime:
    """An ISO 8601 time (``2023-12-11T17:00Z``), read as UTC when it names no zone."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"expected an ISO 8601 time such as 2023-12-11T17:00Z, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def file_arg(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ArgumentTypeError(f"no such file: {text}")
    return path


LEAGUE = Arg.of("--league", required=True, help="League code, e.g. NBA or MLB.")
DATE = Arg.of("--date", type=date_arg, help="YYYY-MM-DD (default: today).")
START = Arg.of("--from", dest="start", type=date_arg, required=True, help="First day, YYYY-MM-DD.")
END = Arg.of("--to", dest="end", type=date_arg, required=True, help="Last day, YYYY-MM-DD.")
AS_OF = Arg.of("--as-of", type=moment_arg, help="As at this time, ISO 8601 (UTC when no zone): replays.")
JSON = Arg.of("--json", action="store_true", help="Print one JSON object.")
NO_PROGRESS = Arg.of("--no-progress", action="store_true", help="Do not draw progress bars.")
