"""Reads behind the betting pages: the day's slate with prices and stakes, the bankroll's figures,
backtest charts. Each function makes a fixed number of queries, whatever the number of games."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Max, Q, Sum
from django.db.models.expressions import Combinable
from django.db.models.functions import TruncMonth
from django.utils import timezone

from betting.bets.models import Backtest, Bankroll, BankrollEntry, Bet
from betting.games import market as mkt
from betting.games.ingest.archive import FORMATS as ARCHIVE_FORMATS
from betting.games.models import Game, Injury, League, OddsQuote
from betting.predictions import registry
from betting.predictions.features import INJURY_DAYS
from betting.predictions.models import Prediction
from betting.predictions.selectors import starter_flag
from core.web import charts
from core.web.formatting import format_line
from core.web.pages import Aggregates, SQLParam, cached, fingerprint_clock, recent, scalars

if TYPE_CHECKING:
    from betting.bets.services import Recommendation

SIDES = {"h2h": ("home", "away"), "spreads": ("home", "away"), "totals": ("over", "under")}
SERIOUS = (Injury.Status.OUT, Injury.Status.DOUBTFUL)
PREVIEW_RUN = "page-preview"  # recommend(place=False) never writes; the id only satisfies the signature


# --- Today ---------------------------------------------------------------------------------------


@dataclass
class Side:
    outcome: str
    label: str
    short: str = ""
    point: Decimal | None = None
    probability: float | None = None
    version: str = ""
    best_price: Decimal | None = None
    best_book: str = ""
    market_prob: float | None = None
    books: int = 0
    edge: float | None = None
    blend: float | None = None  # model and market blended (recommend): the probability staked on
    stake: Decimal | None = None
    note: str = ""
    stale_reason: str = ""
    placed: Bet | None = None  # the bet already on this side: shown instead of a new stake
    forecast_only: bool = False  # made by the forecast-only model (the market's line): never staked


@dataclass
class GameRow:
    game: Game
    sides: list[Side]
    injuries: list[Injury] = field(default_factory=list)
    last_quote: dt.datetime | None = None
    starter_flag: str = ""  # MLB: starter unknown, or changed since the prediction (selectors.starter_flag)

    @property
    def stale_reason(self) -> str:
        """Why the model's inputs are too old to bet on (one game, one model: the same on each side)."""
        return next((side.stale_reason for side in self.sides if side.stale_reason), "")

    @property
    def serious_injuries(self) -> list[Injury]:
        return [i for i in self.injuries if i.status in SERIOUS]


@dataclass
class Slate:
    day: dt.date
    market: str
    rows: list[GameRow]
    as_of: dt.datetime
    past: bool
    slate_quote: dt.datetime | None
    bankroll: Bankroll | None
    warnings: list[str]
    next_day: dt.date | None = None
    previous_day: dt.date | None = None


def _side_label(game: Game, outcome: str, point: Decimal | None, *, short: bool = False) -> str:
    team = {"home": game.home_team, "away": game.away_team}.get(outcome)
    # a team's line is a spread (+4.5, PK), over/under's a total (220.5)
    line = "" if point is None else " " + format_line(point, "spreads" if team is not None else "totals")
    if team is not None:
        return f"{team.abbreviation if short else team.name}{line}"
    return f"{outcome.capitalize()}{line}"


SYSTEM = "system"  # slate(bankroll=SYSTEM): the automatic run's bankroll (PAPER_BANKROLL)


