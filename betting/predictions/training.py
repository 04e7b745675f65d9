"""Fitting, continuing and scoring XGBoost models per market. Pure: frames in, boosters out.

- ``h2h``: a classifier of the home win.
- ``spreads``: a regressor of the home margin; P(home covers a home line ``s``) is
  ``Phi((mu + s) / sigma)``, sigma the residual spread on the training games.
- ``totals``: a regressor of the total points; P(over ``L``) is ``Phi((mu - L) / sigma)``.
Validation is always time-ordered: the games scored come after the games trained on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb
from scipy.stats import norm

from betting.predictions import metrics
from betting.predictions.features import FEATURES

Array = npt.NDArray[np.float64]

BASE_PARAMS: dict[str, Any] = {
    "max_depth": 2,
    "eta": 0.03,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 50,
    # One thread: a worker or test process beside another would oversubscribe the cores (OpenMP
    # spin-waits made a 0.3 s fit take 50 s); these trees are small enough that one is plenty.
    "nthread": 1,
    "seed": 17,
}
FULL_ROUNDS = 500
# A warm start sees a night's games (often fewer than ten): stumps, small steps, no minimum
# leaf weight, or no tree could split at all.
WARM_PARAMS: dict[str, Any] = {"max_depth": 1, "eta": 0.005, "min_child_weight": 1}
WARM_ROUNDS = 10
# 538's NBA rule of thumb: 28 Elo points are worth one point of margin.
ELO_POINTS_PER_MARGIN = {"NBA": 28.0, "MLB": 100.0}


@dataclass(frozen=True)
class MarketSpec:
    market: str
    objective: str
    target: str  # column of the frame the booster learns
    outcome_sides: tuple[str, str]  # the side the probability is for, and its complement


MARKETS = {
    "h2h": MarketSpec("h2h", "binary:logistic", "home_win", ("home", "away")),
    "spreads": MarketSpec("spreads", "reg:squarederror", "margin", ("home", "away")),
    "totals": MarketSpec("totals", "reg:squarederror", "total_points", ("over", "under")),
}


def feature_hash(features: list[str]) -> str:
    return hashlib.sha256(json.dumps(features).encode()).hexdigest()[:16]


@dataclass
class Fitted:
    booster: xgb.Booster
    market: str
    sigma: float | None  # residual sd of margin/total models
    n_train: int
    params: dict[str, Any] = field(default_factory=dict)

    def raw(self, frame: pd.DataFrame) -> Array:
        return np.asarray(self.booster.predict(xgb.DMatrix(frame[FEATURES])), dtype=float)

    def probability(self, frame: pd.DataFrame, line: Array | None = None) -> Array:
        """P(home win), P(home covers ``line``) or P(over ``line``), one per row of ``frame``."""
        raw = self.raw(frame)
        if self.market == "h2h":
            return raw
        if line is None or self.sigma is None:
            raise ValueError(f"{self.market} probabilities need a line and a fitted sigma")
        if self.market == "spreads":
            return np.asarray(norm.cdf((raw + line) / self.sigma), dtype=float)
        return np.asarray(norm.cdf((raw - line) / self.sigma), dtype=float)

    def contributions(self, frame: pd.DataFrame) -> Array:
        """Per-feature contributions (XGBoost ``pred_contribs``); the last column is the bias."""
        return np.asarray(self.booster.predict(xgb.DMatrix(frame[FEATURES]), pred_contribs=True), dtype=float)


def _matrix(frame: pd.DataFrame, spec: MarketSpec) -> xgb.DMatrix:
    return xgb.DMatrix(frame[FEATURES], label=frame[spec.target].to_numpy(dtype=float), feature_names=FEATURES)


def fit(frame: pd.DataFrame, market: str, *, rounds: int = FULL_ROUNDS) -> Fitted:
    """A booster trained from scratch on the finished games of ``frame``."""
    spec = MARKETS[market]
    rows = frame[frame["final"]]
    if len(rows) < 50:
        raise ValueError(f"only {len(rows)} finished games to train on; at least 50 are needed")
    params = {**BASE_PARAMS, "objective": spec.objective}
    booster = xgb.train(params, _matrix(rows, spec), num_boost_round=rounds)
    fitted = Fitted(booster, market, None, len(rows), {**params, "rounds": rounds})
    fitted.sigma = _sigma(fitted, rows, spec)
    fitted.params["sigma"] = fitted.sigma
    return fitted


def continue_fit(base: Fitted, frame: pd.DataFrame, *, rounds: int = WARM_ROUNDS) -> Fitted:
    """Warm start: a few more gently-weighted trees grown on the new finished games only."""
    spec = MARKETS[base.market]
    rows = frame[frame["final"]]
    if rows.empty:
        raise ValueError("no new finished games to continue training on")
    params = {**BASE_PARAMS, **WARM_PARAMS, "objective": spec.objective}
    booster = xgb.train(params, _matrix(rows, spec), num_boost_round=rounds, xgb_model=base.booster.copy())
    return Fitted(
        booster, base.market, base.sigma, len(rows), {**base.params, "warm": {**WARM_PARAMS, "rounds": rounds}}
    )


def _sigma(fitted: Fitted, rows: pd.DataFrame, spec: MarketSpec) -> float | None:
    if spec.objective != "reg:squarederror":
        return None
    residual = rows[spec.target].to_numpy(dtype=float) - fitted.raw(rows)
    return float(np.std(residual))


def load(path: str, market: str, sigma: float | None, params: dict[str, Any]) -> Fitted:
    booster = xgb.Booster()
    booster.load_model(path)
    return Fitted(booster, market, sigma, 0, params)


@dataclass
class Outcomes:
    """What happened in the scored games, from the side the probabilities are for."""

    frame: pd.DataFrame  # the rows scored
    line: Array | None
    outcome: Array
    market_prob: Array


def outcomes(frame: pd.DataFrame, market: str) -> Outcomes:
    """The finished games a market can be scored on, with the market's closing line and view.

    Spreads and totals are scored against the closing line; pushes are left out. Where the books
    recorded no prices for the line (the archives), the de-vigged market view of it is 50%."""
    rows = frame[frame["final"]]
    if market == "h2h":
        rows = rows[rows["home_win"].notna() & (rows["margin"] != 0)]
        return Outcomes(
            rows,
            None,
            rows["home_win"].to_numpy(dtype=float),
            np.asarray(rows.get("home_prob", pd.Series(np.nan, index=rows.index)).to_numpy(dtype=float), dtype=float),
        )
    line_col, prob_col, actual = (
        ("spread_home", "spread_home_prob", rows.get("margin"))
        if market == "spreads"
        else ("total", "over_prob", rows.get("total_points"))
    )
    if line_col not in rows:
        empty = rows.iloc[0:0]
        return Outcomes(empty, np.array([]), np.array([]), np.array([]))
    line = rows[line_col].to_numpy(dtype=float)
    value = actual.to_numpy(dtype=float) if actual is not None else np.full(len(rows), np.nan)
    edge = value + line if market == "spreads" else value - line
    keep = ~np.isnan(edge) & (edge != 0)
    rows = rows[keep]
    prob = rows[prob_col].to_numpy(dtype=float) if prob_col in rows else np.full(len(rows), np.nan)
    prob = np.where(np.isnan(prob), 0.5, prob)
    return Outcomes(rows, line[keep], (edge[keep] > 0).astype(float), prob)


def elo_probability(
    frame: pd.DataFrame, market: str, line: Array | None, sigma: float | None, league: str
) -> Array | None:
    """Elo's forecast for the market: its win probability, or its implied margin against the line.
    Elo has no view of totals: None."""
    if market == "h2h":
        return frame["elo_prob"].to_numpy(dtype=float)
    if market == "spreads" and line is not None and sigma:
        # elo_prob already includes home advantage; invert it to points of margin.
        p = np.clip(frame["elo_prob"].to_numpy(dtype=float), 1e-6, 1 - 1e-6)
        elo_margin = -400 * np.log10(1 / p - 1) / ELO_POINTS_PER_MARGIN.get(league, 28.0)
        return np.asarray(norm.cdf((elo_margin + line) / sigma), dtype=float)
    return None


def evaluate(fitted: Fitted, frame: pd.DataFrame, league: str) -> dict[str, Any]:
    """Model, Elo and market scored on exactly the same games, with the model's reliability table."""
    scored = outcomes(frame, fitted.market)
    if len(scored.outcome) == 0:
        return {"n_games": 0}
    return compare(scored, fitted.probability(scored.frame, scored.line), fitted.market, fitted.sigma, league)


