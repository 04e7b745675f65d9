"""The market's quotes as prices to trust: the margin of a two-way pair and whether it is sane. Pure: no
Django, no I/O, so settlement, the backtester, pages and the feature selectors can share one rule.

A two-way pair's margin is the sum of its implied probabilities minus 1 (1.91/1.91 -> 0.047). A pair
whose margin is outside [min_margin, max_margin] is kept in the database but priced from by nothing
(consensus, training inputs, CLV): -2500/-2500 (1.04/1.04, margin 0.92) is a corrupt archive row, not a
coin flip. The bounds are QUOTE_MIN_MARGIN and QUOTE_MAX_MARGIN; `configure` sets them once at start
(games.apps) and `bounds()` reads them, so a pure caller that is not handed bounds uses the configured ones.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Price: TypeAlias = Decimal | float
Bounds: TypeAlias = tuple[float, float]

DEFAULT_MIN_MARGIN = -0.05  # best prices from several books can be a little underround; not -5%
DEFAULT_MAX_MARGIN = 0.25  # no real two-way book charges a quarter
_bounds: Bounds = (DEFAULT_MIN_MARGIN, DEFAULT_MAX_MARGIN)


def configure(min_margin: float, max_margin: float) -> None:
    """Set the bounds `bounds()` returns (from QUOTE_MIN_MARGIN and QUOTE_MAX_MARGIN)."""
    global _bounds
    if not (math.isfinite(min_margin) and math.isfinite(max_margin) and min_margin < max_margin):
        raise ValueError(f"need finite quote margin bounds with min < max, got {min_margin} and {max_margin}")
    _bounds = (float(min_margin), float(max_margin))


def bounds() -> Bounds:
    """(min_margin, max_margin) as configured."""
    return _bounds


def pair_margin(a: Price, b: Price) -> float:
    """1/a + 1/b - 1 for a two-way pair of decimal prices; ValueError for a price that is not > 1."""
    for price in (a, b):
        value = float(price)
        if not math.isfinite(value) or value <= 1.0:
            raise ValueError(f"decimal price {price} is impossible: it must be a finite number greater than 1")
    return 1.0 / float(a) + 1.0 / float(b) - 1.0


def sane_pair(a: Price | None, b: Price | None, lo: float | None = None, hi: float | None = None) -> bool:
    """Whether the pair is fit to price from: both prices possible and its margin within [lo, hi]
    (the configured bounds where not given). A missing or impossible price is not sane."""
    if a is None or b is None:
        return False
    try:
        margin = pair_margin(a, b)
    except (ValueError, ArithmeticError):
        return False
    low, high = bounds()
    return (low if lo is None else lo) <= margin <= (high if hi is None else hi)


def sane_pairs(
    a: npt.ArrayLike, b: npt.ArrayLike, lo: float | None = None, hi: float | None = None
) -> npt.NDArray[np.bool_]:
    """`sane_pair` over arrays of prices (NaN, a missing price, is not sane)."""
    low, high = bounds()
    low, high = (low if lo is None else lo), (high if hi is None else hi)
    pa, pb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = 1.0 / pa + 1.0 / pb - 1.0
    possible = np.isfinite(pa) & np.isfinite(pb) & (pa > 1.0) & (pb > 1.0)
    return np.asarray(possible & (margin >= low) & (margin <= high), dtype=bool)
