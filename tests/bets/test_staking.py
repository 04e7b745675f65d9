from __future__ import annotations

import math
from dataclasses import fields, replace
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from betting.bets.pricing import edge, expected_value
from betting.bets.staking import (
    BankrollState,
    Candidate,
    RiskLimits,
    bankroll_warnings,
    kelly_fraction,
    losing_streak,
    size_slate,
)

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None)
CENT = Decimal("0.01")


def fresh(balance: str = "10000", **kwargs) -> BankrollState:
    return BankrollState(balance=Decimal(balance), peak=Decimal(kwargs.pop("peak", balance)), **kwargs)


def one(candidate: Candidate, bankroll: BankrollState | None = None, limits: RiskLimits | None = None):
    [decision] = size_slate([candidate], bankroll or fresh(), limits or RiskLimits())
    return decision


# ---- Kelly -------------------------------------------------------------------------------------------


def test_kelly_of_the_textbook_example():
    assert kelly_fraction(0.6, 2.0) == pytest.approx(0.2)
    assert kelly_fraction(0.6, Decimal("2.0")) == pytest.approx(0.2)
    assert kelly_fraction(0.5, 3.0) == pytest.approx(0.25)  # (2 x 0.5 - 0.5) / 2


@FUZZ
@given(st.floats(0, 1), st.floats(1.001, 1000))
def test_kelly_is_zero_without_positive_expectation_and_never_above_one(probability, price):
    kelly = kelly_fraction(probability, price)
    assert 0 <= kelly <= 1
    if expected_value(probability, price) <= 0:
        assert kelly == 0
    else:
        assert kelly == pytest.approx(expected_value(probability, price) / (price - 1))


def test_kelly_refuses_impossible_inputs():
    with pytest.raises(ValueError):
        kelly_fraction(0.6, 1.0)
    with pytest.raises(ValueError):
        kelly_fraction(1.5, 2.0)


# ---- Limits and bankroll -----------------------------------------------------------------------------


def test_limits_default_to_what_users_know():
    limits = RiskLimits()
    assert limits.kelly_fraction == 0.25
    assert limits.min_edge == 0.01 and limits.min_ev == 0.0 and limits.min_probability == 0.15
    assert limits.min_odds == 1.01 and limits.max_odds == 1000
    assert limits.max_stake_absolute == Decimal("500") and limits.max_stake_fraction == 0.05
    assert limits.daily_exposure_fraction == 0.20
    assert limits.max_drawdown_fraction == 0.20 and limits.drawdown_warn_fraction == 0.15
    assert limits.peak_bankroll_days == 30
    assert (limits.consecutive_loss_limit, limits.consecutive_loss_warn, limits.max_recent_losses_check) == (5, 3, 10)
    assert limits.kill_switch is False
    assert {f.name.upper() for f in fields(RiskLimits)} >= {"MAX_STAKE_ABSOLUTE", "DAILY_EXPOSURE_FRACTION"}


@pytest.mark.parametrize(
    "bad",
    [
        {"max_stake_fraction": 1.5},
        {"daily_exposure_fraction": -0.1},
        {"drawdown_warn_fraction": 0.3},  # above the 0.20 stop
        {"consecutive_loss_warn": 6},  # above the stop of 5
        {"consecutive_loss_limit": 11},  # longer than the 10 results looked at
        {"min_odds": 0.9},
        {"max_stake_absolute": Decimal("-1")},
        {"min_edge": math.nan},
    ],
)
def test_inconsistent_limits_are_refused(bad):
    with pytest.raises(ValueError):
        RiskLimits(**bad)


def test_bankroll_refuses_negative_money_and_unknown_results():
    with pytest.raises(ValueError, match="balance"):
        BankrollState(balance=Decimal("-1"), peak=Decimal("10"))
    with pytest.raises(ValueError, match="unknown results"):
        BankrollState(balance=Decimal("1"), peak=Decimal("1"), recent_results=["loss", "lose"])


def test_losing_streak_counts_the_newest_losses_and_skips_pushes():
    assert losing_streak(["loss", "win", "loss", "push", "loss"], window=10) == 2
    assert losing_streak(["loss", "loss", "win"], window=10) == 0
    assert losing_streak(["loss"] * 12, window=10) == 10
    assert losing_streak([], window=10) == 0


def test_drawdown_is_measured_from_the_peak():
    assert fresh("8000", peak="10000").drawdown == Decimal("0.2")
    assert fresh("12000", peak="10000").drawdown == 0  # a balance above a stale peak is the peak


# ---- Sizing a slate: exact examples ------------------------------------------------------------------


