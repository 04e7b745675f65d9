"""The market at time t, one implementation for settlement, the backtester, the pages and the feature
selectors. Pure: no Django, no I/O; callers hand it quotes (`Quote`) or arrays of prices.

- Which quotes stand: `standing` (each book's latest quote per side before t and before the start),
  `latest_rows` (the same over a DataFrame).
- Which pairs to trust: a two-way pair's margin is the sum of its implied probabilities minus 1
  (1.91/1.91 -> 0.047). A pair whose margin is outside [min_margin, max_margin] is kept in the database
  but priced from by nothing (consensus, training inputs, CLV): -2500/-2500 (1.04/1.04, margin 0.92) is a
  corrupt archive row, not a coin flip. The bounds are QUOTE_MIN_MARGIN and QUOTE_MAX_MARGIN.
- What it says: `best_prices` per side and line (the book named), `consensus` (each book's two-way pair
  at the line, de-vigged by DEVIG_METHOD, averaged over the books), `pair_probabilities` (the same rule
  over arrays), `edge`, `expected_value`, `payout`, `clv` against the de-vigged close.

`configure` and `configure_devig` are called once at start (games.apps) from the settings; a caller
that is not handed bounds or a method uses the configured ones, so every page, backtest and settlement
reads the market the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Generic, NamedTuple, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from betting.games.devig import DEVIG_METHODS, DevigMethod, Price, check_price, devig

Bounds: TypeAlias = tuple[float, float]

DEFAULT_MIN_MARGIN = -0.05  # best prices from several books can be a little underround; not -5%
DEFAULT_MAX_MARGIN = 0.25  # no real two-way book charges a quarter
_bounds: Bounds = (DEFAULT_MIN_MARGIN, DEFAULT_MAX_MARGIN)
DEFAULT_DEVIG_METHOD: DevigMethod = "multiplicative"
_devig_method: DevigMethod = DEFAULT_DEVIG_METHOD
CENT = Decimal("0.01")


def configure(min_margin: float, max_margin: float) -> None:
    """Set the bounds `bounds()` returns (from QUOTE_MIN_MARGIN and QUOTE_MAX_MARGIN)."""
    global _bounds
    if not (math.isfinite(min_margin) and math.isfinite(max_margin) and min_margin < max_margin):
        raise ValueError(f"need finite quote margin bounds with min < max, got {min_margin} and {max_margin}")
    _bounds = (float(min_margin), float(max_margin))


def bounds() -> Bounds:
    """(min_margin, max_margin) as configured."""
    return _bounds


def configure_devig(method: str) -> None:
    """Set the de-vig method every consensus uses unless handed one (from DEVIG_METHOD)."""
    global _devig_method
    _devig_method = check_method(method)


def devig_method() -> DevigMethod:
    """The configured de-vig method (DEVIG_METHOD)."""
    return _devig_method


def check_method(method: str | None) -> DevigMethod:
    """``method`` as a de-vig method (the configured one for None); ValueError naming the choices."""
    if method is None:
        return _devig_method
    for known in DEVIG_METHODS:
        if method == known:
            return known
    raise ValueError(f"unknown de-vig method {method!r}: choose one of {', '.join(DEVIG_METHODS)}")


def pair_margin(a: Price, b: Price) -> float:
    """1/a + 1/b - 1 for a two-way pair of decimal prices; ValueError for a price that is not > 1."""
    return 1.0 / check_price(a) + 1.0 / check_price(b) - 1.0


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


# --- Two-way markets: sides and lines ----------------------------------------------------------

OTHER_SIDE = {"home": "away", "away": "home", "over": "under", "under": "over"}


def same_line(market: str, point: Price | None, other_point: Price | None) -> bool:
    """Whether a quote at ``other_point`` on the opposite side is the other half of the same line:
    any two moneylines, a spread with its sign flipped, a total at the same number."""
    if market == "h2h":
        return True
    if point is None or other_point is None:
        return False
    return other_point == (-point if market == "spreads" else point)


def same_lines(market: str, points: npt.ArrayLike, other_points: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """`same_line` over arrays of points (NaN, a missing line, is no line)."""
    a, b = np.asarray(points, dtype=float), np.asarray(other_points, dtype=float)
    if market == "h2h":
        return np.ones(np.broadcast(a, b).shape, dtype=bool)
    return np.asarray(b == (-a if market == "spreads" else a), dtype=bool)


# --- Which quotes stand at time t --------------------------------------------------------------


# A quote's time (a datetime, or a pandas Timestamp in the backtester), what names its book to the
# caller (an id, a title) and what it carries for the caller (an OddsQuote, a BestPrice, nothing).
_When = TypeVar("_When", bound=dt.datetime)
_Book = TypeVar("_Book", bound=Hashable)
_Ref = TypeVar("_Ref")


class Quote(NamedTuple, Generic[_When, _Book, _Ref]):
    """One book's price on one side. ``book`` is whatever names the book to the caller (an id, a
    title); ``ref`` carries the caller's own row (an OddsQuote) through untouched, None when left out
    (``Quote[..., None]``)."""

    captured_at: _When
    book: _Book
    outcome: str
    price: Price | None
    point: Price | None
    ref: _Ref = None  # type: ignore[assignment]  # the default fits only a Quote whose ref is None


Standing: TypeAlias = Mapping[tuple[_Book, str], Quote[_When, _Book, _Ref]]
Line: TypeAlias = tuple[str, Price | None]  # (outcome, point)


def standing(
    quotes: Iterable[Quote[_When, _Book, _Ref]], *, at: dt.datetime | None = None, before: dt.datetime | None = None
) -> dict[tuple[_Book, str], Quote[_When, _Book, _Ref]]:
    """Each book's latest quote per side: captured at or before ``at`` and strictly before ``before``
    (the start), either bound left out when None. ``quotes`` come oldest first (a later quote with the
    same time wins); the first one past a bound ends the reading."""
    latest: dict[tuple[_Book, str], Quote[_When, _Book, _Ref]] = {}
    for quote in quotes:
        if (at is not None and quote.captured_at > at) or (before is not None and quote.captured_at >= before):
            break
        latest[(quote.book, quote.outcome)] = quote
    return latest


def latest_rows(frame: pd.DataFrame, keys: Sequence[str], time: str = "captured_at") -> pd.DataFrame:
    """`standing` over a frame of quotes: per ``keys`` (game, book, market, outcome...) the row with
    the latest ``time``; the caller filters the rows to before t first."""
    return frame.sort_values(time, kind="stable").drop_duplicates(list(keys), keep="last")


def best_prices(quotes: Standing[_Book, _When, _Ref]) -> dict[Line, Quote[_When, _Book, _Ref]]:
    """Line shopping: per side and line, the quote with the best price (its ``book`` names the book;
    the first seen keeps a tie). Quotes without a price offer nothing."""
    best: dict[Line, Quote[_When, _Book, _Ref]] = {}
    for quote in quotes.values():
        if quote.price is None:
            continue
        key = (quote.outcome, quote.point)
        held = best.get(key)
        if held is None or quote.price > (held.price or 0):
            best[key] = quote
    return best


def best_price(
    quotes: Standing[_Book, _When, _Ref], market: str, outcome: str, point: Price | None
) -> Quote[_When, _Book, _Ref] | None:
    """The best-priced standing quote of ``outcome`` at ``point`` (any moneyline for h2h), the book
    named by its ``book``; the first seen keeps a tie. None when no book prices it."""
    best: Quote[_When, _Book, _Ref] | None = None
    for (_, side), quote in quotes.items():
        if side != outcome or quote.price is None or (market != "h2h" and quote.point != point):
            continue
        if best is None or quote.price > (best.price or 0):
            best = quote
    return best


def two_way_pairs(
    quotes: Standing[_Book, _When, _Ref], market: str, outcome: str, point: Price | None
) -> list[tuple[Price, Price]]:
    """Each book's standing pair (this side, the other) at ``point`` (any moneyline for h2h): both
    sides priced and on the same line. Sanity is not judged here (`sane_only`)."""
    pairs: list[tuple[Price, Price]] = []
    for (book, side), quote in quotes.items():
        if side != outcome or quote.price is None or (market != "h2h" and quote.point != point):
            continue
        other = quotes.get((book, OTHER_SIDE[outcome]))
        if other is None or other.price is None or not same_line(market, quote.point, other.point):
            continue
        pairs.append((quote.price, other.price))
    return pairs


def sane_only(pairs: Iterable[tuple[Price, Price]], bounds: Bounds | None = None) -> list[tuple[Price, Price]]:
    """The pairs fit to price from (`sane_pair` within ``bounds``, the configured ones when None)."""
    lo, hi = bounds if bounds is not None else _bounds
    return [(side, other) for side, other in pairs if sane_pair(side, other, lo, hi)]


def consensus_probability(
    pairs: Sequence[tuple[Price, Price]],
    method: str | None = None,
    *,
    bounds: Bounds | None = None,
) -> float | None:
    """The market's fair probability of a side: each book's two-way prices (this side, the other)
    de-vigged by ``method`` (DEVIG_METHOD when None), averaged over the books. A pair whose margin is
    outside ``bounds`` (QUOTE_MIN_MARGIN/QUOTE_MAX_MARGIN when None) is left out: a corrupt
    -2500/-2500 is no coin flip. None without a sane pair."""
    chosen = check_method(method)
    sane = sane_only(pairs, bounds)
    if not sane:
        return None
    return math.fsum(devig([side, other], chosen)[0] for side, other in sane) / len(sane)


def consensus(
    quotes: Standing[_Book, _When, _Ref],
    market: str,
    outcome: str,
    point: Price | None,
    method: str | None = None,
    *,
    bounds: Bounds | None = None,
) -> float | None:
    """The de-vigged consensus of ``outcome`` at ``point`` from the standing quotes (`two_way_pairs`,
    `consensus_probability`): the market at decision time, or at the close."""
    return consensus_probability(two_way_pairs(quotes, market, outcome, point), method, bounds=bounds)


def consensus_by_line(
    quotes: Standing[_Book, _When, _Ref], market: str, method: str | None = None, *, bounds: Bounds | None = None
) -> dict[Line, float]:
    """`consensus` for every side and line the standing quotes price; lines with no sane pair are left out."""
    out: dict[Line, float] = {}
    for outcome, point in dict.fromkeys((q.outcome, q.point) for q in quotes.values()):
        probability = consensus(quotes, market, outcome, point, method, bounds=bounds)
        if probability:
            out[(outcome, point)] = probability
    return out


def devig_two_way(price_a: npt.ArrayLike, price_b: npt.ArrayLike, method: str | None = None) -> npt.NDArray[np.float64]:
    """P(a) from each two-way pair of decimal prices, de-vigged by ``method`` (DEVIG_METHOD when None):
    vectorised for multiplicative, `devig` row by row otherwise (NaN where a pair cannot be priced).
    No sanity rule here: `pair_probabilities` applies it."""
    chosen = check_method(method)
    a, b = np.asarray(price_a, dtype=float), np.asarray(price_b, dtype=float)
    if chosen == "multiplicative":
        with np.errstate(divide="ignore", invalid="ignore"):
            ia, ib = 1.0 / a, 1.0 / b
            return np.asarray(ia / (ia + ib), dtype=float)
    a, b = np.broadcast_arrays(a, b)
    out = np.full(a.shape, np.nan)
    for index, (x, y) in enumerate(zip(a.flat, b.flat, strict=True)):
        with contextlib.suppress(ValueError):  # an impossible price: no probability
            out.flat[index] = devig([float(x), float(y)], chosen)[0]
    return out


def pair_probabilities(
    market: str,
    price_a: npt.ArrayLike,
    price_b: npt.ArrayLike,
    point_a: npt.ArrayLike | None = None,
    point_b: npt.ArrayLike | None = None,
    method: str | None = None,
    *,
    bounds: Bounds | None = None,
) -> npt.NDArray[np.float64]:
    """`devig_two_way` of each book's pair, NaN where the pair is not sane or (spreads, totals) its two
    sides are not the same line: the rows `consensus` would average, over arrays."""
    lo, hi = bounds if bounds is not None else _bounds
    keep = sane_pairs(price_a, price_b, lo, hi)
    if market != "h2h":
        keep &= same_lines(market, np.asarray(point_a, dtype=float), np.asarray(point_b, dtype=float))
    a = np.where(keep, np.asarray(price_a, dtype=float), np.nan)
    b = np.where(keep, np.asarray(price_b, dtype=float), np.nan)
    return np.where(keep, devig_two_way(a, b, method), np.nan)


# --- What a price is worth ------------------------------------------------------------------------


def check_probability(probability: float, *, closed: bool = False) -> float:
    """The probability as a float; ValueError unless it is in (0, 1) (``closed``: [0, 1])."""
    value = float(probability)
    inside = 0.0 <= value <= 1.0 if closed else 0.0 < value < 1.0
    if not math.isfinite(value) or not inside:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"probability {probability} is outside {interval}")
    return value


def expected_value(probability: float, decimal_price: Price) -> float:
    """Expected profit per unit staked: p (price - 1) - (1 - p)."""
    p = check_probability(probability, closed=True)
    return p * (check_price(decimal_price) - 1.0) - (1.0 - p)


def edge(probability: float, decimal_price: Price) -> float:
    """How far the probability is above the price's implied one: p - 1/price."""
    return check_probability(probability, closed=True) - 1.0 / check_price(decimal_price)


def payout(stake: Decimal, price: Decimal, result: str) -> Decimal:
    """What a settled bet returns: stake x price (to the cent) on a win, the stake on a push or a
    void, nothing on a loss."""
    if result == "win":
        return (stake * price).quantize(CENT)
    if result in ("push", "void"):
        return stake
    return Decimal("0.00")


def closing_price(fair_probability: float) -> float:
    """The fair closing price of a side: 1 / its de-vigged closing probability."""
    return 1.0 / check_probability(fair_probability)


def clv(price: Price, fair_probability: float) -> float:
    """Closing-line value: the price taken against the fair close, price x p_close - 1 (the same as
    price / closing_price - 1, without rounding the close first). Positive: the bet beat the close."""
    return check_price(price) * check_probability(fair_probability) - 1.0
