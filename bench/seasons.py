"""What the per-season steps share: ``bench/oos.py`` (``evaluate --walk-forward`` on each season) and
``bench/backtests.py`` (``backtest`` on each season): a season and its window, the NBA seasons by the
year they start, the stamp of a run, and the way each step ends (a quick run prints its summary and
leaves the results pages alone; a full run rewrites its page first).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.stack import QUICK, code_version


@dataclass(frozen=True)
class Season:
    league: str
    market: str
    label: str
    start: dt.date
    end: dt.date
    note: str = ""

    def window_args(self) -> list[str]:
        """The command-line flags naming the league, market and window, as both commands take them."""
        return ["--league", self.league, "--market", self.market, "--from", self.start.isoformat(),
                "--to", self.end.isoformat()]  # fmt: skip


S = TypeVar("S", bound=Season)


def nba(kind: type[S], market: str, first_year: int, note: str = "") -> S:
    """The NBA season starting in October of ``first_year`` (label ``2017-18``), to the end of June."""
    label = f"{first_year}-{(first_year + 1) % 100:02d}"
    return kind("NBA", market, label, dt.date(first_year, 10, 1), dt.date(first_year + 1, 6, 30), note=note)


def stamp() -> dict[str, Any]:
    """When, on how many cores and on which code a step's figures were measured."""
    return {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
            "code": code_version()}  # fmt: skip


def finish(
    measured: dict[str, Any],
    *,
    summary: Callable[[dict[str, Any]], dict[str, Any]],
    write: Callable[[dict[str, Any]], Path],
    section: Callable[[dict[str, Any]], str],
) -> int:
    """Print the summary last (``python -m bench`` reads it); a full run first writes its page
    (``write``) and prints its section. Non-zero only when nothing could be measured: a season that
    failed is listed in the page and in the summary's "errors" (``python -m bench`` fails on them)."""
    figures = summary(measured)
    if not QUICK:  # a quick run leaves the results pages alone
        out = write(measured)
        print()
        print(section(measured))
        print(f"\nwritten to {out}")
    print(json.dumps(figures))
    return 1 if not QUICK and len(figures["errors"]) == len(measured["rows"]) else 0
