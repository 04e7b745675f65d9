"""The market scanner over the database: reads each book's latest quote before a moment (and the quote
history, for steam) for games not yet started, and hands them to the pure `betting/bets/scanner.py`.
What `manage.py scan`, the `/edges` page and its CSV share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from betting.bets import scanner
from betting.bets.scanner import Arbitrage as Arbitrage  # what the scan finds, for the API's answers
from betting.bets.scanner import Middle as Middle
from betting.bets.scanner import PositiveEV as PositiveEV
from betting.bets.scanner import Steam as Steam
from betting.games.models import Game, League, OddsQuote

NOT_PLAYED = (Game.Status.CANCELLED, Game.Status.POSTPONED)


@dataclass
class Scan:
    at: dt.datetime
    result: scanner.ScanResult
    games: dict[int, Game]  # those with a quote by ``at`` (the findings name no other), league and teams loaded
    quotes: int  # latest quotes scanned (one per game, book, market, side)
    scanned: int  # the games scanned: not started at ``at`` nor called off, quoted or not


def scan_config(*, min_ev: float | None = None) -> scanner.ScanConfig:
    """The scanner's settings (SHARP_BOOKS, MIN_SCAN_EV, MAX_HOLD, EXCHANGE_*, STEAM_*)."""
    return scanner.ScanConfig(
        sharp_books=tuple(settings.SHARP_BOOKS),
        min_ev=settings.MIN_SCAN_EV if min_ev is None else min_ev,
        max_hold=settings.MAX_HOLD,
        exchange_commission=settings.EXCHANGE_COMMISSION,
        exchange_books=tuple(settings.EXCHANGE_BOOKS),
        steam_min_books=settings.STEAM_MIN_BOOKS,
        steam_window=dt.timedelta(minutes=settings.STEAM_WINDOW_MINUTES),
        devig_method=settings.DEVIG_METHOD,  # one de-vig method everywhere
        margin_bounds=(settings.QUOTE_MIN_MARGIN, settings.QUOTE_MAX_MARGIN),
    )


def upcoming_games(*, at: dt.datetime, league: str | None = None) -> QuerySet[Game]:
    """Games not yet started at ``at`` (and not called off).

    Filtered on the league's id, every league's when none is named (a game always has one): the
    (league, start time) index then reads only the games after ``at``, where a filter on the start
    alone reads the whole table (a quarter of the time on the demo's 23,000 games)."""
    leagues = League.objects.filter(code=league.upper()) if league else League.objects.all()
    league_ids = list(leagues.values_list("pk", flat=True))
    return Game.objects.filter(league_id__in=league_ids, start_time__gt=at).exclude(status__in=NOT_PLAYED)


def quote_history(*, game_ids: list[int], at: dt.datetime, market: str | None = None) -> list[scanner.Quote]:
    """Every priced quote of these games captured at or before ``at``, oldest first."""
    rows = OddsQuote.objects.filter(game_id__in=game_ids, captured_at__lte=at, price__isnull=False)
    if market:
        rows = rows.filter(market=market)
    values = rows.order_by("captured_at").values_list(
        "game_id", "bookmaker__key", "market", "outcome", "price", "point", "captured_at", "player"
    )
    return [
        scanner.Quote(
            game, book, mkt, side, float(price or 0), None if point is None else float(point), captured, player
        )
        for game, book, mkt, side, price, point, captured, player in values
    ]


def latest_per_book(history: list[scanner.Quote]) -> list[scanner.Quote]:
    """Each book's latest quote per game, market, player (props) and side, from a history sorted oldest first.

    The same rule as `games.market.standing`, over the scanner's records, which carry the player and
    span many games and markets at once (`standing` reads one game and market): making the two record
    types one would let this call it."""
    latest: dict[tuple[int, str, str, str, str], scanner.Quote] = {}
    for quote in history:
        latest[(quote.game_id, quote.book, quote.market, quote.player, quote.side)] = quote
    return list(latest.values())


def edges_scan(
    *,
    at: dt.datetime | None = None,
    league: str | None = None,
    market: str | None = None,
    min_ev: float | None = None,
) -> Scan:
    """The scanner's findings at ``at`` (default now) over games not yet started."""
    at = at or timezone.now()
    upcoming = upcoming_games(at=at, league=league)
    # Only the games with a quote by ``at`` are read: a replay of a past day counts every later game
    # as not started (thousands), and building them all cost far more than the scan.
    quoted = Exists(OddsQuote.objects.filter(game_id=OuterRef("pk"), captured_at__lte=at, price__isnull=False))
    # Read through .iterator(): on PostgreSQL a server-side cursor, which the planner never runs in
    # parallel. A parallel plan of this semi-join (every game after ``at`` probed for a quote) costs
    # more to start its workers than the probes themselves (12 ms against 6 on the demo's data).
    quoted_games = upcoming.filter(quoted).select_related("league", "home_team", "away_team")
    games = {g.pk: g for g in quoted_games.iterator()}
    history = quote_history(game_ids=list(games), at=at, market=market)
    latest = latest_per_book(history)
    matchups = {pk: scanner.Matchup(g.home_team.name, g.away_team.name) for pk, g in games.items()}
    result = scanner.scan(latest=latest, history=history, games=matchups, config=scan_config(min_ev=min_ev))
    return Scan(at=at, result=result, games=games, quotes=len(latest), scanned=upcoming.count())


SORTS = ("ev", "start", "book")


def sort_found(found: Scan, sort: str) -> None:
    """Order the lists in place: ``ev`` (the scanner's order: best value, margin, width first),
    ``start`` (soonest game first, then the same), ``book`` (+EV prices by book name)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
    result = found.result
    if sort == "book":
        result.positive_ev.sort(key=lambda e: (e.book, -e.ev))
    elif sort == "start":

        def start(item: scanner.PositiveEV | scanner.Arbitrage | scanner.Middle | scanner.Steam) -> dt.datetime:
            return found.games[item.game_id].start_time

        # sorts are stable: within a start time the scanner's own order stays
        result.positive_ev.sort(key=start)
        result.arbitrage.sort(key=start)
        result.middles.sort(key=start)
        result.steam.sort(key=start)
