"""MLB starting-pitcher features from the real SBR archives: as of the game, nothing later changes them."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd
import pytest

from betting.games.models import Game, League, Team
from betting.games.providers import sbr
from betting.games.providers.tables import read_table
from betting.predictions import features, selectors
from tests.conftest import MLB_SBR

NO_OPENING = pd.DataFrame(columns=["game_id", "market", "point"])
NO_INJURIES = pd.DataFrame(columns=["team_id", "player_name", "status", "reported_at"])


@cache
def archive_games() -> pd.DataFrame:
    """The 2017 and 2018 archives as the selector would give them (team ids from the SBR codes)."""
    teams: dict[str, int] = {}
    rows: list[dict[str, object]] = []
    for season in (2017, 2018):
        for record in sbr.parse_mlb(read_table(MLB_SBR / f"sbr_mlb_odds_{season}.csv"), season=season).games:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "start_time": pd.Timestamp(record.game_date, tz="UTC")
                    + pd.Timedelta(hours=17 + record.game_number),
                    "game_date": record.game_date,
                    "season": record.season,
                    "season_type": "regular",
                    "home_team_id": teams.setdefault(record.home, len(teams) + 1),
                    "away_team_id": teams.setdefault(record.away, len(teams) + 1),
                    "neutral_site": False,
                    "home_score": float(record.home_score or 0),
                    "away_score": float(record.away_score or 0),
                    "home_pitcher": record.home_pitcher,
                    "away_pitcher": record.away_pitcher,
                }
            )
    return pd.DataFrame(rows)


def build(games: pd.DataFrame) -> pd.DataFrame:
    return features.build(features.Inputs(games, NO_OPENING, NO_INJURIES), "MLB")


def test_pitcher_features_are_the_last_features_and_known_for_nearly_every_game():
    frame = build(archive_games())
    assert features.FEATURES[-len(features.PITCHER_FEATURES) :] == features.PITCHER_FEATURES
    assert frame["sp_quality_diff"].notna().mean() > 0.98  # a few archive rows leave the starter blank
    assert frame["home_sp_rest"].median() in (5, 6)  # a five-man rotation, with off days
    assert frame["home_sp_rest"].max() == features.SP_REST_CAP_DAYS


def test_second_start_of_a_season_reads_rest_and_runs_allowed_in_the_first_shrunk_to_the_league():
    games = archive_games()
    frame = build(games)
    # Bumgarner: 2017-04-02 at ARI (SFO allowed 6), then 2017-04-08 at SD.
    bumgarner = games[games["away_pitcher"] == "MBUMGARNER-L"].iloc[:2]
    first, second = bumgarner["id"].tolist()
    assert np.isnan(frame.loc[first, "away_sp_rest"])  # no earlier start in the data
    assert frame.loc[second, "away_sp_rest"] == 6
    earlier = games[games["id"] < second]
    league = (earlier["home_score"].sum() + earlier["away_score"].sum()) / (2 * len(earlier))
    quality = (6 + features.SP_PRIOR_STARTS * league) / (1 + features.SP_PRIOR_STARTS)
    home = games.loc[games["id"] == second, "home_pitcher"].item()
    home_starts = games[((games["home_pitcher"] == home) | (games["away_pitcher"] == home)) & (games["id"] < second)]
    assert len(home_starts) == 1  # Chacin's first start, at LAD: SD allowed LAD's score
    assert home_starts["away_pitcher"].item() == home
    home_allowed = home_starts["home_score"].item()
    home_quality = (home_allowed + features.SP_PRIOR_STARTS * league) / (1 + features.SP_PRIOR_STARTS)
    assert frame.loc[second, "sp_quality_diff"] == pytest.approx(quality - home_quality)


def test_a_game_without_a_known_starter_has_no_pitcher_difference():
    games = archive_games()
    frame = build(games)
    blank = games[(games["home_pitcher"] == "") & (games["away_pitcher"] != "")]["id"]
    assert len(blank) > 0
    assert frame.loc[blank, ["home_sp_rest", "sp_quality_diff", "sp_adj_diff"]].isna().all().all()
    assert frame.loc[blank, "away_sp_rest"].notna().any()


def test_nba_rows_without_pitcher_columns_get_nan():
    games = archive_games().drop(columns=["home_pitcher", "away_pitcher"])
    frame = build(games)
    assert frame[features.PITCHER_FEATURES].isna().all().all()


def test_a_better_starter_than_his_team_usually_fields_moves_elo_points_toward_his_side():
    frame = build(archive_games())
    late = frame[frame["season"] == 2018]
    # The adjustment is the starter against his own team's usual game: it is not the raw quality gap.
    assert late["sp_adj_diff"].abs().median() > 5
    assert late["sp_adj_diff"].corr(late["sp_quality_diff"]) > 0.3


def test_pitcher_features_do_not_change_when_later_games_are_deleted_or_altered():
    games = archive_games()
    full = build(games)
    cut = games["start_time"].iloc[len(games) * 3 // 4]
    earlier = full[full["start_time"] < cut][features.PITCHER_FEATURES]

    deleted = games[games["start_time"] < cut]
    pd.testing.assert_frame_equal(build(deleted).loc[earlier.index, features.PITCHER_FEATURES], earlier)

    altered = games.copy()
    later = altered["start_time"] >= cut
    rng = np.random.default_rng(5)
    altered.loc[later, "home_score"] = rng.integers(0, 20, later.sum())
    altered.loc[later, "away_score"] = rng.integers(0, 20, later.sum())
    altered.loc[later, "home_pitcher"] = altered.loc[later, "away_pitcher"].to_numpy()[::-1]
    pd.testing.assert_frame_equal(build(altered).loc[earlier.index, features.PITCHER_FEATURES], earlier)


def test_a_start_own_result_is_not_among_its_features_but_counts_for_his_next():
    games = archive_games()
    full = build(games)
    row = games[games["home_pitcher"] == "JLESTER-L"].iloc[3]
    changed = games.copy()
    changed.loc[changed["id"] == row["id"], ["home_score", "away_score"]] = [0.0, 15.0]
    again = build(changed)
    pd.testing.assert_series_equal(
        again.loc[row["id"], features.PITCHER_FEATURES], full.loc[row["id"], features.PITCHER_FEATURES]
    )
    starts = games[(games["home_pitcher"] == "JLESTER-L") | (games["away_pitcher"] == "JLESTER-L")]
    following = starts[starts["id"] > row["id"]].iloc[0]
    side = "home" if following["home_pitcher"] == "JLESTER-L" else "away"
    sign = -1 if side == "home" else 1  # a worse home starter lowers the home-minus-away difference
    assert sign * (again.loc[following["id"], "sp_quality_diff"] - full.loc[following["id"], "sp_quality_diff"]) > 0


def test_an_unplayed_start_is_skipped_for_rest_and_quality():
    games = archive_games().copy()
    starts = games[(games["home_pitcher"] == "JLESTER-L") | (games["away_pitcher"] == "JLESTER-L")]
    middle, following = starts["id"].iloc[5], starts["id"].iloc[6]
    games.loc[games["id"] == middle, ["home_score", "away_score"]] = np.nan  # e.g. still scheduled
    frame = build(games)
    side = "home" if starts.iloc[6]["home_pitcher"] == "JLESTER-L" else "away"
    gap = (starts.iloc[6]["game_date"] - starts.iloc[4]["game_date"]).days
    assert frame.loc[following, f"{side}_sp_rest"] == min(gap, features.SP_REST_CAP_DAYS)


@pytest.mark.django_db
def test_feature_inputs_carry_the_starters(reference):
    mlb = League.objects.get(code="MLB")
    home, away = Team.objects.filter(league=mlb)[:2]
    Game.objects.create(
        league=mlb,
        season=2025,
        game_date=dt.date(2025, 9, 2),
        start_time=dt.datetime(2025, 9, 2, 22, 40, tzinfo=dt.UTC),
        home_team=home,
        away_team=away,
        home_pitcher="Carmen Mlodzinski",
        away_pitcher="Clayton Kershaw",
    )
    games = selectors.feature_inputs(mlb).games
    assert games[["home_pitcher", "away_pitcher"]].values.tolist() == [["Carmen Mlodzinski", "Clayton Kershaw"]]
