"""The paper strategies: what places paper bets (PAPER_STRATEGY, ``recommend --strategy``).

- ``model``: the active models' probabilities blended with the market (``services.recommend``).
- ``scanner``: no model. The scanner's positive_ev prices (``edges``, ``scanner.positive_ev``): a book's
  price beating the de-vigged consensus of the SHARP_BOOKS on that line by at least MIN_SCAN_EV. The
  probability staked on is that sharp consensus, the price the best one across books (net of an
  exchange's commission), sized by fractional Kelly under the same risk limits, stops and exposure
  caps as a model's bet (``staking.size_slate``). A line no sharp book quotes gets no stake: a
  consensus of the soft books alone is not a fair price to bet against.
- ``both``: the two, one after the other on the same bankroll; each run sees the other's bets as
  open positions, so a side is never taken twice.

Scanner bets are ordinary ``Bet`` rows without a model version, their decision run prefixed
``scanner:`` (``SCANNER_RUN_PREFIX``), which is how the ledger tells the strategy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import TypedDict, Unpack

from django.conf import settings
from django.utils import timezone

from betting.bets import edges, scanner, staking
from betting.bets.models import Bankroll
from betting.bets.services import (
    BetError,
    Offer,
    Recommendation,
    bankroll_locked,
    bankroll_open,
    recommend,
    risk_limits,
    slate_decide,
    why_nothing_priced,
)
from betting.games.models import Bookmaker, Game, League
from core.ops.jobs import job_run

STRATEGIES = ("model", "scanner", "both")
SCANNER_RUN_PREFIX = "scanner:"
GAME_MARKETS = ("h2h", "spreads", "totals")  # props are scanned, not staked: a Bet has no player
NO_SHARP_BOOK = "no sharp book (SHARP_BOOKS) quotes this line: the consensus is the soft books' own"


def scanner_run(decision_run: str) -> str:
    """The scanner's decision run id for a run (at most 40 characters, as ``Bet.decision_run``)."""
    run = decision_run if decision_run.startswith(SCANNER_RUN_PREFIX) else f"{SCANNER_RUN_PREFIX}{decision_run}"
    return run[:40]


def is_scanner_bet(decision_run: str) -> bool:
    return decision_run.startswith(SCANNER_RUN_PREFIX)


