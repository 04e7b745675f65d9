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

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from betting.bets.pricing import DEVIG_METHODS, OTHER_SIDE, DevigMethod, consensus_probability, same_line
from betting.bets.staking import BankrollState, Candidate, Result, RiskLimits, grade, size_slate, streak_served
from betting.games.models import Game, League, OddsQuote
from betting.predictions import training
from betting.predictions.services import WalkForward, league_frame

CENT = Decimal("0.01")
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 20240601
MARKETS = ("h2h", "spreads", "totals")

Progress = Callable[[int, int, str], None]


class BacktestError(ValueError):
    """A strategy or window that cannot be backtested, with the reason in words."""


@dataclass(frozen=True)
class Strategy:
    """What is being tested: the sizing, the filters and how the market is read."""

    limits: RiskLimits
    devig: DevigMethod = "multiplicative"
    lead_minutes: int = 5
    starting_bankroll: Decimal = Decimal("10000.00")

    def as_params(self) -> dict[str, Any]:
        limits = asdict(self.limits)
        limits["max_stake_absolute"] = str(self.limits.max_stake_absolute)
        return {
            "kelly_fraction": self.limits.kelly_fraction,
            "min_edge": self.limits.min_edge,
            "devig": self.devig,
            "lead_minutes": self.lead_minutes,
            "starting_bankroll": str(self.starting_bankroll),
            "limits": limits,
        }


def strategy_from(params: dict[str, Any]) -> Strategy:
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
    devig: DevigMethod = params.get("devig") or "multiplicative"
    if devig not in DEVIG_METHODS:
        raise BacktestError(f"unknown de-vig method {devig!r}: choose one of {', '.join(DEVIG_METHODS)}")
    lead = int(params.get("lead_minutes", 5))
    if not 0 <= lead <= 7 * 24 * 60:
        raise BacktestError(f"lead_minutes must be between 0 and 10080 (a week), got {lead}")
    try:
        bankroll = Decimal(str(params.get("starting_bankroll", "10000"))).quantize(CENT)
    except ArithmeticError:
        raise BacktestError(f"starting_bankroll is not an amount: {params.get('starting_bankroll')!r}") from None
    if not bankroll.is_finite() or bankroll <= 0:
        raise BacktestError(f"starting_bankroll must be positive, got {bankroll}")
    return Strategy(limits=limits, devig=devig, lead_minutes=lead, starting_bankroll=bankroll)


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
    probability: float
    edge: float
    stake: float
    result: str = ""
    profit: float = 0.0
    closing_price: float | None = None
    clv: float | None = None


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
    curve: list[dict[str, Any]]
    summary: dict[str, Any]
    bets: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
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
            "starting_bankroll": float(self.starting_bankroll),
            "final_bankroll": float(self.final_bankroll),
            "summary": self.summary,
        }


# --- Reading the odds --------------------------------------------------------------------------

# (captured_at, book title, outcome, price, point)
Quote = tuple[pd.Timestamp, str, str, float, float | None]


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
                (pd.Timestamp(captured), book, outcome, float(price or 0), None if point is None else float(point))
            )
    return out


def _standing(quotes: list[Quote], at: pd.Timestamp) -> dict[tuple[str, str], Quote]:
    """Each book's latest quote per side captured at or before ``at``."""
    latest: dict[tuple[str, str], Quote] = {}
    for quote in quotes:
        if quote[0] > at:
            break
        latest[(quote[1], quote[2])] = quote
    return latest


