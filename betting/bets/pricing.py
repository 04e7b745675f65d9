"""Odds conversions, bookmaker margin, de-vig and the value of a bet. Pure: no Django, no I/O.

Types, so the ledger and the model math can both use these functions:

- Probabilities are floats, always.
- Odds conversions keep the caller's type: a `Decimal` in gives a `Decimal` out (exact to the context
  precision, 28 digits), a float or int in gives a float out. The results are not rounded to a price
  ladder: `american_to_decimal(Decimal(-110))` is 1.9090…91, and rounding it for display or storage is the
  caller's decision.
- Everything that returns a probability, a margin, an edge or an expected value returns a float; `Decimal`
  prices are accepted there and converted.

Impossible inputs raise `ValueError` naming the value: a decimal price must be finite and > 1, American
odds finite with |odds| >= 100, and a probability that is turned into a price must be in the open
interval (0, 1).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import overload

# One implementation of the de-vig and of the market's reading (games, so the feature selectors can
# use them too); re-exported here so the pricing API stays in one place for bets' callers.
from betting.games.devig import (
    ADDITIVE_FLOOR,
    DEVIG_METHODS,
    SOLVER_MAXITER,
    SOLVER_XTOL,
    DevigMethod,
    Price,
    devig,
    overround,
    power_exponent,
    shin_z,
)
from betting.games.devig import check_price as _check_price
from betting.games.market import OTHER_SIDE, consensus_probability, edge, expected_value, same_line
from betting.games.market import check_probability as _check_probability

__all__ = [
    "ADDITIVE_FLOOR",
    "DEVIG_METHODS",
    "OTHER_SIDE",
    "SOLVER_MAXITER",
    "SOLVER_XTOL",
    "DevigMethod",
    "Price",
    "american_to_decimal",
    "american_to_implied",
    "consensus_probability",
    "decimal_to_american",
    "decimal_to_implied",
    "devig",
    "edge",
    "expected_value",
    "implied_to_decimal",
    "overround",
    "power_exponent",
    "same_line",
    "shin_z",
]

HUNDRED = Decimal(100)


def _check_american(american: Price) -> None:
    value = float(american)
    if not math.isfinite(value) or abs(value) < 100:
        raise ValueError(f"American odds {american} are impossible: they must be finite with |odds| >= 100")


@overload
def american_to_decimal(american: Decimal) -> Decimal: ...
@overload
def american_to_decimal(american: float) -> float: ...
def american_to_decimal(american: Price) -> Price:
    """+150 -> 2.5, -200 -> 1.5; +100 and -100 both mean evens, 2.0."""
    _check_american(american)
    if isinstance(american, Decimal):
        return 1 + (american / HUNDRED if american > 0 else HUNDRED / -american)
    value = float(american)
    return 1.0 + (value / 100.0 if value > 0 else 100.0 / -value)


@overload
def decimal_to_american(price: Decimal) -> Decimal: ...
@overload
def decimal_to_american(price: float) -> float: ...
def decimal_to_american(price: Price) -> Price:
    """2.5 -> +150, 1.5 -> -200; evens (2.0) is written +100. Not rounded to whole numbers."""
    _check_price(price)
    if isinstance(price, Decimal):
        return (price - 1) * HUNDRED if price >= 2 else -HUNDRED / (price - 1)
    value = float(price)
    return (value - 1.0) * 100.0 if value >= 2.0 else -100.0 / (value - 1.0)


def decimal_to_implied(price: Price) -> float:
    """The probability the price implies, margin included: 1 / price."""
    return 1.0 / _check_price(price)


def implied_to_decimal(probability: float) -> float:
    """Fair decimal odds for a probability: 1 / p. A float, as the probability is one."""
    return 1.0 / _check_probability(probability)


def american_to_implied(american: Price) -> float:
    return decimal_to_implied(american_to_decimal(float(american)))
