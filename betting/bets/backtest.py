"""Walk-forward backtests: the strategy replayed over past games with only what it could have known.

For each day of the window, in order:

1. the model is the one the nightly routine would have had before the day's first game
   (`predictions.services.WalkForward`: trained on earlier games only, warm-started and gated daily);
2. each game is decided at ``start - lead_minutes`` against the best price any book showed at that
   moment (each book's latest quote captured at or before the decision time);
3. the day's candidates are sized together by `staking.size_slate` from the bankroll as it stood at the
   start of the day (no result of that day is known yet), under the same risk limits as live bets;
4. after the day, bets are graded on the final scores and the bankroll moves; closing-line value is the
   price taken against the de-vigged closing price (each book's last quote before the start).

Every simulated bet keeps the times it relied on (quote captured, model trained until, decision), so a
test can prove that nothing from after the decision was used.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from django.conf import settings

from betting.bets import blending
from betting.bets.pricing import DevigMethod
from betting.bets.staking import (
    BankrollState,
    Candidate,
    Position,
    Result,
    RiskLimits,
    drawdown_stop_on,
    grade,
    size_slate,
    streak_served,
)
from betting.games import market as mkt
from betting.games.models import Game, League, OddsQuote
from betting.predictions import metrics, training
from betting.predictions.services import DAY_BOUNDARY, WalkForward, league_frame, one_thread
from core.errors import SharplineError

CENT = Decimal("0.01")
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 20240601
PASS_EXAMPLES = 3  # the most frequent wordings, with their figures, kept for each kind of pass
MARKETS = ("h2h", "spreads", "totals")

Progress = Callable[[int, int, str], None]


class BacktestError(SharplineError, ValueError):
    """A strategy or window that cannot be backtested, with the reason in words."""


@dataclass(frozen=True)
class Strategy:
    """What is being tested: the sizing, the filters and how the market is read."""

    limits: RiskLimits
    devig: DevigMethod = "multiplicative"
    lead_minutes: int = 5
    starting_bankroll: Decimal = Decimal("10000.00")
    # "close": decide lead_minutes before the start; "open": at the game's first quote (the opening line)
    at: str = "close"
    # None: each model's own fitted weights (params["blend"]); weights here override them for every model
    blend_weights: dict[str, float] | None = None

    @property
    def timing(self) -> Timing:
        return Timing(self.at, 0 if self.at == "open" else self.lead_minutes)

    def as_params(self) -> StrategyParams:
        limits: dict[str, float | int | str | bool] = asdict(self.limits)
        limits["max_stake_absolute"] = str(self.limits.max_stake_absolute)
        return {
            "kelly_fraction": self.limits.kelly_fraction,
            "min_edge": self.limits.min_edge,
            "devig": self.devig,
            "lead_minutes": self.lead_minutes,
            "at": self.at,
            "blend_weights": self.blend_weights,
            "starting_bankroll": str(self.starting_bankroll),
            "limits": limits,
        }


class StrategyParams(TypedDict):
    """A strategy as a report keeps it (``summary["strategy"]``): JSON, the amounts as strings."""

    kelly_fraction: float
    min_edge: float
    devig: DevigMethod
    lead_minutes: int
    at: str
    blend_weights: blending.Weights | None
    starting_bankroll: str
    limits: dict[str, float | int | str | bool]  # `staking.RiskLimits` by field name


AT_CHOICES = ("open", "close")


@dataclass(frozen=True)
class Timing:
    """When each game is decided: at its first quote (``open``) or ``lead_minutes`` before the start."""

    at: str
    lead_minutes: int

    def decision_time(self, start: pd.Timestamp, quotes: list[Quote]) -> pd.Timestamp | None:
        if self.at == "open":
            return quotes[0][0] if quotes else None
        return start - pd.Timedelta(minutes=self.lead_minutes)


def strategy_from(params: dict[str, Any]) -> Strategy:  # JSON: a form's, the API's, Backtest.params
    """A strategy from the configured risk limits with ``params`` overriding them; clear errors."""
    values = dict(settings.RISK_LIMITS)
    values.update(params.get("limits", {}))
    for name in ("kelly_fraction", "min_edge"):
        if params.get(name) is not None:
            values[name] = params[name]
    values["max_stake_absolute"] = Decimal(str(values["max_stake_absolute"]))
    values["kill_switch"] = False  # a replay of the past is not a new bet
    try:
        limits = RiskLimits(**values)
    except (TypeError, ValueError) as exc:
        raise BacktestError(f"invalid strategy: {exc}") from None
    try:  # the market at decision time; DEVIG_METHOD unless the strategy names its own
        devig = mkt.check_method(params.get("devig") or None)
    except ValueError as exc:
        raise BacktestError(str(exc)) from None
    lead = int(params.get("lead_minutes", 5))
    if not 0 <= lead <= 7 * 24 * 60:
        raise BacktestError(f"lead_minutes must be between 0 and 10080 (a week), got {lead}")
    try:
        bankroll = Decimal(str(params.get("starting_bankroll", "10000"))).quantize(CENT)
    except ArithmeticError:
        raise BacktestError(f"starting_bankroll is not an amount: {params.get('starting_bankroll')!r}") from None
    if not bankroll.is_finite() or bankroll <= 0:
        raise BacktestError(f"starting_bankroll must be positive, got {bankroll}")
    at = params.get("at") or "close"
    if at not in AT_CHOICES:
        raise BacktestError(f"at must be one of {', '.join(AT_CHOICES)}, got {at!r}")
    try:
        weights = blending.check_weights(params.get("blend_weights"))
    except (TypeError, ValueError) as exc:
        raise BacktestError(str(exc)) from None
    return Strategy(
        limits=limits, devig=devig, lead_minutes=lead, starting_bankroll=bankroll, at=at, blend_weights=weights
    )


@dataclass
class SimBet:
    game_id: int
    label: str
    start_time: str
    decided_at: str
    quote_at: str
    model_trained_until: str
    outcome: str
    point: float | None
    book: str
    price: float
    probability: float  # the blend: what the stake is sized on
    edge: float
    stake: float
    result: str = ""
    profit: float = 0.0
    closing_price: float | None = None
    clv: float | None = None
    model_probability: float | None = None
    market_probability: float | None = None  # de-vigged consensus at decision time


class CurvePoint(TypedDict):
    date: str  # ISO date: the bankroll at the end of that day (the first point: the start)
    bankroll: float


# The blend weights in force from a day on (None: the market alone); "from" is no Python name.
WeightsInForce = TypedDict("WeightsInForce", {"from": str, "weights": blending.Weights | None})


class BlendInForce(TypedDict):
    source: str  # "strategy" (its override) or "model" (each model's own fitted weights)
    weights: list[WeightsInForce]


class Reliability(TypedDict):
    lower: float
    upper: float
    n: int
    mean_prob: float
    frequency: float


class ForecastScore(TypedDict):
    """`metrics.Scores` of one forecaster, rounded as reported, with its reliability bins."""

    n: int
    log_loss: float
    brier: float
    accuracy: float
    ece: float
    reliability: list[Reliability]


class ForecastScores(TypedDict):
    n: int
    model: ForecastScore
    blend: ForecastScore
    market: ForecastScore


class Summary(TypedDict):
    """What a backtest report says beside its figures (stored with the backtest, shown on its page)."""

    days: int
    games: int
    games_priced: int
    passes: dict[str, int]  # kind of pass -> count, most frequent first
    pass_reasons: dict[str, list[list[str | int]]]  # kind -> its most frequent [reason, count] pairs
    model_updates: dict[str, int]
    by_month: dict[str, dict[str, float]]
    by_side: dict[str, dict[str, float]]
    strategy: StrategyParams
    blend: BlendInForce
    forecasts: ForecastScores | None


class ReportSummary(Summary):
    bets_with_clv: int
    clv_ci95: list[float] | None


# A report's figures as JSON ("yield" is a Python keyword: the functional form).
Figures = TypedDict(
    "Figures",
    {
        "n_bets": int,
        "staked": float,
        "profit": float,
        "roi": float | None,
        "roi_ci95": list[float] | None,
        "yield": float | None,
        "yield_ci95": list[float] | None,
        "hit_rate": float | None,
        "max_drawdown": float,
        "avg_clv": float | None,
        "clv_ci95": list[float] | None,
        "starting_bankroll": float,
        "final_bankroll": float,
    },
)


class ReportJson(Figures):
    summary: ReportSummary


class SweepRow(Figures):
    """One strategy of a sweep: its settings, its figures, and the summary's counts."""

    at: str
    kelly_fraction: float
    min_edge: float
    games_priced: int
    passes: dict[str, int]


