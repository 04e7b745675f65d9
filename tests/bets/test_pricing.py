from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from betting.bets import pricing
from betting.bets.pricing import DEVIG_METHODS

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None)
# The de-vig properties run once per method, so each gets fewer examples.
DEVIG_FUZZ = settings(FUZZ, max_examples=40)

american_odds = st.one_of(st.floats(100, 100_000), st.floats(-100_000, -100))
decimal_prices = st.floats(1.001, 1000)
probabilities = st.floats(0.001, 0.999)
# A real-looking market: n prices whose implied probabilities add up to 1 + margin.
markets = st.tuples(
    st.lists(st.floats(0.01, 1.0), min_size=2, max_size=10),
    st.floats(-0.05, 0.25),
).map(lambda drawn: [(1 + drawn[1]) * w / math.fsum(drawn[0]) for w in drawn[0]])
margin_markets = markets.filter(lambda implied: all(p < 1 for p in implied)).map(
    lambda implied: [1 / p for p in implied]
)
fair_markets = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=10).map(
    lambda weights: [math.fsum(weights) / w for w in weights]
)


def test_known_conversions():
    assert pricing.american_to_decimal(150) == 2.5
    assert pricing.american_to_decimal(-200) == 1.5
    assert pricing.american_to_decimal(100) == pricing.american_to_decimal(-100) == 2.0
    assert pricing.decimal_to_american(2.5) == 150
    assert pricing.decimal_to_american(1.5) == -200
    assert pricing.decimal_to_american(2.0) == 100
    assert pricing.decimal_to_implied(4.0) == 0.25
    assert pricing.implied_to_decimal(0.25) == 4.0
    assert pricing.american_to_implied(-300) == pytest.approx(0.75)


def test_decimal_in_gives_decimal_out():
    assert pricing.american_to_decimal(Decimal("-200")) == Decimal("1.5")
    assert pricing.american_to_decimal(Decimal("+250")) == Decimal("3.5")
    assert pricing.decimal_to_american(Decimal("1.5")) == Decimal("-200")
    assert isinstance(pricing.american_to_decimal(Decimal(-110)), Decimal)
    back = pricing.decimal_to_american(pricing.american_to_decimal(Decimal(-110)))
    assert abs(back - Decimal(-110)) < Decimal("1e-20")
    assert pricing.decimal_to_implied(Decimal("2.5")) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (pricing.decimal_to_implied, 1.0),
        (pricing.decimal_to_implied, 0.5),
        (pricing.decimal_to_implied, Decimal("1")),
        (pricing.decimal_to_implied, math.nan),
        (pricing.decimal_to_american, 1.0),
        (pricing.american_to_decimal, 99),
        (pricing.american_to_decimal, -50),
        (pricing.american_to_decimal, 0),
        (pricing.american_to_implied, Decimal("99.9")),
        (pricing.implied_to_decimal, 0.0),
        (pricing.implied_to_decimal, 1.0),
        (pricing.implied_to_decimal, 1.2),
        (pricing.implied_to_decimal, -0.1),
    ],
)
def test_impossible_inputs_are_refused(call, argument):
    with pytest.raises(ValueError, match=r"impossible|outside"):
        call(argument)


@FUZZ
@given(american_odds)
def test_american_decimal_american_round_trip(american):
    price = pricing.american_to_decimal(american)
    assert price >= 2.0 if american > 0 else price <= 2.0
    expected = 100.0 if price == 2.0 else american  # evens is written +100, whichever side it came from
    assert pricing.decimal_to_american(price) == pytest.approx(expected, rel=1e-9)
    assert pricing.american_to_implied(american) == pytest.approx(1 / price)


@FUZZ
@given(st.integers(100, 100_000), st.booleans())
def test_whole_american_odds_survive_a_decimal_round_trip(whole, favourite):
    american = Decimal(-whole if favourite else whole)
    back = pricing.decimal_to_american(pricing.american_to_decimal(american))
    expected = Decimal(100) if whole == 100 else american
    assert abs(back - expected) < Decimal("1e-18")


@FUZZ
@given(decimal_prices)
def test_decimal_american_decimal_and_implied_round_trips(price):
    assert pricing.american_to_decimal(pricing.decimal_to_american(price)) == pytest.approx(price, rel=1e-12)
    assert pricing.implied_to_decimal(pricing.decimal_to_implied(price)) == pytest.approx(price, rel=1e-12)


@FUZZ
@given(probabilities)
def test_probability_price_probability_round_trip(probability):
    assert pricing.decimal_to_implied(pricing.implied_to_decimal(probability)) == pytest.approx(probability)


def test_overround_of_a_standard_two_way_market():
    assert pricing.overround([1.91, 1.91]) == pytest.approx(2 / 1.91 - 1)
    assert pricing.overround([Decimal("2.0"), Decimal("2.0")]) == pytest.approx(0.0)


