from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from betting.bets.models import Bankroll
from betting.bets.services import bankroll_open, recommend, risk_limits
from betting.games.models import Game, League
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
        parser.add_argument("--bankroll", default="paper", help="Bankroll name (created with --deposit if new).")
        parser.add_argument(
            "--deposit", type=Decimal, default=Decimal("10000"), help="Opening deposit of a new bankroll."
        )
        parser.add_argument("--as-of", type=dt.datetime.fromisoformat, help="Decide as at this UTC time (replays).")
        parser.add_argument("--run", default="", help="Decision run id (default: derived from the time).")

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
        bankroll = bankroll_open(name=options["bankroll"], deposit=options["deposit"], mode=mode, at=now)
        place = bankroll.mode == Bankroll.Mode.PAPER and mode == "PAPER"
        run_id = options["run"] or f"{now:%Y%m%d%H%M}"
        with job_run("recommend", {"league": league.code, "bankroll": bankroll.name, "run": run_id}) as run:
            recs, warnings = recommend(
                bankroll=bankroll, games=list(games), now=now, limits=risk_limits(), decision_run=run_id, place=place
            )
            run.counts = {"candidates": len(recs), "bets": sum(1 for r in recs if r.bet_id), "warnings": warnings}
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        for rec in sorted(recs, key=lambda r: -r.stake):
            game = rec.game
            line = f" {rec.point:+}" if rec.point is not None else ""
            head = (
                f"{game.game_date} {game.away_team.abbreviation} @ {game.home_team.abbreviation} {rec.market} "
                f"{rec.outcome}{line}: blend {rec.probability:.1%}, best {rec.price} at {rec.bookmaker.title}, "
                f"edge {rec.edge:+.1%}"
            )
            if rec.stake > 0:
                done = " (already placed)" if rec.already_placed else " (placed)" if rec.bet_id else ""
                self.stdout.write(self.style.SUCCESS(f"BET {rec.stake} ") + head + done)
            elif options["verbosity"] > 1:
                self.stdout.write(f"pass {head}: {'; '.join(rec.reasons)}")
        placed = sum(1 for r in recs if r.bet_id and not r.already_placed)
        already = sum(1 for r in recs if r.already_placed)
        self.stdout.write(
            f"{len(recs)} priced sides, {sum(1 for r in recs if r.stake > 0)} with a stake, {placed} placed"
            + (f", {already} already placed by run {run_id}" if already else "")
            + f" ({bankroll}; balance {bankroll.balance()})"
        )
