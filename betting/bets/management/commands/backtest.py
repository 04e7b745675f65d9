from __future__ import annotations

import json
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from betting.bets.backtest import MARKETS, BacktestError
from betting.bets.management.commands.recommend import _date
from betting.bets.models import Backtest
from betting.bets.pricing import DEVIG_METHODS
from betting.bets.services import backtest_create, backtest_run
from betting.games.models import League


class Command(BaseCommand):
    help = (
        "Walk-forward backtest: replay the strategy over finished games, deciding each one before its start "
        "with the model trained on earlier games and the prices standing at that moment, then report ROI and "
        "yield with bootstrap 95% intervals, hit rate, maximum drawdown and closing-line value. Saved as a "
        "Backtest row (see /backtests)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--league", required=True)
        parser.add_argument("--market", default="h2h", choices=MARKETS)
        parser.add_argument("--from", dest="date_from", type=_date, required=True, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", type=_date, required=True, help="Last day (YYYY-MM-DD).")
        parser.add_argument("--kelly", type=float, help="Kelly fraction (default KELLY_FRACTION).")
        parser.add_argument("--min-edge", type=float, help="Minimum edge, e.g. 0.02 (default MIN_EDGE).")
        parser.add_argument("--devig", choices=DEVIG_METHODS, default="multiplicative", help="For the closing line.")
        parser.add_argument(
            "--lead-minutes", type=int, default=5, help="Decide this long before each start (default 5)."
        )
        parser.add_argument("--bankroll", type=Decimal, default=Decimal("10000"), help="Starting bankroll.")
        parser.add_argument("--name", default="", help="A label for the strategy.")
        parser.add_argument("--queue", action="store_true", help="Queue it for a worker instead of running here.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object with the figures.")

    def handle(self, *args: Any, **options: Any) -> None:
        league = League.objects.filter(code=str(options["league"]).upper()).first()
        if league is None:
            codes = ", ".join(League.objects.values_list("code", flat=True)) or "none loaded: run sync_teams"
            raise CommandError(f"unknown league {options['league']!r} (known: {codes})")
        params = {
            "kelly_fraction": options["kelly"],
            "min_edge": options["min_edge"],
            "devig": options["devig"],
            "lead_minutes": options["lead_minutes"],
            "starting_bankroll": str(options["bankroll"]),
        }
        try:
            bt = backtest_create(
                league=league,
                market=options["market"],
                date_from=options["date_from"],
                date_to=options["date_to"],
                params=params,
                name=options["name"],
            )
        except BacktestError as exc:
            raise CommandError(str(exc)) from None
        if options["queue"]:
            from betting.bets.tasks import run_backtest

            result = run_backtest.delay(bt.pk)
            self.stdout.write(f"backtest {bt.pk} queued (task {result.id})")
            return
        bar = tqdm(total=0, unit="day", desc="backtest", disable=options["json"] or options["verbosity"] == 0)

        def progress(done: int, total: int, note: str) -> None:
            bar.total = total
            bar.update(done - bar.n)
            bar.set_postfix_str(note.split(": ", 1)[-1])

        bt = backtest_run(bt.pk, progress=progress)
        bar.close()
        if bt.status != Backtest.Status.SUCCESS:
            raise CommandError(f"backtest {bt.pk} failed: {bt.error}")
        if options["json"]:
            self.stdout.write(json.dumps(figures(bt), indent=2))
            return
        self.stdout.write(render(bt))


def figures(bt: Backtest) -> dict[str, Any]:
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
        "starting_bankroll": float(bt.starting_bankroll),
        "final_bankroll": float(bt.final_bankroll or 0),
        "days": bt.summary.get("days"),
        "games": bt.summary.get("games"),
        "games_priced": bt.summary.get("games_priced"),
        "model_updates": bt.summary.get("model_updates"),
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def render(bt: Backtest) -> str:
    f = figures(bt)
    ci = f["roi_ci95"]
    yci = f["yield_ci95"]
    lines = [
        f"Backtest {bt.pk}: {f['league']} {f['market']} {f['from']}..{f['to']} "
        f"(Kelly {bt.params.get('kelly_fraction')}, min edge {bt.params.get('min_edge')}, "
        f"decide {bt.params.get('lead_minutes')} min before the start)",
        f"  games {f['games']}, with a price at decision time {f['games_priced']}, bets {f['n_bets']}",
        f"  staked {f['staked']:,.2f}, profit {f['profit']:+,.2f}, bankroll {f['starting_bankroll']:,.2f} -> "
        f"{f['final_bankroll']:,.2f}",
        f"  ROI {_pct(f['roi'])} (95% CI {_pct(ci[0]) if ci else 'n/a'} .. {_pct(ci[1]) if ci else 'n/a'}), "
        f"yield {_pct(f['yield'])} (95% CI {_pct(yci[0]) if yci else 'n/a'} .. {_pct(yci[1]) if yci else 'n/a'})",
        f"  hit rate {'n/a' if f['hit_rate'] is None else format(f['hit_rate'], '.1%')}, max drawdown "
        f"{f['max_drawdown']:.1%}, average CLV {_pct(f['avg_clv'])}",
        f"  model updates {f['model_updates']}",
    ]
    passes = bt.summary.get("passes") or {}
    if passes:
        top = ", ".join(f"{reason} ({count})" for reason, count in list(passes.items())[:4])
        lines.append(f"  most common passes: {top}")
    return "\n".join(lines)
