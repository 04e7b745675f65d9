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

from betting.games.providers.records import pitcher_key
from betting.predictions import elo

FEATURE_SET_VERSION = "2"
FORM_WINDOWS = (5, 10, 20)
REST_CAP_DAYS = 10.0
SEASON_GAMES = {"NBA": 82, "MLB": 162}
# Days of injury reports before a start that the features read; the pages that show a game's
# injuries show the same window (betting/bets/page_data.py, betting/predictions/page_data.py).
INJURY_DAYS = 3

PITCHER_FEATURES = ["home_sp_rest", "away_sp_rest", "sp_quality_diff", "sp_adj_diff"]
SP_REST_CAP_DAYS = 15.0
SP_WINDOW = 10  # starts in the rolling estimate of a starter's quality
SP_PRIOR_STARTS = 4.0  # weight of the league mean in it, counted in starts
TEAM_RA_WINDOW = 30  # team games in the team's rolling runs allowed
TEAM_PRIOR_GAMES = 10.0
SP_ELO_PER_RUN = 40.0  # Elo points per run a game (about 0.06 win probability a run)
LEAGUE_RUNS_DEFAULT = 4.5  # runs per team-game before any game is known

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
    "open_home_prob",
    *PITCHER_FEATURES,
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
    "home_pitcher",
    "away_pitcher",
]


@dataclass(frozen=True)
class Inputs:
    games: pd.DataFrame  # GAME_COLUMNS; scores NaN when not final
    opening: pd.DataFrame  # game_id, market, point: the earliest line per game (spreads: home point; h2h: P(home))
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
    frame["open_home_prob"] = _opening(frame.index, opening, "h2h")
    for name, values in starting_pitchers(games).items():
        frame[name] = values

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
    """Players out per team, as reported in the INJURY_DAYS (3) days before the start (latest report per
    player wins). NaN for games before the first report in the data: unknown, not zero."""
    n = len(games)
    home_out = np.full(n, np.nan)
    away_out = np.full(n, np.nan)
    if injuries.empty:
        return home_out, away_out
    first_report = injuries["reported_at"].min()
    reports = injuries.sort_values("reported_at")
    by_team = {team: rows for team, rows in reports.groupby("team_id")}
    window = pd.Timedelta(days=INJURY_DAYS)
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