def slate(
    *,
    day: dt.date,
    league: str | None,
    market: str,
    now: dt.datetime | None = None,
    bankroll: Bankroll | None | str = SYSTEM,
) -> Slate:
    """Every game of ``day`` (``league`` or all) in ``market``: the model's probability per side, the
    best price and its book, the de-vigged market probability (each book's two sides de-vigged,
    averaged over books on the same line), the edge, the recommended stake (sized without placing
    anything), the injuries reported before the start, and how fresh the odds are.

    A past day is shown as it stood just before its first game: prices, edges and stakes as of then.
    The stakes are sized for, and the bets already placed read from, ``bankroll`` (the viewer's:
    ``selectors.default_bankroll``; by default the automatic run's; None: no stakes)."""
    now = now or timezone.now()
    chosen = page_bankroll() if isinstance(bankroll, str) else bankroll
    games_qs = Game.objects.filter(game_date=day).select_related("league", "home_team", "away_team")
    if league:
        games_qs = games_qs.filter(league__code=league)
    games = list(games_qs.order_by("start_time", "id"))
    if not games:
        return Slate(
            day=day,
            market=market,
            rows=[],
            as_of=now,
            past=day < timezone.localdate(now),
            slate_quote=None,
            bankroll=None,
            warnings=[],
            next_day=_neighbour(day, league, after=True),
            previous_day=_neighbour(day, league, after=False),
        )
    upcoming = [g for g in games if g.start_time > now]
    past = not upcoming
    as_of = now if upcoming else games[0].start_time - dt.timedelta(minutes=1)
    by_id = {g.pk: g for g in games}

    # Each book's latest quote per side before the start (and before as_of).
    latest: dict[tuple[int, int, str], OddsQuote] = {}
    slate_quote: dt.datetime | None = None
    for quote in (
        OddsQuote.objects.filter(game_id__in=list(by_id), market=market, captured_at__lte=as_of)
        .select_related("bookmaker")
        .order_by("captured_at", "id")
    ):
        if quote.captured_at < by_id[quote.game_id].start_time:
            latest[(quote.game_id, quote.bookmaker_id, quote.outcome)] = quote
            slate_quote = quote.captured_at if slate_quote is None else max(slate_quote, quote.captured_at)

    predictions: dict[tuple[int, str], Prediction] = {}
    for prediction in (
        Prediction.objects.filter(game_id__in=list(by_id), market=market)
        .select_related("model_version")
        .order_by("created_at", "id")
    ):
        key = (prediction.game_id, prediction.outcome)
        held = predictions.get(key)
        # The active model's newest prediction; another version's only when the active one made none.
        if held is None or prediction.model_version.is_active or not held.model_version.is_active:
            predictions[key] = prediction

    recs, warnings = _stakes(chosen, games, as_of)
    stakes = {(r.game.pk, r.outcome, r.point): r for r in recs if r.market == market}
    placed = _placed(chosen, list(by_id), market, as_of)
    injuries = _injuries(games)
    by_game_book: dict[int, dict[int, dict[str, OddsQuote]]] = defaultdict(lambda: defaultdict(dict))
    # the market module's view
    standing: dict[int, dict[tuple[int, str], mkt.Quote[dt.datetime, int, OddsQuote]]] = defaultdict(dict)
    for (game_id, book_id, outcome), quote in latest.items():
        by_game_book[game_id][book_id][outcome] = quote
        standing[game_id][(book_id, outcome)] = mkt.Quote(
            quote.captured_at, book_id, outcome, quote.price, quote.point, quote
        )

    rows = []
    for game in games:
        books = by_game_book.get(game.pk, {})
        sides = []
        for outcome in SIDES[market]:
            made = predictions.get((game.pk, outcome))
            point = made.point if made is not None else _common_point(books, outcome)
            side = Side(
                outcome=outcome,
                label=_side_label(game, outcome, point),
                short=_side_label(game, outcome, point, short=True),
                point=point,
            )
            if made is not None:
                side.probability = float(made.probability)
                side.version = made.model_version.version
                side.forecast_only = registry.is_forecast_only(made.model_version)
                side.stale_reason = made.stale_reason
            # The market at as_of (games.market): best price, and the consensus of the sane pairs.
            quotes = standing.get(game.pk, {})
            best = mkt.best_price(quotes, market, outcome, point)
            if best is not None:
                side.best_price, side.best_book = best.ref.price, best.ref.bookmaker.title
            pairs = mkt.sane_only(mkt.two_way_pairs(quotes, market, outcome, point))
            if pairs:
                side.market_prob, side.books = mkt.consensus_probability(pairs), len(pairs)
            if side.probability is not None and side.best_price is not None:
                side.edge = mkt.edge(side.probability, side.best_price)
            side.placed = placed.get((game.pk, outcome))
            rec = stakes.get((game.pk, outcome, point))
            if rec is not None and side.placed is None:
                side.stake = rec.stake
                side.note = "; ".join(rec.reasons)
                side.edge = rec.edge  # the blend of model and market, what the stake is sized on
                side.blend = rec.probability
            sides.append(side)
        last = max((q.captured_at for quotes in books.values() for q in quotes.values()), default=None)
        made_any = next((predictions[(game.pk, o)] for o in SIDES[market] if (game.pk, o) in predictions), None)
        flag = starter_flag(game=game, inputs=made_any.inputs if made_any is not None else None)
        rows.append(
            GameRow(game=game, sides=sides, injuries=injuries.get(game.pk, []), last_quote=last, starter_flag=flag)
        )

    return Slate(
        day=day,
        market=market,
        rows=rows,
        as_of=as_of,
        past=past,
        slate_quote=slate_quote,
        bankroll=chosen,
        warnings=warnings,
    )


