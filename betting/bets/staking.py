"""Kelly sizing of a slate of bets under risk limits. Pure: no Django, no I/O, so the backtester reuses it.

Money is `Decimal` in cents; stakes are always rounded down, never up. Probabilities, Kelly fractions,
edges and expected values are floats. The daily exposure cap is enforced in whole cents with integer
arithmetic, so no rounding can take a slate over it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Literal, TypeAlias

from betting.bets.pricing import Price, decimal_to_implied, edge, expected_value

Result: TypeAlias = Literal["win", "loss", "push"]
RESULTS: frozenset[str] = frozenset({"win", "loss", "push"})
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Float filters (edge, EV, probability) let a value equal to its minimum through despite float noise.
FILTER_TOLERANCE = 1e-12


def grade(market: str, outcome: str, point: Price | None, margin: Price, total: Price) -> Result:
    """win, loss or push of a side from the final home margin and total: a moneyline on the margin,
    a spread on the margin plus its point, a total against its number."""
    # In Decimal, from the numbers' shortest text: 3.5 stays 3.5 whether it came as a float or not.
    side_margin = Decimal(str(margin)) * (1 if outcome == "home" else -1)
    if market == "h2h":
        diff = side_margin
    elif market not in ("spreads", "totals"):
        raise ValueError(f"unknown market {market!r}")
    elif point is None:
        raise ValueError(f"a {'spread' if market == 'spreads' else 'totals'} bet needs its point")
    elif market == "spreads":
        diff = side_margin + Decimal(str(point))
    else:
        diff = (Decimal(str(total)) - Decimal(str(point))) * (1 if outcome == "over" else -1)
    return "win" if diff > 0 else "loss" if diff < 0 else "push"


def kelly_fraction(probability: float, decimal_price: Price) -> float:
    """Full-Kelly share of the bankroll: (b p - q) / b with b = price - 1, and 0 when the bet has no edge."""
    decimal_to_implied(decimal_price)  # raises on an impossible price
    b = float(decimal_price) - 1.0
    p = probability
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"probability {probability} is outside [0, 1]")
    return max(0.0, (b * p - (1.0 - p)) / b)


@dataclass(frozen=True)
class RiskLimits:
    """The limits users know by their environment names (KELLY_FRACTION is `kelly_fraction`, and so on).

    `min_ev` is the expected profit per unit staked a bet must reach. It defaults to 0.0, which adds
    nothing to the edge filter; one earlier system used 0.05. `max_recent_losses_check` is how many of the
    newest results are looked at when counting a losing streak.
    """

    kelly_fraction: float = 0.25
    min_edge: float = 0.01
    min_ev: float = 0.0
    min_probability: float = 0.15
    min_odds: float = 1.01
    max_odds: float = 1000.0
    max_stake_absolute: Decimal = Decimal("500")
    max_stake_fraction: float = 0.05
    daily_exposure_fraction: float = 0.20
    max_drawdown_fraction: float = 0.20
    drawdown_warn_fraction: float = 0.15
    peak_bankroll_days: int = 30
    consecutive_loss_limit: int = 5
    consecutive_loss_warn: int = 3
    max_recent_losses_check: int = 10
    loss_streak_cooldown_hours: float = 24.0
    kill_switch: bool = False

    def __post_init__(self) -> None:
        fractions = {
            "kelly_fraction": self.kelly_fraction,
            "min_probability": self.min_probability,
            "max_stake_fraction": self.max_stake_fraction,
            "daily_exposure_fraction": self.daily_exposure_fraction,
            "max_drawdown_fraction": self.max_drawdown_fraction,
            "drawdown_warn_fraction": self.drawdown_warn_fraction,
        }
        for name, value in fractions.items():
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not (math.isfinite(self.min_edge) and math.isfinite(self.min_ev)):
            raise ValueError("min_edge and min_ev must be finite numbers")
        if not (1.0 <= self.min_odds <= self.max_odds):
            raise ValueError(f"need 1 <= min_odds <= max_odds, got {self.min_odds} and {self.max_odds}")
        if not (self.max_stake_absolute.is_finite() and self.max_stake_absolute >= 0):
            raise ValueError(f"max_stake_absolute must be a non-negative amount, got {self.max_stake_absolute}")
        if self.drawdown_warn_fraction > self.max_drawdown_fraction:
            raise ValueError("drawdown_warn_fraction must not be above max_drawdown_fraction")
        if not (1 <= self.consecutive_loss_warn <= self.consecutive_loss_limit <= self.max_recent_losses_check):
            raise ValueError(
                "need 1 <= consecutive_loss_warn <= consecutive_loss_limit <= max_recent_losses_check, got "
                f"{self.consecutive_loss_warn}, {self.consecutive_loss_limit}, {self.max_recent_losses_check}"
            )
        if not (math.isfinite(self.loss_streak_cooldown_hours) and self.loss_streak_cooldown_hours >= 0):
            raise ValueError(f"loss_streak_cooldown_hours must be >= 0, got {self.loss_streak_cooldown_hours}")
        if self.peak_bankroll_days < 1:
            raise ValueError(f"peak_bankroll_days must be at least 1, got {self.peak_bankroll_days}")


@dataclass(frozen=True)
class BankrollState:
    """Where the bankroll stands before this slate.

    `peak` is the highest balance over the last `peak_bankroll_days`, computed by the caller (a balance
    above it counts as the peak). `staked_today` is the open exposure already placed today.
    `recent_results` are settled results, newest last.
    """

    balance: Decimal
    peak: Decimal
    staked_today: Decimal = ZERO
    recent_results: Sequence[Result] = ()

    def __post_init__(self) -> None:
        for name in ("balance", "peak", "staked_today"):
            amount: Decimal = getattr(self, name)
            if not (amount.is_finite() and amount >= 0):
                raise ValueError(f"{name} must be a non-negative amount, got {amount}")
        unknown = sorted({str(r) for r in self.recent_results} - RESULTS)
        if unknown:
            raise ValueError(f"unknown results {unknown}: expected 'win', 'loss' or 'push'")

    @property
    def drawdown(self) -> Decimal:
        """Share of the peak lost: (peak - balance) / peak, 0 at or above the peak."""
        peak = max(self.peak, self.balance)
        return (peak - self.balance) / peak if peak > 0 else Decimal(0)


def streak_served(results: Sequence[tuple[Result, float]], limits: RiskLimits) -> list[Result]:
    """The results the losing-streak stop should look at, newest last, from (result, hours since it
    was settled) pairs, oldest first. A streak that reached the stop pauses betting for
    `loss_streak_cooldown_hours` after the loss that reached it; once that time has passed (no result
    came in meanwhile) the streak is served and counting starts again. Without this a stop could never
    lift: no new bets, no new results."""
    kept: list[Result] = []
    for index, (result, hours_ago) in enumerate(results):
        kept.append(result)
        if losing_streak(kept, limits.max_recent_losses_check) < limits.consecutive_loss_limit:
            continue
        until_next = hours_ago - results[index + 1][1] if index + 1 < len(results) else hours_ago
        if until_next >= limits.loss_streak_cooldown_hours:
            kept = []
    return kept


def losing_streak(results: Iterable[Result], window: int) -> int:
    """Losses in a row at the end of the newest `window` results. A push neither extends nor breaks it."""
    recent = list(results)[-window:] if window > 0 else []
    streak = 0
    for result in reversed(recent):
        if result == "loss":
            streak += 1
        elif result == "win":
            break
    return streak


@dataclass(frozen=True)
class Candidate:
    """A bet the model would like: `price` is decimal odds, `probability` the model's chance it wins."""

    key: Hashable
    probability: float
    price: Price
    label: str = ""

    def __post_init__(self) -> None:
        decimal_to_implied(self.price)  # raises on an impossible price
        if not (math.isfinite(self.probability) and 0.0 <= self.probability <= 1.0):
            raise ValueError(f"probability {self.probability} of {self.key!r} is outside [0, 1]")


