"""De-vig: the fair probabilities of an n-way market from its decimal prices. Pure: no Django, no I/O.

One implementation for the whole project: `games.market` (consensus, CLV) and `bets.pricing` (which
re-exports these names) both call it. The methods and their formulas are in `devig`'s docstring; every
method returns on every finite input (bracketed Brent) or raises a ValueError naming the prices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Literal, TypeAlias

from scipy.optimize import brentq

Price: TypeAlias = Decimal | float
DevigMethod: TypeAlias = Literal["multiplicative", "additive", "power", "shin"]
DEVIG_METHODS: tuple[DevigMethod, ...] = ("multiplicative", "additive", "power", "shin")

# The additive method can push a long shot below zero; it is clipped to this and the rest renormalised.
ADDITIVE_FLOOR = 1e-9
# Root finding: brentq's absolute tolerance on the parameter (k or z); the result is renormalised after,
# so the probabilities sum to 1 to rounding error whatever the solver's last digit.
SOLVER_XTOL = 1e-15
SOLVER_MAXITER = 200


def check_price(price: Price) -> float:
    """The price as a float; ValueError unless it is finite and > 1."""
    value = float(price)
    if not math.isfinite(value) or value <= 1.0:
        raise ValueError(f"decimal price {price} is impossible: it must be a finite number greater than 1")
    return value


def _implied(prices: Sequence[Price]) -> list[float]:
    if len(prices) < 2:
        raise ValueError(f"a market needs at least two outcomes, got {len(prices)}")
    return [1.0 / check_price(price) for price in prices]


def overround(prices: Sequence[Price]) -> float:
    """The bookmaker's margin: sum of implied probabilities minus 1 (1.91/1.91 -> 0.0471).

    Negative for an underround set of prices (best prices taken from several books can be).
    """
    return math.fsum(_implied(prices)) - 1.0


def devig(prices: Sequence[Price], method: DevigMethod = "multiplicative") -> list[float]:
    """Fair probabilities, in the order of `prices`, from an n-way market's decimal prices.

    - multiplicative: p_i = pi_i / sum(pi), pi_i = 1/price_i (what `metrics.devig_two_way` does for two).
    - additive: p_i = pi_i - margin/n, every outcome gives up an equal share of the margin. A long shot
      can go below zero that way: it is clipped to `ADDITIVE_FLOOR` and the set renormalised, so on such
      markets the result is no longer exactly "equal shares".
    - power: p_i = pi_i ** k with k solving sum(pi_i ** k) = 1 (k > 1 when there is a margin), by Brent's
      method; takes more off long shots than off favourites.
    - shin: Shin's (1992, 1993) insider-trading model; `shin_z` finds the insider share z and the
      probabilities follow from it. Also takes more off long shots.

    Every method returns the implied probabilities unchanged when there is no margin, keeps the favourite/
    underdog order and sums to 1 within 1e-12. An underround market is handled by every method too (power
    gives k < 1, Shin a negative z, which has no insider reading but keeps the formula consistent).
    """
    implied = _implied(prices)
    if method not in _DEVIG:
        raise ValueError(f"unknown de-vig method {method!r}: choose one of {', '.join(DEVIG_METHODS)}")
    return _normalised(_DEVIG[method](implied))


def _normalised(probabilities: list[float]) -> list[float]:
    total = math.fsum(probabilities)
    return [p / total for p in probabilities]


def _multiplicative(implied: list[float]) -> list[float]:
    return implied  # the shared renormalisation is the whole method


def _additive(implied: list[float]) -> list[float]:
    share = (math.fsum(implied) - 1.0) / len(implied)
    return [max(p - share, ADDITIVE_FLOOR) for p in implied]


def _root(f: Callable[[float], float], low: float, high: float, what: str) -> float:
    """Root of a decreasing f inside a bracket known to hold it, by Brent's method.

    The callers derive [low, high] from the prices (no search), so this always ends: brentq stops
    after SOLVER_MAXITER iterations at most, and a bracket that rounding spoiled is a ValueError.
    """
    f_low, f_high = f(low), f(high)
    if f_low == 0.0:
        return low
    if f_high == 0.0:
        return high
    if not (f_low > 0.0 > f_high):
        raise ValueError(f"de-vig: no {what} between {low:g} and {high:g} for these prices (too extreme)")
    try:
        return float(brentq(f, low, high, xtol=SOLVER_XTOL, maxiter=SOLVER_MAXITER))
    except RuntimeError as exc:  # brentq's "failed to converge"
        raise ValueError(f"de-vig: the {what} did not converge for these prices: {exc}") from None


def power_exponent(prices: Sequence[Price]) -> float:
    """k with sum((1/price_i) ** k) = 1: 1 with no margin, above 1 with one, in (0, 1) underround.

    The root is bracketed in closed form: n * min(pi)^k <= sum(pi^k) <= n * max(pi)^k, so k lies in
    [log n / -log min(pi), log n / -log max(pi)] (both positive, as every pi is in (0, 1)).
    """
    implied = _implied(prices)
    logs = [math.log(p) for p in implied]
    n = math.log(len(implied))
    low, high = n / -min(logs), n / -max(logs)
    if low == high:  # every outcome priced the same: the bracket is the root
        return low
    return _root(lambda k: math.fsum(math.exp(k * lp) for lp in logs) - 1.0, low * 0.999, high * 1.001, "exponent")


def _power(implied: list[float]) -> list[float]:
    k = power_exponent([1.0 / p for p in implied])
    return [p**k for p in implied]


def _shin_probabilities(implied: list[float], z: float) -> list[float]:
    """Shin's p_i = (sqrt(z^2 + 4(1-z) pi_i^2/S) - z) / (2(1-z)).

    For z >= 0 it is computed as 2 (pi_i^2/S) / (sqrt(...) + z) (the same value, multiplied through by
    sqrt(...) + z): no cancellation for small z and no singularity at z = 1. For z < 0 (underround) the
    textbook form has no cancellation and is used as it is. Either way it decreases in z.
    """
    total = math.fsum(implied)
    out = []
    for pi in implied:
        q = pi * pi / total
        root = math.sqrt(z * z + 4.0 * (1.0 - z) * q)
        out.append(2.0 * q / (root + z) if z >= 0 else (root - z) / (2.0 * (1.0 - z)))
    return out


def shin_z(prices: Sequence[Price]) -> float:
    """Shin's z, the share of money from insiders: the z at which Shin's probabilities sum to 1.

    0 for a market with no margin; in (0, 1) with a margin (and at most the margin: a symmetric two-way
    market gives exactly z = overround); in [-1, 0) for an underround market. Solved by Brent's method on
    sum(p_i(z)) - 1, which decreases in z, for any number of outcomes (no two-way closed form), inside
    [-1, 1]: at z = 1 the sum is sum(pi^2)/S < 1, at z = -1 every p_i is (sqrt(1 + 8 q_i) + 1) / 4 >= 1/2.
    """
    implied = _implied(prices)
    return _root(lambda z: math.fsum(_shin_probabilities(implied, z)) - 1.0, -1.0, 1.0, "Shin z")


def _shin(implied: list[float]) -> list[float]:
    return _shin_probabilities(implied, shin_z([1.0 / p for p in implied]))


_DEVIG: dict[str, Callable[[list[float]], list[float]]] = {
    "multiplicative": _multiplicative,
    "additive": _additive,
    "power": _power,
    "shin": _shin,
}