def test_quarter_kelly_stake_on_a_plain_edge():
    decision = one(Candidate("a", 0.55, Decimal("2.0"), label="Celtics ML"))
    assert decision.kelly == pytest.approx(0.10)
    assert decision.stake == Decimal("250.00")  # 0.25 x 0.10 x 10,000
    assert decision.edge == pytest.approx(0.05) and decision.ev == pytest.approx(0.10)
    assert decision.reasons == [] and decision.warnings == [] and decision.accepted
    assert decision.label == "Celtics ML"


def test_stakes_round_down_to_cents():
    decision = one(Candidate("a", 0.55, 2.0), bankroll=fresh("1234.57"))
    assert decision.stake == Decimal("30.86")  # 0.025 x 1234.57 = 30.86425
    assert decision.stake.as_tuple().exponent == -2


def test_kelly_multiplier_overrides_the_limit():
    [decision] = size_slate([Candidate("a", 0.55, 2.0)], fresh(), RiskLimits(), kelly_multiplier=0.5)
    assert decision.stake == Decimal("500.00")


def test_per_bet_caps_say_which_one_bit():
    strong = Candidate("a", 0.70, 2.0)  # full Kelly 0.4: a quarter is 1,000 of 10,000
    assert one(strong).stake == Decimal("500.00")
    assert one(strong).reasons == [
        "capped at MAX_STAKE_ABSOLUTE (500.00)",
        "capped at MAX_STAKE_FRACTION (5% of the balance)",
    ]
    by_absolute = one(strong, limits=RiskLimits(max_stake_absolute=Decimal("300")))
    assert by_absolute.stake == Decimal("300.00")
    assert [r.split(" (")[0] for r in by_absolute.reasons] == [
        "capped at MAX_STAKE_ABSOLUTE",
        "capped at MAX_STAKE_FRACTION",
    ]
    by_fraction = one(strong, limits=RiskLimits(max_stake_fraction=0.03, max_stake_absolute=Decimal("5000")))
    assert by_fraction.stake == Decimal("300.00")
    assert by_fraction.reasons == ["capped at MAX_STAKE_FRACTION (3% of the balance)"]


def test_a_slate_over_the_daily_cap_is_scaled_down_in_proportion():
    slate = [Candidate(i, 0.70, 2.0) for i in range(5)]  # 5 x 500 wanted, cap 2,000
    decisions = size_slate(slate, fresh(staked_today=Decimal("400")), RiskLimits())
    assert [d.stake for d in decisions] == [Decimal("320.00")] * 5  # 1,600 left today, shared equally
    for decision in decisions:
        assert (
            decision.reasons[-1] == "scaled down: the slate would exceed the daily exposure cap (1,600.00 left today)"
        )


def test_nothing_is_staked_once_the_daily_cap_is_used():
    decision = one(Candidate("a", 0.55, 2.0), bankroll=fresh(staked_today=Decimal("2000")))
    assert decision.stake == 0 and decision.reasons == ["daily exposure cap (2,000.00) already used today"]


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (Candidate("a", 0.504, 2.0), "edge 0.4% under the minimum 1.0%"),
        (Candidate("a", 0.9999, Decimal("1.005")), "odds 1.005 under the minimum 1.01"),
        (Candidate("a", 0.01, 1200), "odds 1200 over the maximum 1000"),
        (Candidate("a", 0.12, 10.0), "probability 12.0% under MIN_PROBABILITY 15.0%"),
    ],
)
def test_filtered_bets_are_not_staked_and_say_why(candidate, reason):
    decision = one(candidate)
    assert decision.stake == Decimal("0.00") and not decision.accepted
    assert reason in decision.reasons


def test_min_ev_filters_a_bet_that_passes_the_edge():
    candidate = Candidate("a", 0.52, 2.0)  # edge 2%, EV 4% per unit
    assert one(candidate).accepted
    decision = one(candidate, limits=RiskLimits(min_ev=0.05))
    assert decision.stake == 0 and decision.reasons == ["EV 4.0% per unit staked under MIN_EV 5.0%"]


def test_a_bet_at_exactly_the_minimum_edge_is_allowed():
    assert one(Candidate("a", 0.51, 2.0)).accepted


def test_a_stake_that_rounds_to_nothing_is_a_rejection():
    decision = one(Candidate("a", 0.55, 2.0), bankroll=fresh("0.30"))
    assert decision.stake == 0 and decision.reasons == ["stake rounds down to 0.00"]


