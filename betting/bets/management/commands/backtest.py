from __future__ import annotations

import json
from argparse import ArgumentTypeError
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.management.base import CommandError

from betting.bets.backtest import (
    AT_CHOICES,
    MARKETS,
    BacktestError,
    BlendInForce,
    passes_with_figures,
    sweep,
)
from betting.bets.models import Backtest
from betting.bets.pricing import DEVIG_METHODS, DevigMethod
from betting.bets.services import backtest_create, backtest_run
from betting.bets.tasks import run_backtest
from betting.games.models import League
from betting.games.selectors import league_of
from core.management.args import END, JSON, LEAGUE, START, Arg
from core.management.base import SharplineCommand, command_errors


def _numbers(text: str) -> list[float]:
    """0.1 or 0.1,0.25: one number or a comma-separated list."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ArgumentTypeError(f"not a number or a list of numbers: {text!r}") from None


def _choices(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    wrong = [v for v in values if v not in AT_CHOICES]
    if wrong or not values:
        raise ArgumentTypeError(f"choose from {', '.join(AT_CHOICES)} (a list with --sweep), got {text!r}")
    return values


class Command(SharplineCommand):
    help = (
        "Walk-forward backtest: replay the strategy over finished games, deciding each one before its start "
        "with the model trained on earlier games and the prices standing at that moment, then report ROI and "
        "yield with bootstrap 95% intervals, hit rate, maximum drawdown and closing-line value. Saved as a "
        "Backtest row (see /backtests)."
    )

    arguments = (
        LEAGUE,
        Arg.of("--market", default="h2h", choices=MARKETS),
        START.but(dest="date_from"),
        END.but(dest="date_to"),
        Arg.of(
            "--kelly", type=_numbers, help="Kelly fraction (default KELLY_FRACTION); with --sweep a list: 0.1,0.25."
        ),
        Arg.of(
            "--min-edge",
            type=_numbers,
            help="Minimum edge of the blended probability over the price, e.g. 0.02 (default MIN_EDGE); "
            "with --sweep a list: 0.01,0.02.",
        ),
        Arg.of(
            "--devig",
            choices=DEVIG_METHODS,
            default=None,
            help="For the market at decision time (default DEVIG_METHOD); CLV is always against the close "
            "de-vigged by DEVIG_METHOD, as settlement measures it.",
        ),
        Arg.of(
            "--at",
            type=_choices,
            default=["close"],
            help="When to decide: 'open' (each game's first quote, the opening line) or 'close' (--lead-minutes "
            "before the start; the default); with --sweep a list: open,close.",
        ),
        Arg.of("--lead-minutes", type=int, default=5, help="With --at close: decide this long before each start (5)."),
        Arg.of(
            "--sweep",
            action="store_true",
            help="Run every combination of --kelly, --min-edge and --at over one walk-forward (the predictions "
            "computed once) and print one row each; nothing is saved.",
        ),
        Arg.of("--bankroll", type=Decimal, default=Decimal("10000"), help="Starting bankroll."),
        Arg.of("--name", default="", help="A label for the strategy."),
        Arg.of("--queue", action="store_true", help="Queue it for a worker instead of running here."),
        JSON.but(help="Print one JSON object with the figures."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        league = league_of(options["league"], error=CommandError, none_known="none loaded: run sync_reference")
        if options["sweep"]:
            self._sweep(league, options)
            return
        for name in ("kelly", "min_edge", "at"):
            if options[name] and len(options[name]) > 1:
                raise CommandError(f"several values of --{name.replace('_', '-')} need --sweep")
        params = {
            "kelly_fraction": options["kelly"][0] if options["kelly"] else None,
            "min_edge": options["min_edge"][0] if options["min_edge"] else None,
            **_decision(options),
            "at": options["at"][0],
            "starting_bankroll": str(options["bankroll"]),
        }
        with command_errors(BacktestError):
            bt = backtest_create(
                league=league,
                market=options["market"],
                date_from=options["date_from"],
                date_to=options["date_to"],
                params=params,
                name=options["name"],
            )
        if options["queue"]:
            result = run_backtest.delay(bt.pk)
            self.stdout.write(f"backtest {bt.pk} queued (task {result.id})")
            return
        with self.progress("backtest", options, unit="days") as bar:
            bt = backtest_run(bt.pk, progress=lambda done, total, note: bar(done, total, note.split(": ", 1)[-1]))
        if bt.status != Backtest.Status.SUCCESS:
            raise CommandError(f"backtest {bt.pk} failed: {bt.error}")
        if options["json"]:
            self.stdout.write(json.dumps(figures(bt), indent=2))
            return
        self.stdout.write(render(bt))

    def _sweep(self, league: League, options: dict[str, Any]) -> None:
        params = {**_decision(options), "starting_bankroll": str(options["bankroll"])}
        with command_errors(BacktestError), self.progress("sweep", options, unit="days") as bar:
            rows = sweep(
                league=league,
                market=options["market"],
                start=options["date_from"],
                end=options["date_to"],
                params=params,
                kelly=options["kelly"] or [settings.RISK_LIMITS["kelly_fraction"]],
                min_edge=options["min_edge"] or [settings.RISK_LIMITS["min_edge"]],
                at=options["at"],
                progress=bar,
            )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(
            f"Sweep: {league.code} {options['market']} {options['date_from']}..{options['date_to']}, "
            f"{len(rows)} strategies over one walk-forward"
        )
        self.stdout.write(
            f"{'at':<6}{'kelly':>6}{'min edge':>9}{'bets':>6}{'staked':>11}{'profit':>10}{'ROI':>8}"
            f"{'yield':>8}{'max DD':>7}{'CLV':>8}  CLV 95% CI"
        )
        for row in rows:
            ci = row["clv_ci95"]
            self.stdout.write(
                f"{row['at']:<6}{row['kelly_fraction']:>6g}{row['min_edge']:>9g}{row['n_bets']:>6}"
                f"{row['staked']:>11,.2f}{row['profit']:>+10,.2f}{_pct(row['roi']):>8}{_pct(row['yield']):>8}"
                f"{row['max_drawdown']:>7.1%}{_pct(row['avg_clv']):>8}  "
                + (f"{_pct(ci[0])} .. {_pct(ci[1])}" if ci else "n/a")
            )


class Decision(TypedDict):
    devig: DevigMethod | None  # None: DEVIG_METHOD
    lead_minutes: int


# One backtest's figures as JSON ("from" and "yield" are Python keywords: the functional form).
BacktestFigures = TypedDict(
    "BacktestFigures",
    {
        "id": int,
        "league": str,
        "market": str,
        "from": str,
        "to": str,
        "strategy": dict[str, object],  # Backtest.params (`backtest.StrategyParams`)
        "n_bets": int | None,
        "staked": float,
        "profit": float,
        "roi": float | None,
        "roi_ci95": list[float | None] | None,
        "yield": float | None,
        "yield_ci95": list[float | None] | None,
        "hit_rate": float | None,
        "max_drawdown": float | None,
        "avg_clv": float | None,
        "clv_ci95": list[float] | None,
        "blend": BlendInForce | None,
        "passes": dict[str, int] | None,
        "starting_bankroll": float,
        "final_bankroll": float,
        "days": int | None,
        "games": int | None,
        "games_priced": int | None,
        "model_updates": dict[str, int] | None,
    },
)


def _decision(options: dict[str, Any]) -> Decision:
    """How the market is read at decision time: the strategy's parameters a sweep does not vary."""
    return {"devig": options["devig"], "lead_minutes": options["lead_minutes"]}


