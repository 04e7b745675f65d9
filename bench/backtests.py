"""Out-of-sample backtests with the default strategy (issue 13, "Targets"): ``manage.py backtest
--json`` on each season the models were not tuned on, with whether each target holds: no more than
10% of the starting bankroll lost, a maximum drawdown (from the all-time peak of the daily bankroll)
within MAX_DRAWDOWN_FRACTION plus one day's DAILY_EXPOSURE_FRACTION, and the average CLV with its
95% interval. One stress row shows the stop holding when the strategy does bet: NBA h2h 2017-18 with
the market ignored (blend weights on the model alone, which the command does not expose: the
backtest services are called here). Writes ``bench/results-backtests.md`` (raw figures in
``bench/results-backtests.json``).

Run by ``make bench`` (or ``python -m bench.backtests``) on the database the environment names (the
demo database by default: ``make demo-data`` first). The backtests run one after the other. Prints
its figures as a JSON line last.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.seasons import Season as AnySeason
from bench.seasons import finish, nba, stamp
from bench.stack import QUICK, manage_json

# The targets: the share of the starting bankroll a season may lose, with default settings.
MAX_LOSS = 0.10
# The stress row's override: sigmoid(logit(model)), the model's probability with no market in it.
MODEL_ONLY = {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0}


@dataclass(frozen=True)
class Season(AnySeason):
    at: str = "close"

    def args(self) -> list[str]:
        return ["backtest", *self.window_args(), "--at", self.at, "--json"]


def _nba(market: str, first_year: int, note: str = "") -> Season:
    return nba(Season, market, first_year, note)


NO_SPREAD_PRICES = "the archives hold spread lines without prices: nothing is priced, so nothing is bet"
MLB_2018 = ("MLB", "h2h", "2018", dt.date(2018, 3, 1), dt.date(2018, 11, 1))

# Choices (families, hyperparameters, gates) were made on seasons up to 2016-17; these are the seasons
# reported as out-of-sample, each with the default strategy (settings' risk limits, KELLY_FRACTION,
# MIN_EDGE, DEVIG_METHOD), deciding 5 minutes before the start unless "open" says otherwise.
SEASONS = [
    _nba("h2h", 2017),
    _nba("h2h", 2022, "moneylines for the first 664 games only"),
    *(_nba("spreads", year, NO_SPREAD_PRICES) for year in (2022, 2023, 2024)),
    Season(*MLB_2018, at="open", note="at each game's first quote, the opening line"),
    Season(*MLB_2018, at="close"),
]
QUICK_SEASONS = [_nba("h2h", 2017)]  # make bench-quick: the same command on one season, and the stress row
STRESS = Season(
    "NBA",
    "h2h",
    "2017-18",
    dt.date(2017, 10, 1),
    dt.date(2018, 6, 30),
    note="the market ignored: blend weights " + ", ".join(f"{k} {v:g}" for k, v in MODEL_ONLY.items()),
)


def backtest(season: Season, env: dict[str, str]) -> dict[str, Any]:
    """One season's ``backtest --json`` (printed indented), its wall time, or ``{"error": ...}``."""
    return manage_json(season.args(), env)


def stress_params(season: Season) -> dict[str, Any]:
    """The default strategy but for the blend: the model alone."""
    return {"at": season.at, "blend_weights": MODEL_ONLY}