@pytest.mark.parametrize("method", DEVIG_METHODS)
def test_minus_110_both_ways_is_a_coin_flip(method):
    assert pricing.devig([1.91, 1.91], method) == pytest.approx([0.5, 0.5], abs=1e-12)
    assert pricing.devig([Decimal("1.91"), Decimal("1.91")], method) == pytest.approx([0.5, 0.5], abs=1e-12)


@pytest.mark.parametrize("method", DEVIG_METHODS)
@DEVIG_FUZZ
@given(prices=margin_markets)
def test_devig_sums_to_one_and_keeps_the_order(method, prices):
    fair = pricing.devig(prices, method)
    assert len(fair) == len(prices)
    assert math.fsum(fair) == pytest.approx(1.0, abs=1e-9)
    assert all(0 < p < 1 for p in fair)
    for i, a in enumerate(prices):
        for j, b in enumerate(prices):
            if a < b:  # i is the shorter price, the likelier outcome
                assert fair[i] >= fair[j] - 1e-15
            elif a == b:
                assert fair[i] == pytest.approx(fair[j], abs=1e-15)


@pytest.mark.parametrize("method", DEVIG_METHODS)
@DEVIG_FUZZ
@given(prices=fair_markets)
def test_a_market_without_margin_is_left_as_it_is(method, prices):
    implied = [1 / price for price in prices]
    assert pricing.devig(prices, method) == pytest.approx(implied, abs=1e-9)


def test_power_and_shin_take_more_off_the_long_shot():
    prices = [2.10, 3.40, 3.60]  # a football 1X2 market, margin about 4.8%
    multiplicative = pricing.devig(prices, "multiplicative")
    for method in ("power", "shin", "additive"):
        fair = pricing.devig(prices, method)
        assert fair[0] > multiplicative[0] and fair[2] < multiplicative[2]
    assert pricing.power_exponent(prices) > 1


def test_additive_clips_a_long_shot_it_would_push_below_zero():
    fair = pricing.devig([1.5, 1.5, 200], "additive")  # margin 34%: an equal share exceeds the long shot's 0.5%
    assert 0 < fair[2] < 1e-8
    assert fair[0] == fair[1] == pytest.approx(0.5)
    assert math.fsum(fair) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("prices", [[2.10, 3.40, 3.60], [3.5, 4.0, 5.0, 6.0, 8.0, 10.0], [1.30, 5.5, 11.0]])
def test_shin_z_of_a_real_multi_way_market_is_between_zero_and_the_margin(prices):
    assert 0 < pricing.shin_z(prices) < pricing.overround(prices)


def test_shin_z_of_a_symmetric_two_way_market_is_the_margin():
    assert pricing.shin_z([1.91, 1.91]) == pytest.approx(pricing.overround([1.91, 1.91]), rel=1e-9)


@FUZZ
@given(st.floats(1.01, 30), st.floats(1.01, 30))
def test_shin_z_of_a_two_way_market_matches_the_closed_form(a, b):
    pa, pb = 1 / a, 1 / b
    total = pa + pb
    if total <= 1.0001:
        return  # the closed form divides by the margin's sign; the solver is checked on real margins
    d2 = (pa - pb) ** 2
    closed = (total - 1) * (total - d2) / (total * (1 - d2))  # Jullien & Salanié's two-outcome z
    z = pricing.shin_z([a, b])
    assert z == pytest.approx(closed, rel=1e-9, abs=1e-12)
    assert 0 < z < 1


def test_devig_refuses_a_one_outcome_market_and_an_unknown_method():
    with pytest.raises(ValueError, match="at least two"):
        pricing.devig([1.5])
    with pytest.raises(ValueError, match="unknown de-vig method"):
        pricing.devig([1.9, 1.9], "logarithmic")
    with pytest.raises(ValueError, match="impossible"):
        pricing.devig([1.9, 0.9], "shin")


def test_expected_value_and_edge_of_known_bets():
    assert pricing.expected_value(0.55, 2.0) == pytest.approx(0.10)
    assert pricing.edge(0.55, 2.0) == pytest.approx(0.05)
    assert pricing.expected_value(0.5, Decimal("1.91")) == pytest.approx(-0.045)
    assert pricing.edge(0.5, Decimal("1.91")) == pytest.approx(0.5 - 1 / 1.91)


@FUZZ
@given(st.floats(0, 1), decimal_prices)
def test_expected_value_is_the_edge_times_the_price(probability, price):
    ev = pricing.expected_value(probability, price)
    assert ev == pytest.approx(price * pricing.edge(probability, price), abs=1e-9)
    assert (ev > 1e-12) == (pricing.edge(probability, price) > 1e-12 / price) or abs(ev) < 1e-9