def check_strategy(strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown paper strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    return strategy


def _line(market: str, side: str, point: float | None) -> float | None:
    """The scanner's line key of a side: None for h2h, the home side's spread, or the total."""
    if point is None:
        return None
    return -point if market == "spreads" and side == "away" else point


def scanner_recommend(
    *,
    bankroll: Bankroll,
    games: list[Game],
    now: dt.datetime,
    limits: staking.RiskLimits,
    decision_run: str,
    place: bool,
    min_ev: float | None = None,
) -> tuple[list[Recommendation], list[str]]:
    """The scanner strategy on ``games`` as at ``now``: one candidate per game, market, side and
    line the scanner finds +EV against the sharp consensus, at the best price across books; sized
    and (``place``, PAPER) placed like a model's bet (``services.slate_decide``), once per run
    (``scanner_run(decision_run)``), under a lock on the bankroll's row when placing."""
    with bankroll_locked(bankroll, place=place):
        offers = _scanner_offers(games=games, now=now, min_ev=min_ev)
        return slate_decide(
            bankroll=bankroll,
            offers=offers,
            now=now,
            limits=limits,
            decision_run=scanner_run(decision_run),
            place=place,
        )


def _scanner_offers(*, games: list[Game], now: dt.datetime, min_ev: float | None) -> list[Offer]:
    """The best net price across books of each side and line the scanner finds +EV; a line no sharp
    book quotes is offered refused (``NO_SHARP_BOOK``)."""
    # Games not started at ``now`` (a replay decides before the result it later settles on).
    slate = {
        g.pk: g for g in games if g.start_time > now and g.status not in (Game.Status.CANCELLED, Game.Status.POSTPONED)
    }
    config = edges.scan_config(min_ev=min_ev)
    history = edges.quote_history(game_ids=list(slate), at=now)
    latest = edges.latest_per_book(history)  # every quote is before ``now``, so before each start
    matchups = {pk: scanner.Matchup(g.home_team.name, g.away_team.name) for pk, g in slate.items()}
    lines = scanner.usable_pairs(latest, config)
    sharp = set(config.sharp_books)
    sharp_lines = {key for key, pairs in lines.items() if any(p.book in sharp for p in pairs)}
    found = [
        e
        for e in scanner.positive_ev(lines, matchups, config)
        if not e.player and e.market in GAME_MARKETS and e.game_id in slate
    ]
    # The best net price across books per side and line (every book listed beats the fair price).
    best: dict[tuple[int, str, str, float | None], scanner.PositiveEV] = {}
    for item in found:
        key = (item.game_id, item.market, item.side, item.point)
        held = best.get(key)
        if held is None or config.net_price(item.book, item.price) > config.net_price(held.book, held.price):
            best[key] = item
    books = {b.key: b for b in Bookmaker.objects.filter(key__in={e.book for e in best.values()})}
    sized: list[Offer] = []
    refused: list[Offer] = []
    for index, item in enumerate(sorted(best.values(), key=lambda e: (e.game_id, e.market, e.side, e.point or 0))):
        offer = Offer(
            key=index,
            game=slate[item.game_id],
            market=item.market,
            outcome=item.side,
            point=None if item.point is None else Decimal(str(item.point)),
            bookmaker=books[item.book],
            price=Decimal(str(round(config.net_price(item.book, item.price), 4))),
            probability=item.fair_prob,
            market_probability=item.fair_prob,
        )
        if (item.game_id, item.market, "", _line(item.market, item.side, item.point)) not in sharp_lines:
            offer.refused = NO_SHARP_BOOK
            refused.append(offer)
        else:
            sized.append(offer)
    return [*sized, *refused]


class StrategyRun(TypedDict):
    """What every paper strategy is asked (``recommend``, ``scanner_recommend``)."""

    bankroll: Bankroll
    games: list[Game]
    now: dt.datetime
    limits: staking.RiskLimits
    decision_run: str
    place: bool


def paper_recommend(
    *, strategy: str, min_ev: float | None = None, **run: Unpack[StrategyRun]
) -> tuple[list[Recommendation], list[str]]:
    """The model's recommendations, the scanner's, or both (``strategy``, default PAPER_STRATEGY's
    reading by the caller): the model's first, so the scanner's run sees its bets as open positions."""
    check_strategy(strategy)
    recs: list[Recommendation] = []
    warnings: set[str] = set()
    if strategy in ("model", "both"):
        found, said = recommend(**run)
        recs += found
        warnings.update(said)
    if strategy in ("scanner", "both"):
        found, said = scanner_recommend(**run, min_ev=min_ev)
        recs += found
        warnings.update(said)
    return recs, sorted(warnings)


def default_strategy() -> str:
    return check_strategy(settings.PAPER_STRATEGY)


class RecommendSummary(TypedDict):
    """What an automatic run did: its JobRun's counts and its task's result."""

    bankroll: str  # PAPER_BANKROLL
    opted_in: dict[str, int]  # "pk:name" of each opted-in PAPER bankroll -> bets placed on it
    mode: str  # BETTING_MODE
    predictions: int  # created or updated
    games: int
    priced_sides: int
    with_stake: int
    placed: int
    already_placed: int
    warnings: list[str]


def recommend_upcoming(*, league_code: str, now: dt.datetime | None = None) -> RecommendSummary:
    """The automatic decision run behind the odds pulls: predict the games of the next
    RECOMMEND_HORIZON_HOURS with the active models and recommend stakes. PAPER mode places the
    accepted ones on the PAPER_BANKROLL (once per game, market and side a day: the decision run is
    the day); LIVE mode never places anything, it only reports."""
    from betting.predictions.services import predictions_make  # pandas and XGBoost: loaded when run

    now = now or timezone.now()
    league = League.objects.get(code=league_code)
    predicted = predictions_make(league=league, now=now)
    horizon = now + dt.timedelta(hours=settings.RECOMMEND_HORIZON_HOURS)
    games = list(
        Game.objects.filter(league=league, start_time__gt=now, start_time__lte=horizon).select_related(
            "home_team", "away_team"
        )
    )
    paper = settings.BETTING_MODE == "PAPER"
    bankroll = bankroll_open(
        name=settings.PAPER_BANKROLL,
        deposit=Decimal(str(settings.PAPER_BANKROLL_DEPOSIT)),
        mode=Bankroll.Mode.PAPER,
    )
    run_id = f"auto-{now:%Y-%m-%d}"
    decide = partial(paper_recommend, strategy=default_strategy())  # PAPER_STRATEGY: model, scanner or both
    recs, warnings = decide(
        bankroll=bankroll, games=games, now=now, limits=risk_limits(bankroll), decision_run=run_id, place=paper
    )
    # Every other PAPER bankroll that opted in, each under its own limits, the same run of the day.
    others: dict[str, int] = {}
    opted = Bankroll.objects.filter(mode=Bankroll.Mode.PAPER, auto_paper=True).exclude(pk=bankroll.pk)
    for other in opted.order_by("pk"):
        other_recs, _ = decide(
            bankroll=other, games=games, now=now, limits=risk_limits(other), decision_run=run_id, place=paper
        )
        others[f"{other.pk}:{other.name}"] = sum(1 for r in other_recs if r.bet_id and not r.already_placed)
    return {
        "bankroll": bankroll.name,
        "opted_in": others,
        "mode": settings.BETTING_MODE,
        "predictions": predicted.created + predicted.updated,
        "games": len(games),
        "priced_sides": len(recs),
        "with_stake": sum(1 for r in recs if r.stake > 0),
        "placed": sum(1 for r in recs if r.bet_id and not r.already_placed),
        "already_placed": sum(1 for r in recs if r.already_placed),
        "warnings": warnings,
    }


@dataclass
class RecommendRun:
    """One ``recommend`` run asked by hand: what it priced, on which bankroll, and why nothing when
    nothing was (``why_nothing_priced``)."""

    league: League
    bankroll: Bankroll
    run_id: str
    strategy: str
    recs: list[Recommendation]
    warnings: list[str]
    nothing_priced: list[str]

    @property
    def placed(self) -> int:
        return sum(1 for r in self.recs if r.bet_id and not r.already_placed)

    @property
    def already_placed(self) -> int:
        return sum(1 for r in self.recs if r.already_placed)

    @property
    def with_stake(self) -> int:
        return sum(1 for r in self.recs if r.stake > 0)


def recommend_run(
    *,
    league_code: str,
    day: dt.date | None = None,
    bankroll_name: str | None = None,
    deposit: Decimal = Decimal("10000"),
    as_of: dt.datetime | None = None,
    run_id: str = "",
    strategy: str | None = None,
    min_edge: float | None = None,
) -> RecommendRun:
    """``manage.py recommend``: the games of ``day`` (default: from now on) priced by ``strategy``
    (default PAPER_STRATEGY) on a system bankroll (default PAPER_BANKROLL, opened with ``deposit``
    if new, as of the decision time so a replay's curve starts before its first bet); in PAPER mode
    on a PAPER bankroll the accepted sides are placed, once per ``run_id``. Recorded as a
    ``recommend`` JobRun. Unlike ``recommend_upcoming`` (the automatic run) it makes no predictions."""
    league = League.objects.filter(code=league_code.upper()).first()
    if league is None:
        raise BetError(f"unknown league {league_code!r}")
    now = as_of or timezone.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    games = Game.objects.filter(league=league)
    games = games.filter(game_date=day) if day else games.filter(start_time__gt=now)
    mode = settings.BETTING_MODE
    bankroll = bankroll_open(name=bankroll_name or settings.PAPER_BANKROLL, deposit=deposit, mode=mode, at=now)
    place = bankroll.mode == Bankroll.Mode.PAPER and mode == "PAPER"
    run_id = run_id or f"{now:%Y%m%d%H%M}"
    strategy = strategy or default_strategy()
    params = {"league": league.code, "bankroll": bankroll.name, "run": run_id, "strategy": strategy}
    with job_run("recommend", params) as run:
        limits = risk_limits(bankroll)
        if min_edge is not None:
            limits = replace(limits, min_edge=min_edge)
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
    nothing_priced = (
        []
        if recs
        else why_nothing_priced(league=league, games=list(games), now=now, day=day, models=strategy != "scanner")
    )
    return RecommendRun(league, bankroll, run_id, strategy, recs, warnings, nothing_priced)
