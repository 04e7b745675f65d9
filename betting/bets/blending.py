"""The probability a stake is sized on: the model blended with the market at decision time.

One place for the live recommendations and the backtester, so both read a side the same way:
the blend is taken on the first side of the market (home, over) with the model's fitted weights
(``training.blend``: logistic stacking of logit(market) and logit(model)), and the other side is its
complement, so the two sides of a game always add up to one. No market price: no blend, no bet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from betting.predictions import training

FIRST_SIDES = ("home", "over")
BLEND_KEYS = ("intercept", "w_market", "w_model")
Weights = dict[str, float]


def model_weights(params: dict[str, Any] | None) -> Weights | None:  # JSON of ModelVersion.params
    """The blend weights a fitted model carries (``params["blend"]``), or None: bet the market only."""
    weights = (params or {}).get("blend")
    if not weights:
        return None
    return {key: float(weights[key]) for key in BLEND_KEYS}


def check_weights(weights: object) -> Weights | None:
    """Weights given by hand (a strategy's override): all three keys, finite numbers; or None."""
    if weights is None:
        return None
    if not isinstance(weights, dict) or set(weights) != set(BLEND_KEYS):
        raise ValueError(f"blend weights need exactly the keys {', '.join(BLEND_KEYS)}, got {weights!r}")
    values = {key: float(weights[key]) for key in BLEND_KEYS}
    if not all(math.isfinite(v) for v in values.values()):
        raise ValueError(f"blend weights must be finite numbers, got {weights!r}")
    return values


def blend_sides(
    model: Sequence[float], market: Sequence[float], sides: Sequence[str], weights: Weights | None
) -> list[float]:
    """The blended probability of each side: ``model`` and ``market`` are that side's probabilities
    (market NaN where no book had a two-way price); the result is NaN there."""
    first = np.array([side in FIRST_SIDES for side in sides], dtype=bool)
    m = np.asarray(model, dtype=float)
    k = np.asarray(market, dtype=float)
    p_first = training.blend(np.where(first, m, 1 - m), np.where(first, k, 1 - k), weights)
    return [float(p) for p in np.where(first, p_first, 1 - p_first)]


def no_edge_reason(*, blended: float, market: float, price: float, min_edge: float) -> str:
    """Why a side is passed when the blended probability does not beat the price by MIN_EDGE."""
    return f"no edge: blend {blended:.1%} vs market {market:.1%}, the price {price:g} needs {1 / price + min_edge:.1%}"


def with_no_edge_reason(reasons: list[str], *, edge: float, min_edge: float, text: str) -> list[str]:
    """``reasons`` with the staking rule's "edge under the minimum" put in the blend's words."""
    if edge >= min_edge - 1e-12:
        return reasons
    kept = [r for r in reasons if not (r.startswith("edge ") and "under the minimum" in r)]
    return [text, *kept]