@dataclass
class Decision:
    """What to stake on one candidate. `stake` is 0.00 when rejected; `reasons` say why it was rejected
    or capped; `warnings` are the bankroll's warn thresholds, the same on every decision of a slate."""

    key: Hashable
    stake: Decimal
    kelly: float
    edge: float
    ev: float
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def accepted(self) -> bool:
        return self.stake > 0


def _pct(value: float | Decimal) -> str:
    """21% or 20.5%: one decimal place at most, trailing zero dropped."""
    return f"{float(value) * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _odds(value: float | Decimal) -> str:
    return f"{float(value):g}"


def _cents(amount: Decimal, rounding: str = ROUND_DOWN) -> int:
    return int((amount / CENT).to_integral_value(rounding=rounding))


def _money(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def bankroll_stops(bankroll: BankrollState, limits: RiskLimits) -> list[str]:
    """Reasons the whole slate is refused: the kill switch, the drawdown stop, the losing-streak stop."""
    reasons = []
    if limits.kill_switch:
        reasons.append("kill switch on")
    drawdown = bankroll.drawdown
    if drawdown >= Decimal(str(limits.max_drawdown_fraction)):
        reasons.append(
            f"drawdown {_pct(drawdown)} from the peak: at or over the {_pct(limits.max_drawdown_fraction)} stop"
        )
    streak = losing_streak(bankroll.recent_results, limits.max_recent_losses_check)
    if streak >= limits.consecutive_loss_limit:
        where = "at" if streak == limits.consecutive_loss_limit else "over"
        reasons.append(f"{streak} losses in a row: {where} the stop of {limits.consecutive_loss_limit}")
    return reasons


def bankroll_warnings(bankroll: BankrollState, limits: RiskLimits) -> list[str]:
    """Warn thresholds reached but stops not (past a stop, its reason says it all)."""
    warnings = []
    drawdown = bankroll.drawdown
    if Decimal(str(limits.drawdown_warn_fraction)) <= drawdown < Decimal(str(limits.max_drawdown_fraction)):
        warnings.append(
            f"drawdown {_pct(drawdown)} from the peak: at or over the {_pct(limits.drawdown_warn_fraction)} "
            f"warning (stop at {_pct(limits.max_drawdown_fraction)})"
        )
    streak = losing_streak(bankroll.recent_results, limits.max_recent_losses_check)
    if limits.consecutive_loss_warn <= streak < limits.consecutive_loss_limit:
        warnings.append(
            f"{streak} losses in a row: at or over the warning of {limits.consecutive_loss_warn} "
            f"(stop at {limits.consecutive_loss_limit})"
        )
    return warnings


def _filter_reasons(candidate: Candidate, bet_edge: float, ev: float, limits: RiskLimits) -> list[str]:
    reasons = []
    price = float(candidate.price)
    if price < limits.min_odds:
        reasons.append(f"odds {_odds(price)} under the minimum {_odds(limits.min_odds)}")
    if price > limits.max_odds:
        reasons.append(f"odds {_odds(price)} over the maximum {_odds(limits.max_odds)}")
    if candidate.probability < limits.min_probability - FILTER_TOLERANCE:
        reasons.append(f"probability {candidate.probability:.1%} under MIN_PROBABILITY {limits.min_probability:.1%}")
    if bet_edge < limits.min_edge - FILTER_TOLERANCE:
        reasons.append(f"edge {bet_edge:.1%} under the minimum {limits.min_edge:.1%}")
    if ev < limits.min_ev - FILTER_TOLERANCE:
        reasons.append(f"EV {ev:.1%} per unit staked under MIN_EV {limits.min_ev:.1%}")
    return reasons


def _capped_cents(share: float, balance: Decimal, limits: RiskLimits) -> tuple[int, list[str]]:
    """Kelly stake in cents, rounded down, after the per-bet caps; and which caps bit."""
    wanted = _cents(Decimal(share) * balance)
    caps = [
        (_cents(limits.max_stake_absolute), f"capped at MAX_STAKE_ABSOLUTE ({limits.max_stake_absolute:.2f})"),
        (
            _cents(Decimal(str(limits.max_stake_fraction)) * balance),
            f"capped at MAX_STAKE_FRACTION ({_pct(limits.max_stake_fraction)} of the balance)",
        ),
    ]
    reasons = [reason for cap, reason in caps if wanted > cap]
    return min([wanted, *(cap for cap, _ in caps)]), reasons


def _fit_to_room(wanted: dict[int, int], room: int) -> dict[int, int]:
    """Scale stakes (cents) down in proportion so they sum to at most `room`; floor division keeps it exact."""
    total = sum(wanted.values())
    if total <= room:
        return dict(wanted)
    return {index: cents * room // total for index, cents in wanted.items()}


def size_slate(
    candidates: Sequence[Candidate],
    bankroll: BankrollState,
    limits: RiskLimits,
    kelly_multiplier: float | None = None,
) -> list[Decision]:
    """One decision per candidate, in order, for bets placed together.

    Global stops (kill switch, drawdown, losing streak) reject everything. Per-bet filters (odds range,
    MIN_PROBABILITY, MIN_EDGE, MIN_EV) reject that bet. A passing bet stakes kelly_multiplier x full Kelly
    x balance (the multiplier defaults to `limits.kelly_fraction`), rounded down to cents and capped at
    MAX_STAKE_ABSOLUTE and MAX_STAKE_FRACTION x balance. Then the slate is scaled down in proportion so that
    staked_today + the slate never exceeds DAILY_EXPOSURE_FRACTION x balance. A stake of 0.00 is a rejection
    and carries a reason.
    """
    multiplier = limits.kelly_fraction if kelly_multiplier is None else kelly_multiplier
    if not (math.isfinite(multiplier) and multiplier >= 0):
        raise ValueError(f"kelly_multiplier must be a non-negative number, got {multiplier}")
    stops = bankroll_stops(bankroll, limits)
    warnings = bankroll_warnings(bankroll, limits)
    decisions = [
        Decision(
            key=c.key,
            stake=ZERO,
            kelly=kelly_fraction(c.probability, c.price),
            edge=edge(c.probability, c.price),
            ev=expected_value(c.probability, c.price),
            warnings=list(warnings),
            label=c.label,
        )
        for c in candidates
    ]
    if stops:
        for decision in decisions:
            decision.reasons.extend(stops)
        return decisions

    wanted: dict[int, int] = {}
    for index, (candidate, decision) in enumerate(zip(candidates, decisions, strict=True)):
        decision.reasons.extend(_filter_reasons(candidate, decision.edge, decision.ev, limits))
        if decision.reasons:
            continue
        if decision.kelly <= 0:
            decision.reasons.append("no edge at this price: the Kelly stake is 0")
            continue
        cents, cap_reasons = _capped_cents(multiplier * decision.kelly, bankroll.balance, limits)
        decision.reasons.extend(cap_reasons)
        if cents <= 0:
            decision.reasons.append("stake rounds down to 0.00")
            continue
        wanted[index] = cents

    cap = _cents(Decimal(str(limits.daily_exposure_fraction)) * bankroll.balance)
    room = max(0, cap - _cents(bankroll.staked_today, ROUND_UP))  # a part-cent already staked counts whole
    fitted = _fit_to_room(wanted, room)
    for index, cents in fitted.items():
        decision = decisions[index]
        if room == 0:
            decision.reasons.append(f"daily exposure cap ({_money(cap)}) already used today")
            continue
        if cents < wanted[index]:
            decision.reasons.append(
                f"scaled down: the slate would exceed the daily exposure cap ({_money(room)} left today)"
            )
        if cents == 0:
            decision.reasons.append("stake rounds down to 0.00")
        decision.stake = _money(cents)
    return decisions
