"""Model training benchmarks on the bundled NBA data (issue 12, "Targets"): full training on the ten
seasons 2007-08..2016-17 including the family search (target < 30 s), a refit with the family fixed
(what a scheduled retrain does), and a warm start on one night's games against the full retrain it
replaces (target >= 5x faster), each with its log loss on the 2017-18 season (never trained on).

Run by ``make bench`` (or ``python -m bench.models``) on the database the environment names (the
demo database by default, after ``make demo-data``); prints a table, writes its section of
``bench/results-models.md`` and its figures as a JSON line last for ``bench/results.md``. Every
figure is measured in this run, on the same machine, data and games.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
django.setup()

import pandas as pd

from bench import report
from bench.stack import QUICK, code_version
from betting.games.models import League
from betting.predictions import features, metrics, selectors, training
from betting.predictions.services import game_day

REPEATS = 3
SEARCH_REPEATS = 2  # the search takes seconds: two runs are enough for the faster of them
FIRST_SEASON, LAST_SEASON = 2007, 2016  # the ten training seasons (season = the year it starts)
if QUICK:  # make bench-quick: three training seasons, the same steps
    FIRST_SEASON, REPEATS, SEARCH_REPEATS = 2014, 1, 1
TEST_SEASON = 2017
MIN_NIGHT_GAMES = 8  # the warm start's night: the last one of the window with at least this many games

T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int = REPEATS) -> tuple[float, T]:
    """The fastest of ``repeats`` runs, and what the last run returned."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def last_night(games: pd.DataFrame) -> pd.Timestamp:
    """The last betting day of ``games`` with at least MIN_NIGHT_GAMES finished games (the Finals
    are one game a night: a regular night is the case the warm start is for)."""
    counts = games.groupby(game_day(games["start_time"])).size()
    return pd.Timestamp(counts[counts >= MIN_NIGHT_GAMES].index.max())


def measure(frame: pd.DataFrame) -> dict[str, Any]:
    final = frame[frame["final"]]
    ten = final[(final["season"] >= FIRST_SEASON) & (final["season"] <= LAST_SEASON)]
    scored = training.outcomes(final[final["season"] == TEST_SEASON], "h2h")

    def loss(fitted: training.Fitted) -> float:
        return metrics.log_loss(fitted.probability(scored.frame), scored.outcome)

    search_s, searched = best_of(lambda: training.fit(ten, "h2h"), SEARCH_REPEATS)
    family = searched.family
    refit_s, refit = best_of(lambda: training.fit(ten, "h2h", family=family))

    # The baseline family has no rounds to continue (its warm start is a copy): then the warm start is
    # measured on the trees, the family with the most to retrain.
    warm_family = family if family != "line" else "trees"
    night = last_night(ten)
    day = game_day(ten["start_time"])
    before, new, through = ten[day < night], ten[day == night], ten[day <= night]
    base = training.fit(before, "h2h", family=warm_family)
    warm_s, warm = best_of(lambda: training.continue_fit(base, new))
    # What the warm start stands in for: the same family retrained on the same games, the night included.
    full_s, full = best_of(lambda: training.fit(through, "h2h", family=warm_family))
    return {
        "ten_games": len(ten),
        "family": family,
        "why": searched.params.get("why", ""),
        "validation": searched.params.get("validation", {}),
        "search_s": search_s,
        "search_loss": loss(searched),
        "refit_s": refit_s,
        "refit_loss": loss(refit),
        "baseline_loss": metrics.log_loss(searched.baseline_probability(scored.frame), scored.outcome),
        "warm_family": warm_family,
        "night": night.date().isoformat(),
        "new_games": len(new),
        "full_games": len(through),
        "warm_s": warm_s,
        "warm_loss": loss(warm),
        "full_s": full_s,
        "full_loss": loss(full),
        "base_loss": loss(base),
        "speedup": full_s / warm_s,
        "test_games": len(scored.outcome),
    }


def table(m: dict[str, Any], build_s: float, n_frame: int) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    test = f"log loss {TEST_SEASON}-{(TEST_SEASON + 1) % 100:02d}"
    rows = [
        ("feature frame, all NBA games", f"{n_frame:,} games", f"{build_s:.2f} s", ""),
        (
            "full training with the family search, ten seasons 2007-08..2016-17",
            f"{m['ten_games']:,} games",
            f"{m['search_s']:.2f} s",
            f"chose `{m['family']}`; {test}: {m['search_loss']:.4f} (line baseline {m['baseline_loss']:.4f})",
        ),
        (
            f"refit with the family fixed (`{m['family']}`), same games",
            f"{m['ten_games']:,} games",
            f"{m['refit_s']:.3f} s",
            f"{test}: {m['refit_loss']:.4f}",
        ),
        (
            f"full retrain (`{m['warm_family']}`) to the night of {m['night']} included (the warm start's baseline)",
            f"{m['full_games']:,} games",
            f"{m['full_s']:.3f} s",
            f"{test}: {m['full_loss']:.4f}",
        ),
        (
            f"warm start: the night of {m['night']} on the model trained to the night before",
            f"{m['new_games']:,} new games",
            f"{m['warm_s']:.3f} s",
            f"{test}: {m['warm_loss']:.4f}",
        ),
        ("the model trained to the night before, not updated", "", "", f"{test}: {m['base_loss']:.4f}"),
    ]
    verdict = [
        f"full training with the search: {m['search_s']:.1f} s (target < 30 s: "
        f"{'met' if m['search_s'] < 30 else 'missed'})",
        f"warm start is {m['speedup']:.1f}x faster than the full retrain it replaces (target >= 5x: "
        f"{'met' if m['speedup'] >= 5 else 'missed'})",
        f"log loss difference warm - full: {m['warm_loss'] - m['full_loss']:+.4f} (target <= +0.002) on "
        f"{m['test_games']:,} games of {TEST_SEASON}-{(TEST_SEASON + 1) % 100:02d}",
        f"search: {m['why']}",
    ]
    return rows, verdict


def main() -> int:
    league = League.objects.filter(code="NBA").first()
    if league is None or not league.games.exists():
        print("No NBA games in the database: run `make demo-data` first.", file=sys.stderr)
        return 2
    build_s, frame = best_of(lambda: features.build(selectors.feature_inputs(league), "NBA"))
    frame = frame.join(selectors.closing_market(league))
    figures = measure(frame)
    rows, verdict = table(figures, build_s, len(frame))
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{r[0]:<{width}}  {r[1]:>16}  {r[2]:>9}  {r[3]}" for r in rows) + "\n")
    print("\n".join(verdict))
    if QUICK:  # a quick run leaves the results pages alone
        print(json.dumps({k: v for k, v in figures.items() if k != "validation"}))
        return 0
    out = report.write_models(
        training={
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cores": os.cpu_count(),
            "code": code_version(),
            "repeats": f"{REPEATS} ({SEARCH_REPEATS} for the search)",
            "rows": rows,
            "verdict": verdict,
            "figures": figures,
        }
    )
    print(f"\nwritten to {out}")
    # The figures for `python -m bench` (bench/results.md), as the last line.
    print(json.dumps({k: v for k, v in figures.items() if k != "validation"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
