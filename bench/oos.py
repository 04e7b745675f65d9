"""Out-of-sample model figures (issue 12, "Targets"): ``manage.py evaluate --walk-forward --json`` on
each season the models were not tuned on, every league/market beside its line baseline, Elo and the
de-vigged market on the same games, with whether each target holds. Writes its section of
``bench/results-models.md`` (raw figures in ``bench/results-models.json``).

Run by ``make bench`` (or ``python -m bench.oos``) on the database the environment names (the demo
database by default: ``make demo-data`` first). The evaluations run one after the other: each one
already keeps a core busy for a minute or two. Prints its figures as a JSON line last.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.seasons import Season as AnySeason
from bench.seasons import finish, nba, stamp
from bench.stack import QUICK, manage_json

# Log loss of a 50% forecast (ln 2), to the 6 decimals `evaluate` prints: what a model that knows
# nothing about a line must reach.
COIN = round(math.log(2), 6)


@dataclass(frozen=True)
class Season(AnySeason):
    def args(self) -> list[str]:
        return ["evaluate", *self.window_args(), "--walk-forward", "--json"]


def _nba(market: str, first_year: int, note: str = "") -> Season:
    return nba(Season, market, first_year, note)


# Choices (families, hyperparameters, gates) were made on seasons up to 2016-17; these are the seasons
# reported as out-of-sample. The 2022-23 Kaggle file has moneylines for its first 664 games only:
# `evaluate` scores h2h on the games the market priced.
SEASONS = [
    _nba("h2h", 2017),
    _nba("h2h", 2022, "moneylines for the first 664 games only"),
    *(_nba(market, year) for market in ("spreads", "totals") for year in (2017, 2022, 2023, 2024)),
    Season("MLB", "h2h", "2018", dt.date(2018, 3, 1), dt.date(2018, 11, 1)),
]
QUICK_SEASONS = [_nba("h2h", 2017)]  # make bench-quick: the same command on one season


def target(season: Season, result: dict[str, Any]) -> tuple[str, bool | None]:
    """The issue's target for this row, and whether it holds (None: nothing to compare with)."""
    model = (result.get("model") or {}).get("log_loss")
    if model is None:
        return "", None
    if season.market in ("spreads", "totals"):
        return f"model <= {COIN} (ln 2, a coin)", model <= COIN
    if season.league == "NBA":
        base = (result.get("baseline") or {}).get("log_loss")
        return "model <= line baseline", None if base is None else model <= base
    elo = (result.get("elo") or {}).get("log_loss")
    return "model < Elo", None if elo is None else model < elo


def evaluate(season: Season, env: dict[str, str]) -> dict[str, Any]:
    """One season's ``evaluate --json`` without its reliability table, its wall time, or ``{"error": ...}``."""
    result = manage_json(season.args(), env)
    result.pop("reliability", None)
    return result


def run(env: dict[str, str], seasons: list[Season] = SEASONS) -> dict[str, Any]:
    rows = []
    for season in seasons:
        print(f"  {season.league} {season.market} {season.label} ...", end=" ", flush=True)
        result = evaluate(season, env)
        goal, ok = target(season, result)
        rows.append(
            {
                "league": season.league,
                "market": season.market,
                "season": season.label,
                "from": season.start.isoformat(),
                "to": season.end.isoformat(),
                "note": season.note,
                "command": "manage.py " + " ".join(season.args()),
                "target": goal,
                "met": ok,
                "evaluate": result,  # the command's JSON (its "market" is the de-vigged close's scores)
            }
        )
        model = (result.get("model") or {}).get("log_loss")
        print(result["error"] if "error" in result else f"model {model} ({result['seconds']} s)", flush=True)
    return {**stamp(), "rows": rows}


def summary(oos: dict[str, Any]) -> dict[str, Any]:
    """The figures ``python -m bench`` keeps: how many rows meet their target, and which do not."""
    rows = oos["rows"]
    return {
        "rows": len(rows),
        "met": sum(1 for r in rows if r["met"]),
        "missed": [f"{r['league']} {r['market']} {r['season']}" for r in rows if r["met"] is False],
        "errors": [f"{r['league']} {r['market']} {r['season']}" for r in rows if "error" in r["evaluate"]],
        "when": oos["when"],
    }


def main() -> int:
    oos = run(dict(os.environ), QUICK_SEASONS if QUICK else SEASONS)
    return finish(oos, summary=summary, write=lambda m: report.write_models(oos=m), section=report.oos_section)


if __name__ == "__main__":
    sys.exit(main())