@dataclass
class Report:
    n_bets: int
    staked: Decimal
    profit: Decimal
    roi: float | None
    roi_ci95: tuple[float, float] | None
    yield_rate: float | None
    yield_ci95: tuple[float, float] | None
    hit_rate: float | None
    max_drawdown: float
    avg_clv: float | None
    starting_bankroll: Decimal
    final_bankroll: Decimal
    curve: list[CurvePoint]
    summary: ReportSummary
    bets: list[dict[str, object]] = field(default_factory=list)  # `SimBet` as a dict, one per bet
    clv_ci95: tuple[float, float] | None = None

    def as_json(self) -> ReportJson:
        return {**self.figures(), "summary": self.summary}

    def figures(self) -> Figures:
        return {
            "n_bets": self.n_bets,
            "staked": float(self.staked),
            "profit": float(self.profit),
            "roi": self.roi,
            "roi_ci95": list(self.roi_ci95) if self.roi_ci95 else None,
            "yield": self.yield_rate,
            "yield_ci95": list(self.yield_ci95) if self.yield_ci95 else None,
            "hit_rate": self.hit_rate,
            "max_drawdown": self.max_drawdown,
            "avg_clv": self.avg_clv,
            "clv_ci95": list(self.clv_ci95) if self.clv_ci95 else None,
            "starting_bankroll": float(self.starting_bankroll),
            "final_bankroll": float(self.final_bankroll),
        }