def starting_pitchers(games: pd.DataFrame) -> dict[str, np.ndarray]:
    """MLB starting-pitcher features (``PITCHER_FEATURES``), from each starter's previous finished starts.

    ``games`` in game order with ``home_pitcher``/``away_pitcher`` (names as the sources write them, matched
    through ``pitcher_key``). For the starter of each side:

    - ``*_sp_rest``: days since his previous finished start, capped at SP_REST_CAP_DAYS.
    - quality ``q``: runs allowed by his team in his previous SP_WINDOW finished starts, shrunk toward the
      league mean ``lg`` (runs per team-game over every earlier finished game) with SP_PRIOR_STARTS starts
      of prior weight: ``q = (runs + SP_PRIOR_STARTS * lg) / (starts + SP_PRIOR_STARTS)``; a starter with no
      previous start gets ``lg``. ``sp_quality_diff = q_away - q_home``: positive favours home.
    - ``sp_adj_diff``: a runs-allowed version of FiveThirtyEight's pitcher adjustment (theirs:
      4.7 x (pitcher rolling game score - team rolling game score) Elo points). Here
      ``adj = SP_ELO_PER_RUN x (team_ra - q)``, where ``team_ra`` is the team's runs allowed a game over its
      previous TEAM_RA_WINDOW finished games shrunk toward ``lg`` with TEAM_PRIOR_GAMES: how many Elo
      points better this starter is than his team's usual game. ``sp_adj_diff = adj_home - adj_away``.

    NaN where a side's starter is unknown (blank; every NBA row) and rest NaN before his first known start.
    Leak-free: a start contributes only to later rows (in game order), and only once it is final."""
    n = len(games)
    nan = np.full(n, np.nan)
    if n == 0 or "home_pitcher" not in games or "away_pitcher" not in games:
        return {name: nan.copy() for name in PITCHER_FEATURES}
    home_key = games["home_pitcher"].fillna("").astype(str).map(pitcher_key).to_numpy()
    away_key = games["away_pitcher"].fillna("").astype(str).map(pitcher_key).to_numpy()
    if not (home_key != "").any() and not (away_key != "").any():
        return {name: nan.copy() for name in PITCHER_FEATURES}
    home_score = games["home_score"].to_numpy(dtype=float)
    away_score = games["away_score"].to_numpy(dtype=float)
    final = ~np.isnan(home_score) & ~np.isnan(away_score)
    league_mean = _league_runs_before(home_score, away_score, final)
    day = pd.to_datetime(games["game_date"]).to_numpy()
    long = pd.DataFrame(
        {
            "row": np.concatenate([np.arange(n), np.arange(n)]),
            "side": ["home"] * n + ["away"] * n,
            "pitcher": np.concatenate([home_key, away_key]),
            "team_id": np.concatenate([games["home_team_id"].to_numpy(), games["away_team_id"].to_numpy()]),
            "day": np.concatenate([day, day]),
            "allowed": np.concatenate([np.where(final, away_score, np.nan), np.where(final, home_score, np.nan)]),
        }
    ).sort_values(["row", "side"], kind="mergesort", ignore_index=True)
    lg = league_mean[long["row"].to_numpy()]
    team_sum, team_n = _finished_rolling_before(long, "team_id", TEAM_RA_WINDOW)
    team_ra = (team_sum + TEAM_PRIOR_GAMES * lg) / (team_n + TEAM_PRIOR_GAMES)

    starts = long[long["pitcher"] != ""]
    sp_sum, sp_n = _finished_rolling_before(starts, "pitcher", SP_WINDOW)
    quality = (sp_sum + SP_PRIOR_STARTS * lg[starts.index]) / (sp_n + SP_PRIOR_STARTS)
    finished_day = starts["day"].where(starts["allowed"].notna())
    previous = finished_day.groupby(starts["pitcher"]).shift(1).groupby(starts["pitcher"]).ffill()
    gap = pd.to_timedelta(starts["day"] - previous)
    rest = (gap.dt.total_seconds() / 86400.0).clip(upper=SP_REST_CAP_DAYS)

    out = {name: nan.copy() for name in PITCHER_FEATURES}
    q = {"home": nan.copy(), "away": nan.copy()}
    adj = {"home": nan.copy(), "away": nan.copy()}
    rows = starts["row"].to_numpy()
    for side in ("home", "away"):
        mask = (starts["side"] == side).to_numpy()
        out[f"{side}_sp_rest"][rows[mask]] = rest.to_numpy(dtype=float)[mask]
        q[side][rows[mask]] = quality[mask]
        adj[side][rows[mask]] = SP_ELO_PER_RUN * (team_ra[starts.index.to_numpy()[mask]] - quality[mask])
    out["sp_quality_diff"] = q["away"] - q["home"]
    out["sp_adj_diff"] = adj["home"] - adj["away"]
    return out


def _league_runs_before(home_score: np.ndarray, away_score: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Runs per team-game over the finished games before each one (in game order)."""
    runs = np.where(final, home_score + away_score, 0.0)
    team_games = np.where(final, 2.0, 0.0)
    runs_before = np.concatenate([[0.0], np.cumsum(runs)[:-1]])
    games_before = np.concatenate([[0.0], np.cumsum(team_games)[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = runs_before / games_before
    return np.where(games_before > 0, mean, LEAGUE_RUNS_DEFAULT)


def _finished_rolling_before(long: pd.DataFrame, key: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of ``allowed`` over the ``window`` latest finished rows of the same ``key`` before
    each row (rows in game order; unfinished rows are skipped, not counted)."""
    done = long[long["allowed"].notna()]
    group = done.groupby(done[key])["allowed"]
    through_sum = group.transform(lambda s: s.rolling(window, min_periods=1).sum())
    through_n = group.transform(lambda s: s.rolling(window, min_periods=1).count())
    carried = pd.DataFrame({"sum": through_sum, "n": through_n}).reindex(long.index)
    before = carried.groupby(long[key]).shift(1).groupby(long[key]).ffill()
    return before["sum"].fillna(0.0).to_numpy(dtype=float), before["n"].fillna(0.0).to_numpy(dtype=float)
