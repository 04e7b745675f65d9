"""Features are as of game time: nothing later can change them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from betting.games.models import League
from betting.predictions import features, selectors


@pytest.fixture
def inputs(seasons):
    return selectors.feature_inputs(League.objects.get(code="NBA"))


def test_one_row_per_game_with_every_feature(inputs):
    frame = features.build(inputs, "NBA")
    assert len(frame) == len(inputs.games) > 2600
    assert list(frame.columns[: len(features.FEATURES)]) == features.FEATURES
    # Opening lines from the archive are there for nearly every game; injuries are unknown (NaN), not zero.
    assert frame["open_spread_home"].notna().mean() > 0.99
    assert frame["home_out"].isna().all()
    # A team's first game has no previous game: no rest, no form.
    assert frame["home_rest"].isna().sum() <= 30


def test_feature_inputs_take_four_queries_whatever_the_number_of_games(seasons, django_assert_num_queries):
    nba = League.objects.get(code="NBA")
    # games, opening spreads and totals, opening moneylines, injuries
    with django_assert_num_queries(4):
        selectors.feature_inputs(nba)


def test_features_do_not_change_when_every_later_game_is_deleted_or_altered(inputs):
    full = features.build(inputs, "NBA")
    cut = inputs.games["start_time"].sort_values().iloc[len(inputs.games) // 2]
    earlier = full[full["start_time"] < cut][features.FEATURES]

    games = inputs.games[inputs.games["start_time"] < cut]
    deleted = features.Inputs(games, inputs.opening[inputs.opening["game_id"].isin(games["id"])], inputs.injuries)
    pd.testing.assert_frame_equal(features.build(deleted, "NBA").loc[earlier.index, features.FEATURES], earlier)

    altered_games = inputs.games.copy()
    later = altered_games["start_time"] >= cut
    rng = np.random.default_rng(3)
    altered_games.loc[later, "home_score"] = rng.integers(60, 150, later.sum())
    altered_games.loc[later, "away_score"] = rng.integers(60, 150, later.sum())
    opening = inputs.opening.copy()
    opening.loc[opening["game_id"].isin(altered_games.loc[later, "id"]), "point"] = 99.0
    altered = features.Inputs(altered_games, opening, inputs.injuries)
    pd.testing.assert_frame_equal(features.build(altered, "NBA").loc[earlier.index, features.FEATURES], earlier)


def test_a_game_own_score_is_not_among_its_features(inputs):
    full = features.build(inputs, "NBA")
    game_id = full.index[len(full) // 2]
    changed = inputs.games.copy()
    changed.loc[changed["id"] == game_id, ["home_score", "away_score"]] = [200, 10]
    again = features.build(features.Inputs(changed, inputs.opening, inputs.injuries), "NBA")
    pd.testing.assert_series_equal(again.loc[game_id, features.FEATURES], full.loc[game_id, features.FEATURES])
    assert again.loc[game_id, "margin"] == 190


def test_rest_back_to_back_and_road_trips_from_real_dates(inputs):
    frame = features.build(inputs, "NBA")
    assert set(frame["home_b2b"].unique()) == {0.0, 1.0}
    b2b = frame[frame["away_b2b"] == 1]
    assert (b2b["away_rest"] == 1).all()
    assert frame["away_road_streak"].max() >= 5  # the NBA has long road trips
