"""The API's operations: each one reads through a selector or writes through a service of its domain
app and shapes the answer; no business rule lives here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any, TypedDict, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from betting.api.auth import READ, WRITE, user_of
from betting.api.errors import ApiError
from betting.api.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    BacktestIn,
    BacktestOut,
    BacktestPage,
    BacktestStatus,
    BankrollOut,
    BankrollPage,
    BetIn,
    BetOut,
    BetPage,
    BetResult,
    BetSource,
    BetStatus,
    Day,
    EdgesOut,
    Error,
    GameMarket,
    GameOut,
    GamePage,
    GameStatus,
    Id,
    ImportFailed,
    ImportOut,
    LeagueCode,
    MarketOut,
    Moment,
    PredictionOut,
    PredictionPage,
    ProgressOut,
    SideOut,
    TeamOut,
)
from betting.bets import edges as edge_scanner
from betting.bets import selectors as bet_selectors
from betting.bets import services as bet_services
from betting.bets.models import Backtest, Bankroll, Bet
from betting.games import selectors as game_selectors
from betting.games.models import Bookmaker, Game, League
from betting.predictions import selectors as prediction_selectors

router = Router()
M = TypeVar("M", bound=Model)

ERRORS: dict[int, type[Error]] = {400: Error, 401: Error, 404: Error, 429: Error}
WRITE_ERRORS: dict[int, type[Error]] = {**ERRORS, 403: Error}


def without(errors: dict[int, type[Error]], status: int) -> dict[int, type[Error]]:
    return {code: schema for code, schema in errors.items() if code != status}


Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT}).")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Rows to skip.")]


class Window(TypedDict):
    count: int
    limit: int
    offset: int


def _page(rows: QuerySet[M], limit: int, offset: int) -> tuple[list[M], Window]:
    """One page of ``rows`` and where it stands among them all."""
    items = list(rows[offset : offset + limit])
    return items, {"count": rows.count(), "limit": limit, "offset": offset}


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


# --- Games ------------------------------------------------------------------------------------


def _markets(game_ids: list[int], now: dt.datetime) -> dict[int, list[MarketOut]]:
    """Each game's market now (bets.services.market_now over games.market): best price and
    de-vigged consensus per side and line."""
    best, consensus = bet_services.market_now(game_ids=game_ids, now=now)
    grouped: dict[tuple[int, str], list[SideOut]] = defaultdict(list)
    for key in sorted(best, key=lambda k: (k[0], k[1], k[2], float(k[3]) if k[3] is not None else 0.0)):
        game_id, market, outcome, point = key
        price = best[key]
        probability = consensus.get(key)
        grouped[(game_id, market)].append(
            SideOut(
                outcome=outcome,
                point=_num(point),
                best_price=float(price.price),
                best_book=price.book,
                best_captured_at=price.captured_at,
                consensus_probability=probability,
                fair_price=(1.0 / probability) if probability else None,
            )
        )
    result: dict[int, list[MarketOut]] = defaultdict(list)
    for (game_id, market), sides in grouped.items():
        result[game_id].append(MarketOut(market=market, sides=sides))
    return result


# A game's columns as the answer reads them: plain rows, not models (a page is up to 200 games).
GAME_COLUMNS = (
    "pk", "league__code", "season", "game_date", "start_time", "status",
    "home_team_id", "home_team__name", "home_team__abbreviation",
    "away_team_id", "away_team__name", "away_team__abbreviation",
    "home_score", "away_score", "neutral_site",
)  # fmt: skip


def _games(rows: QuerySet[Game], *, markets: bool, now: dt.datetime) -> list[GameOut]:
    """The games of ``rows`` (a page already cut), each with its market now when ``markets``."""
    games = list(rows.values_list(*GAME_COLUMNS))
    market = _markets([g[0] for g in games], now) if markets and games else {}
    return [
        GameOut(
            id=pk,
            league=league,
            season=season,
            game_date=day,
            start_time=start,
            status=status,
            home_team=TeamOut(id=home_id, name=home_name, abbreviation=home_abbreviation),
            away_team=TeamOut(id=away_id, name=away_name, abbreviation=away_abbreviation),
            home_score=home_score,
            away_score=away_score,
            neutral_site=neutral,
            markets=market.get(pk, []) if markets else None,
        )
        for (
            pk, league, season, day, start, status,
            home_id, home_name, home_abbreviation,
            away_id, away_name, away_abbreviation,
            home_score, away_score, neutral,
        ) in games
    ]  # fmt: skip


@router.get("/games", response={200: GamePage, **ERRORS}, auth=READ, tags=["games"])
def games_list(
    request: HttpRequest,
    league: LeagueCode | None = None,
    date: Annotated[Day | None, Field(description="The game's local date.")] = None,
    date_from: Day | None = None,
    date_to: Day | None = None,
    status: GameStatus | None = None,
    markets: Annotated[bool, Field(description="Include the market now (best prices, consensus).")] = True,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> GamePage:
    """Games, newest start first, with the latest consensus fair probability and best price per side."""
    rows = game_selectors.games_filtered(league=league, day=date, date_from=date_from, date_to=date_to, status=status)
    page: Window = {"count": rows.count(), "limit": limit, "offset": offset}
    return GamePage(**page, items=_games(rows[offset : offset + limit], markets=markets, now=timezone.now()))


@router.get("/games/{int:game_id}", response={200: GameOut, **ERRORS}, auth=READ, tags=["games"])
def games_detail(request: HttpRequest, game_id: Id) -> GameOut:
    found = _games(game_selectors.games_filtered().filter(pk=game_id), markets=True, now=timezone.now())
    if not found:
        raise ApiError(404, f"no game {game_id}")
    return found[0]


# --- Predictions ------------------------------------------------------------------------------


@router.get("/predictions", response={200: PredictionPage, **ERRORS}, auth=READ, tags=["predictions"])
def predictions_list(
    request: HttpRequest,
    game: Id | None = None,
    league: LeagueCode | None = None,
    market: GameMarket | None = None,
    date_from: Day | None = None,
    date_to: Day | None = None,
    active: Annotated[bool, Field(description="Only the active model versions' predictions.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> PredictionPage:
    """The models' predictions, newest first."""
    rows = prediction_selectors.predictions_filtered(
        game_id=game, league=league, market=market, date_from=date_from, date_to=date_to, active_only=active
    )
    items, page = _page(rows, limit, offset)
    return PredictionPage(
        **page,
        items=[
            PredictionOut(
                id=p.pk,
                game_id=p.game_id,
                league=p.game.league.code,
                game_date=p.game.game_date,
                home_team=p.game.home_team.name,
                away_team=p.game.away_team.name,
                market=p.market,
                outcome=p.outcome,
                point=_num(p.point),
                probability=float(p.probability),
                fair_odds=float(p.fair_odds),
                model_version=str(p.model_version.version),
                model_active=p.model_version.is_active,
                stale_reason=p.stale_reason,
                created_at=p.created_at,
            )
            for p in items
        ],
    )


