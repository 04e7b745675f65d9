"""The market at time t (betting/games/market.py) on plain inputs: which quotes stand, the best price and
its book, the consensus of sane pairs on one line, and what a price is worth."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from betting.games import market
from betting.games.devig import devig
from betting.games.market import Quote

CORRUPT = 1.04  # -2500: both sides of a corrupt archive pair


# Times are plain ints here, outside the datetime bound of Quote's time parameter.
def q(t: int, book: str, outcome: str, price: float | None, point: float | None = None) -> Quote[Any, str, None]:
    return Quote(t, book, outcome, price, point)


QUOTES = [
    q(1, "a", "home", 1.80),
    q(1, "a", "away", 2.10),
    q(2, "b", "home", 1.95),
    q(2, "b", "away", 1.90),
    q(3, "a", "home", 1.85),  # a moves
    q(3, "a", "away", 2.00),
    q(9, "b", "home", 2.50),  # after the start: never stands
    q(9, "b", "away", 1.55),
]


def test_each_book_stands_at_its_latest_quote_before_t_and_before_the_start():
    at_two = market.standing(QUOTES, at=2)
    assert at_two[("a", "home")].price == 1.80 and at_two[("b", "home")].price == 1.95
    closing = market.standing(QUOTES, before=9)
    assert closing[("a", "home")].price == 1.85 and closing[("b", "home")].price == 1.95
    assert market.standing(QUOTES, at=0) == {}


def test_the_best_price_per_side_and_line_names_its_book():
    best = market.best_prices(market.standing(QUOTES, before=9))
    assert best[("home", None)].book == "b" and best[("home", None)].price == 1.95
    assert best[("away", None)].book == "a" and best[("away", None)].price == 2.00
    assert market.best_price(market.standing(QUOTES, before=9), "h2h", "away", None).book == "a"


def test_the_consensus_averages_each_books_de_vigged_pair():
    closing = market.standing(QUOTES, before=9)
    expected = (devig([1.85, 2.00])[0] + devig([1.95, 1.90])[0]) / 2
    assert market.consensus(closing, "h2h", "home", None) == pytest.approx(expected)
    shin = (devig([1.85, 2.00], "shin")[0] + devig([1.95, 1.90], "shin")[0]) / 2
    assert market.consensus(closing, "h2h", "home", None, "shin") == pytest.approx(shin)


def test_a_corrupt_pair_never_reaches_the_consensus():
    quotes = [*QUOTES[:6], q(4, "c", "home", CORRUPT), q(4, "c", "away", CORRUPT)]
    closing = market.standing(quotes, before=9)
    clean = market.standing(QUOTES, before=9)
    assert market.consensus(closing, "h2h", "home", None) == market.consensus(clean, "h2h", "home", None)
    assert market.consensus_by_line(market.standing(quotes[6:], before=9), "h2h") == {}
    probabilities = market.pair_probabilities("h2h", [1.85, CORRUPT, np.nan], [2.00, CORRUPT, 1.9])
    assert probabilities[0] == pytest.approx(devig([1.85, 2.00])[0]) and np.isnan(probabilities[1:]).all()


def test_a_spread_pair_counts_only_on_one_line():
    quotes = [
        q(1, "a", "home", 1.91, -3.5),
        q(1, "a", "away", 1.91, 3.5),
        q(1, "b", "home", 1.80, -3.5),
        q(1, "b", "away", 2.05, 4.5),  # b's away side is another line: no pair
    ]
    closing = market.standing(quotes, before=9)
    assert market.two_way_pairs(closing, "spreads", "home", -3.5) == [(1.91, 1.91)]
    assert market.consensus(closing, "spreads", "home", -3.5) == pytest.approx(0.5)
    assert market.best_prices(closing)[("home", -3.5)].book == "a"
    probabilities = market.pair_probabilities("spreads", [1.91, 1.80], [1.91, 2.05], [-3.5, -3.5], [3.5, 4.5])
    assert probabilities[0] == pytest.approx(0.5) and np.isnan(probabilities[1])
    totals = market.pair_probabilities("totals", [1.91, 1.91], [1.91, 1.91], [210.5, 210.5], [210.5, 211.5])
    assert totals[0] == pytest.approx(0.5) and np.isnan(totals[1])


def test_the_configured_method_is_the_default_everywhere():
    before = market.devig_method()
    try:
        market.configure_devig("power")
        assert market.consensus_probability([(1.5, 2.6)]) == pytest.approx(devig([1.5, 2.6], "power")[0])
        assert market.devig_two_way([1.5], [2.6])[0] == pytest.approx(devig([1.5, 2.6], "power")[0])
        with pytest.raises(ValueError, match="unknown de-vig method 'fair'"):
            market.configure_devig("fair")
    finally:
        market.configure_devig(before)


def test_edge_ev_payout_and_clv_on_known_values():
    assert market.edge(0.55, 2.0) == pytest.approx(0.05)
    assert market.expected_value(0.55, 2.0) == pytest.approx(0.10)
    assert market.payout(Decimal("25"), Decimal("1.85"), "win") == Decimal("46.25")
    assert market.payout(Decimal("25"), Decimal("1.85"), "push") == Decimal("25")
    assert market.payout(Decimal("25"), Decimal("1.85"), "void") == Decimal("25")
    assert market.payout(Decimal("25"), Decimal("1.85"), "loss") == Decimal("0.00")
    assert market.closing_price(0.5) == 2.0
    assert market.clv(2.1, 0.5) == pytest.approx(0.05)  # 2.10 taken, the fair close 2.00
    assert market.clv(Decimal("1.85"), 0.5) == pytest.approx(-0.075)
    with pytest.raises(ValueError):
        market.clv(2.0, 0.0)