# --- Reading the odds --------------------------------------------------------------------------

# (captured_at, book title, outcome, price, point): `games.market.Quote`
Quote = mkt.Quote


def _quotes(league: League, market: str, game_ids: list[int]) -> dict[int, list[Quote]]:
    """Every priced quote of the market before each game's start, oldest first."""
    rows = (
        OddsQuote.objects.filter(game__league=league, market=market, price__isnull=False, game_id__in=game_ids)
        .order_by("captured_at", "id")
        .values_list("game_id", "captured_at", "bookmaker__title", "outcome", "price", "point", "game__start_time")
    )
    out: dict[int, list[Quote]] = defaultdict(list)
    for game_id, captured, book, outcome, price, point, start in rows.iterator(chunk_size=5000):
        if captured < start:
            out[game_id].append(
                mkt.Quote(
                    pd.Timestamp(captured), book, outcome, float(price or 0), None if point is None else float(point)
                )
            )
    return out


def closing_probabilities(quotes: list[Quote], market: str, start: pd.Timestamp) -> dict[mkt.Line, float]:
    """The de-vigged close of every side and line: each book's last quote before the start, sane pairs
    de-vigged by DEVIG_METHOD whatever the strategy's own method (`games.market`), as settlement reads it."""
    return mkt.consensus_by_line(mkt.standing(quotes, before=start), market)


def clv_of(price: float, fair: float | None) -> tuple[float | None, float | None]:
    """(closing price, CLV) of a bet at ``price`` against the fair close (`games.market`), rounded as
    the reports keep them; settlement stores the same figures (services.closing_line_value)."""
    if not fair:
        return None, None
    return round(mkt.closing_price(fair), 4), round(mkt.clv(price, fair), 6)


# --- The replay --------------------------------------------------------------------------------


def _side_probabilities(
    model: training.Fitted,
    frame: pd.DataFrame,
    market: str,
    requests: list[tuple[int, str, float | None, Quote, pd.Timestamp]],
) -> list[float]:
    """The model's probability that each requested side wins at its line (pushes ignored), in one
    call to the booster for the whole day."""
    if not requests:
        return []
    rows = frame.loc[[game_id for game_id, *_ in requests]]
    if market == "h2h":
        p_home = model.probability(rows)
        firsts = [p if side == "home" else 1 - p for (_, side, *_), p in zip(requests, p_home, strict=True)]
    else:
        if any(point is None for _, _, point, *_ in requests):
            raise BacktestError(f"a {market} quote without its line")
        if market == "spreads":
            lines = np.array(
                [float(point or 0.0) * (1 if side == "home" else -1) for _, side, point, *_ in requests],
                dtype=np.float64,
            )
            p_home = model.probability(rows, lines)
            firsts = [p if side == "home" else 1 - p for (_, side, *_), p in zip(requests, p_home, strict=True)]
        else:
            lines = np.array([float(point or 0.0) for _, _, point, *_ in requests], dtype=np.float64)
            p_over = model.probability(rows, lines)
            firsts = [p if side == "over" else 1 - p for (_, side, *_), p in zip(requests, p_over, strict=True)]
    return [min(max(float(p), 0.0), 1.0) for p in firsts]


def _peak(history: list[tuple[pd.Timestamp, Decimal]], now: pd.Timestamp, days: int, balance: Decimal) -> Decimal:
    since = now - pd.Timedelta(days=days)
    return max([balance, *(value for at, value in history if at >= since)])


# A game is over this long after its start: its result, and a model trained on it, exist from then on.
GAME_HOURS = pd.Timedelta(hours=3)


@dataclass
class Offer:
    """One side of one game at one line, as the market stood at the decision."""

    game_id: int
    side: str
    point: float | None
    quote: Quote  # the best price any book showed
    start: pd.Timestamp
    decided_at: pd.Timestamp
    market_prob: float  # the de-vigged consensus at this line; NaN: no book had both sides
    model_prob: float
    weights: blending.Weights | None  # the model's own blend weights
    trained_until: pd.Timestamp
    closing_prob: float | None
    won: float = float("nan")  # 1 the side won, 0 it lost, NaN a push: what the forecasts are scored on


@dataclass
class Day:
    """A day's games as the walk-forward saw them: computed once, replayed by every strategy."""

    day: pd.Timestamp
    offers: list[Offer]
    outcomes: dict[int, tuple[float, float]]  # game -> (margin, total points)
    results_at: pd.Timestamp
    priced: int  # games with a price at decision time
    unmodelled: int  # of those, games decided before any model could have been trained