def _closing_probability(
    closing: dict[tuple[str, str], Quote], market: str, outcome: str, point: float | None, method: DevigMethod
) -> float | None:
    pairs = []
    for (book, side), quote in closing.items():
        if side != outcome or quote[4] != point:
            continue
        other = closing.get((book, OTHER_SIDE[outcome]))
        if other is None or not same_line(market, point, other[4]):
            continue
        pairs.append((quote[3], other[3]))
    return consensus_probability(pairs, method)


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
    if market not in MARKETS:
        raise BacktestError(f"unknown market {market!r}: choose one of {', '.join(MARKETS)}")
    if end < start:
        raise BacktestError(f"the window ends ({end}) before it starts ({start})")
    frame = league_frame(league)
    try:
        replay = WalkForward(frame, market, league.code, start, end)
        total_days = replay.days()
        window_ids = [int(i) for i in replay.window.index]
    except ValueError as exc:
        raise BacktestError(str(exc)) from None
    if not window_ids:
        raise BacktestError(f"no finished {league.code} games between {start} and {end}")
    quotes = _quotes(league, market, window_ids)
    names = dict(
        Game.objects.filter(pk__in=window_ids).values_list("pk", "home_team__abbreviation").iterator(chunk_size=5000)
    )
    away_names = dict(
        Game.objects.filter(pk__in=window_ids).values_list("pk", "away_team__abbreviation").iterator(chunk_size=5000)
    )
    limits, lead = strategy.limits, pd.Timedelta(minutes=strategy.lead_minutes)
    balance = strategy.starting_bankroll
    history: list[tuple[pd.Timestamp, Decimal]] = [
        (pd.Timestamp(dt.datetime.combine(start, dt.time.min, dt.UTC)), balance)
    ]
    results: list[tuple[Result, pd.Timestamp]] = []
    curve: list[dict[str, Any]] = [{"date": start.isoformat(), "bankroll": float(balance)}]
    bets: list[SimBet] = []
    passes: Counter[str] = Counter()
    games_priced = 0
    done_days = 0
    try:
        for day, games, model, trained_until in replay:
            day_start = day
            requests: list[tuple[int, str, float | None, Quote, pd.Timestamp]] = []
            for raw_id, start_time in games["start_time"].items():
                game_id = int(str(raw_id))
                decided_at = pd.Timestamp(start_time) - lead
                standing = _standing(quotes.get(game_id, []), decided_at)
                best: dict[tuple[str, float | None], Quote] = {}
                for (_, side), quote in standing.items():
                    key = (side, quote[4])
                    if key not in best or quote[3] > best[key][3]:
                        best[key] = quote
                if best:
                    games_priced += 1
                requests.extend((game_id, side, point, quote, decided_at) for (side, point), quote in best.items())
            probabilities = _side_probabilities(model, frame, market, requests)
            offers: dict[int, tuple[SimBet, Candidate]] = {}
            for (game_id, side, point, quote, decided_at), probability in zip(requests, probabilities, strict=True):
                edge = probability - 1 / quote[3]
                if game_id in offers and edge <= offers[game_id][0].edge:
                    continue  # one side per game: the one with the largest edge
                sim = SimBet(
                    game_id=game_id,
                    label=f"{away_names.get(game_id, '?')} @ {names.get(game_id, '?')}",
                    start_time=pd.Timestamp(decided_at + lead).isoformat(),
                    decided_at=decided_at.isoformat(),
                    quote_at=quote[0].isoformat(),
                    model_trained_until=pd.Timestamp(trained_until).isoformat(),
                    outcome=side,
                    point=point,
                    book=quote[1],
                    price=quote[3],
                    probability=round(probability, 6),
                    edge=round(edge, 6),
                    stake=0.0,
                )
                offers[game_id] = (sim, Candidate(key=game_id, probability=probability, price=quote[3]))
            now = day_start
            state = BankrollState(
                balance=balance,
                peak=_peak(history, now, limits.peak_bankroll_days, balance),
                recent_results=streak_served(
                    [(r, (now - at).total_seconds() / 3600) for r, at in results[-50:]], limits
                ),
            )
            decisions = size_slate([c for _, c in offers.values()], state, limits)
            placed: list[SimBet] = []
            for decision in decisions:
                sim, _ = offers[int(str(decision.key))]
                if not decision.accepted:
                    for reason in decision.reasons:
                        passes[_reason_kind(reason)] += 1
                    continue
                sim.stake = float(decision.stake)
                placed.append(sim)
            # Settle the day: final scores and the closing line.
            for sim in placed:
                row = games.loc[sim.game_id]
                result = grade(market, sim.outcome, sim.point, float(row["margin"]), float(row["total_points"]))
                stake = Decimal(str(sim.stake))
                payout = (
                    (stake * Decimal(str(sim.price))).quantize(CENT)
                    if result == "win"
                    else (stake if result == "push" else Decimal("0.00"))
                )
                balance += payout - stake
                sim.result, sim.profit = result, float(payout - stake)
                closing = _standing(quotes.get(sim.game_id, []), pd.Timestamp(sim.start_time))
                fair = _closing_probability(closing, market, sim.outcome, sim.point, strategy.devig)
                if fair:
                    sim.closing_price = round(1 / fair, 4)
                    sim.clv = round(sim.price * fair - 1, 6)
                results.append((result, games["start_time"].max() + pd.Timedelta(hours=3)))
                bets.append(sim)
            history.append((day_start + pd.Timedelta(days=1), balance))
            curve.append({"date": day_start.date().isoformat(), "bankroll": float(balance)})
            done_days += 1
            if progress:
                progress(done_days, total_days, f"{day_start.date()}: {len(bets)} bets, bankroll {balance}")
    except ValueError as exc:  # a model that cannot be trained, a window without games
        raise BacktestError(str(exc)) from None
    summary = {
        "days": done_days,
        "games": len(window_ids),
        "games_priced": games_priced,
        "passes": dict(passes.most_common()),
        "model_updates": dict(replay.updates),
        "by_month": _by(bets, lambda b: b.start_time[:7]),
        "by_side": _by(bets, lambda b: b.outcome),
        "strategy": strategy.as_params(),
    }
    return _report(bets, curve, strategy.starting_bankroll, balance, summary)


def _reason_kind(reason: str) -> str:
    """'edge 0.4% under the minimum 1%' -> 'edge under the minimum': counts that group."""
    words = [w for w in reason.replace(":", "").split() if not any(ch.isdigit() for ch in w)]
    return " ".join(words)[:80]


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


def _report(
    bets: list[SimBet], curve: list[dict[str, Any]], start: Decimal, final: Decimal, summary: dict[str, Any]
) -> Report:
    stakes = np.array([b.stake for b in bets], dtype=float)
    profits = np.array([b.profit for b in bets], dtype=float)
    staked = sum((Decimal(str(b.stake)) for b in bets), Decimal("0.00"))
    profit = final - start
    wins = sum(1 for b in bets if b.result == "win")
    losses = sum(1 for b in bets if b.result == "loss")
    clvs = [b.clv for b in bets if b.clv is not None]
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
        starting_bankroll=start,
        final_bankroll=final,
        curve=curve,
        summary={**summary, "bets_with_clv": len(clvs)},
        bets=[asdict(b) for b in bets],
    )
