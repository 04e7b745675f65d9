"""As-of-game-time features, built vectorised over every game of a league.

Everything a game's row holds was known before it started: Elo ratings before the game,
form over the team's previous games only (shifted by one), rest since the previous game,
the market's opening line, injuries reported before the start. ``tests/predictions/
test_features.py`` proves it: deleting or altering every later game changes no earlier row.

Pure: a ``pandas.DataFrame`` of games (and of quotes and injuries) in, features out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from betting.predictions import elo

FEATURE_SET_VERSION = "1"
FORM_WINDOWS = (5, 10, 20)
REST_CAP_DAYS = 10.0
SEASON_GAMES = {"NBA": 82, "MLB": 162}

FEATURES = [
    "elo_diff",
    "elo_prob",
    *[f"form_margin_diff_{w}" for w in FORM_WINDOWS],
    *[f"form_win_diff_{w}" for w in FORM_WINDOWS],
    "home_rest",
    "away_rest",
    "home_b2b",
    "away_b2b",
    "away_road_streak",
    "neutral",
    "season_progress",
    "postseason",
    "home_out",
    "away_out",
    "open_spread_home",
    "open_total",
]

GAME_COLUMNS = [
    "id",
    "start_time",
    "game_date",
    "season",
    "season_type",
    "home_team_id",
    "away_team_id",
    "neutral_site",
    "home_score",
    "away_score",
]


@dataclass(frozen=True)
class Inputs:
    games: pd.DataFrame  # GAME_COLUMNS; scores NaN when not final
    opening: pd.DataFrame  # game_id, market, point: the earliest line per game (spreads: home point)
    injuries: pd.DataFrame  # team_id, player_name, status, reported_at


def build(inputs: Inputs, league_code: str) -> pd.DataFrame:
    """One row per game (index: game id, ordered by start), the FEATURES columns and targets."""
    games = inputs.games.sort_values(["start_time", "id"], kind="mergesort").reset_index(drop=True)
    frame = pd.DataFrame(index=games["id"].to_numpy())
    frame.index.name = "game_id"
    final = games["home_score"].notna() & games["away_score"].notna()

    ratings = elo.run(
        home=games["home_team_id"].to_numpy(),
        away=games["away_team_id"].to_numpy(),
        season=games["season"].to_numpy(),
        neutral=games["neutral_site"].to_numpy(),
        home_score=games["home_score"].to_numpy(dtype=float),
        away_score=games["away_score"].to_numpy(dtype=float),
        params=elo.params_for(league_code),
    )
    frame["elo_diff"] = ratings.diff
    frame["elo_prob"] = ratings.home_prob

    long = _team_games(games)
    for window in FORM_WINDOWS:
        margin = _rolling_before(long, "margin", window)
        win = _rolling_before(long, "win", window)
        frame[f"form_margin_diff_{window}"] = _home(long, margin) - _away(long, margin)
        frame[f"form_win_diff_{window}"] = _home(long, win) - _away(long, win)

    previous_day = long.groupby("team_id")["day"].shift(1)
    gap = pd.to_timedelta(long["day"] - previous_day)
    rest = (gap.dt.total_seconds() / 86400.0).clip(upper=REST_CAP_DAYS)
    frame["home_rest"] = _home(long, rest)
    frame["away_rest"] = _away(long, rest)
    frame["home_b2b"] = (frame["home_rest"] == 1).astype(float)
    frame["away_b2b"] = (frame["away_rest"] == 1).astype(float)
    frame["away_road_streak"] = _away(long, _road_streak(long))
    frame["neutral"] = games["neutral_site"].astype(float).to_numpy()

    played = long.groupby(["team_id", "season"]).cumcount()
    season_games = SEASON_GAMES.get(league_code.upper(), 82)
    progress = (_home(long, played) + _away(long, played)) / (2 * season_games)
    frame["season_progress"] = np.minimum(progress, 1.5)
    frame["postseason"] = (games["season_type"] == "post").astype(float).to_numpy()

    home_out, away_out = _injuries_out(games, inputs.injuries)
    frame["home_out"] = home_out
    frame["away_out"] = away_out

    opening = inputs.opening.set_index(["game_id", "market"])["point"] if len(inputs.opening) else None
    frame["open_spread_home"] = _opening(frame.index, opening, "spreads")
    frame["open_total"] = _opening(frame.index, opening, "totals")

    frame["final"] = final.to_numpy()
    margin_now = (games["home_score"] - games["away_score"]).to_numpy(dtype=float)
    frame["margin"] = margin_now
    frame["total_points"] = (games["home_score"] + games["away_score"]).to_numpy(dtype=float)
    frame["home_win"] = np.where(final, (margin_now > 0).astype(float), np.nan)
    frame["start_time"] = games["start_time"].to_numpy()
    frame["season"] = games["season"].to_numpy()
    targets = [c for c in frame.columns if c not in FEATURES]
    return frame[FEATURES + targets]


def _team_games(games: pd.DataFrame) -> pd.DataFrame:
    """Two rows per game, one per team, in game order: margin and win from that team's side."""
    margin = games["home_score"] - games["away_score"]
    common = {
        "row": games.index.to_numpy(),
        "season": games["season"].to_numpy(),
        "day": pd.to_datetime(games["game_date"]).to_numpy(),
    }
    home = pd.DataFrame(
        {**common, "team_id": games["home_team_id"].to_numpy(), "side": "home", "margin": margin.to_numpy(dtype=float)}
    )
    away = pd.DataFrame(
        {**common, "team_id": games["away_team_id"].to_numpy(), "side": "away", "margin": -margin.to_numpy(dtype=float)}
    )
    long = pd.concat([home, away], ignore_index=True).sort_values(["row", "side"], kind="mergesort")
    long["win"] = np.where(long["margin"].isna(), np.nan, (long["margin"] > 0).astype(float))
    return long.reset_index(drop=True)