@dataclass
class Slate:
    """A day's offers under one blend: each game's side with the largest edge, priced, blended and
    ready to size. It depends on the timing and the blend alone, so every staking setting (Kelly
    fraction, minimum edge, limits) starts from the same slates."""

    plan: Day
    choices: dict[int, tuple[SimBet, Offer]]  # game -> the side chosen (a template: copied when placed)
    candidates: list[Candidate]  # in the order of ``choices``, as `staking.size_slate` takes them
    unpriced: int  # games passed for want of a two-way market price at decision time


@dataclass
class Blended:
    """The whole window under one timing and blend: the slates, and what does not depend on the
    staking (the blend weights in force, the forecasts' scores)."""

    slates: list[Slate]
    weights_used: list[WeightsInForce]
    forecasts: ForecastScores | None


# A blend in a cache key: None (each model's own weights) or the override's (name, weight) pairs.
BlendKey = tuple[tuple[str, float], ...] | None


@dataclass
class Prepared:
    """The walk-forward's predictions for one window, per decision timing."""

    market: str
    devig: DevigMethod
    start: dt.date
    games: int
    labels: dict[int, str]
    days: dict[Timing, list[Day]]
    model_updates: dict[str, int]
    # the slates per (timing, blend), made by the first strategy that replays them (`_blended_days`)
    blends: dict[tuple[Timing, BlendKey], Blended] = field(default_factory=dict)


def prepare(
    *,
    league: League,
    market: str,
    start: dt.date,
    end: dt.date,
    timings: list[Timing],
    devig: DevigMethod,
    progress: Progress | None = None,
) -> Prepared:
    """Walk forward once over the window: each day's model (retrained as the nightly job would), and
    for each timing each game's offers priced at decision time with the model's probability, the
    market's and the close. The expensive part of a backtest; strategies replay it cheaply."""
    if market not in MARKETS:
        raise BacktestError(f"unknown market {market!r}: choose one of {', '.join(MARKETS)}")
    if end < start:
        raise BacktestError(f"the window ends ({end}) before it starts ({start})")
    frame = league_frame(league)
    try:
        walk = WalkForward(frame, market, league.code, start, end)
        total_days = walk.days()
        window_ids = [int(i) for i in walk.window.index]
    except ValueError as exc:
        raise BacktestError(str(exc)) from None
    if not window_ids:
        raise BacktestError(f"no finished {league.code} games between {start} and {end}")
    quotes = _quotes(league, market, window_ids)
    labels = {
        pk: f"{away} @ {home}"
        for pk, home, away in Game.objects.filter(pk__in=window_ids)
        .values_list("pk", "home_team__abbreviation", "away_team__abbreviation")
        .iterator(chunk_size=5000)
    }
    days: dict[Timing, list[Day]] = {timing: [] for timing in timings}
    # (usable from, model, trained until): a model exists once the nightly run that made it has run
    # and every game it learnt from has finished
    models: list[tuple[pd.Timestamp, training.Fitted, pd.Timestamp]] = []
    made_at = pd.Timestamp(dt.datetime.combine(start, dt.time.min, dt.UTC))
    done_days = 0
    pending: Pending = {}
    try:
        for day, games, model, trained_until in walk:
            models.append((max(made_at, pd.Timestamp(trained_until) + GAME_HOURS), model, pd.Timestamp(trained_until)))
            made_at = day + pd.Timedelta(days=1) + DAY_BOUNDARY
            outcomes = {
                int(str(gid)): (float(margin), float(total))
                for gid, margin, total in zip(
                    games.index, games["margin"].tolist(), games["total_points"].tolist(), strict=True
                )
            }
            results_at = games["start_time"].max() + GAME_HOURS
            closes: dict[int, dict[mkt.Line, float]] = {}  # each game's close, whatever the timing
            for timing in timings:
                planned = _day(
                    day, games, timing, quotes, models, frame, market, devig, outcomes, results_at, pending, closes
                )
                days[timing].append(planned)
            done_days += 1
            if progress:
                progress(done_days, total_days, f"{day.date()}: predicted")
        with one_thread():
            _predict(pending, frame, market)
    except ValueError as exc:  # a model that cannot be trained, a window without games
        raise BacktestError(str(exc)) from None
    return Prepared(market, devig, start, len(window_ids), labels, days, dict(walk.updates))


