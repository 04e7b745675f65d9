from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from betting.bets import scanner
from betting.bets.edges import edges_scan
from betting.games.selectors import league_of
from core.management.args import JSON, LEAGUE, Arg, OneOf, moment_arg
from core.management.base import SharplineCommand
from core.web.formatting import format_line, format_money, format_odds


class Command(SharplineCommand):
    help = (
        "Scan each book's latest quote before --at (default now), games not yet started: prices beating the "
        "de-vigged sharp consensus (+EV), arbitrages, middles and steam moves."
    )

    arguments = (
        LEAGUE.but(required=False, help="League code, e.g. NBA (default: every league)."),
        Arg.of("--at", type=moment_arg, help="Scan as at this time, ISO 8601 (UTC when no zone)."),
        Arg.of("--market", choices=scanner.MARKETS, help="Only this market."),
        Arg.of("--min-ev", type=float, help="Minimum EV of a listed price (default: MIN_SCAN_EV)."),
        OneOf(
            JSON.but(help="Print one JSON object with the four lists."),
            Arg.of("--csv", action="store_true", help="Print one CSV table (a `kind` column)."),
        ),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        league = options["league"]
        if league:
            league_of(league, error=CommandError)
        started = time.perf_counter()
        found = edges_scan(at=options["at"], league=league, market=options["market"], min_ev=options["min_ev"])
        seconds = time.perf_counter() - started
        result = found.result
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), indent=2))
            return
        if options["csv"]:
            self.stdout.write(scanner.to_csv(result), ending="")
            return
        self.stdout.write(
            f"{found.scanned} games not started at {found.at:%Y-%m-%d %H:%M} UTC, {found.quotes} latest quotes, "
            f"scanned in {seconds:.3f} s"
        )
        for e in result.positive_ev:
            point = "" if e.point is None else f" {format_line(e.point, e.market)}"
            self.stdout.write(
                f"+EV  {e.away} @ {e.home}  {e.market}{_who(e.player)} {e.side}{point}  {e.book} {_odds(e.price)}  "
                f"fair {e.fair_prob:.3f}  EV {e.ev:+.2%}  hold {e.hold:.2%}"
            )
        for a in result.arbitrage:
            legs = ", ".join(
                f"{leg.side} {leg.book} {_odds(leg.price)} stake {format_money(leg.stake)}" for leg in a.legs
            )
            point = "" if a.point is None else f" {format_line(a.point, a.market)}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"ARB  {a.away} @ {a.home}  {a.market}{_who(a.player)}{point}  {legs}  margin {a.margin:.2%}"
                )
            )
        for m in result.middles:
            legs = ", ".join(
                f"{leg.side} {format_line(leg.point, m.market)} {leg.book} {_odds(leg.price)}" for leg in m.legs
            )
            self.stdout.write(
                f"MID  {m.away} @ {m.home}  {m.market}{_who(m.player)}  {legs}  "
                f"width {m.width:g}  margin {m.margin:+.2%}"
            )
        for s in result.steam:
            self.stdout.write(
                f"STEAM {s.away} @ {s.home}  {s.market}{_who(s.player)} toward {s.side}: "
                f"{len(s.books)} books from {s.first_at:%H:%M} "
                f"(first {s.first_book})"
            )
        self.stdout.write(
            f"{len(result.positive_ev)} +EV, {len(result.arbitrage)} arbitrage, {len(result.middles)} middles, "
            f"{len(result.steam)} steam"
        )


def _odds(price: float) -> str:
    """A price in ``ODDS_FORMAT`` (the JSON and CSV keep decimal odds)."""
    return format_odds(price, settings.ODDS_FORMAT)


def _who(player: str) -> str:
    """A prop's player after its market (player_points LeBron James); nothing for game markets."""
    return f" {player}" if player else ""
