from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from betting.bets.services import BetError
from betting.bets.strategies import STRATEGIES, recommend_run
from core.management.args import AS_OF, DATE, LEAGUE, Arg
from core.management.base import SharplineCommand, command_errors
from core.web.formatting import format_line, format_money, format_odds


class Command(SharplineCommand):
    help = (
        "Compare the active models' probabilities with the best price across books, size stakes by fractional "
        "Kelly under the risk limits, and (PAPER mode) place the accepted bets on the paper bankroll, once per run."
    )

    arguments = (
        LEAGUE,
        DATE.but(help="Games on this date (default: from now on)."),
        Arg.of(
            "--bankroll",
            default=None,
            help="A system bankroll (created with --deposit if new); default PAPER_BANKROLL, the automatic run's.",
        ),
        Arg.of("--deposit", type=Decimal, default=Decimal("10000"), help="Opening deposit of a new bankroll."),
        AS_OF.but(help="Decide as at this UTC time (replays)."),
        Arg.of("--run", default="", help="Decision run id (default: derived from the time)."),
        Arg.of(
            "--strategy",
            choices=STRATEGIES,
            default=None,
            help="model (the active models), scanner (+EV prices against the sharp consensus) or both; "
            "default PAPER_STRATEGY.",
        ),
        Arg.of("--min-edge", type=float, default=None, help="MIN_EDGE for this run only (probability points)."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors(BetError):
            done = recommend_run(
                league_code=options["league"],
                day=options["date"],
                bankroll_name=options["bankroll"],
                deposit=options["deposit"],
                as_of=options["as_of"],
                run_id=options["run"],
                strategy=options["strategy"],
                min_edge=options["min_edge"],
            )
        for warning in done.warnings:
            self.stdout.write(self.style.WARNING(warning))
        for rec in sorted(done.recs, key=lambda r: -r.stake):
            game = rec.game
            line = f" {format_line(rec.point, rec.market)}" if rec.point is not None else ""
            head = (
                f"{game.game_date} {game.away_team.abbreviation} @ {game.home_team.abbreviation} {rec.market} "
                f"{rec.outcome}{line}: {'blend' if rec.prediction_id is not None else 'sharp consensus'} "
                f"{rec.probability:.1%}, best {format_odds(rec.price, settings.ODDS_FORMAT)} at {rec.bookmaker.title}, "
                f"edge {rec.edge:+.1%}"
            )
            if rec.stake > 0:
                note = " (already placed)" if rec.already_placed else " (placed)" if rec.bet_id else ""
                self.stdout.write(self.style.SUCCESS(f"BET {format_money(rec.stake)} ") + head + note)
            elif options["verbosity"] > 1:
                self.stdout.write(f"pass {head}: {'; '.join(rec.reasons)}")
        for reason in done.nothing_priced:  # why, with the numbers (bets.services.why_nothing_priced)
            self.stdout.write(self.style.WARNING(f"nothing priced: {reason}"))
        self.stdout.write(
            f"{len(done.recs)} priced sides, {done.with_stake} with a stake, {done.placed} placed"
            + (f", {done.already_placed} already placed by run {done.run_id}" if done.already_placed else "")
            + f" ({done.bankroll}; balance {format_money(done.bankroll.balance())})"
        )
