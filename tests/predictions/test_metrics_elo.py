from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from betting.predictions import elo, metrics


def test_scores_of_a_known_forecast():
    prob = [0.8, 0.3, 0.6, 0.5]
    outcome = [1, 0, 0, 1]
    scores = metrics.score(prob, outcome)
    expected_ll = -(math.log(0.8) + math.log(0.7) + math.log(0.4) + math.log(0.5)) / 4
    assert scores.log_loss == pytest.approx(expected_ll)
    assert scores.brier == pytest.approx((0.04 + 0.09 + 0.36 + 0.25) / 4)
    assert scores.accuracy == pytest.approx(0.5)  # 0.8 right, 0.3 right, 0.6 wrong, 0.5 counts as wrong


def test_a_perfectly_calibrated_forecast_has_small_ece():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, 20000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    assert metrics.expected_calibration_error(p, y) < 0.02
    assert metrics.expected_calibration_error(np.clip(p + 0.2, 0, 1), y) > 0.1


@given(st.lists(st.floats(0.01, 0.99), min_size=1, max_size=50), st.data())
def test_scores_stay_in_their_ranges(probs, data):
    outcomes = data.draw(st.lists(st.sampled_from([0, 1]), min_size=len(probs), max_size=len(probs)))
    scores = metrics.score(probs, outcomes)
    assert scores.log_loss >= 0 and 0 <= scores.brier <= 1 and 0 <= scores.accuracy <= 1 and 0 <= scores.ece <= 1
    assert sum(b.n for b in metrics.reliability(probs, outcomes)) == len(probs)


@given(st.floats(1.01, 50), st.floats(1.01, 50))
def test_devig_sums_to_one_and_keeps_the_order(a, b):
    pa = float(metrics.devig_two_way([a], [b])[0])
    pb = float(metrics.devig_two_way([b], [a])[0])
    assert pa + pb == pytest.approx(1.0)
    assert (pa >= 0.5) == (a <= b)


def test_elo_moves_ratings_by_the_538_rule():
    result = elo.run(
        home=[1, 1],
        away=[2, 2],
        season=[2017, 2017],
        neutral=[False, False],
        home_score=[110, np.nan],
        away_score=[100, np.nan],
        params=elo.EloParams(),
    )
    p0 = 1 / (1 + 10 ** (-100 / 400))
    assert result.home_prob[0] == pytest.approx(p0)
    multiplier = (10 + 3) ** 0.8 / (7.5 + 0.006 * 100)
    shift = 20 * multiplier * (1 - p0)
    assert result.home_pre[1] == pytest.approx(1500 + shift)
    assert result.away_pre[1] == pytest.approx(1500 - shift)


def test_elo_neutral_site_has_no_home_advantage_and_seasons_regress():
    params = elo.EloParams()
    result = elo.run(
        home=[1, 1, 1],
        away=[2, 2, 2],
        season=[2016, 2016, 2017],
        neutral=[True, False, False],
        home_score=[120, 120, np.nan],
        away_score=[90, 90, np.nan],
        params=params,
    )
    assert result.home_prob[0] == pytest.approx(0.5)
    # Replay game 2 by hand: the home team's rating after it, then the summer's regression.
    rh, ra = result.home_pre[1], result.away_pre[1]
    expected = elo.expected_home(rh, ra, params.home_advantage)
    multiplier = (30 + 3) ** 0.8 / (7.5 + 0.006 * (rh + params.home_advantage - ra))
    after = rh + params.k * multiplier * (1 - expected)
    assert result.home_pre[2] == pytest.approx(1505 + 0.75 * (after - 1505))
    assert result.home_pre[2] + result.away_pre[2] == pytest.approx(2 * 1505 + 0.75 * (2 * 1500 - 2 * 1505))