def figures(bt: Backtest) -> BacktestFigures:
    """The backtest's figures as one JSON-ready object."""
    ci = [bt.roi_ci_low, bt.roi_ci_high] if bt.roi_ci_low is not None else None
    yci = [bt.yield_ci_low, bt.yield_ci_high] if bt.yield_ci_low is not None else None
    return {
        "id": bt.pk,
        "league": bt.league.code,
        "market": bt.market,
        "from": bt.date_from.isoformat(),
        "to": bt.date_to.isoformat(),
        "strategy": bt.params,
        "n_bets": bt.n_bets,
        "staked": float(bt.staked or 0),
        "profit": float(bt.profit or 0),
        "roi": bt.roi,
        "roi_ci95": ci,
        "yield": bt.yield_rate,
        "yield_ci95": yci,
        "hit_rate": bt.hit_rate,
        "max_drawdown": bt.max_drawdown,
        "avg_clv": bt.avg_clv,
        "clv_ci95": bt.summary.get("clv_ci95"),
        "blend": bt.summary.get("blend"),
        "passes": bt.summary.get("passes"),
        "starting_bankroll": float(bt.starting_bankroll),
        "final_bankroll": float(bt.final_bankroll or 0),
        "days": bt.summary.get("days"),
        "games": bt.summary.get("games"),
        "games_priced": bt.summary.get("games_priced"),
        "model_updates": bt.summary.get("model_updates"),
    }