def concat(parts: list[tuple[Outcomes, Array]]) -> tuple[Outcomes, Array]:
    """Outcomes and probabilities gathered day by day, as one set."""
    lines = [o.line for o, _ in parts]
    return (
        Outcomes(
            pd.concat([o.frame for o, _ in parts]),
            None if any(line is None for line in lines) else np.concatenate(lines),  # type: ignore[arg-type]
            np.concatenate([o.outcome for o, _ in parts]),
            np.concatenate([o.market_prob for o, _ in parts]),
        ),
        np.concatenate([p for _, p in parts]),
    )


def compare(scored: Outcomes, prob: Array, market: str, sigma: float | None, league: str) -> dict[str, Any]:
    """Scores of the model's probabilities beside Elo's and the de-vigged market's, same games."""
    known = ~np.isnan(scored.market_prob)
    result: dict[str, Any] = {}
    if known.any() and not known.all():
        # Score all three on the games the market priced, so the figures compare like with like.
        result["left_out_no_market_price"] = int((~known).sum())
        line = scored.line[known] if scored.line is not None else None
        scored = Outcomes(scored.frame[known], line, scored.outcome[known], scored.market_prob[known])
        prob = prob[known]
    if len(scored.outcome) == 0:
        return {"n_games": 0}
    result.update({"n_games": len(prob), "model": metrics.score(prob, scored.outcome).as_dict()})
    elo_prob = elo_probability(scored.frame, market, scored.line, sigma, league)
    result["elo"] = metrics.score(elo_prob, scored.outcome).as_dict() if elo_prob is not None else None
    has_market = not np.isnan(scored.market_prob).any()
    result["market"] = metrics.score(scored.market_prob, scored.outcome).as_dict() if has_market else None
    result["reliability"] = [
        {
            "lower": b.lower,
            "upper": b.upper,
            "n": b.n,
            "mean_prob": _finite(b.mean_prob),
            "frequency": _finite(b.frequency),
        }
        for b in metrics.reliability(prob, scored.outcome)
    ]
    result["from"] = str(scored.frame["start_time"].min())
    result["to"] = str(scored.frame["start_time"].max())
    return result


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else round(value, 6)


# --- Blending with the market ------------------------------------------------------------------


def logit(p: npt.ArrayLike) -> Array:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), dtype=float)


def sigmoid(z: npt.ArrayLike) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float))), dtype=float)


NO_BLEND: dict[str, float] = {"intercept": 0.0, "w_market": 1.0, "w_model": 0.0}


def blend(model_prob: npt.ArrayLike, market_prob: npt.ArrayLike, weights: dict[str, float] | None) -> Array:
    """The probability a stake is sized on: logistic stacking of the market at decision time and
    the model, ``sigmoid(a + w_market * logit(market) + w_model * logit(model))``.

    With no weights (or a model the fit found adds nothing) it is the market itself. Where the
    market has no price (NaN) the result is NaN: no market, no bet."""
    w = weights or NO_BLEND
    z = w["intercept"] + w["w_market"] * logit(market_prob) + w["w_model"] * logit(model_prob)
    out = sigmoid(z)
    return np.where(np.isnan(np.asarray(market_prob, dtype=float)), np.nan, out)
