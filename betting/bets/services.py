"""Bankrolls, placing and settling bets, closing-line value. Writes go through here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from betting.bets import blending, staking
from betting.bets.models import Backtest, Bankroll, BankrollEntry, Bet
from betting.games import market as mkt
from betting.games.models import Bookmaker, Game, League, OddsQuote
from betting.predictions import registry
from betting.predictions.models import ModelVersion, Prediction
from betting.predictions.selectors import starter_changed
from core.errors import SharplineError
from core.ops.switches import betting_stopped

CENT = Decimal("0.01")


class BetError(SharplineError):
    pass


def bankroll_open(
    *,
    name: str,
    deposit: Decimal,
    mode: str = Bankroll.Mode.PAPER,
    at: dt.datetime | None = None,
    owner: Any = None,  # noqa: ANN401 (the swappable user model: AUTH_USER_MODEL)
    auto_paper: bool = False,
) -> Bankroll:
    """A bankroll with its first deposit; opening the same name (of the same owner: none is the
    system's) again changes nothing."""
    with transaction.atomic():
        bankroll, created = Bankroll.objects.get_or_create(
            name=name, owner=owner, defaults={"mode": mode, "auto_paper": auto_paper}
        )
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
    source: str = Bet.Source.MODEL,
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
                source=source,
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


NO_CLOSE_SEEN = "no closing price recorded: no price of this market was seen between the bet and the start"


ClosingCache = dict[tuple[int, str, str, Decimal | None], tuple[dt.datetime | None, float | None]]


def closing_probability(bet: Bet, cache: ClosingCache | None = None) -> float | None:
    """The de-vigged closing probability of the bet's side (`games.market.consensus`, DEVIG_METHOD):
    each book's last two-way quote before the start at the bet's line, sane pairs only, averaged.

    None when nothing of the market was seen after a bet placed before the start (``NO_CLOSE_SEEN``):
    the last quotes are then the ones the bet was priced from (a replayed snapshot, a pull that
    stopped), not the close, and a CLV against them would be invented. ``cache`` (one settlement
    run's) keeps each game, market, side and line's close, so a batch reads the quotes once."""
    key = (bet.game_id, bet.market, bet.outcome, bet.point)
    if cache is None or key not in cache:
        last_seen, probability = _close(bet)
        if cache is None:
            return _close_for(bet, last_seen, probability)
        cache[key] = (last_seen, probability)
    return _close_for(bet, *cache[key])


def _close_for(bet: Bet, last_seen: dt.datetime | None, probability: float | None) -> float | None:
    placed = bet.placed_at  # None for a side asked about outside a bet: the close is the close
    if placed is not None and placed < bet.game.start_time and (last_seen is None or last_seen <= placed):
        return None
    return probability


def _close(bet: Bet) -> tuple[dt.datetime | None, float | None]:
    """The newest quote's time and the consensus close of the bet's game, market, side and line."""
    rows = list(
        OddsQuote.objects.filter(
            game_id=bet.game_id,
            market=bet.market,
            captured_at__lt=bet.game.start_time,
            price__isnull=False,
            outcome__in=[bet.outcome, mkt.OTHER_SIDE[bet.outcome]],
        )
        .order_by("captured_at", "id")
        .values_list("captured_at", "bookmaker_id", "outcome", "price", "point")
    )
    standing: mkt.Standing[int, dt.datetime, None] = mkt.standing(
        (mkt.Quote(*row) for row in rows), before=bet.game.start_time
    )
    return (rows[-1][0] if rows else None), mkt.consensus(standing, bet.market, bet.outcome, bet.point)


def closing_line_value(*, price: Decimal, fair_probability: float | None) -> tuple[Decimal | None, Decimal | None]:
    """(closing price, CLV) as the ledger stores them: `games.market.closing_price` to 4 places and
    `games.market.clv` to 6, the same figures a backtest reports for the same bet and quotes."""
    if not fair_probability:
        return None, None
    close = Decimal(str(mkt.closing_price(fair_probability))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return close, Decimal(str(round(mkt.clv(price, fair_probability), 6)))


@dataclass
class SettleSummary:
    settled: int = 0
    results: dict[str, int] = field(default_factory=dict)


def bets_settle(
    *,
    now: dt.datetime | None = None,
    bet_ids: list[int] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SettleSummary:
    """Settle every open bet (of ``bet_ids``, when given) whose game is final (win, loss, push) or
    called off (void), with its payout in the ledger and its closing-line value. Settling twice
    changes nothing. ``progress(bets done, bets, "")`` as it goes."""
    now = now or timezone.now()
    summary = SettleSummary()
    # A final game settles once it has started by ``now`` (a replay settles as of its own time);
    # a called-off one at once.
    done = Q(game__status=Game.Status.FINAL, game__start_time__lt=now) | Q(
        game__status__in=[Game.Status.POSTPONED, Game.Status.CANCELLED]
    )
    candidates = Bet.objects.filter(done, status=Bet.Status.OPEN)
    if bet_ids is not None:
        candidates = candidates.filter(pk__in=bet_ids)
    ids = list(candidates.values_list("id", flat=True))
    closes: ClosingCache = {}
    for position, bet_id in enumerate(ids):
        if progress:
            progress(position, len(ids), "")
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
            payout = mkt.payout(bet.stake, bet.price, result)
            bet.result, bet.payout, bet.status, bet.settled_at = result, payout, Bet.Status.SETTLED, now
            fair = closing_probability(bet, closes)
            bet.closing_price, bet.clv = closing_line_value(price=bet.price, fair_probability=fair)
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
    if progress:
        progress(len(ids), len(ids), "")
    return summary


# --- Recommendations -------------------------------------------------------------------------


@dataclass
class Recommendation:
    prediction_id: int | None  # None: the scanner strategy's (no model, `strategies`)
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
    already_placed: bool = False  # the run had placed this bet before (a re-run, or a concurrent one)
    model_probability: float | None = None  # `probability` is the blend of this and the market's
    market_probability: float | None = None  # de-vigged consensus now, at this line


SideKey = tuple[int, str, str, Decimal | float | None]  # game, market, outcome, line


class BestPrice(NamedTuple):
    """The best price of a side and line now, and the book offering it (`games.market.best_prices`)."""

    price: Decimal
    book_id: int
    book: str  # the bookmaker's key
    captured_at: dt.datetime


def _standing(
    *, game_ids: list[int], now: dt.datetime
) -> dict[tuple[int, str], dict[tuple[int, str], mkt.Quote[dt.datetime, int, BestPrice]]]:
    """Per game and market, each book's latest priced quote per side before now and before the start
    (`games.market.standing`; each ``Quote.book`` is the bookmaker's id, its ``ref`` the ``BestPrice``).
    Plain rows, not models: a page of games reads thousands of quotes."""
    grouped: dict[tuple[int, str], list[mkt.Quote[dt.datetime, int, BestPrice]]] = defaultdict(list)
    # The start times in one small query: joining the game to every quote read its start once per quote.
    starts = dict(Game.objects.filter(pk__in=game_ids).values_list("pk", "start_time"))
    rows = (
        OddsQuote.objects.filter(game_id__in=game_ids, captured_at__lte=now, price__isnull=False, player="")
        .order_by("captured_at", "id")
        .values_list("game_id", "market", "captured_at", "bookmaker_id", "outcome", "price", "point", "bookmaker__key")
    )
    for game_id, market, captured_at, book_id, outcome, price, point, book in rows:
        if price is None:  # filtered out above; the type does not know
            continue
        best = BestPrice(price, book_id, book, captured_at)  # what the quote is, should it be the best
        grouped[(game_id, market)].append(mkt.Quote(captured_at, book_id, outcome, price, point, best))
    return {key: mkt.standing(quotes, before=starts[key[0]]) for key, quotes in grouped.items()}


def market_now(*, game_ids: list[int], now: dt.datetime) -> tuple[dict[SideKey, BestPrice], dict[SideKey, float]]:
    """The market at ``now`` (`games.market`): the best price per side and line, and the de-vigged
    consensus there (each book's latest sane two-way pair at that line, DEVIG_METHOD, averaged)."""
    best: dict[SideKey, BestPrice] = {}
    consensus: dict[SideKey, float] = {}
    for (game_id, market), standing in _standing(game_ids=game_ids, now=now).items():
        for (outcome, point), quote in mkt.best_prices(standing).items():
            best[(game_id, market, outcome, point)] = quote.ref
        for (outcome, point), probability in mkt.consensus_by_line(standing, market).items():
            consensus[(game_id, market, outcome, point)] = probability
    return best, consensus


def bankroll_state(
    bankroll: Bankroll, *, now: dt.datetime, limits: staking.RiskLimits, decision_run: str = ""
) -> staking.BankrollState:
    """Cash, open stakes, equity peaks (over the window and all-time) and whether the drawdown stop
    still holds, today's stakes, open positions and recent results, for the staking rules.

    Equity (cash + open stakes at cost) moves only with deposits, withdrawals, adjustments and
    settlements (payout - stake): placing a bet is not a loss. The positions of ``decision_run``'s own
    bets are left out, so running the same decision again picks the same bets."""
    balance = bankroll.balance()
    changes: list[tuple[dt.datetime, Decimal]] = list(
        bankroll.entries.exclude(kind__in=[BankrollEntry.Kind.STAKE, BankrollEntry.Kind.PAYOUT]).values_list(
            "created_at", "amount"
        )
    )
    changes += [
        (at, (payout or Decimal(0)) - stake)
        for at, payout, stake in bankroll.bets.filter(status=Bet.Status.SETTLED).values_list(
            "settled_at", "payout", "stake"
        )
        if at is not None
    ]
    history: list[tuple[dt.datetime, Decimal]] = []
    running = Decimal(0)
    for at, amount in sorted(changes, key=lambda change: change[0]):
        running += amount
        history.append((at, running))
    open_bets = list(
        bankroll.bets.filter(status=Bet.Status.OPEN).values_list(
            "game_id", "outcome", "stake", "game__home_team_id", "game__away_team_id", "decision_run"
        )
    )
    open_stakes = sum((bet[2] for bet in open_bets), Decimal(0))
    equity = balance + open_stakes
    since = now - dt.timedelta(days=limits.peak_bankroll_days)
    peak = max([equity, *(value for at, value in history if at >= since)])
    all_time_peak = max([equity, *(value for _, value in history)])
    positions = [
        (staking.Position(game=game_id, direction=outcome, teams=(home, away)), stake)
        for game_id, outcome, stake, home, away, run in open_bets
        if not (decision_run and run == decision_run)
    ]
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
    hours: list[tuple[staking.Result, float]] = [  # settled and not void: a win, a loss or a push
        (cast(staking.Result, result), (now - at).total_seconds() / 3600) for result, at in settled if at is not None
    ]
    results = staking.streak_served(hours, limits)
    return staking.BankrollState(
        balance=max(balance, Decimal(0)),
        peak=peak,
        staked_today=staked_today,
        recent_results=results,
        open_stakes=open_stakes,
        all_time_peak=all_time_peak,
        stop_held=staking.drawdown_stop_held(history, limits),
        open_positions=positions,
    )


def risk_limits(bankroll: Bankroll | None = None) -> staking.RiskLimits:
    """The risk limits from the settings, with the kill switch as it stands now (the environment's
    BETTING_KILL_SWITCH or the operator's, core.ops.switches); with ``bankroll``, its own limits over
    the environment's (``Bankroll.limit_overrides``)."""
    values: dict[str, Any] = dict(settings.RISK_LIMITS)  # mixed kinds, each checked by RiskLimits
    if bankroll is not None:
        values.update(bankroll.limit_overrides())
    values["max_stake_absolute"] = Decimal(str(values["max_stake_absolute"]))
    return staking.RiskLimits(**values, kill_switch=betting_stopped())


def _limits_snapshot(bankroll: Bankroll) -> dict[str, object]:
    return {name: (str(v) if isinstance(v, Decimal) else v) for name, v in bankroll.limit_overrides().items()}


def bankroll_limits_update(
    bankroll: Bankroll,
    *,
    user: Any,  # noqa: ANN401 (the swappable user model: AUTH_USER_MODEL)
    values: Mapping[str, object],
    note: str = "",
) -> bool:
    """Set some of ``bankroll``'s risk limits (None: back to the environment's) and audit the change
    (``RiskLimitChange``: who, when, before, after). The new limits are checked as ``RiskLimits``
    checks the environment's. Returns whether anything changed."""
    from betting.bets.models import LIMIT_FIELDS, RiskLimitChange

    unknown = sorted(set(values) - set(LIMIT_FIELDS))
    if unknown:
        raise BetError(f"unknown risk limits: {', '.join(unknown)}")
    with transaction.atomic():
        locked = Bankroll.objects.select_for_update().get(pk=bankroll.pk)
        before = _limits_snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        try:
            risk_limits(locked)
        except (TypeError, ValueError) as exc:
            raise BetError(f"invalid risk limits: {exc}") from None
        after = _limits_snapshot(locked)
        if before == after:
            return False
        locked.save()
        RiskLimitChange.objects.create(
            bankroll=locked,
            changed_by=user if getattr(user, "is_authenticated", False) else None,
            before=before,
            after=after,
            note=note[:200],
        )
    for name in values:
        setattr(bankroll, name, getattr(locked, name))
    return True


def bet_record_manual(
    *,
    user: Any,  # noqa: ANN401 (the swappable user model: AUTH_USER_MODEL)
    bankroll: Bankroll,
    game: Game,
    market: str,
    outcome: str,
    bookmaker: Bookmaker,
    price: Decimal,
    stake: Decimal,
    point: Decimal | None = None,
    placed_at: dt.datetime | None = None,
    probability: float | None = None,
) -> Bet:
    """One bet a user placed at a book, recorded on a bankroll they may bet on (``selectors.can_bet``;
    a LIVE one only with ENABLE_LIVE_BETTING). Without the user's own probability, the price's
    implied one (edge 0). It settles and gets its CLV like every other bet."""
    import uuid

    from betting.bets.selectors import can_bet

    if not can_bet(user, bankroll):
        raise BetError(f"you may not record bets on bankroll {bankroll.name}")
    if market not in dict(OddsQuote.Market.choices) or outcome not in mkt.OTHER_SIDE:
        raise BetError(f"unknown market or side: {market} {outcome}")
    if market in ("spreads", "totals") and point is None:
        raise BetError("spreads and totals need their line")
    if price <= 1:
        raise BetError(f"decimal odds must be above 1, got {price}")
    bet, _ = bet_place(
        bankroll=bankroll,
        game=game,
        market=market,
        outcome=outcome,
        bookmaker=bookmaker,
        price=price,
        stake=stake,
        probability=probability if probability is not None else float(1 / price),
        decision_run=f"manual-{uuid.uuid4().hex[:20]}",
        point=point,
        placed_at=placed_at,
        manual=True,
        source=Bet.Source.MANUAL,
    )
    return bet


def refused_decision(candidate: staking.Candidate, reasons: list[str]) -> staking.Decision:
    """No stake for ``candidate``, its edge and EV still shown beside ``reasons`` (the refusal first,
    then the bankroll's stops, as on every other decision)."""
    return staking.Decision(
        key=candidate.key,
        stake=staking.ZERO,
        kelly=staking.kelly_fraction(candidate.probability, candidate.price),
        edge=mkt.edge(candidate.probability, candidate.price),
        ev=mkt.expected_value(candidate.probability, candidate.price),
        reasons=reasons,
    )


@dataclass
class Offer:
    """A side put to the staking rules by a paper strategy (`slate_decide`): everything its
    recommendation says but the stake."""

    key: Hashable
    game: Game  # with its teams
    market: str
    outcome: str
    point: Decimal | None
    bookmaker: Bookmaker
    price: Decimal
    probability: float  # what the stake is sized on
    market_probability: float  # de-vigged consensus now, at this line
    prediction: Prediction | None = None  # the model's; None for the scanner strategy
    refused: str = ""  # why it gets no stake whatever the sizing ("": sized)

    def candidate(self) -> staking.Candidate:
        position = staking.Position(
            game=self.game.pk, direction=self.outcome, teams=(self.game.home_team_id, self.game.away_team_id)
        )
        return staking.Candidate(key=self.key, probability=self.probability, price=self.price, position=position)


@contextmanager
def bankroll_locked(bankroll: Bankroll, *, place: bool) -> Iterator[None]:
    """When placing, a transaction holding a lock on the bankroll's row, so two runs at once are
    serialised: the second sizes from a ledger that holds the first's bets, finds the same run's bets
    already placed, and says so instead of sizing them again."""
    if not place:
        yield
        return
    with transaction.atomic():
        list(Bankroll.objects.select_for_update().filter(pk=bankroll.pk))
        yield


def slate_decide(
    *,
    bankroll: Bankroll,
    offers: list[Offer],
    now: dt.datetime,
    limits: staking.RiskLimits,
    decision_run: str,
    place: bool,
) -> tuple[list[Recommendation], list[str]]:
    """What both paper strategies share once they have their offers: size them by fractional Kelly
    under the risk limits, stops and exposure caps (``staking.size_slate``), an offer ``refused`` with
    its reason and the bankroll's stops instead; in PAPER mode (``place``) the accepted ones become
    bets, once per ``decision_run``. Returns the recommendations and the sizing's warnings."""
    if not limits.kill_switch and betting_stopped():
        limits = replace(limits, kill_switch=True)  # the operator's switch, whoever built the limits
    by_key = {offer.key: offer for offer in offers}
    candidates = [(offer.candidate(), offer.refused) for offer in offers]
    state = bankroll_state(bankroll, now=now, limits=limits, decision_run=decision_run)
    decisions = staking.size_slate([c for c, refused in candidates if not refused], state, limits)
    stops = staking.bankroll_stops(state, limits)
    decisions += [refused_decision(c, [refused, *stops]) for c, refused in candidates if refused]
    warnings = sorted({w for d in decisions for w in d.warnings})
    out = []
    for decision in decisions:
        offer = by_key[decision.key]
        rec = _recommendation(offer, decision, min_edge=limits.min_edge)
        if place and decision.accepted:
            bet, created = bet_place(
                bankroll=bankroll,
                game=offer.game,
                market=offer.market,
                outcome=offer.outcome,
                bookmaker=offer.bookmaker,
                price=offer.price,
                stake=decision.stake,
                probability=offer.probability,
                decision_run=decision_run,
                point=offer.point,
                model_version=offer.prediction.model_version if offer.prediction else None,
                placed_at=now,
            )
            rec.bet_id = bet.pk
            if not created:  # what this run placed before is what stands, not a second sizing
                rec.already_placed, rec.stake, rec.price = True, bet.stake, bet.price
        out.append(rec)
    return out, warnings


def _recommendation(offer: Offer, decision: staking.Decision, *, min_edge: float) -> Recommendation:
    """The offer as decided. A model's side passed for want of an edge says so in the blend's words,
    and the reason that decides comes first."""
    prediction = offer.prediction
    reasons = list(decision.reasons)
    if prediction is not None:
        text = blending.no_edge_reason(
            blended=offer.probability,
            market=offer.market_probability,
            price=float(offer.price),
            min_edge=min_edge,
        )
        reasons = blending.with_no_edge_reason(reasons, edge=decision.edge, min_edge=min_edge, text=text)
        reasons.sort(key=lambda why: (not why.startswith("forecast only: "), not why.startswith("stale: ")))
    return Recommendation(
        prediction_id=prediction.pk if prediction else None,
        game=offer.game,
        market=offer.market,
        outcome=offer.outcome,
        point=offer.point,
        bookmaker=offer.bookmaker,
        price=offer.price,
        probability=offer.probability,
        stake=decision.stake,
        edge=decision.edge,
        ev=decision.ev,
        reasons=reasons,
        model_probability=float(prediction.probability) if prediction else None,
        market_probability=offer.market_probability,
    )


def recommend(
    *,
    bankroll: Bankroll,
    games: list[Game],
    now: dt.datetime,
    limits: staking.RiskLimits,
    decision_run: str,
    place: bool,
) -> tuple[list[Recommendation], list[str]]:
    """The model blended with the market now (``blending``: the model's fitted weights; none, the
    market alone) against the best price across books, sized by fractional Kelly under the risk
    limits; in PAPER mode (``place``) the accepted ones become bets, once per run, under a lock on
    the bankroll's row (``bankroll_locked``). A side no book quotes two-way now has no market to
    blend with: it is not offered."""
    with bankroll_locked(bankroll, place=place):
        offers = _model_offers(games=games, now=now)
        return slate_decide(
            bankroll=bankroll, offers=offers, now=now, limits=limits, decision_run=decision_run, place=place
        )


def _model_offers(*, games: list[Game], now: dt.datetime) -> list[Offer]:
    """The active models' sides of ``games`` priced now: sized ones first, then those refused (stale
    inputs, then a forecast-only model or another starter), each in the predictions' order."""
    # Games not started at ``now``; a replay (``now`` in the past) decides on games whose results
    # came after it, so their status today is not looked at (a live game marked final early still is).
    ids = [g.pk for g in games if g.start_time > now and (is_replay(now) or not g.is_final)]
    prices, consensus = market_now(game_ids=ids, now=now)
    predictions = (
        # The active models' predictions, and the forecast-only model's (the market's line), which
        # are shown with the reason they get no stake; where both exist, the active one's (last).
        Prediction.objects.filter(
            Q(model_version__is_active=True) | Q(model_version__params__forecast_only=True), game_id__in=ids
        )
        .select_related("game__home_team", "game__away_team", "game__league", "model_version")
        .order_by("model_version__is_active", "created_at")
    )
    latest = {(p.game_id, p.market, p.outcome): p for p in predictions}
    books = Bookmaker.objects.in_bulk({best.book_id for best in prices.values()})
    sized: list[Offer] = []
    stale: list[Offer] = []
    held: list[Offer] = []
    for prediction in latest.values():
        key = (prediction.game_id, prediction.market, prediction.outcome, prediction.point)
        best, market_p = prices.get(key), consensus.get(key)
        if best is None or market_p is None:
            continue
        game = prediction.game
        weights = blending.model_weights(prediction.model_version.params)
        blended = blending.blend_sides([float(prediction.probability)], [market_p], [prediction.outcome], weights)[0]
        offer = Offer(
            key=prediction.pk,
            game=game,
            market=prediction.market,
            outcome=prediction.outcome,
            point=prediction.point,
            bookmaker=books[best.book_id],
            price=best.price,
            probability=blended,
            market_probability=market_p,
            prediction=prediction,
        )
        if registry.is_forecast_only(prediction.model_version):  # no edge claimed: never sized
            offer.refused = f"forecast only: {registry.FORECAST_ONLY_REASON}"
            held.append(offer)
        elif prediction.stale_reason:  # stale inputs never reach the sizing, nor the daily exposure
            offer.refused = f"stale: {prediction.stale_reason}"
            stale.append(offer)
        elif starter := starter_changed(game=game, inputs=prediction.inputs):
            offer.refused = starter  # priced with another starter (MLB): like stale inputs, never sized
            held.append(offer)
        else:
            sized.append(offer)
    return [*sized, *stale, *held]


def is_replay(now: dt.datetime) -> bool:
    """A decision time more than a day in the past replays that moment: games final since then are
    priced as they stood (their results are what settles the replayed bets)."""
    return now < timezone.now() - dt.timedelta(days=1)


def why_nothing_priced(
    *, league: League, games: list[Game], now: dt.datetime, day: dt.date | None = None, models: bool = True
) -> list[str]:
    """Why ``recommend`` priced no side of ``games`` at ``now``, the first reason that holds for
    them, with its numbers: no games; every game started (and the ``--as-of`` that replays the day
    before its first start); no active model for the league's markets (and why: none trained, or the
    newest version not promoted, with its note); no prediction from the active models; no odds quote
    captured before the start (nor before ``now``); or no book quoting the predicted lines two-way.
    Without ``models`` (the scanner strategy) only the games and the quotes are looked at. A handful
    of queries, whatever the number of games."""
    code = league.code
    if not games:
        if day is not None:
            return [f"no {code} games on {day:%Y-%m-%d}"]
        last = Game.objects.filter(league=league).order_by("-start_time").values_list("start_time", flat=True).first()
        where = f"; the last one started {last:%Y-%m-%d %H:%M} UTC" if last else " (none loaded at all)"
        return [f"no {code} game starts after {now:%Y-%m-%d %H:%M} UTC{where}: pass --date D to see a day"]
    open_games = [g for g in games if g.start_time > now and (is_replay(now) or not g.is_final)]
    if not open_games:
        days = sorted({g.game_date for g in games})
        span = f"on {days[0]:%Y-%m-%d}" if len(days) == 1 else f"of {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}"
        first = min(games, key=lambda g: g.start_time)
        latest_quote = (
            OddsQuote.objects.filter(game__in=games, captured_at__lt=first.start_time)
            .order_by("-captured_at")
            .values_list("captured_at", flat=True)
            .first()
        )
        replay = latest_quote if latest_quote is not None else first.start_time - dt.timedelta(minutes=1)
        finals = sum(1 for g in games if g.is_final)
        state = "are final" if finals == len(games) else "have started"
        return [
            f"the {len(games)} {code} games {span} {state} by {now:%Y-%m-%d %H:%M} UTC "
            f"(the first at {first.start_time:%Y-%m-%d %H:%M} UTC)"
            f"{f', {finals} of them final' if 0 < finals < len(games) else ''}; "
            f"pass --as-of {replay.astimezone(dt.UTC).isoformat()} to replay the day as it was"
            + (" (the last odds captured before the first start)" if latest_quote is not None else "")
        ]
    ids = [g.pk for g in open_games]
    active = {mv.market: mv for mv in ModelVersion.objects.filter(league=league, is_active=True)} if models else {}
    if models and not active:
        configured = [m for lg, _, m in (item.partition(":") for item in settings.READY_MODELS) if lg.upper() == code]
        newest: dict[str, ModelVersion] = {}
        for mv in ModelVersion.objects.filter(league=league).order_by("created_at", "pk"):
            newest[mv.market] = mv
        reasons = []
        for market in dict.fromkeys([*configured, *newest]) or ["h2h"]:
            newest_version = newest.get(market)
            if newest_version is None:
                why = f"none trained (run manage.py train --league {code} --market {market})"
            else:
                text, status = newest_version.note.strip(), newest_version.get_status_display().lower()
                note = f": {text[:200]}" if text else ""
                why = f"the newest version {newest_version.version} is not active ({status}){note}"
            reasons.append(f"no active model for {code} {market}: {why}")
        return reasons
    predicted = list(
        Prediction.objects.filter(game_id__in=ids, model_version__is_active=True).values_list(
            "game_id", "market", "outcome", "point"
        )
        if models
        else []
    )
    if models and not predicted:
        versions = ", ".join(f"{m} {mv.version}" for m, mv in sorted(active.items()))
        dates = sorted({g.game_date for g in open_games})
        return [
            f"no prediction from the active {code} models ({versions}) for the {len(open_games)} games still to "
            f"start: run manage.py predict --league {code} --date {dates[0]:%Y-%m-%d}"
        ]
    starts = {g.pk: g.start_time for g in open_games}
    captured = defaultdict(list)
    for game_id, at in OddsQuote.objects.filter(game_id__in=ids, price__isnull=False, player="").values_list(
        "game_id", "captured_at"
    ):
        captured[game_id].append(at)
    before_start = {gid for gid, times in captured.items() if any(t < starts[gid] for t in times)}
    usable = {gid for gid, times in captured.items() if any(t < starts[gid] and t <= now for t in times)}
    if not usable:
        if not captured:
            return [
                f"no odds quotes captured for the {len(open_games)} {code} games still to start: run manage.py "
                f"fetch_odds --league {code} (needs ODDS_API_KEY)"
            ]
        if not before_start:
            return [f"no odds quotes captured before the start of the {len(open_games)} {code} games still to start"]
        first_capture = min(t for gid in before_start for t in captured[gid] if t < starts[gid])
        return [
            f"no odds quotes captured before {now:%Y-%m-%d %H:%M} UTC for the {len(open_games)} {code} games; "
            f"the first was captured {first_capture:%Y-%m-%d %H:%M} UTC: pass a later --as-of"
        ]
    if not models:
        return [f"quotes exist for {len(usable)} of {len(open_games)} {code} games, but none beat the sharp consensus"]
    _, consensus = market_now(game_ids=ids, now=now)
    unpriced = sorted((key for key in predicted if key not in consensus), key=str)
    example = unpriced[0] if unpriced else None
    line = ""
    if example is not None:
        point = f" {float(example[3]):+g}" if example[3] is not None else ""
        line = f" (for example {example[1]} {example[2]}{point})"
    return [
        f"{len(unpriced)} of {len(predicted)} predicted sides have no two-way price from any book at their line "
        f"before {now:%Y-%m-%d %H:%M} UTC{line}; quotes exist for {len(usable)} of {len(open_games)} games"
    ]


# --- Backtests ---------------------------------------------------------------------------------


def backtest_create(
    *,
    league: League,
    market: str,
    date_from: dt.date,
    date_to: dt.date,
    params: dict[str, Any],  # JSON: the form's, the API's (`strategy_from` checks it)
    name: str = "",
    user: Any = None,  # noqa: ANN401 (the swappable user model: AUTH_USER_MODEL)
) -> Backtest:
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


def backtest_window_check(*, league: League, date_from: dt.date, date_to: dt.date) -> None:
    """Refuse (``BacktestError``) a backtest window without a finished game of ``league``: it would
    run to an empty result. Checked before ``backtest_create`` by the page that queues one."""
    from betting.bets.backtest import BacktestError

    finished = Game.objects.filter(
        league=league, status=Game.Status.FINAL, game_date__gte=date_from, game_date__lte=date_to
    )
    if not finished.exists():
        raise BacktestError(
            f"No finished {league.code} games between {date_from:%Y-%m-%d} and "
            f"{date_to:%Y-%m-%d}: pick a window with results (see the data page)."
        )


def backtest_run(
    backtest_id: int, *, task_id: str = "", progress: Callable[[int, int, str], None] | None = None
) -> Backtest:
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