def _rolling_before(long: pd.DataFrame, column: str, window: int) -> pd.Series:
    """Mean over the team's previous ``window`` finished games (the current game excluded)."""
    shifted = long.groupby("team_id")[column].shift(1)
    return shifted.groupby(long["team_id"]).transform(lambda s: s.rolling(window, min_periods=1).mean())


def _road_streak(long: pd.DataFrame) -> pd.Series:
    """Consecutive away games for the team, this one included."""
    away = (long["side"] == "away").astype(int)
    block = (away != away.groupby(long["team_id"]).shift(1)).groupby(long["team_id"]).cumsum()
    return away.groupby([long["team_id"], block]).cumsum().astype(float)


def _home(long: pd.DataFrame, values: pd.Series) -> np.ndarray:
    mask = (long["side"] == "home").to_numpy()
    return np.asarray(values.to_numpy(dtype=float)[mask])


def _away(long: pd.DataFrame, values: pd.Series) -> np.ndarray:
    mask = (long["side"] == "away").to_numpy()
    return np.asarray(values.to_numpy(dtype=float)[mask])


def _injuries_out(games: pd.DataFrame, injuries: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Players out per team, as reported in the three days before the start (latest report per
    player wins). NaN for games before the first report in the data: unknown, not zero."""
    n = len(games)
    home_out = np.full(n, np.nan)
    away_out = np.full(n, np.nan)
    if injuries.empty:
        return home_out, away_out
    first_report = injuries["reported_at"].min()
    reports = injuries.sort_values("reported_at")
    by_team = {team: rows for team, rows in reports.groupby("team_id")}
    window = pd.Timedelta(days=3)
    for i, (start, home, away) in enumerate(
        zip(games["start_time"], games["home_team_id"], games["away_team_id"], strict=True)
    ):
        if start < first_report:
            continue
        for team, target in ((home, home_out), (away, away_out)):
            rows = by_team.get(team)
            if rows is None:
                target[i] = 0.0
                continue
            seen = rows[(rows["reported_at"] < start) & (rows["reported_at"] >= start - window)]
            latest = seen.drop_duplicates("player_name", keep="last")
            target[i] = float((latest["status"] == "out").sum())
    return home_out, away_out


def _opening(index: pd.Index, opening: pd.Series | None, market: str) -> np.ndarray:
    if opening is None:
        return np.full(len(index), np.nan)
    try:
        values = opening.xs(market, level="market")
    except KeyError:
        return np.full(len(index), np.nan)
    return values.reindex(index).to_numpy(dtype=float)