def _day(
    day: pd.Timestamp,
    games: pd.DataFrame,
    timing: Timing,
    quotes: dict[int, list[Quote]],
    models: list[tuple[pd.Timestamp, training.Fitted, pd.Timestamp]],
    frame: pd.DataFrame,
    market: str,
    devig: DevigMethod,
    outcomes: dict[int, tuple[float, float]],
    results_at: pd.Timestamp,
    pending: Pending,
    closing: dict[int, dict[mkt.Line, float]],
) -> Day:
    """The day's offers at ``timing``: the best price per side and line, the market's consensus and
    the close there (``closing``: each game's, kept for the day's other timings), and the
    probability of the latest model that existed at the decision."""
    requests: dict[int, list[tuple[int, str, float | None, Quote, pd.Timestamp, float, float | None]]] = defaultdict(
        list
    )
    priced = unmodelled = 0
    starts: dict[int, pd.Timestamp] = {}
    for raw_id, start_time in games["start_time"].items():
        game_id = int(str(raw_id))
        game_quotes = quotes.get(game_id, [])
        starts[game_id] = pd.Timestamp(start_time)
        decided_at = timing.decision_time(pd.Timestamp(start_time), game_quotes)
        standing = mkt.standing(game_quotes, at=decided_at) if decided_at is not None else {}
        if not standing or decided_at is None:
            continue
        priced += 1
        # The latest model usable at the decision: the models are in the order they became usable
        # (each nightly run after the one before), so the last one ready by then.
        usable = bisect.bisect_right(models, decided_at, key=lambda m: m[0]) - 1
        if usable < 0:
            unmodelled += 1
            continue
        closes = closing.get(game_id)
        if closes is None:
            closes = closing[game_id] = closing_probabilities(game_quotes, market, pd.Timestamp(start_time))
        for (side, line), quote in mkt.best_prices(standing).items():
            point = None if line is None else float(line)
            consensus = mkt.consensus(standing, market, side, point, devig)
            requests[usable].append(
                (
                    game_id,
                    side,
                    point,
                    quote,
                    decided_at,
                    float("nan") if consensus is None else consensus,
                    closes.get((side, point)),
                )
            )
    offers: list[Offer] = []
    for index, rows in requests.items():
        _, model, trained_until = models[index]
        weights = blending.model_weights(model.params)
        asked = pending.setdefault(id(model), (model, []))[1]
        for row in rows:
            game_id, side, point, quote, decided_at, consensus, close = row
            offer = Offer(
                game_id,
                side,
                point,
                quote,
                starts[game_id],
                decided_at,
                consensus,
                float("nan"),  # the model's probability: asked of the model with its other days' (`_predict`)
                weights,
                trained_until,
                close,
                _won(market, side, point, outcomes[game_id]),
            )
            offers.append(offer)
            asked.append((offer, row[:5]))
    return Day(day, offers, outcomes, results_at, priced, unmodelled)


# The offers waiting for their model's probability, per model (by identity): a model kept for days
# (no update passed the gate, the line family between its refits) is asked once for all its days.
Pending = dict[int, tuple[training.Fitted, list[tuple["Offer", tuple[int, str, float | None, Quote, pd.Timestamp]]]]]


def _predict(pending: Pending, frame: pd.DataFrame, market: str) -> None:
    """Each pending offer's model probability, one call to each model for all the offers it
    priced: the same probabilities as one call per day (each row is predicted on its own)."""
    for model, asked in pending.values():
        probabilities = _side_probabilities(model, frame, market, [request for _, request in asked])
        for (offer, _), p in zip(asked, probabilities, strict=True):
            offer.model_prob = p
    pending.clear()


def _won(market: str, side: str, point: float | None, outcome: tuple[float, float]) -> float:
    result = grade(market, side, point, *outcome)
    return 1.0 if result == "win" else 0.0 if result == "loss" else float("nan")


def _blended(offers: list[Offer], override: blending.Weights | None) -> list[float]:
    """Each offer's blended probability, with the strategy's weights or else its model's."""
    if not offers:
        return []
    if override is not None:
        groups: dict[int, list[int]] = {0: list(range(len(offers)))}
        weights_of = {0: override}
    else:
        groups, weights_of = defaultdict(list), {}
        for i, offer in enumerate(offers):
            groups[id(offer.weights)].append(i)
            weights_of[id(offer.weights)] = offer.weights  # type: ignore[assignment]
    out = [float("nan")] * len(offers)
    for key, members in groups.items():
        chosen = [offers[i] for i in members]
        values = blending.blend_sides(
            [o.model_prob for o in chosen], [o.market_prob for o in chosen], [o.side for o in chosen], weights_of[key]
        )
        for i, value in zip(members, values, strict=True):
            out[i] = value
    return out