def test_no_positive_expectation_is_a_rejection_when_the_filters_are_off():
    limits = RiskLimits(min_edge=-1, min_ev=-1, min_probability=0)
    decision = one(Candidate("a", 0.4, 2.0), limits=limits)
    assert decision.stake == 0 and decision.kelly == 0 and decision.reasons


# ---- Global stops and warnings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bankroll", "limits", "reason"),
    [
        (fresh(), RiskLimits(kill_switch=True), "kill switch on"),
        (fresh("7900", peak="10000"), RiskLimits(), "drawdown 21% from the peak: at or over the 20% stop"),
        (fresh("8000", peak="10000"), RiskLimits(), "drawdown 20% from the peak: at or over the 20% stop"),
        (fresh(recent_results=["win", *["loss"] * 5]), RiskLimits(), "5 losses in a row: at the stop of 5"),
        (
            fresh(recent_results=["loss"] * 3 + ["push"] + ["loss"] * 3),
            RiskLimits(),
            "6 losses in a row: over the stop of 5",
        ),
    ],
)
def test_each_global_stop_rejects_the_whole_slate(bankroll, limits, reason):
    slate = [Candidate(i, 0.6, 2.0) for i in range(3)]
    decisions = size_slate(slate, bankroll, limits)
    assert [d.stake for d in decisions] == [0, 0, 0]
    assert all(reason in d.reasons for d in decisions)


def test_warnings_appear_at_the_warn_thresholds():
    limits = RiskLimits()
    assert bankroll_warnings(fresh("8600", peak="10000"), limits) == []
    drawdown = size_slate([Candidate("a", 0.55, 2.0)], fresh("8500", peak="10000"), limits)[0]
    assert drawdown.accepted
    assert drawdown.warnings == ["drawdown 15% from the peak: at or over the 15% warning (stop at 20%)"]
    assert bankroll_warnings(fresh(recent_results=["loss", "loss"]), limits) == []
    streak = size_slate([Candidate("a", 0.55, 2.0)], fresh(recent_results=["loss", "push", "loss", "loss"]), limits)[0]
    assert streak.accepted
    assert streak.warnings == ["3 losses in a row: at or over the warning of 3 (stop at 5)"]


def test_an_empty_slate_is_empty():
    assert size_slate([], fresh(), RiskLimits()) == []


# ---- Sizing a slate: properties ----------------------------------------------------------------------


