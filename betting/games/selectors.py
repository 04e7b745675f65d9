"""Reads for the games app: team-name resolution and the queries pages and jobs share."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast

from betting.games import market
from betting.games.models import Game, League, OddsQuote, TeamAlias, normalize_name


class UnknownTeam(LookupError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(reason)


@dataclass(frozen=True)
class _Alias:
    team_id: int
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class TeamResolver:
    """Resolves a team as a source spells it, on a date, through ``TeamAlias``. Never guesses:
    a name nobody registered, or one that fits two teams, raises ``UnknownTeam``."""

    def __init__(self, league: League) -> None:
        self.league = league
        self._aliases: dict[str, list[_Alias]] = defaultdict(list)
        rows = TeamAlias.objects.filter(league=league).values_list(
            "normalized", "team_id", "source", "valid_from", "valid_to"
        )
        for normalized, team_id, source, valid_from, valid_to in rows:
            self._aliases[normalized].append(_Alias(team_id, source, valid_from, valid_to))

    def resolve(self, name: str, *, source: str, on: dt.date) -> int:
        """The id of the team ``name`` meant on ``on`` for ``source``."""
        candidates = [a for a in self._aliases.get(normalize_name(name), []) if a.covers(on)]
        if not candidates:
            raise UnknownTeam(name, f"unknown {self.league.code} team name {name!r} on {on:%Y-%m-%d}")
        own = [a for a in candidates if a.source == source]
        pool = own or [a for a in candidates if a.source == ""]
        teams = {a.team_id for a in pool}
        if len(teams) != 1:
            reason = "is not registered for any source" if not teams else "fits more than one team"
            raise UnknownTeam(
                name, f"{self.league.code} team name {name!r} {reason} on {on:%Y-%m-%d} (source {source})"
            )
        return teams.pop()


@dataclass(frozen=True)
class SeasonRow:
    league: str
    season_label: str
    games: int
    first: dt.date
    last: dt.date
    neutral: int


def season_overview() -> list[SeasonRow]:
    """Games per league and season, newest first: one aggregate query."""
    from django.db.models import Count, Max, Min, Q

    from betting.games.models import Game

    rows = (
        Game.objects.values("league__code", "league__season_spans_years", "season")
        .annotate(
            games=Count("id"),
            first=Min("game_date"),
            last=Max("game_date"),
            neutral=Count("id", filter=Q(neutral_site=True)),
        )
        .order_by("league__code", "-season")
    )
    result = []
    for row in rows:
        spans = row["league__season_spans_years"]
        season = row["season"]
        label = f"{season}-{(season + 1) % 100:02d}" if spans else str(season)
        result.append(SeasonRow(row["league__code"], label, row["games"], row["first"], row["last"], row["neutral"]))
    return result


# --- Quote sanity: two-way pairs outside the margin bounds (betting.games.market) ----------------

PAIR_FIRST = {"home": "away", "over": "under"}  # each pair once, by its home or over side


def insane_pairs(quotes: QuerySet[OddsQuote] | None = None) -> QuerySet[OddsQuote]:
    """The home (or over) quote of every two-way pair, its other side from the same book at the same
    moment, whose margin (1/a + 1/b - 1) is outside QUOTE_MIN_MARGIN..QUOTE_MAX_MARGIN: kept in the
    database, left out of consensus, training inputs and CLV. Annotated with ``other_price`` and
    ``margin``. The other side is found through the natural-key index, one lookup per row."""
    low, high = market.bounds()
    other = OddsQuote.objects.filter(
        game=OuterRef("game"),
        bookmaker=OuterRef("bookmaker"),
        market=OuterRef("market"),
        player=OuterRef("player"),  # a prop's pair is the same player's
        outcome=OuterRef("other_outcome"),
        captured_at=OuterRef("captured_at"),
        price__isnull=False,
    ).values("price")[:1]
    base = OddsQuote.objects.all() if quotes is None else quotes
    return (
        base.filter(outcome__in=list(PAIR_FIRST), price__isnull=False)
        .annotate(
            other_outcome=Case(
                *(When(outcome=first, then=Value(second)) for first, second in PAIR_FIRST.items()),
                output_field=CharField(),
            ),
            other_price=Subquery(other, output_field=FloatField()),
        )
        .filter(other_price__isnull=False)
        .annotate(
            margin=ExpressionWrapper(
                Value(1.0) / Cast("price", FloatField()) + Value(1.0) / F("other_price") - Value(1.0),
                output_field=FloatField(),
            )
        )
        .filter(Q(margin__lt=low) | Q(margin__gt=high))
    )


def insane_pair_count(*, since: dt.datetime, league: League) -> int:
    """How many insane pairs (``insane_pairs``) among ``league``'s quotes written since ``since`` (a job
    run's start): the figure a pull or an import records on its JobRun."""
    return insane_pairs(OddsQuote.objects.filter(created_at__gte=since, game__league=league)).count()


@dataclass(frozen=True)
class PropLine:
    """One player's line in one prop market, as the books stand before the start."""

    player: str
    market: str
    label: str
    point: Decimal | None
    best_over: Decimal | None
    over_books: list[str]  # the books offering the best over price
    best_under: Decimal | None
    under_books: list[str]
    books: list[str]  # every book quoting this line, by title


def props_latest(*, game: Game) -> list[PropLine]:
    """Each book's latest player-prop quote before the start (`market.standing`), per player, market and
    line: the best over and under prices, who offers them and every book quoting the line."""
    labels = dict(OddsQuote.PropMarket.choices)
    grouped: dict[tuple[str, str], list[market.Quote]] = defaultdict(list)
    rows = (
        OddsQuote.objects.filter(game=game, captured_at__lt=game.start_time, price__isnull=False)
        .exclude(player="")
        .select_related("bookmaker")
        .order_by("captured_at", "id")
    )
    for quote in rows:
        grouped[(quote.player, quote.market)].append(
            market.Quote(quote.captured_at, quote.bookmaker.title, quote.outcome, quote.price, quote.point)
        )
    lines = []
    for (player, market_key), quotes in sorted(grouped.items()):
        standing = market.standing(quotes, before=game.start_time)
        by_point: dict[Any, list[market.Quote]] = defaultdict(list)
        for latest in standing.values():
            by_point[latest.point].append(latest)
        for point, at_line in sorted(by_point.items(), key=lambda item: item[0] or 0):
            best = {side: _best_of(at_line, side) for side in ("over", "under")}
            lines.append(
                PropLine(
                    player=player,
                    market=market_key,
                    label=labels.get(market_key, market_key),
                    point=None if point is None else Decimal(str(point)),
                    best_over=best["over"][0],
                    over_books=best["over"][1],
                    best_under=best["under"][0],
                    under_books=best["under"][1],
                    books=sorted({str(q.book) for q in at_line}),
                )
            )
    return lines


def _best_of(quotes: list[market.Quote], side: str) -> tuple[Decimal | None, list[str]]:
    prices = [(q.price, str(q.book)) for q in quotes if q.outcome == side and q.price is not None]
    if not prices:
        return None, []
    top = max(price for price, _ in prices)
    return Decimal(str(top)), sorted(book for price, book in prices if price == top)