def _blended_days(prepared: Prepared, timing: Timing, override: blending.Weights | None) -> Blended:
    """The window's slates under ``timing`` and the blend (``override``, else each model's own
    weights), made once per prepared walk-forward and reused by every strategy that shares them."""
    key: tuple[Timing, BlendKey] = (timing, None if override is None else tuple(sorted(override.items())))
    if key in prepared.blends:
        return prepared.blends[key]
    slates: list[Slate] = []
    weights_used: list[WeightsInForce] = []
    forecasts: list[tuple[float, float, float, float]] = []  # (model, blend, market, won) per home/over offer
    for plan in prepared.days[timing]:
        _note_weights(weights_used, plan, override)
        offers: dict[int, tuple[SimBet, Candidate, Offer]] = {}
        unpriced: set[int] = set()
        for offer, probability in zip(plan.offers, _blended(plan.offers, override), strict=True):
            if offer.side in FORECAST_SIDES and not np.isnan([probability, offer.market_prob, offer.won]).any():
                forecasts.append((offer.model_prob, probability, offer.market_prob, offer.won))
            if np.isnan(probability):
                unpriced.add(offer.game_id)
                continue
            quote = offer.quote
            price = float(quote.price or 0)  # every backtest quote is priced (`_quotes`)
            edge = mkt.edge(probability, price)
            if offer.game_id in offers and edge <= offers[offer.game_id][0].edge:
                continue  # one side per game: the one with the largest edge
            sim = SimBet(
                game_id=offer.game_id,
                label=prepared.labels.get(offer.game_id, "? @ ?"),
                start_time=offer.start.isoformat(),
                decided_at=offer.decided_at.isoformat(),
                quote_at=quote[0].isoformat(),
                model_trained_until=offer.trained_until.isoformat(),
                outcome=offer.side,
                point=offer.point,
                book=quote[1],
                price=price,
                probability=round(probability, 6),
                edge=round(edge, 6),
                stake=0.0,
                model_probability=round(offer.model_prob, 6),
                market_probability=round(offer.market_prob, 6),
            )
            position = Position(game=offer.game_id, direction=offer.side)  # every bet is settled the same day
            candidate = Candidate(key=offer.game_id, probability=probability, price=price, position=position)
            offers[offer.game_id] = (sim, candidate, offer)
        slates.append(
            Slate(
                plan=plan,
                choices={game_id: (sim, offer) for game_id, (sim, _, offer) in offers.items()},
                candidates=[candidate for _, candidate, _ in offers.values()],
                unpriced=len(unpriced - set(offers)),
            )
        )
    blended = Blended(slates, weights_used, forecast_scores(forecasts))
    prepared.blends[key] = blended
    return blended


def replay(prepared: Prepared, strategy: Strategy) -> Report:
    """Replay ``strategy`` over prepared predictions: blend (once per timing and blend, shared by
    the strategies replayed on the same predictions), size, settle, day by day."""
    timing = strategy.timing
    if timing not in prepared.days:
        raise BacktestError(f"no predictions prepared for deciding at {timing.at}")
    if strategy.devig != prepared.devig:
        raise BacktestError(f"predictions were prepared with the {prepared.devig} de-vig, not {strategy.devig}")
    market, start = prepared.market, prepared.start
    limits = strategy.limits
    balance = strategy.starting_bankroll
    history: list[tuple[pd.Timestamp, Decimal]] = [
        (pd.Timestamp(dt.datetime.combine(start, dt.time.min, dt.UTC)), balance)
    ]
    held = False  # the drawdown stop, carried from day to day (staking.drawdown_stop_on)
    results: list[tuple[Result, pd.Timestamp]] = []
    curve: list[CurvePoint] = [{"date": start.isoformat(), "bankroll": float(balance)}]
    bets: list[SimBet] = []
    passes: Counter[str] = Counter()
    pass_texts: defaultdict[str, Counter[str]] = defaultdict(Counter)  # each kind's reasons, figures and all
    games_priced = 0
    blended = _blended_days(prepared, timing, strategy.blend_weights)
    for slate in blended.slates:
        plan = slate.plan
        day_start = plan.day
        games_priced += plan.priced
        if plan.unmodelled:
            passes["no model trained before the decision"] += plan.unmodelled
        if slate.unpriced:
            passes["no two-way market price at decision time"] += slate.unpriced
        now = day_start
        # Every bet is settled the day it is placed: at the start of a day the equity is the cash.
        state = BankrollState(
            balance=balance,
            peak=_peak(history, now, limits.peak_bankroll_days, balance),
            all_time_peak=max(value for _, value in history),
            stop_held=held,
            recent_results=streak_served([(r, (now - at).total_seconds() / 3600) for r, at in results[-50:]], limits),
        )
        held = drawdown_stop_on(state, limits)
        decisions = size_slate(slate.candidates, state, limits)
        placed: list[tuple[SimBet, Offer]] = []
        for decision in decisions:
            sim, offer = slate.choices[int(str(decision.key))]
            if not decision.accepted:
                reason = blending.no_edge_reason(
                    blended=sim.probability, market=offer.market_prob, price=sim.price, min_edge=limits.min_edge
                )
                for text in blending.with_no_edge_reason(
                    decision.reasons, edge=decision.edge, min_edge=limits.min_edge, text=reason
                ):
                    kind = _reason_kind(text)
                    passes[kind] += 1
                    pass_texts[kind][text] += 1
                continue
            placed.append((replace(sim, stake=float(decision.stake)), offer))
        # Settle the day: final scores and the closing line.
        for sim, offer in placed:
            margin, total = plan.outcomes[sim.game_id]
            result = grade(market, sim.outcome, sim.point, margin, total)
            stake = Decimal(str(sim.stake))
            payout = mkt.payout(stake, Decimal(str(sim.price)), result)
            balance += payout - stake
            sim.result, sim.profit = result, float(payout - stake)
            sim.closing_price, sim.clv = clv_of(sim.price, offer.closing_prob)
            results.append((result, plan.results_at))
            bets.append(sim)
        history.append((day_start + pd.Timedelta(days=1), balance))
        curve.append({"date": day_start.date().isoformat(), "bankroll": float(balance)})
    summary: Summary = {
        "days": len(blended.slates),
        "games": prepared.games,
        "games_priced": games_priced,
        "passes": dict(passes.most_common()),
        "pass_reasons": {
            kind: [[text, n] for text, n in texts.most_common(PASS_EXAMPLES)] for kind, texts in pass_texts.items()
        },
        "model_updates": dict(prepared.model_updates),
        "by_month": _by(bets, lambda b: b.start_time[:7]),
        "by_side": _by(bets, lambda b: b.outcome),
        "strategy": strategy.as_params(),
        "blend": {
            "source": "strategy" if strategy.blend_weights else "model",
            "weights": copy.deepcopy(blended.weights_used),
        },
        "forecasts": copy.deepcopy(blended.forecasts),
    }
    return _report(bets, curve, strategy.starting_bankroll, balance, summary)