# --- Edges ------------------------------------------------------------------------------------


@router.get("/edges", response={200: EdgesOut, **ERRORS}, auth=READ, tags=["edges"])
def edges(
    request: HttpRequest,
    league: LeagueCode | None = None,
    market: GameMarket | None = None,
    min_ev: Annotated[float | None, Field(ge=-1, le=10, description="Default MIN_SCAN_EV.")] = None,
    at: Annotated[Moment | None, Field(description="Replay a past moment; default now.")] = None,
) -> EdgesOut:
    """The market scanner (as /edges): +EV prices against the sharp consensus, arbitrages, middles, steam."""
    found = edge_scanner.edges_scan(at=at, league=league, market=market, min_ev=min_ev)
    return EdgesOut.model_validate(
        {"at": found.at, "games": found.scanned, "quotes": found.quotes, **found.result.as_json()}
    )


# --- Bankrolls and bets -----------------------------------------------------------------------


@router.get("/bankrolls", response={200: BankrollPage, **ERRORS}, auth=READ, tags=["bankrolls"])
def bankrolls_list(request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> BankrollPage:
    """The bankrolls the caller may see: their own, those shared with them, the house's."""
    user = user_of(request)
    rows = bet_selectors.bankrolls_for(user).select_related("owner").order_by("name", "id")
    items, page = _page(rows, limit, offset)
    betting = set(
        bet_selectors.bankrolls_for(user, perm="bet").filter(pk__in=[b.pk for b in items]).values_list("pk", flat=True)
    )
    return BankrollPage(**page, items=[_bankroll(b, b.pk in betting) for b in items])


def _bankroll(bankroll: Bankroll, can_bet: bool) -> BankrollOut:
    return BankrollOut(
        id=bankroll.pk,
        name=bankroll.name,
        mode=bankroll.mode,
        currency=bankroll.currency,
        owner=bankroll.owner.get_username() if bankroll.owner else None,
        balance=bankroll.balance(),
        can_bet=can_bet,
        created_at=bankroll.created_at,
    )


@router.get("/bankrolls/{int:bankroll_id}", response={200: BankrollOut, **ERRORS}, auth=READ, tags=["bankrolls"])
def bankrolls_detail(request: HttpRequest, bankroll_id: Id) -> BankrollOut:
    user = user_of(request)
    bankroll = bet_selectors.bankrolls_for(user).select_related("owner").filter(pk=bankroll_id).first()
    if bankroll is None:
        raise ApiError(404, f"no bankroll {bankroll_id} among yours")
    return _bankroll(bankroll, bet_selectors.can_bet(user, bankroll))


def _bet(bet: Bet) -> BetOut:
    return BetOut(
        id=bet.pk,
        bankroll_id=bet.bankroll_id,
        game_id=bet.game_id,
        league=bet.game.league.code,
        home_team=bet.game.home_team.name,
        away_team=bet.game.away_team.name,
        start_time=bet.game.start_time,
        market=bet.market,
        outcome=bet.outcome,
        point=_num(bet.point),
        book=bet.bookmaker.key,
        price=float(bet.price),
        stake=bet.stake,
        placed_at=bet.placed_at,
        source=bet.source,
        status=bet.status,
        result=bet.result,
        payout=bet.payout,
        profit=bet.profit,
        closing_price=_num(bet.closing_price),
        clv=_num(bet.clv),
    )


BET_RELATED = ("game__league", "game__home_team", "game__away_team", "bookmaker")


@router.get("/bets", response={200: BetPage, **ERRORS}, auth=READ, tags=["bets"])
def bets_list(
    request: HttpRequest,
    bankroll: Id | None = None,
    league: LeagueCode | None = None,
    market: GameMarket | None = None,
    status: BetStatus | None = None,
    result: BetResult | None = None,
    source: BetSource | None = None,
    date_from: Annotated[Day | None, Field(description="Placed on or after (UTC date).")] = None,
    date_to: Annotated[Day | None, Field(description="Placed on or before (UTC date).")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> BetPage:
    """The bets on the bankrolls the caller may see, newest first."""
    rows = bet_selectors.bets_for(user_of(request)).select_related(*BET_RELATED)
    filters: dict[str, object] = {
        "bankroll_id": bankroll,
        "game__league__code": league.upper() if league else None,
        "market": market,
        "status": status,
        "result": result,
        "source": source,
        "placed_at__date__gte": date_from,
        "placed_at__date__lte": date_to,
    }
    rows = rows.filter(**{name: value for name, value in filters.items() if value is not None})
    items, page = _page(rows.order_by("-placed_at", "-id"), limit, offset)
    return BetPage(**page, items=[_bet(b) for b in items])


@router.get("/bets/{int:bet_id}", response={200: BetOut, **ERRORS}, auth=READ, tags=["bets"])
def bets_detail(request: HttpRequest, bet_id: Id) -> BetOut:
    bet = bet_selectors.bets_for(user_of(request)).select_related(*BET_RELATED).filter(pk=bet_id).first()
    if bet is None:
        raise ApiError(404, f"no bet {bet_id} among yours")
    return _bet(bet)


def _bankroll_to_bet_on(user: Any, bankroll_id: int) -> Bankroll:  # noqa: ANN401 (swappable user model)
    """The bankroll, when the caller may see it (404 otherwise: no hint it exists) and bet on it (403)."""
    bankroll = bet_selectors.bankrolls_for(user).filter(pk=bankroll_id).first()
    if bankroll is None:
        raise ApiError(404, f"no bankroll {bankroll_id} among yours")
    if not bet_selectors.can_bet(user, bankroll):
        raise ApiError(403, f"you may see bankroll {bankroll_id} but not record bets on it")
    return bankroll


@router.post("/bets", response={201: BetOut, **WRITE_ERRORS}, auth=WRITE, tags=["bets"])
def bets_create(request: HttpRequest, body: BetIn) -> Status[BetOut]:
    """Record a bet placed at a book (source manual); LIVE bankrolls need ENABLE_LIVE_BETTING."""
    user = user_of(request)
    bankroll = _bankroll_to_bet_on(user, body.bankroll)
    game = Game.objects.filter(pk=body.game).first()
    if game is None:
        raise ApiError(404, f"no game {body.game}")
    bookmaker = Bookmaker.objects.filter(key=body.book).first()
    if bookmaker is None:
        raise ApiError(400, f"unknown book {body.book!r}: use a bookmaker key such as draftkings")
    try:
        bet = bet_services.bet_record_manual(
            user=user,
            bankroll=bankroll,
            game=game,
            market=body.market,
            outcome=body.outcome,
            bookmaker=bookmaker,
            price=body.decimal_price(),
            stake=body.decimal_stake(),
            point=body.decimal_point(),
            placed_at=body.placed_at,
            probability=body.probability,
        )
    except bet_services.BetError as exc:
        raise ApiError(400, str(exc)) from None
    return Status(201, _bet(Bet.objects.select_related(*BET_RELATED).get(pk=bet.pk)))


IMPORT_MAX_BYTES = 20_000_000  # 10,000 rows of the generic layout are about 1 MB


@router.post(
    "/bets/import",
    response={200: ImportOut, 400: ImportFailed, 413: Error, **without(WRITE_ERRORS, 400)},
    auth=WRITE,
    tags=["bets"],
)
def bets_import(
    request: HttpRequest,
    file: File[UploadedFile],
    bankroll: Form[Id],
    layout: Form[str] = "generic",
) -> Status[dict[str, object]]:
    """Import a CSV of bets: all rows or none. Unmatched rows come back with their reasons (400), rows
    imported before are skipped as duplicates; bets whose games are over are settled with their CLV."""
    from betting.bets import imports

    user = user_of(request)
    target = _bankroll_to_bet_on(user, bankroll)
    if (file.size or 0) > IMPORT_MAX_BYTES:
        raise ApiError(413, f"the file is too large: at most {IMPORT_MAX_BYTES // 1_000_000} MB")
    result = imports.import_bets(file, user=user, bankroll=target, layout=layout[:40])
    answer = {**dataclasses.asdict(result), "ok": result.ok}
    for problem in (*answer["duplicates"], *answer["unmatched"]):
        # a row longer than the header has its extra cells under the key None (csv.DictReader)
        problem["row"] = {("" if key is None else str(key)): value for key, value in problem["row"].items()}
    if not result.ok:
        problems = len(result.unmatched)
        reason = (
            "; ".join(result.errors) or f"{problems} row{'s' if problems != 1 else ''} to correct: nothing imported"
        )
        return Status(400, {"error": "bad_request", "reason": reason, "result": answer})
    return Status(200, answer)


# --- Backtests --------------------------------------------------------------------------------


def _backtest(bt: Backtest) -> BacktestOut:
    return BacktestOut(
        id=bt.pk,
        name=bt.name,
        league=bt.league.code,
        market=bt.market,
        date_from=bt.date_from,
        date_to=bt.date_to,
        status=bt.status,
        progress=round(float(bt.progress or 0), 4),
        progress_note=bt.progress_note,
        error=bt.error,
        created_at=bt.created_at,
        finished_at=bt.finished_at,
        starting_bankroll=bt.starting_bankroll,
        final_bankroll=bt.final_bankroll,
        n_bets=bt.n_bets,
        roi=bt.roi,
        yield_rate=bt.yield_rate,
        hit_rate=bt.hit_rate,
        max_drawdown=bt.max_drawdown,
        avg_clv=bt.avg_clv,
    )


def _backtests(user: Any) -> QuerySet[Backtest]:  # noqa: ANN401 (swappable user model)
    return bet_selectors.backtests_for(user).select_related("league").defer("bets", "curve", "summary")


@router.get("/backtests", response={200: BacktestPage, **ERRORS}, auth=READ, tags=["backtests"])
def backtests_list(
    request: HttpRequest,
    league: LeagueCode | None = None,
    status: BacktestStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> BacktestPage:
    """The caller's backtests and the house's, newest first."""
    rows = _backtests(user_of(request))
    if league:
        rows = rows.filter(league__code=league.upper())
    if status:
        rows = rows.filter(status=status)
    items, page = _page(rows.order_by("-created_at", "-id"), limit, offset)
    return BacktestPage(**page, items=[_backtest(bt) for bt in items])


@router.get("/backtests/{int:backtest_id}", response={200: BacktestOut, **ERRORS}, auth=READ, tags=["backtests"])
def backtests_detail(request: HttpRequest, backtest_id: Id) -> BacktestOut:
    bt = _backtests(user_of(request)).filter(pk=backtest_id).first()
    if bt is None:
        raise ApiError(404, f"no backtest {backtest_id} among yours")
    return _backtest(bt)


@router.get(
    "/backtests/{int:backtest_id}/progress", response={200: ProgressOut, **ERRORS}, auth=READ, tags=["backtests"]
)
def backtests_progress(request: HttpRequest, backtest_id: Id) -> ProgressOut:
    """What a script polls while a backtest runs: one small query."""
    row = (
        _backtests(user_of(request))
        .filter(pk=backtest_id)
        .values("status", "progress", "progress_note", "error")
        .first()
    )
    if row is None:
        raise ApiError(404, f"no backtest {backtest_id} among yours")
    return ProgressOut(
        status=row["status"],
        progress=round(float(row["progress"] or 0), 4),
        note=row["progress_note"],
        error=row["error"],
        done=row["status"] in (Backtest.Status.SUCCESS, Backtest.Status.FAILED),
    )


@router.post("/backtests", response={202: BacktestOut, **WRITE_ERRORS}, auth=WRITE, tags=["backtests"])
def backtests_create(request: HttpRequest, body: BacktestIn) -> Status[BacktestOut]:
    """Queue a backtest (a Celery task; in the embedded mode it runs before the answer). Poll its progress."""
    from betting.bets.backtest import BacktestError
    from betting.bets.tasks import run_backtest

    league = League.objects.filter(code=body.league.upper()).first()
    if league is None:
        raise ApiError(404, f"no league {body.league}")
    params = body.strategy.model_dump(exclude_none=True)
    params["starting_bankroll"] = str(round(params["starting_bankroll"], 2))
    try:
        bt = bet_services.backtest_create(
            league=league,
            market=body.market,
            date_from=body.date_from,
            date_to=body.date_to,
            params=params,
            name=body.name,
            user=user_of(request),
        )
    except BacktestError as exc:
        raise ApiError(400, str(exc)) from None
    # After the commit, so a worker always finds the row (as the web form does).
    transaction.on_commit(lambda: run_backtest.delay(bt.pk))
    bt.refresh_from_db()  # in the embedded mode it has run already
    return Status(202, _backtest(bt))
