"""Bankrolls, placing and settling bets, closing-line value. Writes go through here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from betting.bets import staking
from betting.bets.models import Backtest, Bankroll, BankrollEntry, Bet
from betting.bets.pricing import OTHER_SIDE, consensus_probability, same_line
from betting.games.models import Bookmaker, Game, OddsQuote
from betting.predictions.models import ModelVersion
from core.switches import betting_stopped

CENT = Decimal("0.01")


class BetError(Exception):
    pass


def bankroll_open(
    *, name: str, deposit: Decimal, mode: str = Bankroll.Mode.PAPER, at: dt.datetime | None = None
) -> Bankroll:
    """A bankroll with its first deposit; opening the same name again changes nothing."""
    with transaction.atomic():
        bankroll, created = Bankroll.objects.get_or_create(name=name, defaults={"mode": mode})
        if created:
            BankrollEntry.objects.create(
                bankroll=bankroll,
                kind=BankrollEntry.Kind.DEPOSIT,
                amount=deposit.quantize(CENT),
                created_at=at or timezone.now(),
                note="opening deposit",
            )
    return bankroll


def check_can_place(bankroll: Bankroll, *, manual: bool) -> None:
    """The two locks of LIVE mode, as a clear error."""
    if bankroll.mode != Bankroll.Mode.LIVE:
        return
    if not manual:
        raise BetError(f"{bankroll.name} is a LIVE bankroll: it never gets automatic bets, only the ones you enter")
    if not settings.ENABLE_LIVE_BETTING:
        raise BetError("recording bets on a LIVE bankroll is locked: set ENABLE_LIVE_BETTING=true to allow it")


def bet_place(
    *,
    bankroll: Bankroll,
    game: Game,
    market: str,
    outcome: str,
    bookmaker: Bookmaker,
    price: Decimal,
    stake: Decimal,
    probability: float,
    decision_run: str,
    point: Decimal | None = None,
    model_version: ModelVersion | None = None,
    placed_at: dt.datetime | None = None,
    manual: bool = False,
) -> tuple[Bet, bool]:
    """Record a bet and its stake in the ledger, once per bankroll/game/market/side/decision run.
    Returns (bet, created). A LIVE bankroll takes only bets the user entered (``manual``), and only
    with ENABLE_LIVE_BETTING on: nothing here ever bets real money by itself."""
    check_can_place(bankroll, manual=manual)
    if stake <= 0:
        raise BetError(f"a stake must be positive, got {stake}")
    if price <= 1:
        raise BetError(f"decimal odds must be above 1, got {price}")
    placed_at = placed_at or timezone.now()
    existing = Bet.objects.filter(
        bankroll=bankroll, game=game, market=market, outcome=outcome, decision_run=decision_run
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            bet = Bet.objects.create(
                bankroll=bankroll,
                game=game,
                market=market,
                outcome=outcome,
                bookmaker=bookmaker,
                price=price,
                point=point,
                stake=stake.quantize(CENT),
                probability=Decimal(str(round(probability, 6))),
                edge=Decimal(str(round(probability - float(1 / price), 6))),
                model_version=model_version,
                decision_run=decision_run,
                placed_at=placed_at,
            )
            BankrollEntry.objects.create(
                bankroll=bankroll, kind=BankrollEntry.Kind.STAKE, amount=-bet.stake, bet=bet, created_at=placed_at
            )
    except IntegrityError:  # placed by a concurrent run a moment ago
        return Bet.objects.get(
            bankroll=bankroll, game=game, market=market, outcome=outcome, decision_run=decision_run
        ), False
    return bet, True


def grade(*, market: str, outcome: str, point: Decimal | None, home: int, away: int) -> str:
    """win, loss or push for a finished game (``staking.grade`` on its margin and total)."""
    try:
        return staking.grade(market, outcome, point, home - away, home + away)
    except ValueError as exc:
        raise BetError(str(exc)) from None


def closing_fair_price(bet: Bet) -> Decimal | None:
    """The de-vigged closing price of the bet's side: each book's last two-way quote before the
    start (at the bet's line for spreads and totals), de-vigged, averaged over the books."""
    quotes = OddsQuote.objects.filter(
        game_id=bet.game_id,
        market=bet.market,
        captured_at__lt=bet.game.start_time,
        price__isnull=False,
        outcome__in=[bet.outcome, OTHER_SIDE[bet.outcome]],
    ).order_by("captured_at")
    last: dict[tuple[int, str], OddsQuote] = {}
    for quote in quotes:
        last[(quote.bookmaker_id, quote.outcome)] = quote
    pairs = []
    for (book, outcome), quote in last.items():
        if outcome != bet.outcome or (bet.market != OddsQuote.Market.H2H and quote.point != bet.point):
            continue
        other = last.get((book, OTHER_SIDE[outcome]))
        if other is None or other.price is None or quote.price is None:
            continue
        if same_line(bet.market, quote.point, other.point):
            pairs.append((quote.price, other.price))
    fair_probability = consensus_probability(pairs)
    if not fair_probability:
        return None
    return Decimal(str(1 / fair_probability)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass
class SettleSummary:
    settled: int = 0
    results: dict[str, int] = field(default_factory=dict)


def bets_settle(*, now: dt.datetime | None = None) -> SettleSummary:
    """Settle every open bet whose game is final (win, loss, push) or called off (void), with its
    payout in the ledger and its closing-line value. Settling twice changes nothing."""
    now = now or timezone.now()
    summary = SettleSummary()
    done = [Game.Status.FINAL, Game.Status.POSTPONED, Game.Status.CANCELLED]
    ids = list(Bet.objects.filter(status=Bet.Status.OPEN, game__status__in=done).values_list("id", flat=True))
    for bet_id in ids:
        with transaction.atomic():
            bet = Bet.objects.select_for_update().select_related("game").get(pk=bet_id)
            if bet.status != Bet.Status.OPEN:
                continue
            game = bet.game
            if game.status == Game.Status.FINAL and game.home_score is not None and game.away_score is not None:
                result = grade(
                    market=bet.market, outcome=bet.outcome, point=bet.point, home=game.home_score, away=game.away_score
                )
            else:
                result = Bet.Result.VOID
            payout = (
                (bet.stake * bet.price).quantize(CENT)
                if result == "win"
                else (bet.stake if result in ("push", "void") else Decimal("0.00"))
            )
            bet.result, bet.payout, bet.status, bet.settled_at = result, payout, Bet.Status.SETTLED, now
            close = closing_fair_price(bet)
            bet.closing_price = close
            bet.clv = (bet.price / close - 1).quantize(Decimal("0.000001")) if close else None
            bet.save()
            if payout > 0:
                BankrollEntry.objects.create(
                    bankroll_id=bet.bankroll_id,
                    kind=BankrollEntry.Kind.PAYOUT,
                    amount=payout,
                    bet=bet,
                    created_at=now,
                    note=result,
                )
            summary.settled += 1
            summary.results[result] = summary.results.get(result, 0) + 1
    return summary


# --- Recommendations -------------------------------------------------------------------------


@dataclass
class Recommendation:
    prediction_id: int
    game: Game
    market: str
    outcome: str
    point: Decimal | None
    bookmaker: Bookmaker
    price: Decimal
    probability: float
    stake: Decimal
    edge: float
    ev: float
    reasons: list[str]
    bet_id: int | None = None


def best_prices(*, game_ids: list[int], now: dt.datetime) -> dict[tuple[int, str, str, Decimal | None], OddsQuote]:
    """Line shopping: for each game, market, side and line, the best price any book offers now
    (each book's latest quote before now and before the start)."""
    latest: dict[tuple[int, int, str, str], OddsQuote] = {}
    quotes = (
        OddsQuote.objects.filter(game_id__in=game_ids, captured_at__lte=now, price__isnull=False)
        .select_related("bookmaker", "game")
        .order_by("captured_at")
    )
    for quote in quotes:
        if quote.captured_at < quote.game.start_time:
            latest[(quote.game_id, quote.bookmaker_id, quote.market, quote.outcome)] = quote
    best: dict[tuple[int, str, str, Decimal | None], OddsQuote] = {}
    for quote in latest.values():
        key = (quote.game_id, quote.market, quote.outcome, quote.point)
        if key not in best or (quote.price or 0) > (best[key].price or 0):
            best[key] = quote
    return best


def bankroll_state(bankroll: Bankroll, *, now: dt.datetime, limits: Any) -> Any:
    """Balance, peak over the window, today's stakes and recent results, for the staking rules."""
    peak_days = limits.peak_bankroll_days
    balance = bankroll.balance()
    running = Decimal(0)
    peak = Decimal(0)
    since = now - dt.timedelta(days=peak_days)
    for entry in bankroll.entries.order_by("created_at", "id").values_list("amount", "created_at"):
        running += entry[0]
        if entry[1] >= since:
            peak = max(peak, running)
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    staked_today = -sum(
        (
            e
            for e in bankroll.entries.filter(kind=BankrollEntry.Kind.STAKE, created_at__gte=start_of_day).values_list(
                "amount", flat=True
            )
        ),
        Decimal(0),
    )
    settled = list(
        bankroll.bets.filter(status=Bet.Status.SETTLED)
        .exclude(result="void")
        .order_by("-settled_at")
        .values_list("result", "settled_at")[:50]
    )[::-1]
    hours: list[tuple[Any, float]] = [
        (result, (now - at).total_seconds() / 3600) for result, at in settled if at is not None
    ]
    results = staking.streak_served(hours, limits)
    return staking.BankrollState(
        balance=balance, peak=max(peak, balance), staked_today=staked_today, recent_results=results
    )


def risk_limits() -> Any:
    """The risk limits from the settings, with the kill switch as it stands now (the environment's
    BETTING_KILL_SWITCH or the operator's, core.switches)."""
    values = dict(settings.RISK_LIMITS)
    values["max_stake_absolute"] = Decimal(str(values["max_stake_absolute"]))
    return staking.RiskLimits(**values, kill_switch=betting_stopped())


def recommend(
    *,
    bankroll: Bankroll,
    games: list[Game],
    now: dt.datetime,
    limits: Any,
    decision_run: str,
    place: bool,
) -> tuple[list[Recommendation], list[str]]:
    """Model probabilities against the best price across books, sized by fractional Kelly under
    the risk limits; in PAPER mode (``place``) the accepted ones become bets, once per run."""
    from betting.predictions.models import Prediction

    if not limits.kill_switch and betting_stopped():
        limits = replace(limits, kill_switch=True)  # the operator's switch, whoever built the limits
    ids = [g.pk for g in games if g.start_time > now and not g.is_final]
    prices = best_prices(game_ids=ids, now=now)
    predictions = (
        Prediction.objects.filter(game_id__in=ids, model_version__is_active=True)
        .select_related("game__home_team", "game__away_team", "model_version")
        .order_by("created_at")
    )
    latest = {(p.game_id, p.market, p.outcome): p for p in predictions}
    candidates = []
    offers: dict[Any, tuple[Any, OddsQuote]] = {}
    for prediction in latest.values():
        quote = prices.get((prediction.game_id, prediction.market, prediction.outcome, prediction.point))
        if quote is None or quote.price is None:
            continue
        offers[prediction.pk] = (prediction, quote)
        candidates.append(
            staking.Candidate(key=prediction.pk, probability=float(prediction.probability), price=quote.price)
        )
    state = bankroll_state(bankroll, now=now, limits=limits)
    decisions = staking.size_slate(candidates, state, limits)
    warnings = sorted({w for d in decisions for w in d.warnings})
    out = []
    for decision in decisions:
        prediction, quote = offers[decision.key]
        rec = Recommendation(
            prediction_id=prediction.pk,
            game=prediction.game,
            market=prediction.market,
            outcome=prediction.outcome,
            point=prediction.point,
            bookmaker=quote.bookmaker,
            price=quote.price or Decimal(0),
            probability=float(prediction.probability),
            stake=decision.stake,
            edge=decision.edge,
            ev=decision.ev,
            reasons=list(decision.reasons),
        )
        if place and decision.accepted:
            bet, _ = bet_place(
                bankroll=bankroll,
                game=prediction.game,
                market=prediction.market,
                outcome=prediction.outcome,
                bookmaker=quote.bookmaker,
                price=rec.price,
                stake=decision.stake,
                probability=rec.probability,
                decision_run=decision_run,
                point=prediction.point,
                model_version=prediction.model_version,
                placed_at=now,
            )
            rec.bet_id = bet.pk
        out.append(rec)
    return out, warnings


# --- Backtests ---------------------------------------------------------------------------------


def backtest_create(
    *,
    league: Any,
    market: str,
    date_from: dt.date,
    date_to: dt.date,
    params: dict[str, Any],
    name: str = "",
    user: Any = None,
) -> Any:
    """A queued backtest; the strategy is checked now so a bad one never reaches a worker."""
    from betting.bets.backtest import MARKETS, BacktestError, strategy_from

    if market not in MARKETS:
        raise BacktestError(f"unknown market {market!r}: choose one of {', '.join(MARKETS)}")
    if date_to < date_from:
        raise BacktestError(f"the window ends ({date_to}) before it starts ({date_from})")
    strategy = strategy_from(params)
    return Backtest.objects.create(
        name=name[:100],
        league=league,
        market=market,
        date_from=date_from,
        date_to=date_to,
        params=strategy.as_params(),
        starting_bankroll=strategy.starting_bankroll,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def backtest_run(backtest_id: int, *, task_id: str = "", progress: Any = None) -> Any:
    """Run a queued backtest, saving its progress as it goes and its figures at the end. A failure
    is recorded on the row (status failed, the reason in words), never half a result."""
    from betting.bets import backtest as engine

    bt = Backtest.objects.select_related("league").get(pk=backtest_id)
    if bt.status == Backtest.Status.SUCCESS:
        return bt  # a re-delivered task: the work is done
    now = timezone.now()
    Backtest.objects.filter(pk=bt.pk).update(
        status=Backtest.Status.RUNNING, started_at=now, task_id=task_id or bt.task_id, progress=0.0, error=""
    )
    step = {"last": 0.0}

    def report(done: int, total: int, note: str) -> None:
        share = done / total if total else 1.0
        if share - step["last"] >= 0.01 or done == total:
            step["last"] = share
            Backtest.objects.filter(pk=bt.pk).update(progress=round(share, 4), progress_note=note[:200])
        if progress is not None:
            progress(done, total, note)

    try:
        strategy = engine.strategy_from(bt.params)
        result = engine.run(
            league=bt.league,
            market=bt.market,
            start=bt.date_from,
            end=bt.date_to,
            strategy=strategy,
            progress=report,
        )
    except engine.BacktestError as exc:
        Backtest.objects.filter(pk=bt.pk).update(
            status=Backtest.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        bt.refresh_from_db()
        return bt
    ci = result.roi_ci95 or (None, None)
    yci = result.yield_ci95 or (None, None)
    Backtest.objects.filter(pk=bt.pk).update(
        status=Backtest.Status.SUCCESS,
        finished_at=timezone.now(),
        progress=1.0,
        progress_note=f"{result.n_bets} bets over {result.summary.get('days', 0)} days",
        n_bets=result.n_bets,
        staked=result.staked,
        profit=result.profit,
        roi=result.roi,
        roi_ci_low=ci[0],
        roi_ci_high=ci[1],
        yield_rate=result.yield_rate,
        yield_ci_low=yci[0],
        yield_ci_high=yci[1],
        hit_rate=result.hit_rate,
        max_drawdown=result.max_drawdown,
        avg_clv=result.avg_clv,
        final_bankroll=result.final_bankroll,
        curve=result.curve,
        summary=result.summary,
        bets=result.bets,
    )
    bt.refresh_from_db()
    return bt


def recommend_upcoming(*, league_code: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The automatic decision run behind the odds pulls: predict the games of the next
    RECOMMEND_HORIZON_HOURS with the active models and recommend stakes. PAPER mode places the
    accepted ones on the PAPER_BANKROLL (once per game, market and side a day: the decision run is
    the day); LIVE mode never places anything, it only reports."""
    from betting.games.models import League
    from betting.predictions.services import predictions_make

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
    recs, warnings = recommend(
        bankroll=bankroll,
        games=games,
        now=now,
        limits=risk_limits(),
        decision_run=f"auto-{now:%Y-%m-%d}",
        place=paper,
    )
    return {
        "mode": settings.BETTING_MODE,
        "predictions": predicted.created + predicted.updated,
        "games": len(games),
        "priced_sides": len(recs),
        "with_stake": sum(1 for r in recs if r.stake > 0),
        "placed": sum(1 for r in recs if r.bet_id),
        "warnings": warnings,
    }
