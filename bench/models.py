"""Model benchmarks on the bundled NBA data: full training time, and warm start against a
full retrain (time and log loss on the next season). Run by ``make bench`` (or
``python -m bench.models``) after ``make demo-data``; prints a table and writes
``bench/results-models.md``, and its figures as a JSON line last for ``bench/results.md``.

Each figure is measured in this run: the full retrain is the baseline the warm start is
compared with, on the same machine, data and games.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
django.setup()

import pandas as pd

from betting.games.models import League
from betting.predictions import features, metrics, selectors, training

REPEATS = 3


T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int = REPEATS) -> tuple[float, T]:
    """The fastest of ``repeats`` runs, and what the last run returned."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def main() -> int:
    league = League.objects.filter(code="NBA").first()
    if league is None or not league.games.exists():
        print("No NBA games in the database: run `make demo-data` first.", file=sys.stderr)
        return 2
    build_s, frame = best_of(lambda: features.build(selectors.feature_inputs(league), "NBA"))
    frame = frame.join(selectors.closing_market(league))
    utc = dt.UTC
    ten = frame[(frame["season"] >= 2007) & (frame["season"] <= 2016) & frame["final"]]
    full_ten_s, _ = best_of(lambda: training.fit(ten, "h2h"))

    split = pd.Timestamp(dt.datetime(2017, 1, 1, tzinfo=utc))
    season_end = pd.Timestamp(dt.datetime(2017, 10, 1, tzinfo=utc))
    before = frame[(frame["start_time"] < split) & frame["final"]]
    new = frame[(frame["start_time"] >= split) & (frame["start_time"] < season_end) & frame["final"]]
    test = frame[(frame["season"] == 2017) & frame["final"]]
    base = training.fit(before, "h2h")
    warm_s, warm = best_of(lambda: training.continue_fit(base, new))
    full_s, full = best_of(lambda: training.fit(frame[(frame["start_time"] < season_end) & frame["final"]], "h2h"))
    scored = training.outcomes(test, "h2h")
    warm_loss = metrics.log_loss(warm.probability(scored.frame), scored.outcome)
    full_loss = metrics.log_loss(full.probability(scored.frame), scored.outcome)
    base_loss = metrics.log_loss(base.probability(scored.frame), scored.outcome)

    rows = [
        ("feature frame, all NBA games", f"{len(frame):,} games", f"{build_s:.2f} s", ""),
        ("full training, ten seasons 2007-08..2016-17", f"{len(ten):,} games", f"{full_ten_s:.2f} s", "target < 30 s"),
        (
            "full retrain to 2017-10-01 (baseline)",
            f"{len(before) + len(new):,} games",
            f"{full_s:.3f} s",
            f"log loss 2017-18: {full_loss:.4f}",
        ),
        (
            "warm start: + Jan-Jun 2017 on the 2016-12-31 booster",
            f"{len(new):,} new games",
            f"{warm_s:.3f} s",
            f"log loss 2017-18: {warm_loss:.4f}",
        ),
        ("the 2016-12-31 booster, not updated", "", "", f"log loss 2017-18: {base_loss:.4f}"),
    ]
    speedup = full_s / warm_s
    verdict = [
        f"warm start is {speedup:.1f}x faster than the full retrain (target >= 5x)",
        f"log loss difference warm - full: {warm_loss - full_loss:+.4f} (target <= +0.002) "
        f"on {len(scored.outcome):,} games",
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{r[0]:<{width}}  {r[1]:>16}  {r[2]:>9}  {r[3]}" for r in rows] + [""] + verdict
    print("\n".join(lines))
    stamp = dt.datetime.now(utc).strftime("%Y-%m-%d %H:%M UTC")
    out = Path(__file__).with_name("results-models.md")
    out.write_text(
        f"# Model benchmarks ({stamp}, {os.cpu_count()} cores, best of {REPEATS})\n\n"
        "| what | data | time | note |\n|---|---|---|---|\n"
        + "\n".join(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows)
        + "\n\n"
        + "\n".join(f"- {v}" for v in verdict)
        + "\n"
    )
    print(f"\nwritten to {out}")
    # The figures for `python -m bench` (bench/results.md), as the last line.
    figures = {
        "warm_s": warm_s,
        "full_s": full_s,
        "warm_loss": warm_loss,
        "full_loss": full_loss,
        "speedup": speedup,
        "new_games": len(new),
        "full_games": len(before) + len(new),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
