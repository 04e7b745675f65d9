"""A backtest under the default drawdown settings: the largest fall from the all-time peak stays within
MAX_DRAWDOWN_FRACTION plus one day's DAILY_EXPOSURE_FRACTION, because the stop holds once tripped."""

from __future__ import annotations

import datetime as dt

import pytest

from betting.bets import backtest as engine
from tests import factories

MODEL_ONLY = {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0}


@pytest.mark.django_db
def test_a_default_drawdown_stop_bounds_the_fall_from_the_all_time_peak(reference, model_dir, settings):
    # Default drawdown, warning, re-arm and daily exposure settings. Sizing is made aggressive (full Kelly,
    # up to a fifth of the bankroll a bet, every edge taken) so that the stop is reached in the window.
    nba = factories.nba_season_2014_15(
        settings,
        kelly_fraction=1.0,
        max_stake_fraction=0.2,
        max_stake_absolute="100000",
        max_game_exposure_fraction=0.2,
        max_team_exposure_fraction=0.2,
        consecutive_loss_limit=10,
        consecutive_loss_warn=10,
    )
    strategy = engine.strategy_from({"blend_weights": MODEL_ONLY})
    limits = strategy.limits
    assert (limits.max_drawdown_fraction, limits.daily_exposure_fraction, limits.drawdown_rearm) == (
        0.2,
        0.2,
        "recover",
    )
    report = engine.run(
        league=nba,
        market="h2h",
        start=dt.date(2014, 12, 1),
        end=dt.date(2015, 2, 28),
        strategy=strategy,
    )
    assert report.n_bets > 0
    assert report.max_drawdown <= limits.max_drawdown_fraction + limits.daily_exposure_fraction
    # The stop was reached, and from then on nothing was staked: no re-arming while the loss stands
    # (DRAWDOWN_REARM=rolling re-arms once the peak is older than PEAK_BANKROLL_DAYS, and bets again).
    values = [point["bankroll"] for point in report.curve]
    tripped = next(i for i, v in enumerate(values) if v <= max(values[: i + 1]) * (1 - limits.max_drawdown_fraction))
    assert len(values) - tripped > limits.peak_bankroll_days
    assert len(set(values[tripped:])) == 1
