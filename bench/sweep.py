"""A strategy sweep against one backtest, on the same season in the same run (issue 13, item 9):
20 strategies (Kelly 0.1, 0.25 x minimum edge 0.01, 0.02, 0.03, 0.05, 0.08 x open, close) over one
walk-forward, whose predictions are computed once (and blended once per timing: only the staking
differs between strategies), against a single backtest of the same window, each the faster of two
runs taken in turn (quick: one sweep between two single runs). Target: the sweep takes at most 3x
the single backtest.

Run by ``make bench`` (or ``python -m bench.sweep``) on the database the environment names (the demo
database by default): MLB 2018 when it is loaded, else NBA 2017-18. Prints its figures as a JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
django.setup()

from bench.stack import QUICK
from betting.bets import backtest as engine
from betting.games.models import Game, League
from betting.predictions.services import league_frame

KELLY = [0.1, 0.25]
MIN_EDGE = [0.01, 0.02, 0.03, 0.05, 0.08]
AT = ["open", "close"]
REPEATS = 2
SWEEPS = 1 if QUICK else REPEATS  # make bench-quick: one sweep, between the two single runs
WINDOWS = [
    ("MLB", dt.date(2018, 3, 1), dt.date(2018, 11, 30)),
    ("NBA", dt.date(2017, 10, 1), dt.date(2018, 6, 30)),
]


def main() -> int:
    chosen = next(
        (
            (League.objects.get(code=code), start, end)
            for code, start, end in WINDOWS
            if Game.objects.filter(league__code=code, game_date__gte=start, game_date__lte=end).exists()
        ),
        None,
    )
    if chosen is None:
        print(json.dumps({"error": "neither MLB 2018 nor NBA 2017-18 is loaded (make demo-data)"}))
        return 1
    league, start, end = chosen
    league_frame(league)  # the feature frame is cached: build it before either timing
    # The faster of two runs of each, taken in turn: the first single run also pays one-off warm-ups
    # the sweep then reuses, and a busy moment of a shared machine hits one run, not both of a kind.
    singles, sweeps = [], []
    for repeat in range(REPEATS):
        began = time.perf_counter()
        single = engine.run(league=league, market="h2h", start=start, end=end, strategy=engine.strategy_from({}))
        singles.append(time.perf_counter() - began)
        if repeat >= SWEEPS:
            continue
        began = time.perf_counter()
        rows = engine.sweep(
            league=league, market="h2h", start=start, end=end, params={}, kelly=KELLY, min_edge=MIN_EDGE, at=AT
        )
        sweeps.append(time.perf_counter() - began)
    single_s, sweep_s = min(singles), min(sweeps)
    figures = {
        "league": league.code,
        "window": f"{start}..{end}",
        "strategies": len(rows),
        "single_s": round(single_s, 2),
        "single_bets": single.n_bets,
        "sweep_s": round(sweep_s, 2),
        "ratio": round(sweep_s / single_s, 2),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