def amounts(low: int, high: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    """Decimals with `places` places from whole integers: much faster to draw than st.decimals."""
    return st.integers(low * 10**places, high * 10**places).map(lambda units: Decimal(units).scaleb(-places))


money = amounts(0, 1_000_000)
prices = st.one_of(
    amounts(1, 6).filter(lambda price: price > 1),  # where most bets are
    amounts(1, 1500, places=3).filter(lambda price: price > 1),
    st.floats(1.001, 1500),
)


@st.composite
def candidate(draw):
    """Mostly bets near their price, many with an edge, so the caps and the scaling are reached."""
    price = draw(prices)
    near = min(1.0, max(0.0, 1 / float(price) + draw(st.floats(-0.05, 0.3))))
    probability = draw(st.one_of(st.just(near), st.floats(0, 1)))
    return Candidate(key=draw(st.integers()), probability=probability, price=price)


@st.composite
def bankroll(draw):
    balance = draw(st.one_of(amounts(0, 1000), money, st.just(Decimal(10_000))))
    # The peak: the balance, a little above it (under the stops and past them) or a stale one under it.
    peak = draw(st.one_of(st.just(balance), st.floats(0.5, 1.5).map(lambda r: (balance * Decimal(r)).quantize(CENT))))
    share_staked = draw(st.sampled_from([0, 0, 0.05, 0.1, 0.25, 1]))
    return BankrollState(
        balance=balance,
        peak=peak,
        staked_today=(balance * Decimal(share_staked) + draw(st.just(0) | amounts(0, 1, places=3))).quantize(
            Decimal("0.001")
        ),
        recent_results=draw(st.lists(st.sampled_from(["win", "loss", "push"]), max_size=8)),
    )


candidates = st.lists(candidate(), max_size=10)
bankrolls = bankroll()
limits_strategy = st.builds(
    RiskLimits,
    kelly_fraction=st.floats(0.05, 1),
    min_edge=st.floats(-0.05, 0.05),
    min_ev=st.floats(-0.1, 0.1),
    min_probability=st.floats(0, 0.5),
    max_stake_absolute=amounts(1, 100_000),
    max_stake_fraction=st.sampled_from([0.01, 0.02, 0.05]) | st.floats(0.001, 0.5),
    daily_exposure_fraction=st.sampled_from([0.2, 0.1, 0.05]) | st.floats(0, 0.5),
)


@FUZZ
@given(candidates, bankrolls, limits_strategy, st.one_of(st.none(), st.floats(0, 1)))
def test_a_slate_never_breaks_a_cap_or_stakes_a_filtered_bet(slate, bankroll, limits, multiplier):
    decisions = size_slate(slate, bankroll, limits, multiplier)
    event("some staked" if any(d.accepted for d in decisions) else "none staked")
    event("scaled" if any("scaled down" in r for d in decisions for r in d.reasons) else "not scaled")
    assert [d.key for d in decisions] == [c.key for c in slate]
    multiplier = limits.kelly_fraction if multiplier is None else multiplier
    total = sum((d.stake for d in decisions), Decimal(0))
    daily_cap = Decimal(str(limits.daily_exposure_fraction)) * bankroll.balance
    assert total == 0 or bankroll.staked_today + total <= daily_cap
    for candidate, decision in zip(slate, decisions, strict=True):
        stake = decision.stake
        assert stake >= 0 and stake == stake.quantize(CENT)
        assert stake <= limits.max_stake_absolute
        assert stake <= Decimal(str(limits.max_stake_fraction)) * bankroll.balance
        assert stake <= Decimal(multiplier * decision.kelly) * bankroll.balance
        filtered = (
            float(candidate.price) < limits.min_odds
            or float(candidate.price) > limits.max_odds
            or candidate.probability < limits.min_probability - 1e-9
            or edge(candidate.probability, candidate.price) < limits.min_edge - 1e-9
            or expected_value(candidate.probability, candidate.price) < limits.min_ev - 1e-9
        )
        if filtered:
            assert stake == 0
        if stake == 0:
            assert decision.reasons, "a rejection always says why"


@FUZZ
@given(
    st.lists(st.tuples(st.floats(0.3, 0.9), amounts(1, 4).filter(lambda price: price > 1)), min_size=1, max_size=10),
    amounts(0, 100_000),
    amounts(0, 5_000, places=3),
    st.sampled_from([0.2, 0.1, 0.05]) | st.floats(0, 1),
)
def test_a_slate_of_strong_bets_fills_the_daily_cap_and_never_passes_it(bets, balance, staked_today, daily):
    """No per-bet cap binds here, so only the exposure scaling and its rounding stand between it and the cap."""
    limits = RiskLimits(
        kelly_fraction=1.0,
        min_edge=-1,
        min_ev=-1,
        min_probability=0,
        max_stake_absolute=Decimal(10**9),
        max_stake_fraction=1.0,
        daily_exposure_fraction=daily,
    )
    slate = [Candidate(i, p, price) for i, (p, price) in enumerate(bets)]
    bankroll = BankrollState(balance=balance, peak=balance, staked_today=staked_today)
    total = sum((d.stake for d in size_slate(slate, bankroll, limits)), Decimal(0))
    cap = Decimal(str(daily)) * balance
    assert total == 0 or staked_today + total <= cap
    assert staked_today + total > cap - Decimal("0.01") * (len(slate) + 1) or total == sum(
        (Decimal(kelly_fraction(c.probability, c.price)) * balance).quantize(CENT, rounding=ROUND_DOWN) for c in slate
    )


@settings(FUZZ, max_examples=30)
@given(
    candidates.filter(bool),
    bankrolls,
    limits_strategy,
    st.sampled_from(["kill switch", "drawdown", "streak"]),
    st.floats(0, 1),
    st.integers(0, 3),
)
def test_any_global_stop_rejects_everything(slate, bankroll, limits, stop, beyond, extra_losses):
    if stop == "kill switch":
        limits = replace(limits, kill_switch=True)
        expected = "kill switch on"
    elif stop == "drawdown":
        peak = max(bankroll.balance, Decimal(100))
        lost = limits.max_drawdown_fraction + beyond * (1 - limits.max_drawdown_fraction)
        balance = (peak * (1 - Decimal(str(lost)))).quantize(CENT, rounding=ROUND_DOWN)
        bankroll = replace(bankroll, balance=balance, peak=peak)
        expected = "from the peak: at or over the"
    else:
        losses = ["loss", "push"] * (limits.consecutive_loss_limit + extra_losses)
        bankroll = replace(bankroll, recent_results=["win", *losses][-limits.max_recent_losses_check :])
        expected = "losses in a row"
    decisions = size_slate(slate, bankroll, limits)
    assert all(d.stake == 0 for d in decisions)
    assert all(any(expected in reason for reason in d.reasons) for d in decisions)