def _weights(blend: BlendInForce | None) -> str:
    """The blend weights in force over the window, in words."""
    used = (blend.get("weights") if blend else None) or []
    if not used:
        return "n/a"
    parts = [
        f"from {u['from']}: "
        + (
            "none (the market alone)"
            if u["weights"] is None
            else ", ".join(f"{k} {v:+.3f}" for k, v in u["weights"].items())
        )
        for u in used[-3:]
    ]
    more = f" ({len(used) - 3} earlier changes)" if len(used) > 3 else ""
    return "; ".join(parts) + more


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def render(bt: Backtest) -> str:
    f = figures(bt)
    ci = f["roi_ci95"]
    yci = f["yield_ci95"]
    lines = [
        f"Backtest {bt.pk}: {f['league']} {f['market']} {f['from']}..{f['to']} "
        f"(Kelly {bt.params.get('kelly_fraction')}, min edge {bt.params.get('min_edge')}, "
        + (
            "decide at the opening line)"
            if bt.params.get("at") == "open"
            else f"decide {bt.params.get('lead_minutes')} min before the start)"
        ),
        f"  games {f['games']}, with a price at decision time {f['games_priced']}, bets {f['n_bets']}",
        f"  staked {f['staked']:,.2f}, profit {f['profit']:+,.2f}, bankroll {f['starting_bankroll']:,.2f} -> "
        f"{f['final_bankroll']:,.2f}",
        f"  ROI {_pct(f['roi'])} (95% CI {_pct(ci[0]) if ci else 'n/a'} .. {_pct(ci[1]) if ci else 'n/a'}), "
        f"yield {_pct(f['yield'])} (95% CI {_pct(yci[0]) if yci else 'n/a'} .. {_pct(yci[1]) if yci else 'n/a'})",
        f"  hit rate {'n/a' if f['hit_rate'] is None else format(f['hit_rate'], '.1%')}, max drawdown "
        f"{f['max_drawdown']:.1%}, average CLV {_pct(f['avg_clv'])} against the de-vigged close "
        f"(95% CI {_pct(f['clv_ci95'][0]) if f['clv_ci95'] else 'n/a'} .. "
        f"{_pct(f['clv_ci95'][1]) if f['clv_ci95'] else 'n/a'})",
        f"  blend weights {_weights(f['blend'])}",
        f"  model updates {f['model_updates']}",
    ]
    passes = passes_with_figures(bt.summary if isinstance(bt.summary, dict) else {})
    if passes:
        lines.append("  most common passes:")
        for row in passes[:4]:
            shown = "; ".join(f"{text} ({n:,})" for text, n in row["examples"]) or row["kind"]
            more = f"; {row['others']:,} more with other figures" if row["examples"] and row["others"] else ""
            lines.append(f"    {row['count']:,}: {shown}{more}")
    return "\n".join(lines)