LIVE_SLATE_SECONDS = 60  # a day with games still to start: prices "as of now", so the key also turns each minute


@cache
def global_parts() -> tuple[Aggregates, ...]:
    """The fingerprint parts that read whole tables, the same at every view: the active model
    versions (which predictions count, the "active" badges), the bets and ledger entries (the
    bankroll the stakes are sized from), the bankrolls and the kill switch."""
    from betting.predictions.models import ModelVersion
    from core.models import KillSwitch

    stopped = "SUM(CASE WHEN betting_stopped THEN 1 ELSE 0 END)"
    settled = "SUM(CASE WHEN status = %s THEN 1 ELSE 0 END)"
    return (
        (
            {"active": "SUM(id)", "activated": "MAX(activated_at)"},
            f"FROM {ModelVersion._meta.db_table} WHERE is_active = %s",
            [True],
        ),
        (
            {"bets": "COUNT(*)", "bet_last": "MAX(id)", "settled_last": "MAX(settled_at)", "settled": settled},
            f"FROM {Bet._meta.db_table}",
            [Bet.Status.SETTLED.value],
        ),
        (
            {"entries": "COUNT(*)", "entry_last": "MAX(id)", "entry_sum": "SUM(amount)"},
            f"FROM {BankrollEntry._meta.db_table}",
            [],
        ),
        (
            {"bankrolls": "COUNT(*)", "bankroll_last": "MAX(id)", "bankroll_changed": "MAX(updated_at)"},
            f"FROM {Bankroll._meta.db_table}",
            [],
        ),
        ({"switch": stopped, "switch_changed": "MAX(changed_at)"}, f"FROM {KillSwitch._meta.db_table}", []),
    )


def games_parts(where: str, args: Sequence[SQLParam], now: dt.datetime) -> list[Aggregates]:
    """The games of ``where`` (on ``games_game g``) as they stand (ids, starts, status, scores,
    last update), and the quotes and predictions of those games. Quotes are only ever appended
    (count and sum of ids); a prediction is rewritten in place by update_or_create, so its
    probabilities (weighted by id) and lines are summed too; a score may come by a bulk update, so
    the scores are summed."""
    game, quote, made = Game._meta.db_table, OddsQuote._meta.db_table, Prediction._meta.db_table
    ids = f"SELECT g.id FROM {game} g WHERE {where}"  # noqa: S608 (table names from the models, values as parameters)  # nosec B608
    return [
        (
            {
                "games": "COUNT(*)",
                "game_ids": "SUM(g.id)",
                "game_updated": "MAX(g.updated_at)",
                "game_first": "MIN(g.start_time)",
                "game_last": "MAX(g.start_time)",
                "upcoming": "SUM(CASE WHEN g.start_time > %s THEN 1 ELSE 0 END)",
                "finals": "SUM(CASE WHEN g.status = %s THEN 1 ELSE 0 END)",
                "scheduled": "SUM(CASE WHEN g.status = %s THEN 1 ELSE 0 END)",
                "scores": "SUM(COALESCE(g.home_score, 0) * 1000 + COALESCE(g.away_score, 0))",
                "teams": "SUM(g.home_team_id * 3 + g.away_team_id)",
            },
            f"FROM {game} g WHERE {where}",
            [
                connection.ops.adapt_datetimefield_value(now),
                Game.Status.FINAL.value,
                Game.Status.SCHEDULED.value,
                *args,
            ],
        ),
        ({"quotes": "COUNT(*)", "quote_ids": "SUM(id)"}, f"FROM {quote} WHERE game_id IN ({ids})", args),
        (
            {
                "predictions": "COUNT(*)",
                "prediction_ids": "SUM(id)",
                "prediction_sum": "SUM(probability * id)",
                "prediction_points": "SUM(point)",
                "prediction_stale": "SUM(LENGTH(stale_reason) * id)",
            },
            f"FROM {made} WHERE game_id IN ({ids})",
            args,
        ),
    ]


