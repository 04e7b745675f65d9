"""FiveThirtyEight-style Elo: a feature for the models and a baseline forecast beside them.

Pure: arrays in, arrays out, no Django. Games must come in the order they were played.
- Expected score: ``1 / (1 + 10 ** (-(home - away + hfa) / 400))``; no home advantage at a neutral site.
- Update: ``K * multiplier * (result - expected)``, where the margin-of-victory multiplier is
  ``(|margin| + 3) ** 0.8 / (7.5 + 0.006 * winner's edge)`` (538's NBA form; it damps the
  autocorrelation of favourites winning big).
- Between seasons a rating keeps ``carry_over`` of its distance from ``mean``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EloParams:
    k: float = 20.0
    home_advantage: float = 100.0
    margin_multiplier: bool = True
    carry_over: float = 0.75
    mean: float = 1505.0
    initial: float = 1500.0


LEAGUE_PARAMS = {
    "NBA": EloParams(),
    # 538's MLB model: small K (baseball is noisy), 24 points of home advantage, a third regressed.
    "MLB": EloParams(k=4.0, home_advantage=24.0, margin_multiplier=False, carry_over=2 / 3),
}


def params_for(league_code: str) -> EloParams:
    return LEAGUE_PARAMS.get(league_code.upper(), EloParams())


@dataclass
class EloResult:
    home_pre: FloatArray
    away_pre: FloatArray
    home_prob: FloatArray  # Elo's probability that the home team wins

    @property
    def diff(self) -> FloatArray:
        """Home rating minus away rating, before the game, without home advantage."""
        return self.home_pre - self.away_pre


def expected_home(home: float, away: float, home_advantage: float) -> float:
    return float(1.0 / (1.0 + 10.0 ** (-(home - away + home_advantage) / 400.0)))


def run(
    *,
    home: npt.ArrayLike,
    away: npt.ArrayLike,
    season: npt.ArrayLike,
    neutral: npt.ArrayLike,
    home_score: npt.ArrayLike,
    away_score: npt.ArrayLike,
    params: EloParams,
) -> EloResult:
    """Ratings before each game and Elo's forecast. Games without a score (NaN) are forecast
    but do not move the ratings."""
    home_ids = np.asarray(home)
    away_ids = np.asarray(away)
    seasons = np.asarray(season)
    neutral_sites = np.asarray(neutral, dtype=bool)
    home_points = np.asarray(home_score, dtype=float)
    away_points = np.asarray(away_score, dtype=float)
    n = len(home_ids)
    home_pre = np.empty(n)
    away_pre = np.empty(n)
    prob = np.empty(n)
    ratings: dict[object, float] = {}
    rated_season: dict[object, object] = {}

    def rating(team: object, season_now: object) -> float:
        value = ratings.get(team, params.initial)
        if team in rated_season and rated_season[team] != season_now:
            value = params.mean + params.carry_over * (value - params.mean)
        rated_season[team] = season_now
        ratings[team] = value
        return value

    for i in range(n):
        h, a, s = home_ids[i], away_ids[i], seasons[i]
        rh, ra = rating(h, s), rating(a, s)
        hfa = 0.0 if neutral_sites[i] else params.home_advantage
        expected = expected_home(rh, ra, hfa)
        home_pre[i], away_pre[i], prob[i] = rh, ra, expected
        hs, as_ = home_points[i], away_points[i]
        if np.isnan(hs) or np.isnan(as_):
            continue
        margin = hs - as_
        result = 1.0 if margin > 0 else 0.0 if margin < 0 else 0.5
        multiplier = 1.0
        if params.margin_multiplier and margin != 0:
            winner_edge = (rh + hfa - ra) if margin > 0 else (ra - rh - hfa)
            multiplier = (abs(margin) + 3.0) ** 0.8 / (7.5 + 0.006 * winner_edge)
        shift = params.k * multiplier * (result - expected)
        ratings[h] = rh + shift
        ratings[a] = ra - shift
    return EloResult(home_pre=home_pre, away_pre=away_pre, home_prob=prob)