def stress(season: Season = STRESS) -> dict[str, Any]:
    """The stress row through the services the command calls (``backtest_create``, ``backtest_run``),
    with the model-only blend the command has no flag for; the same figures as its ``--json``."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
    django.setup()
    from betting.bets.backtest import BacktestError
    from betting.bets.management.commands.backtest import figures
    from betting.bets.models import Backtest
    from betting.bets.services import backtest_create, backtest_run
    from betting.games.models import League

    started = time.perf_counter()
    try:
        created = backtest_create(
            league=League.objects.get(code=season.league),
            market=season.market,
            date_from=season.start,
            date_to=season.end,
            params=stress_params(season),
            name="bench: model only (stress)",
        )
        bt = backtest_run(created.pk)
    except (BacktestError, League.DoesNotExist) as exc:
        return {"error": str(exc)[:300], "seconds": round(time.perf_counter() - started, 1)}
    except Exception as exc:  # the seasons already measured are still written; the page names the failure
        return {"error": f"{type(exc).__name__}: {exc}"[:300], "seconds": round(time.perf_counter() - started, 1)}
    seconds = round(time.perf_counter() - started, 1)
    if bt.status != Backtest.Status.SUCCESS:
        return {"error": f"backtest {bt.pk} failed: {bt.error}"[:300], "seconds": seconds}
    return {**figures(bt), "seconds": seconds}


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """The targets of one row: the loss and the drawdown against their bounds (None: not measured).
    The drawdown bound is MAX_DRAWDOWN_FRACTION + DAILY_EXPOSURE_FRACTION as the run read them from
    the settings (its strategy's limits)."""
    if "error" in result:
        return {"lost": None, "loss_ok": None, "dd_bound": None, "dd_ok": None}
    limits = result["strategy"]["limits"]
    bound = round(float(limits["max_drawdown_fraction"]) + float(limits["daily_exposure_fraction"]), 6)
    lost = max(0.0, -float(result["profit"])) / float(result["starting_bankroll"])
    return {
        "lost": round(lost, 6),
        "loss_ok": lost <= MAX_LOSS,
        "dd_bound": bound,
        "dd_ok": float(result["max_drawdown"]) <= bound,
    }


def row(season: Season, result: dict[str, Any], command: str) -> dict[str, Any]:
    return {
        "league": season.league,
        "market": season.market,
        "season": season.label,
        "at": season.at,
        "from": season.start.isoformat(),
        "to": season.end.isoformat(),
        "note": season.note,
        "command": command,
        **verdict(result),
        "backtest": result,  # the command's JSON (or the same figures, for the stress row)
    }


def _line(result: dict[str, Any]) -> str:
    if "error" in result:
        return str(result["error"])
    clv = "n/a" if result.get("avg_clv") is None else f"{result['avg_clv']:+.2%}"
    return (
        f"{result['n_bets']} bets, profit {result['profit']:+,.2f}, max drawdown {result['max_drawdown']:.1%}, "
        f"CLV {clv} ({result['seconds']} s)"
    )


def run(env: dict[str, str], seasons: list[Season] = SEASONS) -> dict[str, Any]:
    rows = []
    for season in seasons:
        print(f"  {season.league} {season.market} {season.label} at {season.at} ...", end=" ", flush=True)
        result = backtest(season, env)
        rows.append(row(season, result, "manage.py " + " ".join(season.args())))
        print(_line(result), flush=True)
    print(f"  stress: {STRESS.league} {STRESS.market} {STRESS.label}, {STRESS.note} ...", end=" ", flush=True)
    result = stress()
    params = json.dumps(stress_params(STRESS))
    command = (
        f"backtest_create(league={STRESS.league}, market={STRESS.market}, date_from={STRESS.start}, "
        f"date_to={STRESS.end}, params={params}), then backtest_run"
    )
    stressed = row(STRESS, result, command)
    print(_line(result), flush=True)
    return {
        **stamp(),
        "max_loss": MAX_LOSS,
        "rows": rows,
        "stress": stressed,
    }


TIMED = ("seconds", "n_bets", "roi", "yield", "avg_clv", "final_bankroll")


def summary(backtests: dict[str, Any]) -> dict[str, Any]:
    """The figures ``python -m bench`` keeps: how many seasons meet both targets, and the stress row."""
    rows = backtests["rows"]
    name = "{league} {market} {season} at {at}".format
    stressed = backtests["stress"]
    return {
        "rows": len(rows),
        "met": sum(1 for r in rows if r["loss_ok"] and r["dd_ok"]),
        "missed": [name(**r) for r in rows if r["loss_ok"] is False or r["dd_ok"] is False],
        "errors": [name(**r) for r in rows if "error" in r["backtest"]],
        "bets": sum(int(r["backtest"].get("n_bets") or 0) for r in rows),
        # each season's command with its wall time and headline figures: a quick run's backtest step
        # is the same command as its one season, and takes its time from here instead of running it again
        "timed": [
            {"command": r["command"], **{k: r["backtest"][k] for k in TIMED if k in r["backtest"]}}
            for r in rows
            if "error" not in r["backtest"]
        ],
        "stress": {
            "bets": stressed["backtest"].get("n_bets"),
            "max_drawdown": stressed["backtest"].get("max_drawdown"),
            "bound": stressed["dd_bound"],
            "met": stressed["dd_ok"],
            "error": stressed["backtest"].get("error"),
        },
        "when": backtests["when"],
    }


def main() -> int:
    backtests = run(dict(os.environ), QUICK_SEASONS if QUICK else SEASONS)
    return finish(backtests, summary=summary, write=report.write_backtests, section=report.backtests_section)


if __name__ == "__main__":
    sys.exit(main())