# What a cached page's key holds of the data it reads: compared, never read field by field.
Fingerprint = tuple[object, ...]


def slate_fingerprint(*, day: dt.date, league: str | None, market: str, now: dt.datetime) -> Fingerprint:
    """``_slate_fingerprint``, reused within this process while its inputs stand still: the same
    day, league and market, the same ``fingerprint_clock(now)`` (the query's memo key in
    ``scalars`` holds it, so the figures could not be newer) and the same minute. Building the
    query and its memo key each time cost a page served whole more than the rest of its view.
    Off, like the other memos, when ``PAGE_FINGERPRINT_SECONDS`` is 0."""
    clock = (fingerprint_clock(now), int(now.timestamp()) // LIVE_SLATE_SECONDS)
    return recent(
        ("bets:slate-fingerprint", day, league, market, clock),
        lambda: _slate_fingerprint(day=day, league=league, market=market, now=now),
    )


def _slate_fingerprint(*, day: dt.date, league: str | None, market: str, now: dt.datetime) -> Fingerprint:
    """A cheap summary of every row ``slate()`` (and the stakes ``recommend`` sizes in it) reads, in
    one query whatever the number of games (a handful of indexed aggregates in one round trip):
    the day's games with their quotes and predictions (all markets: the stakes are sized for the
    slate together; ``games_parts``), the injuries of the teams playing around the day, the
    nearest days with games (the empty day links to them), and the active model versions, bets,
    ledger, bankrolls and kill switch (``global_parts``). Any new odds pull, prediction, bet,
    settlement, promotion or switch changes it, so a cached slate is never served stale. What
    depends on the clock is in it too: how many games are still to start (counted against
    ``fingerprint_clock(now)``, so the query stays the same, and memoized, for a second), and,
    while some are, the current minute (``LIVE_SLATE_SECONDS``)."""
    ops = connection.ops
    game = Game._meta.db_table
    where, args = "g.game_date = %s", [ops.adapt_datefield_value(day)]
    others, other_args = "", []
    if league:
        league_id = f"(SELECT id FROM {League._meta.db_table} WHERE code = %s)"  # noqa: S608 (table names from the models, values as parameters)  # nosec B608
        where += f" AND g.league_id IN {league_id}"
        args.append(league)
        others, other_args = f" AND league_id IN {league_id}", [league]
    # Games of a day start within a day either side of it (UTC): a window that holds every report
    # slate() reads (INJURY_DAYS before each start), and a few more.
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    window = [
        ops.adapt_datetimefield_value(midnight - dt.timedelta(days=INJURY_DAYS + 2)),
        ops.adapt_datetimefield_value(midnight + dt.timedelta(days=2)),
    ]
    teams = f"SELECT g.home_team_id FROM {game} g WHERE {where} UNION SELECT g.away_team_id FROM {game} g WHERE {where}"  # noqa: S608  # nosec B608
    day_arg = ops.adapt_datefield_value(day)
    parts: list[Aggregates] = [
        *games_parts(where, args, fingerprint_clock(now)),
        (
            {"injuries": "COUNT(*)", "injury_last": "MAX(id)", "injury_updated": "MAX(updated_at)"},
            f"FROM {Injury._meta.db_table} WHERE team_id IN ({teams}) AND reported_at >= %s AND reported_at < %s",
            [*args, *args, *window],
        ),
        (
            {
                "next_day": f"(SELECT game_date FROM {game} WHERE game_date > %s{others} ORDER BY game_date LIMIT 1)",  # noqa: S608  # nosec B608
                "previous_day": (
                    f"(SELECT game_date FROM {game} WHERE game_date < %s{others} ORDER BY game_date DESC LIMIT 1)"  # noqa: S608  # nosec B608
                ),
            },
            "",
            [day_arg, *other_args, day_arg, *other_args],
        ),
        *global_parts(),
    ]
    figures = scalars(parts)
    clock: object = None
    if int(figures["upcoming"] or 0):
        clock = int(now.timestamp()) // LIVE_SLATE_SECONDS
    elif not int(figures["games"] or 0):  # the empty day is "past" or not
        clock = day < timezone.localdate(now)
    return (
        day,
        league,
        market,
        clock,
        figures,
        settings.BETTING_KILL_SWITCH,
        sorted(settings.RISK_LIMITS.items()),
        settings.DISPLAY_TIME_ZONE,
    )


def odds_stale_from(slate: Slate) -> dt.datetime | None:
    """From when the slate's prices are too old to act on: while some game is still to start, once
    the newest quote for its games is older than ``ODDS_STALE_MINUTES`` (at once when there is
    none); None for a slate with nothing left to start."""
    if slate.past or not slate.rows:
        return None
    if slate.slate_quote is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return slate.slate_quote + dt.timedelta(minutes=settings.ODDS_STALE_MINUTES)


def odds_stale(slate: Slate, now: dt.datetime) -> bool:
    """Whether the odds banner shows: decided at each view, so a cached slate turns stale on time."""
    stale_from = odds_stale_from(slate)
    return stale_from is not None and now > stale_from


def _common_point(books: dict[int, dict[str, OddsQuote]], outcome: str) -> Decimal | None:
    """The line most books quote for a side (when no prediction names one)."""
    points = Counter(q[outcome].point for q in books.values() if outcome in q and q[outcome].point is not None)
    return points.most_common(1)[0][0] if points else None


def _neighbour(day: dt.date, league: str | None, *, after: bool) -> dt.date | None:
    games = Game.objects.all()
    if league:
        games = games.filter(league__code=league)
    if after:
        return games.filter(game_date__gt=day).order_by("game_date").values_list("game_date", flat=True).first()
    return games.filter(game_date__lt=day).order_by("-game_date").values_list("game_date", flat=True).first()


@dataclass(frozen=True)
class Opening:
    """The day the Today page opens on when no date is asked (``opening_day``)."""

    today: dt.date
    day: dt.date | None  # None: no games at all (of the league asked)
    league: str | None  # the league asked, or the one league playing on ``day`` when none was asked
    moved: bool  # no games today: ``day`` is the nearest date with games instead
    has_odds: bool  # ``day``'s games have odds (else the nearest with games, none having odds)
    future: bool
    asked: str | None = None  # the league of the query string
    nearest: tuple[tuple[str, dt.date], ...] = ()  # each league's own nearest date, for the switch

    def as_key(
        self,
    ) -> tuple[dt.date, dt.date | None, str | None, bool, bool, str | None, tuple[tuple[str, dt.date], ...]]:
        return (self.today, self.day, self.league, self.moved, self.has_odds, self.asked, self.nearest)


def _as_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(str(text)[:10]) if text else None


def opening_day(*, today: dt.date, league: str | None, leagues: Sequence[str]) -> Opening:
    """Today when ``league`` (or any league) has games today; else the nearest date with games that
    have odds, the nearest future one first, else the most recent past one; else the nearest date
    with games at all. Per league, its own nearest date (the league switch). One query, each
    branch an indexed top-1 lookup on ``game_date`` (``scalars``, memoized like a fingerprint)."""
    game, league_table, quote = Game._meta.db_table, League._meta.db_table, OddsQuote._meta.db_table
    ops = connection.ops
    day = ops.adapt_datefield_value(today)
    # A bookmaker's price from a pull (live or backfilled), not an archive's closing line: an archive
    # day has no prices to bet or compare, so it is not a day worth opening on.
    archives = ", ".join(f"'{source}'" for source in ARCHIVE_FORMATS)
    has_odds = f"EXISTS (SELECT 1 FROM {quote} q WHERE q.game_id = g.id AND q.source NOT IN ({archives}))"  # noqa: S608  # nosec B608
    columns: dict[str, str] = {}
    args: list[SQLParam] = []
    codes = [c for c in leagues if c]
    asked = [league] if league else codes
    today_where = "g.game_date = %s"
    today_args: list[SQLParam] = [day]
    if league:
        today_where += f" AND g.league_id IN (SELECT id FROM {league_table} WHERE code = %s)"  # noqa: S608  # nosec B608
        today_args.append(league)
    columns["today"] = f"(SELECT COUNT(*) FROM {game} g WHERE {today_where})"  # noqa: S608  # nosec B608
    args += today_args
    for number, code in enumerate(codes):
        of_league = f"g.league_id = (SELECT id FROM {league_table} WHERE code = %s)"  # noqa: S608  # nosec B608
        for name, compare, order, odds in (
            ("next_odds", ">=", "", True),
            ("prev_odds", "<", " DESC", True),
            ("next_any", ">=", "", False),
            ("prev_any", "<", " DESC", False),
        ):
            where = f"{of_league} AND g.game_date {compare} %s" + (f" AND {has_odds}" if odds else "")
            columns[f"{name}_{number}"] = (
                f"(SELECT g.game_date FROM {game} g WHERE {where} ORDER BY g.game_date{order} LIMIT 1)"  # noqa: S608  # nosec B608
            )
            args += [code, day]
    figures = scalars([(columns, "", args)])
    kinds = ("next_odds", "prev_odds", "next_any", "prev_any")
    found = {code: {name: _as_date(figures.get(f"{name}_{n}")) for name in kinds} for n, code in enumerate(codes)}
    if int(figures.get("today") or 0):
        return Opening(today=today, day=today, league=league, moved=False, has_odds=True, future=False, asked=league)

    def pick(kind: str, among: list[str]) -> tuple[dt.date | None, bool]:
        after = [d for c in among if (d := found.get(c, {}).get(f"next_{kind}")) is not None]
        if after:
            return min(after), True
        before = [d for c in among if (d := found.get(c, {}).get(f"prev_{kind}")) is not None]
        return (max(before), False) if before else (None, False)

    nearest = []
    for code in codes:
        own, _ = pick("odds", [code])
        if own is None:
            own, _ = pick("any", [code])
        if own is not None:
            nearest.append((code, own))
    chosen, future = pick("odds", asked)
    with_odds = chosen is not None
    if chosen is None:
        chosen, future = pick("any", asked)
    chosen_league = league
    if chosen is not None and league is None:
        kind = "odds" if with_odds else "any"
        playing = [c for c in codes if found[c][f"{'next' if future else 'prev'}_{kind}"] == chosen]
        chosen_league = playing[0] if len(playing) == 1 else None
    return Opening(
        today=today,
        day=chosen,
        league=chosen_league,
        moved=True,
        has_odds=with_odds,
        future=future,
        asked=league,
        nearest=tuple(nearest),
    )


def page_bankroll() -> Bankroll | None:
    """The automatic run's bankroll (PAPER_BANKROLL, the system's), which the pages size stakes for
    by default; None until the first run opens it."""
    return Bankroll.objects.filter(owner__isnull=True, name=settings.PAPER_BANKROLL).first()


def _placed(
    bankroll: Bankroll | None, game_ids: list[int], market: str, as_of: dt.datetime
) -> dict[tuple[int, str], Bet]:
    """The bets the page's bankroll already holds on these games (placed by ``as_of``), per side:
    a side already bet shows that bet (stake, price, book, time), not a second stake."""
    if bankroll is None or not game_ids:
        return {}
    bets = (
        Bet.objects.filter(bankroll=bankroll, game_id__in=game_ids, market=market, placed_at__lte=as_of)
        .exclude(result=Bet.Result.VOID)
        .select_related("bookmaker")
        .order_by("placed_at", "id")
    )
    return {(bet.game_id, bet.outcome): bet for bet in bets}


def _stakes(bankroll: Bankroll | None, games: list[Game], as_of: dt.datetime) -> tuple[list[Recommendation], list[str]]:
    """The stakes ``recommend`` would size now for the slate on ``bankroll`` (under its own risk
    limits), without placing anything."""
    from betting.bets.services import recommend, risk_limits

    if bankroll is None:
        return [], []
    return recommend(
        bankroll=bankroll, games=games, now=as_of, limits=risk_limits(bankroll), decision_run=PREVIEW_RUN, place=False
    )


def _injuries(games: list[Game]) -> dict[int, list[Injury]]:
    """Per game, each player's latest report from the INJURY_DAYS before the start."""
    teams = {t for g in games for t in (g.home_team_id, g.away_team_id)}
    first = min(g.start_time for g in games) - dt.timedelta(days=INJURY_DAYS)
    last = max(g.start_time for g in games)
    reports = list(
        Injury.objects.filter(team_id__in=teams, reported_at__gte=first, reported_at__lt=last)
        .select_related("team")
        .order_by("-reported_at", "player_name")
    )
    out: dict[int, list[Injury]] = {}
    for game in games:
        seen: set[tuple[int, str]] = set()
        known = []
        since = game.start_time - dt.timedelta(days=INJURY_DAYS)
        for report in reports:
            if report.team_id not in (game.home_team_id, game.away_team_id):
                continue
            if not (since <= report.reported_at < game.start_time):
                continue
            key = (report.team_id, report.player_name)
            if key not in seen:
                seen.add(key)
                known.append(report)
        out[game.pk] = known
    return out


# --- Bets and bankroll --------------------------------------------------------------------------


def _ratio(numerator: Decimal | float | None, denominator: Decimal | float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)


class Tally(TypedDict):
    """Settled bets counted together (``_settled_by``'s groups, or all of them): what the sums read."""

    group: NotRequired[str | dt.datetime]  # the market, or the month (``_settled_by``'s key)
    market: NotRequired[str | dt.datetime]  # the group, named for the page
    month: NotRequired[str | dt.datetime]
    n: int
    staked: Decimal | None
    returned: Decimal | None
    wins: int
    losses: int
    pushes: int
    avg_clv: Decimal | float | None


# A tally with its money figures, as the bets page shows it (``yield`` is a keyword: the functional form).
Figures = TypedDict(
    "Figures",
    {
        "group": NotRequired[str | dt.datetime],
        "market": NotRequired[str | dt.datetime],
        "month": NotRequired[str | dt.datetime],
        "n": int,
        "staked": Decimal | None,
        "returned": Decimal | None,
        "wins": int,
        "losses": int,
        "pushes": int,
        "avg_clv": float | None,
        "profit": Decimal,
        "yield": float | None,
        "roi": float | None,
        "hit_rate": float | None,
    },
)


class BankrollFigures(TypedDict):
    """``bankroll_figures``: the curve, the balance and the figures overall, by market and by month."""

    curve: charts.Figure | None
    balance: Decimal
    deposits: Decimal
    total: Figures
    by_market: list[Figures]
    by_month: list[Figures]
    days: int


def _figures(row: Tally, deposits: Decimal | None = None) -> Figures:
    staked = row.get("staked") or Decimal(0)
    returned = row.get("returned") or Decimal(0)
    profit = returned - staked
    decided = (row.get("wins") or 0) + (row.get("losses") or 0)
    avg_clv = row.get("avg_clv")
    return {
        **row,
        "profit": profit,
        "yield": _ratio(profit, staked),
        "roi": _ratio(profit, deposits) if deposits is not None else None,
        "hit_rate": _ratio(row.get("wins") or 0, decided) if decided else None,
        "avg_clv": float(avg_clv) if avg_clv is not None else None,
    }


def _settled_by(bankroll: Bankroll, key: Combinable) -> list[Tally]:
    rows = (
        Bet.objects.filter(bankroll=bankroll, status=Bet.Status.SETTLED)
        .exclude(result=Bet.Result.VOID)
        .annotate(group=key)
        .values("group")
        .annotate(
            n=Count("id"),
            staked=Sum("stake"),
            returned=Sum("payout"),
            wins=Count("id", filter=Q(result=Bet.Result.WIN)),
            losses=Count("id", filter=Q(result=Bet.Result.LOSS)),
            pushes=Count("id", filter=Q(result=Bet.Result.PUSH)),
            avg_clv=Avg("clv"),
        )
        .order_by("group")
    )
    return cast(list[Tally], list(rows))  # the keys of values() and annotate() above


def bankroll_figures(bankroll: Bankroll) -> BankrollFigures:
    """The bankroll curve, ROI, yield, hit rate and average CLV overall, by market and by month.
    Cached; the key follows the bets and ledger rows, so a new bet or a settlement shows at once."""
    bets = Bet.objects.filter(bankroll=bankroll).aggregate(
        n=Count("id"),
        last=Max("id"),
        settled=Count("id", filter=Q(status=Bet.Status.SETTLED)),
        last_settled=Max("settled_at"),
    )
    entries = BankrollEntry.objects.filter(bankroll=bankroll).aggregate(n=Count("id"), last=Max("id"))
    figures: BankrollFigures = cached(f"bankroll:{bankroll.pk}", (bets, entries), lambda: _bankroll_figures(bankroll))
    return figures.copy()


def _bankroll_figures(bankroll: Bankroll) -> BankrollFigures:
    from django.db.models import F

    daily: dict[dt.date, Decimal] = {}
    running = Decimal(0)
    deposits = Decimal(0)
    zone = timezone.get_default_timezone()
    for amount, kind, at in bankroll.entries.order_by("created_at", "id").values_list("amount", "kind", "created_at"):
        running += amount
        if kind in (BankrollEntry.Kind.DEPOSIT, BankrollEntry.Kind.WITHDRAWAL):
            deposits += amount
        daily[at.astimezone(zone).date()] = running
    by_market = [_figures({**r, "market": r["group"]}, None) for r in _settled_by(bankroll, F("market"))]
    by_month = [_figures({**r, "month": r["group"]}, None) for r in _settled_by(bankroll, TruncMonth("settled_at"))]
    clv_bets = [(r["avg_clv"], r["n"]) for r in by_market if r["avg_clv"] is not None]
    weight = sum(n for _, n in clv_bets)
    total: Tally = {
        "n": sum(r["n"] for r in by_market),
        "staked": sum((r["staked"] or Decimal(0) for r in by_market), Decimal(0)),
        "returned": sum((r["returned"] or Decimal(0) for r in by_market), Decimal(0)),
        "wins": sum(r["wins"] for r in by_market),
        "losses": sum(r["losses"] for r in by_market),
        "pushes": sum(r["pushes"] for r in by_market),
        "avg_clv": sum(c * n for c, n in clv_bets) / weight if weight else None,
    }
    curve = charts.figure(
        [charts.line([d.isoformat() for d in daily], [float(v) for v in daily.values()], name="Bankroll", step=True)],
        y_title=bankroll.currency,
        x_type="date",
        extra_layout={"showlegend": False},
    )
    return {
        "curve": curve if daily else None,
        "balance": running,
        "deposits": deposits,
        "total": _figures(total, deposits),
        "by_market": by_market,
        "by_month": by_month,
        "days": len(daily),
    }


# --- Backtests -----------------------------------------------------------------------------------


def backtest_curve(bt: Backtest) -> charts.Figure | None:
    """The simulated bankroll day by day, with the starting bankroll as a reference line."""
    points = [p for p in bt.curve or [] if isinstance(p, dict) and "date" in p and "bankroll" in p]
    if not points:
        return None
    x = [p["date"] for p in points]
    start = float(bt.starting_bankroll)
    return charts.figure(
        [
            charts.line(x, [float(p["bankroll"]) for p in points], name="Bankroll", step=True),
            charts.line([x[0], x[-1]], [start, start], name="Starting bankroll", dash="dot"),
        ],
        y_title="Bankroll",
        x_type="date",
    )
