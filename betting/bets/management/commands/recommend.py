from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from betting.bets.models import Bankroll
from betting.bets.services import bankroll_open, risk_limits, why_nothing_priced
from betting.bets.strategies import STRATEGIES, default_strategy, paper_recommend
from betting.games.models import Game, League
from core.formatting import format_line, format_money, format_odds
from core.jobs import job_run


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = (
        "Compare the active models' probabilities with the best price across books, size stakes by fractional "
        "Kelly under the risk limits, and (PAPER mode) place the accepted bets on the paper bankroll, once per run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--league", required=True)
        parser.add_argument("--date", type=_date, help="Games on this date (default: from now on).")
        parser.add_argument(
            "--bankroll",
            default=None,
            help="A system bankroll (created with --deposit if new); default PAPER_BANKROLL, the automatic run's.",
        )
        parser.add_argument(
            "--deposit", type=Decimal, default=Decimal("10000"), help="Opening deposit of a new bankroll."
        )
        parser.add_argument("--as-of", type=dt.datetime.fromisoformat, help="Decide as at this UTC time (replays).")
        parser.add_argument("--run", default="", help="Decision run id (default: derived from the time).")
        parser.add_argument(
            "--strategy",
            choices=STRATEGIES,
            default=None,
            help="model (the active models), scanner (+EV prices against the sharp consensus) or both; "
            "default PAPER_STRATEGY.",
        )
        parser.add_argument(
            "--min-edge", type=float, default=None, help="MIN_EDGE for this run only (probability points)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        league = League.objects.filter(code=options["league"].upper()).first()
        if league is None:
            raise CommandError(f"unknown league {options['league']!r}")
        now = options["as_of"] or timezone.now()
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        games = Game.objects.filter(league=league)
        games = games.filter(game_date=options["date"]) if options["date"] else games.filter(start_time__gt=now)
        mode = settings.BETTING_MODE
        # a replay opens the bankroll as of the decision time, so its curve starts before the first bet
        name = options["bankroll"] or settings.PAPER_BANKROLL
        bankroll = bankroll_open(name=name, deposit=options["deposit"], mode=mode, at=now)
        place = bankroll.mode == Bankroll.Mode.PAPER and mode == "PAPER"
        run_id = options["run"] or f"{now:%Y%m%d%H%M}"
        strategy = options["strategy"] or default_strategy()
        params = {"league": league.code, "bankroll": bankroll.name, "run": run_id, "strategy": strategy}
        with job_run("recommend", params) as run:
            limits = risk_limits(bankroll)
            if options["min_edge"] is not None:
                limits = replace(limits, min_edge=options["min_edge"])
            recs, warnings = paper_recommend(
                strategy=strategy,
                bankroll=bankroll,
                games=list(games.select_related("home_team", "away_team")),
                now=now,
                limits=limits,
                decision_run=run_id,
                place=place,
            )
            run.counts = {"candidates": len(recs), "bets": sum(1 for r in recs if r.bet_id), "warnings": warnings}
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        for rec in sorted(recs, key=lambda r: -r.stake):
            game = rec.game
            line = f" {format_line(rec.point, rec.market)}" if rec.point is not None else ""
            head = (
                f"{game.game_date} {game.away_team.abbreviation} @ {game.home_team.abbreviation} {rec.market} "
                f"{rec.outcome}{line}: {'blend' if rec.prediction_id is not None else 'sharp consensus'} "
                f"{rec.probability:.1%}, best {format_odds(rec.price, settings.ODDS_FORMAT)} at {rec.bookmaker.title}, "
                f"edge {rec.edge:+.1%}"
            )
            if rec.stake > 0:
                done = " (already placed)" if rec.already_placed else " (placed)" if rec.bet_id else ""
                self.stdout.write(self.style.SUCCESS(f"BET {format_money(rec.stake)} ") + head + done)
            elif options["verbosity"] > 1:
                self.stdout.write(f"pass {head}: {'; '.join(rec.reasons)}")
        if not recs:  # say why, with the numbers (bets.services.why_nothing_priced)
            explain = why_nothing_priced(
                league=league, games=list(games), now=now, day=options["date"], models=strategy != "scanner"
            )
            for reason in explain:
                self.stdout.write(self.style.WARNING(f"nothing priced: {reason}"))
        placed = sum(1 for r in recs if r.bet_id and not r.already_placed)
        already = sum(1 for r in recs if r.already_placed)
        self.stdout.write(
            f"{len(recs)} priced sides, {sum(1 for r in recs if r.stake > 0)} with a stake, {placed} placed"
            + (f", {already} already placed by run {run_id}" if already else "")
            + f" ({bankroll}; balance {format_money(bankroll.balance())})"
        )
