"""Reads for the games app: team-name resolution and the queries pages and jobs share."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias, TypeVar

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from betting.games import market
from betting.games.devig import Price
from betting.games.models import Game, League, OddsQuote, TeamAlias, normalize_name
from core.errors import SharplineError


class UnknownTeam(SharplineError, LookupError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(reason)


def league_of(code: str, *, error: Callable[[str], Exception], none_known: str = "none") -> League:
    """The league of a code (any case). An unknown code raises ``error("unknown league 'X'; known
    leagues: ...")``, the caller's kind of failure (``none_known`` when there is no league at all)."""
    league = League.objects.filter(code=code.upper()).first()
    if league is None:
        known = ", ".join(League.objects.values_list("code", flat=True)) or none_known
        raise error(f"unknown league {code!r}; known leagues: {known}")
    return league


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


_PropQuote: TypeAlias = market.Quote[dt.datetime, str, None]  # a prop quote, its book named by title


def props_latest(*, game: Game) -> list[PropLine]:
    """Each book's latest player-prop quote before the start (`market.standing`), per player, market and
    line: the best over and under prices, who offers them and every book quoting the line."""
    labels = dict(OddsQuote.PropMarket.choices)
    grouped: dict[tuple[str, str], list[_PropQuote]] = defaultdict(list)
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
        by_point: dict[Price | None, list[_PropQuote]] = defaultdict(list)
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


def _best_of(quotes: list[_PropQuote], side: str) -> tuple[Decimal | None, list[str]]:
    prices = [(q.price, str(q.book)) for q in quotes if q.outcome == side and q.price is not None]
    if not prices:
        return None, []
    top = max(price for price, _ in prices)
    return Decimal(str(top)), sorted(book for price, book in prices if price == top)


_Row = TypeVar("_Row", bound=Model)


def of_games(
    rows: QuerySet[_Row],
    *,
    game: str = "",
    league: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[_Row]:
    """``rows`` of a league code's games from ``date_from`` to ``date_to`` (local dates, each end
    optional); ``game`` is the path from a row to its game (``"game__"``), empty for games."""
    if league:
        rows = rows.filter(**{f"{game}league__code": league.upper()})
    if date_from is not None:
        rows = rows.filter(**{f"{game}game_date__gte": date_from})
    if date_to is not None:
        rows = rows.filter(**{f"{game}game_date__lte": date_to})
    return rows


def games_filtered(
    *,
    league: str | None = None,
    day: dt.date | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str | None = None,
) -> QuerySet[Game]:
    """Games by league code, local date (or a window of dates) and status, newest first, with
    their league and teams loaded: the API's game list."""
    games = of_games(
        Game.objects.select_related("league", "home_team", "away_team"),
        league=league,
        date_from=date_from,
        date_to=date_to,
    )
    if day is not None:
        games = games.filter(game_date=day)
    if status:
        games = games.filter(status=status)
    return games.order_by("-game_date", "-start_time", "-id")  # the game_date index: no sort of every game


# --- Results per league: the last final score, and the gaps behind the games still to come -------

# A game started this long ago and still without a final score is missing its result (a scoreboard
# pull runs every 5 minutes while games are on; the longest games end within about 5 hours).
RESULTS_LATE_HOURS = 6
PENDING = (Game.Status.SCHEDULED, Game.Status.IN_PROGRESS)


@dataclass(frozen=True)
class LeagueResults:
    """Where a league's results stand (``results_by_league``), with what to run when they lag."""

    league: str
    last_final: Game | None  # the league's most recent game with a final score
    next_game: Game | None  # the first game after it still without one
    overdue: int  # games started RESULTS_LATE_HOURS ago or more, still scheduled or in progress
    overdue_first: dt.date | None
    overdue_last: dt.date | None
    gap_days: int | None  # days from the last final result to ``next_game``
    gap_allowed: int | None  # the gap a schedule explains: FEATURE_STALE_DAYS in a season, OFFSEASON_DAYS across
    warnings: tuple[str, ...]

    @property
    def last_final_label(self) -> str:
        game = self.last_final
        if game is None:
            return ""
        return (
            f"{game.away_team.abbreviation} {game.away_score} @ {game.home_team.abbreviation} {game.home_score}"
            f" ({game.game_date:%Y-%m-%d})"
        )


def _backfill(code: str, start: dt.date, end: dt.date, what: str) -> str:
    return f"manage.py backfill --league {code} --from {start:%Y-%m-%d} --to {end:%Y-%m-%d} --what {what}"


def results_by_league(*, now: dt.datetime | None = None) -> list[LeagueResults]:
    """Per league with games: its last final result, the first game after it still to be scored,
    and warnings when the results lag: games started ``RESULTS_LATE_HOURS`` ago or more that are
    still not final, or scheduled games following the last result by more than a schedule explains
    (``FEATURE_STALE_DAYS`` within a season, the league's ``OFFSEASON_DAYS`` across seasons: the
    models and the features stop at the last result). Each warning names the command that fills the
    gap. Three queries whatever the number of leagues and games (read by /status through
    ``settings.RESULTS_SUMMARY``, and by /data)."""
    now = now or timezone.now()
    late = now - dt.timedelta(hours=RESULTS_LATE_HOURS)
    finals = Game.objects.filter(league=OuterRef("pk"), status=Game.Status.FINAL).order_by("-start_time", "-id")
    last_start = Game.objects.filter(league=OuterRef(OuterRef("pk")), status=Game.Status.FINAL).order_by("-start_time")
    pending = Game.objects.filter(league=OuterRef("pk"), status__in=PENDING)
    # Overdue games per league in one grouped query on (status, start_time): correlated per league,
    # the database would walk the league's whole past on (league, start_time) instead.
    overdue = {
        row["league_id"]: row
        for row in Game.objects.filter(status__in=PENDING, start_time__lt=late)
        .order_by()
        .values("league_id")
        .annotate(n=Count("id"), first=Min("game_date"), last=Max("game_date"))
    }
    rows = list(
        League.objects.annotate(
            last_final_id=Subquery(finals.values("id")[:1]),
            next_id=Subquery(
                pending.filter(start_time__gt=Subquery(last_start.values("start_time")[:1]))
                .order_by("start_time", "id")
                .values("id")[:1]
            ),
        )
        .order_by("code")
        .values("id", "code", "last_final_id", "next_id")
    )
    wanted = [row[key] for row in rows for key in ("last_final_id", "next_id") if row[key] is not None]
    games = {g.pk: g for g in Game.objects.filter(pk__in=wanted).select_related("home_team", "away_team").order_by()}
    out = []
    for row in rows:
        code = row["code"]
        last, following = games.get(row["last_final_id"]), games.get(row["next_id"])
        late_games = overdue.get(row["id"], {})
        count = int(late_games.get("n") or 0)
        if last is None and following is None and not count:
            continue
        warnings = []
        first_day, last_day = late_games.get("first"), late_games.get("last")
        if count and first_day is not None and last_day is not None:
            span = f"between {first_day:%Y-%m-%d} and {last_day:%Y-%m-%d}"
            if first_day == last_day:
                span = f"on {first_day:%Y-%m-%d}"
            noun, verb = ("game", "has") if count == 1 else ("games", "have")
            warnings.append(
                f"{code}: {count} {noun} {span} started more than {RESULTS_LATE_HOURS} hours ago and {verb} no "
                f"final score; run {_backfill(code, first_day, last_day, 'scores')}"
            )
        gap = allowed = None
        if last is not None and following is not None:
            gap = (following.game_date - last.game_date).days
            same_season = following.season == last.season
            allowed = (
                settings.FEATURE_STALE_DAYS
                if same_season
                else settings.OFFSEASON_DAYS.get(code, settings.OFFSEASON_DAYS_DEFAULT)
            )
            if gap > allowed:
                one_day = dt.timedelta(days=1)
                warnings.append(
                    f"{code}: the last final result is {last.game_date:%Y-%m-%d} but games are scheduled from "
                    f"{following.game_date:%Y-%m-%d}, {gap} days later (more than the {allowed} days "
                    f"{'a season pauses' if same_season else 'an offseason lasts'}): the results between are missing, "
                    f"so Elo, the features and the models stop at {last.game_date:%Y-%m-%d}; run "
                    f"{_backfill(code, last.game_date + one_day, following.game_date - one_day, 'both')}"
                )
        out.append(
            LeagueResults(
                league=code,
                last_final=last,
                next_game=following,
                overdue=count,
                overdue_first=first_day,
                overdue_last=last_day,
                gap_days=gap,
                gap_allowed=allowed,
                warnings=tuple(warnings),
            )
        )
    return out
