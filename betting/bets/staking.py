"""Kelly sizing of a slate of bets under risk limits. Pure: no Django, no I/O, so the backtester reuses it.

Money is `Decimal` in cents; stakes are always rounded down, never up. Limits are measured on equity:
the cash balance plus the open stakes at cost (an open bet is not a loss until it is settled).
Probabilities, Kelly fractions, edges and expected values are floats. The daily exposure cap is enforced
in whole cents with integer arithmetic, so no rounding can take a slate over it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Literal, TypeAlias

from betting.bets.pricing import Price, decimal_to_implied, edge, expected_value

Result: TypeAlias = Literal["win", "loss", "push"]
RESULTS: frozenset[str] = frozenset({"win", "loss", "push"})
Rearm: TypeAlias = Literal["recover", "rolling"]
REARM_MODES: tuple[Rearm, ...] = ("recover", "rolling")
# Directions of a position on a game: backing a team (moneyline or spread, the same exposure) and the
# total. One position per game on each axis: a second bet on the same team, or one against it, is refused.
AXES: dict[str, str] = {"home": "side", "away": "side", "over": "total", "under": "total"}
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

    `drawdown_rearm` says when a tripped drawdown stop lifts: "recover" (the default) once equity is back
    within `drawdown_warn_fraction` of its all-time peak; "rolling" as soon as the drawdown from the peak of
    the last `peak_bankroll_days` is under the stop again (the old behaviour: the stop re-arms as the peak
    rolls out of the window, even with nothing recovered). `max_game_exposure_fraction` and
    `max_team_exposure_fraction` cap the stakes, open and new, on one game and on the games of one team.
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
    drawdown_rearm: Rearm = "recover"
    max_game_exposure_fraction: float = 0.05
    max_team_exposure_fraction: float = 0.10

    def __post_init__(self) -> None:
        fractions = {
            "kelly_fraction": self.kelly_fraction,
            "min_probability": self.min_probability,
            "max_stake_fraction": self.max_stake_fraction,
            "daily_exposure_fraction": self.daily_exposure_fraction,
            "max_drawdown_fraction": self.max_drawdown_fraction,
            "drawdown_warn_fraction": self.drawdown_warn_fraction,
            "max_game_exposure_fraction": self.max_game_exposure_fraction,
            "max_team_exposure_fraction": self.max_team_exposure_fraction,
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
        if self.drawdown_rearm not in REARM_MODES:
            raise ValueError(f"drawdown_rearm must be one of {', '.join(REARM_MODES)}, got {self.drawdown_rearm!r}")


@dataclass(frozen=True)
class Position:
    """Where a bet's money is exposed: its game, its direction there (home, away, over or under; a
    moneyline and a spread on the same team are the same direction) and the teams playing (a position
    counts towards both teams' exposure)."""

    game: Hashable
    direction: str
    teams: tuple[Hashable, ...] = ()

    def __post_init__(self) -> None:
        if self.direction not in AXES:
            raise ValueError(f"unknown direction {self.direction!r}: expected one of {', '.join(AXES)}")

    @property
    def slot(self) -> tuple[Hashable, str]:
        """(game, axis): at most one position may hold it."""
        return (self.game, AXES[self.direction])


@dataclass(frozen=True)
class BankrollState:
    """Where the bankroll stands before this slate.

    `balance` is the cash; `open_stakes` the stakes of the bets not settled yet, at cost; `equity` is the
    two together, and every limit is measured on it. `peak` is the highest equity over the last
    `peak_bankroll_days` and `all_time_peak` the highest ever (None: the peak), both computed by the caller
    (an equity above them counts as the peak). `stop_held` says the drawdown stop tripped earlier and has
    not lifted since (`drawdown_stop_held`). `staked_today` is the exposure already placed today;
    `open_positions` the open bets' positions with their stakes. `recent_results` are settled results,
    newest last.
    """

    balance: Decimal
    peak: Decimal
    staked_today: Decimal = ZERO
    recent_results: Sequence[Result] = ()
    open_stakes: Decimal = ZERO
    all_time_peak: Decimal | None = None
    stop_held: bool = False
    open_positions: Sequence[tuple[Position, Decimal]] = ()

    def __post_init__(self) -> None:
        for name in ("balance", "peak", "staked_today", "open_stakes"):
            amount: Decimal = getattr(self, name)
            if not (amount.is_finite() and amount >= 0):
                raise ValueError(f"{name} must be a non-negative amount, got {amount}")
        unknown = sorted({str(r) for r in self.recent_results} - RESULTS)
        if unknown:
            raise ValueError(f"unknown results {unknown}: expected 'win', 'loss' or 'push'")

    @property
    def equity(self) -> Decimal:
        """Cash plus open stakes at cost."""
        return self.balance + self.open_stakes

    @property
    def drawdown(self) -> Decimal:
        """Share of the window's peak lost: (peak - equity) / peak, 0 at or above the peak."""
        return _drawdown(self.peak, self.equity)

    @property
    def all_time_drawdown(self) -> Decimal:
        """Share of the all-time peak lost (the window's peak when no all-time peak was given)."""
        return _drawdown(self.peak if self.all_time_peak is None else max(self.all_time_peak, self.peak), self.equity)


def _drawdown(peak: Decimal, equity: Decimal) -> Decimal:
    peak = max(peak, equity)
    return (peak - equity) / peak if peak > 0 else Decimal(0)


def drawdown_stop_on(bankroll: BankrollState, limits: RiskLimits) -> bool:
    """Whether the drawdown stop applies now: the drawdown from the window's peak is at or over
    MAX_DRAWDOWN_FRACTION, or (DRAWDOWN_REARM=recover) the stop tripped earlier and equity is still
    more than DRAWDOWN_WARN_FRACTION under its all-time peak."""
    if bankroll.drawdown >= Decimal(str(limits.max_drawdown_fraction)):
        return True
    return (
        limits.drawdown_rearm == "recover"
        and bankroll.stop_held
        and bankroll.all_time_drawdown > Decimal(str(limits.drawdown_warn_fraction))
    )


def drawdown_stop_held(history: Sequence[tuple[dt.datetime, Decimal]], limits: RiskLimits) -> bool:
    """Whether the drawdown stop is still on at the end of an equity history: (time, equity after it)
    pairs, oldest first. At each point the peak is the highest equity of the last `peak_bankroll_days`
    (that point included) and the all-time peak the highest so far; `drawdown_stop_on` decides, carrying
    whether it was on at the point before. Always False with DRAWDOWN_REARM=rolling (nothing is held)."""
    if limits.drawdown_rearm == "rolling":
        return False
    window = dt.timedelta(days=limits.peak_bankroll_days)
    peaks: deque[tuple[dt.datetime, Decimal]] = deque()  # decreasing equity: the window's maximum first
    held, all_time = False, Decimal(0)
    for at, equity in history:
        while peaks and peaks[-1][1] <= equity:
            peaks.pop()
        peaks.append((at, equity))
        while peaks[0][0] < at - window:
            peaks.popleft()
        all_time = max(all_time, equity)
        point = BankrollState(balance=max(equity, ZERO), peak=peaks[0][1], all_time_peak=all_time, stop_held=held)
        held = drawdown_stop_on(point, limits)
    return held


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
    position: Position | None = None

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


def _amount(cents: int) -> str:
    """An amount in a reason as a bettor reads it: 8,000.11."""
    return f"{_money(cents):,}"


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
    elif drawdown_stop_on(bankroll, limits):
        reasons.append(
            f"drawdown stop holds: equity is {_pct(bankroll.all_time_drawdown)} under its all-time peak; betting "
            f"resumes within {_pct(limits.drawdown_warn_fraction)} of it"
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
    if Decimal(str(limits.drawdown_warn_fraction)) <= drawdown < Decimal(
        str(limits.max_drawdown_fraction)
    ) and not drawdown_stop_on(bankroll, limits):
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
        (_cents(limits.max_stake_absolute), f"capped at MAX_STAKE_ABSOLUTE ({limits.max_stake_absolute:,.2f})"),
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


def _one_position_per_direction(
    candidates: Sequence[Candidate], decisions: list[Decision], wanted: dict[int, int], bankroll: BankrollState
) -> dict[int, int]:
    """The wanted stakes without the candidates whose game and direction is taken: by an open bet, or
    by a candidate of the slate with a larger edge (the first of equals)."""
    held = {position.slot for position, _ in bankroll.open_positions}
    best: dict[tuple[Hashable, str], int] = {}
    for index in wanted:
        position = candidates[index].position
        if position is None:
            continue
        if position.slot in held:
            decisions[index].reasons.append("one position per game and direction: one is already open")
            continue
        kept = best.get(position.slot)
        if kept is None or decisions[index].edge > decisions[kept].edge:
            best[position.slot] = index
    out = {}
    for index, cents in wanted.items():
        position = candidates[index].position
        if position is None or best.get(position.slot) == index:
            out[index] = cents
        elif position.slot not in held:
            other = decisions[best[position.slot]]
            name = other.label or str(other.key)
            decisions[index].reasons.append(
                f"one position per game and direction: {name} has the larger edge ({other.edge:.1%})"
            )
    return out


def _game_of(position: Position) -> list[Hashable]:
    return [position.game]


def _teams_of(position: Position) -> list[Hashable]:
    return list(position.teams)


def _fit_exposure(
    candidates: Sequence[Candidate],
    decisions: list[Decision],
    wanted: dict[int, int],
    bankroll: BankrollState,
    limits: RiskLimits,
) -> dict[int, int]:
    """Scale the stakes of each game, then of each team, down in proportion to fit what its cap leaves
    after the open stakes. Scaling down never breaks a cap already met, so one pass meets them all."""
    fitted = dict(wanted)
    groups: tuple[tuple[str, float, str, Callable[[Position], list[Hashable]]], ...] = (
        ("game", limits.max_game_exposure_fraction, "MAX_GAME_EXPOSURE_FRACTION", _game_of),
        ("team", limits.max_team_exposure_fraction, "MAX_TEAM_EXPOSURE_FRACTION", _teams_of),
    )
    for kind, fraction, name, keys_of in groups:
        cap = _cents(Decimal(str(fraction)) * bankroll.equity)
        open_cents: dict[Hashable, int] = defaultdict(int)
        for position, stake in bankroll.open_positions:
            for key in keys_of(position):
                open_cents[key] += _cents(stake, ROUND_UP)
        members: dict[Hashable, dict[int, int]] = defaultdict(dict)
        for index, cents in fitted.items():
            held = candidates[index].position
            for key in keys_of(held) if held is not None else []:
                members[key][index] = cents
        for key, group in members.items():
            room = max(0, cap - open_cents[key])
            for index, cents in _fit_to_room({i: fitted[i] for i in group}, room).items():
                if cents < fitted[index]:
                    decisions[index].reasons.append(
                        f"scaled down: {name} ({_pct(fraction)} of equity, {_amount(room)} left on this {kind})"
                    )
                fitted[index] = cents
    for index in [i for i, cents in fitted.items() if cents == 0]:
        del fitted[index]
        decisions[index].reasons.append("stake rounds down to 0.00")
    return fitted


def size_slate(
    candidates: Sequence[Candidate],
    bankroll: BankrollState,
    limits: RiskLimits,
    kelly_multiplier: float | None = None,
) -> list[Decision]:
    """One decision per candidate, in order, for bets placed together.

    Global stops (kill switch, drawdown, losing streak) reject everything. Per-bet filters (odds range,
    MIN_PROBABILITY, MIN_EDGE, MIN_EV) reject that bet. A passing bet stakes kelly_multiplier x full Kelly
    x equity (the multiplier defaults to `limits.kelly_fraction`), rounded down to cents and capped at
    MAX_STAKE_ABSOLUTE and MAX_STAKE_FRACTION x equity. Candidates with a `position` take at most one
    position per game and direction (`Position.slot`): one already open refuses them all, otherwise the
    largest edge is kept. Their stakes are then scaled down in proportion so that, open stakes included,
    no game passes MAX_GAME_EXPOSURE_FRACTION x equity and no team MAX_TEAM_EXPOSURE_FRACTION x equity.
    Last, the slate is scaled down in proportion so that staked_today + the slate never exceeds
    DAILY_EXPOSURE_FRACTION x equity, nor the cash. A stake of 0.00 is a rejection and carries a reason.
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
        cents, cap_reasons = _capped_cents(multiplier * decision.kelly, bankroll.equity, limits)
        decision.reasons.extend(cap_reasons)
        if cents <= 0:
            decision.reasons.append("stake rounds down to 0.00")
            continue
        wanted[index] = cents

    wanted = _one_position_per_direction(candidates, decisions, wanted, bankroll)
    wanted = _fit_exposure(candidates, decisions, wanted, bankroll, limits)
    cap = _cents(Decimal(str(limits.daily_exposure_fraction)) * bankroll.equity)
    room = max(0, cap - _cents(bankroll.staked_today, ROUND_UP))  # a part-cent already staked counts whole
    room = min(room, _cents(bankroll.balance))  # never more than the cash
    fitted = _fit_to_room(wanted, room)
    for index, cents in fitted.items():
        decision = decisions[index]
        if room == 0:
            decision.reasons.append(f"daily exposure cap ({_amount(cap)}) already used today")
            continue
        if cents < wanted[index]:
            decision.reasons.append(
                f"scaled down: the slate would exceed the daily exposure cap ({_amount(room)} left today)"
            )
        if cents == 0:
            decision.reasons.append("stake rounds down to 0.00")
        decision.stake = _money(cents)
    return decisions