# Each game is scored once per line, from the home (or over) side: the other side's forecast is its complement.
FORECAST_SIDES = ("home", "over")


def forecast_scores(rows: list[tuple[float, float, float, float]]) -> ForecastScores | None:
    """Walk-forward forecast quality on the games decided (one row per game and line: model, blend,
    market at decision time, and whether the side won; pushes left out): log loss, Brier and
    calibration (ECE and the reliability bins) of each, on the same games. None without a game."""
    if not rows:
        return None
    table = np.array(rows, dtype=float)
    won = table[:, 3]

    def scored(probs: np.ndarray) -> ForecastScore:
        scores = metrics.score(probs, won)
        rounded = scores.as_dict()
        return {
            "n": scores.n,
            "log_loss": rounded["log_loss"],
            "brier": rounded["brier"],
            "accuracy": rounded["accuracy"],
            "ece": rounded["ece"],
            "reliability": [
                {"lower": b.lower, "upper": b.upper, "n": b.n, "mean_prob": b.mean_prob, "frequency": b.frequency}
                for b in metrics.reliability(probs, won)
                if b.n
            ],
        }

    return {"n": len(rows), "model": scored(table[:, 0]), "blend": scored(table[:, 1]), "market": scored(table[:, 2])}


def _note_weights(used: list[WeightsInForce], plan: Day, override: blending.Weights | None) -> None:
    """The blend weights in force, one entry each time they change (None: the market alone)."""
    weights: blending.Weights | None = override
    if weights is None and plan.offers:
        weights = plan.offers[0].weights
    if plan.offers and (not used or used[-1]["weights"] != weights):
        used.append({"from": plan.day.date().isoformat(), "weights": weights})


def run(
    *,
    league: League,
    market: str,
    start: dt.date,
    end: dt.date,
    strategy: Strategy,
    progress: Progress | None = None,
) -> Report:
    """Replay ``strategy`` over the finished games from ``start`` to ``end``."""
    prepared = prepare(
        league=league,
        market=market,
        start=start,
        end=end,
        timings=[strategy.timing],
        devig=strategy.devig,
        progress=progress,
    )
    return replay(prepared, strategy)


def sweep(
    *,
    league: League,
    market: str,
    start: dt.date,
    end: dt.date,
    params: dict[str, Any],
    kelly: list[float],
    min_edge: list[float],
    at: list[str],
    progress: Progress | None = None,
) -> list[SweepRow]:
    """Every combination of ``kelly`` x ``min_edge`` x ``at`` over one walk-forward: the predictions
    are computed once (``prepare``), each strategy replays them. One row of figures per strategy."""
    strategies = [
        strategy_from({**params, "kelly_fraction": k, "min_edge": e, "at": a})
        for a in at
        for k in kelly
        for e in min_edge
    ]
    if not strategies:
        raise BacktestError("a sweep needs at least one value of each of kelly, min_edge and at")
    timings = list(dict.fromkeys(s.timing for s in strategies))
    prepared = prepare(
        league=league,
        market=market,
        start=start,
        end=end,
        timings=timings,
        devig=strategies[0].devig,
        progress=progress,
    )
    rows: list[SweepRow] = []
    for strategy in strategies:
        report = replay(prepared, strategy)
        rows.append(
            {
                "at": strategy.at,
                "kelly_fraction": strategy.limits.kelly_fraction,
                "min_edge": strategy.limits.min_edge,
                **report.figures(),
                "games_priced": report.summary["games_priced"],
                "passes": report.summary["passes"],
            }
        )
    return rows


