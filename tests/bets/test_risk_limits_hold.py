"""Limits that hold: drawdown on equity (open bets are not losses), a drawdown stop that does not re-arm
as its peak rolls out of the window, and one position per game and direction under game and team caps."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from betting.bets.staking import (
    BankrollState,
    Candidate,
    Position,
    RiskLimits,
    bankroll_stops,
    bankroll_warnings,
    drawdown_stop_held,
    drawdown_stop_on,
    size_slate,
)

DAY0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def losing_replay(limits: RiskLimits, days: int = 150) -> tuple[list[Decimal], list[int]]:
    """A backtest-like sequence where every bet loses: each day the slate is sized from the bankroll at
    the start of the day (window peak, all-time peak, the stop carried over as the backtester does), then
    settled. Returns the equity after each day and the days that staked something."""
    balance = Decimal("10000.00")
    history = [(DAY0, balance)]
    held = False
    curve, betting_days = [balance], []
    for day in range(days):
        now = DAY0 + dt.timedelta(days=day)
        since = now - dt.timedelta(days=limits.peak_bankroll_days)
        state = BankrollState(
            balance=balance,
            peak=max([balance, *(v for at, v in history if at >= since)]),
            all_time_peak=max(v for _, v in history),
            stop_held=held,
        )
        held = drawdown_stop_on(state, limits)
        slate = [Candidate(key=i, probability=0.6, price=2.0) for i in range(8)]
        staked = sum((d.stake for d in size_slate(slate, state, limits)), Decimal(0))
        if staked:
            betting_days.append(day)
        balance -= staked  # every bet loses
        history.append((now + dt.timedelta(days=1), balance))
        curve.append(balance)
    return curve, betting_days


def all_time_drawdown(curve: list[Decimal]) -> Decimal:
    peak, worst = Decimal(0), Decimal(0)
    for value in curve:
        peak = max(peak, value)
        worst = max(worst, (peak - value) / peak)
    return worst


def test_the_drawdown_stop_does_not_rearm_when_its_peak_rolls_out_of_the_window():
    limits = RiskLimits()
    curve, betting_days = losing_replay(limits)
    stopped_on = betting_days[-1] + 1
    # Once stopped, it stays stopped well past PEAK_BANKROLL_DAYS: nothing has recovered.
    assert stopped_on < limits.peak_bankroll_days
    assert len(curve) - stopped_on > 3 * limits.peak_bankroll_days
    bound = Decimal(str(limits.max_drawdown_fraction + limits.daily_exposure_fraction))
    assert all_time_drawdown(curve) <= bound


def test_the_rolling_rearm_setting_keeps_the_old_behaviour_and_breaks_the_bound():
    limits = RiskLimits(drawdown_rearm="rolling")
    curve, betting_days = losing_replay(limits)
    assert any(day > limits.peak_bankroll_days for day in betting_days)  # re-armed with nothing recovered
    assert all_time_drawdown(curve) > Decimal(str(limits.max_drawdown_fraction + limits.daily_exposure_fraction))


def test_a_held_stop_lifts_once_equity_is_back_within_the_warning_of_the_all_time_peak():
    limits = RiskLimits()  # stop 20%, warning 15%
    held = BankrollState(balance=Decimal("8400"), peak=Decimal("8400"), all_time_peak=Decimal("10000"), stop_held=True)
    assert bankroll_stops(held, limits) == [
        "drawdown stop holds: equity is 16% under its all-time peak; betting resumes within 15% of it"
    ]
    assert bankroll_stops(replace(held, balance=Decimal("8500")), limits) == []
    assert bankroll_stops(replace(held, stop_held=False), limits) == []


def test_the_stop_held_through_an_equity_history_needs_a_recovery_to_lift():
    limits = RiskLimits()
    fall = [(DAY0, Decimal(10000)), (DAY0 + dt.timedelta(days=1), Decimal(7900))]
    flat = [(DAY0 + dt.timedelta(days=d), Decimal(7900)) for d in range(2, 90)]
    assert drawdown_stop_held(fall + flat, limits)
    recovered = [(DAY0 + dt.timedelta(days=91), Decimal(8600))]
    assert not drawdown_stop_held(fall + flat + recovered, limits)
    assert not drawdown_stop_held(fall + flat, replace(limits, drawdown_rearm="rolling"))


def test_open_stakes_are_not_a_drawdown():
    # 2,500 staked on open bets: the cash is 7,500 but nothing is lost.
    state = BankrollState(balance=Decimal("7500"), peak=Decimal("10000"), open_stakes=Decimal("2500"))
    assert state.equity == Decimal("10000")
    assert state.drawdown == 0
    assert bankroll_stops(state, RiskLimits()) == []
    assert bankroll_warnings(state, RiskLimits()) == []


def test_stakes_are_sized_on_equity_not_on_the_cash_left():
    limits = RiskLimits()
    state = BankrollState(balance=Decimal("8000"), peak=Decimal("10000"), open_stakes=Decimal("2000"))
    [decision] = size_slate([Candidate("a", 0.9, 2.0)], state, limits)
    assert decision.stake == Decimal("500.00")  # MAX_STAKE_FRACTION 5% of 10,000 (and MAX_STAKE_ABSOLUTE)


# --- Exposure ---------------------------------------------------------------------------------------


def side(key: str, game: int, direction: str, probability: float, teams: tuple[int, int] = (1, 2)) -> Candidate:
    return Candidate(key, probability, 2.0, position=Position(game=game, direction=direction, teams=teams))


def holding(stake: str, game: int, direction: str, teams: tuple[int, int]) -> BankrollState:
    """10,000 of equity, ``stake`` of it open on one position (cash 10,000 - stake)."""
    open_stake = Decimal(stake)
    return BankrollState(
        balance=Decimal("10000") - open_stake,
        peak=Decimal("10000"),
        open_stakes=open_stake,
        open_positions=[(Position(game=game, direction=direction, teams=teams), open_stake)],
    )


def test_moneyline_and_spread_on_the_same_team_are_one_position():
    fresh = BankrollState(balance=Decimal("10000"), peak=Decimal("10000"))
    limits = RiskLimits(max_stake_fraction=0.02)
    decisions = size_slate(
        [side("h2h home", 7, "home", 0.56), side("spread home", 7, "home", 0.58), side("over", 7, "over", 0.55)],
        fresh,
        limits,
    )
    stakes = {d.key: d.stake for d in decisions}
    assert stakes["h2h home"] == 0 and stakes["spread home"] > 0  # the larger edge is kept
    assert stakes["over"] > 0  # the total is its own direction
    assert "one position per game and direction: spread home has the larger edge (8.0%)" in decisions[0].reasons


def test_betting_against_a_side_already_held_on_the_game_is_refused():
    fresh = BankrollState(balance=Decimal("10000"), peak=Decimal("10000"))
    decisions = size_slate([side("home", 7, "home", 0.56), side("away", 7, "away", 0.56)], fresh, RiskLimits())
    assert sum(1 for d in decisions if d.accepted) == 1


def test_a_position_already_open_on_the_game_and_direction_refuses_a_new_one():
    state = holding("200", 7, "home", (1, 2))
    decisions = size_slate(
        [side("spread home", 7, "home", 0.6), side("other game", 8, "home", 0.6, (3, 4))], state, RiskLimits()
    )
    assert not decisions[0].accepted
    assert decisions[0].reasons == ["one position per game and direction: one is already open"]
    assert decisions[1].accepted


def test_game_and_team_caps_count_open_stakes_and_scale_the_slate():
    limits = RiskLimits(max_game_exposure_fraction=0.03, max_team_exposure_fraction=0.035)
    state = holding("100", 5, "over", (1, 9))  # yesterday's open total on team 1's other game
    decisions = size_slate(
        [side("side", 7, "home", 0.6), side("total", 7, "over", 0.6), side("team 3", 8, "home", 0.6, (3, 4))],
        state,
        limits,
    )
    side_stake, total_stake, other = (d.stake for d in decisions)
    assert side_stake + total_stake <= Decimal("300.00")  # 3% of 10,000 equity on game 7
    assert side_stake + total_stake + Decimal(100) == Decimal("350.00")  # team 1: 3.5%, the open 100 included
    assert other == Decimal("300.00")  # game cap only
    assert any("MAX_GAME_EXPOSURE_FRACTION" in r for r in decisions[0].reasons)
    assert any("MAX_TEAM_EXPOSURE_FRACTION" in r for r in decisions[0].reasons)


@pytest.mark.parametrize("bad", [{"drawdown_rearm": "never"}, {"max_game_exposure_fraction": 1.5}])
def test_malformed_exposure_and_rearm_limits_are_refused(bad):
    with pytest.raises(ValueError):
        RiskLimits(**bad)