@functools.lru_cache(maxsize=4096)  # a window repeats few wordings many times, and a sweep each once per strategy
def _reason_kind(reason: str) -> str:
    """'edge 0.4% under the minimum 1%' -> 'edge under the minimum': the key that counts a kind of
    pass together whatever its figures. Only a key: the summary keeps each kind's most frequent
    reasons with their figures (``pass_reasons``), and that is what pages and commands show."""
    words = [w for w in reason.replace(":", "").split() if not any(ch.isdigit() for ch in w)]
    return " ".join(words)[:80]


class PassKind(TypedDict):
    kind: str
    count: int
    examples: list[tuple[str, int]]  # the kind's most frequent reasons in full, with their counts
    others: int  # how many of the kind had other figures


def passes_with_figures(summary: Mapping[str, object]) -> list[PassKind]:
    """A backtest summary's passes, most frequent kind first, each as ``{"kind", "count", "examples",
    "others"}``: ``examples`` the kind's most frequent reasons in full, figures and all, with their
    counts, ``others`` how many of the kind had other figures. A summary saved before the reasons
    were kept has no examples (the kind alone; run the backtest again for the figures)."""
    passes = summary.get("passes")
    if not isinstance(passes, dict):
        return []
    texts = summary.get("pass_reasons")
    texts = texts if isinstance(texts, dict) else {}
    rows: list[PassKind] = []
    for kind, count in passes.items():
        examples = [
            (str(pair[0]), int(pair[1]))
            for pair in texts.get(kind) or []
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        others = int(count) - sum(n for _, n in examples)
        rows.append({"kind": kind, "count": int(count), "examples": examples, "others": others})
    return rows


def _by(bets: list[SimBet], key: Callable[[SimBet], str]) -> dict[str, dict[str, float]]:
    groups: dict[str, dict[str, float]] = {}
    for bet in bets:
        group = groups.setdefault(key(bet), {"bets": 0, "staked": 0.0, "profit": 0.0, "wins": 0, "losses": 0})
        group["bets"] += 1
        group["staked"] = round(group["staked"] + bet.stake, 2)
        group["profit"] = round(group["profit"] + bet.profit, 2)
        group["wins"] += bet.result == "win"
        group["losses"] += bet.result == "loss"
    return dict(sorted(groups.items()))


def max_drawdown(values: list[float]) -> float:
    """The largest fall from a running peak, as a share of that peak."""
    peak, worst = 0.0, 0.0
    for value in values:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak)
    return round(worst, 6)


def bootstrap_ci(
    stakes: np.ndarray, profits: np.ndarray, denominator: float | None = None, samples: int = BOOTSTRAP_SAMPLES
) -> tuple[float, float] | None:
    """95% percentile interval of sum(profit) / sum(stake) (or / ``denominator``), bets resampled with
    replacement. A fixed seed: the same bets give the same interval."""
    n = len(stakes)
    if n < 2:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    index = rng.integers(0, n, size=(samples, n))
    profit = profits[index].sum(axis=1)
    base = np.full(samples, denominator) if denominator else stakes[index].sum(axis=1)
    ratios = profit / base
    low, high = np.percentile(ratios, [2.5, 97.5])
    return round(float(low), 6), round(float(high), 6)


def _report(bets: list[SimBet], curve: list[CurvePoint], start: Decimal, final: Decimal, summary: Summary) -> Report:
    stakes = np.array([b.stake for b in bets], dtype=float)
    profits = np.array([b.profit for b in bets], dtype=float)
    staked = sum((Decimal(str(b.stake)) for b in bets), Decimal("0.00"))
    profit = final - start
    wins = sum(1 for b in bets if b.result == "win")
    losses = sum(1 for b in bets if b.result == "loss")
    clvs = [b.clv for b in bets if b.clv is not None]
    # the mean CLV's interval: each bet weighs one, so sum(clv) / sum(1) is the mean
    clv_ci = bootstrap_ci(np.ones(len(clvs)), np.array(clvs, dtype=float))
    return Report(
        n_bets=len(bets),
        staked=staked,
        profit=profit,
        roi=round(float(profit / start), 6),
        roi_ci95=bootstrap_ci(stakes, profits, float(start)),
        yield_rate=round(float(profit / staked), 6) if staked else None,
        yield_ci95=bootstrap_ci(stakes, profits),
        hit_rate=round(wins / (wins + losses), 6) if wins + losses else None,
        max_drawdown=max_drawdown([point["bankroll"] for point in curve]),
        avg_clv=round(sum(clvs) / len(clvs), 6) if clvs else None,
        clv_ci95=clv_ci,
        starting_bankroll=start,
        final_bankroll=final,
        curve=curve,
        summary={**summary, "bets_with_clv": len(clvs), "clv_ci95": list(clv_ci) if clv_ci else None},
        bets=[asdict(b) for b in bets],
    )
