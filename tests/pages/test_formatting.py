"""Figures as a bettor reads them: odds in American or decimal (the browser's choice, remembered),
signed spreads, money to the cent with thousands separators, percentages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from betting.bets import pricing
from core.web import formatting
from core.web.preferences import COOKIE
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("price", "american"),
    [
        ("2.0", "+100"),  # even money is written +100
        ("2.00", "+100"),
        ("2.5", "+150"),
        ("1.5", "-200"),
        ("1.909", "-110"),  # the standard -110 of a spread
        ("1.91", "-110"),
        ("1.952", "-105"),
        ("1.01", "-10000"),  # a heavy favourite
        ("1.001", "-100000"),
        ("101", "+10000"),  # a long shot
        ("3.75", "+275"),
        ("1.995", "-101"),  # just under evens never reads as a size under 100
    ],
)
def test_decimal_odds_read_as_american(price, american):
    assert formatting.format_odds(Decimal(price), "american") == american
    assert formatting.format_odds(float(price), "american") == american


@pytest.mark.parametrize(
    ("american", "decimal"),
    [("+100", "2.00"), ("-100", "2.00"), ("+150", "2.50"), ("-110", "1.91"), ("-200", "1.50"), ("-10000", "1.01")],
)
def test_american_odds_read_back_as_decimal(american, decimal):
    price = formatting.decimal_from_american(Decimal(american))
    assert formatting.format_odds(price, "decimal") == decimal
    # and back again to the same American figure
    assert formatting.format_odds(price, "american") == ("+100" if american == "-100" else american)


@given(st.decimals(min_value=Decimal("1.0001"), max_value=Decimal("1000"), places=4))
def test_the_display_conversion_is_pricings_rounded(price):
    """core may not import betting: the page's conversion is checked against pricing's here."""
    exact = pricing.decimal_to_american(price)
    shown = formatting.american(price)
    assert shown is not None and abs(shown) >= 100
    assert abs(Decimal(shown) - exact) <= Decimal("0.5") or abs(shown) == 100


@pytest.mark.parametrize("bad", [None, "", "abc", Decimal("1"), Decimal("0.5"), -3, float("nan"), float("inf")])
def test_an_impossible_or_missing_price_is_a_dash(bad):
    assert formatting.format_odds(bad, "american") == formatting.DASH
    assert formatting.format_odds(bad, "decimal") == formatting.DASH


@pytest.mark.parametrize(
    ("point", "market", "shown"),
    [
        (Decimal("4.5"), "spreads", "+4.5"),
        (Decimal("-4.5"), "spreads", "-4.5"),
        (Decimal("-4.50"), "spreads", "-4.5"),
        (Decimal("0"), "spreads", "PK"),
        (0.0, "spreads", "PK"),
        (Decimal("7.0"), "spreads", "+7"),
        (-12, "spreads", "-12"),
        (Decimal("220.5"), "totals", "220.5"),
        (Decimal("8.0"), "totals", "8"),
        (Decimal("25.5"), "player_points", "25.5"),
        (Decimal("-1.5"), "h2h", ""),
        (None, "spreads", ""),
    ],
)
def test_spreads_are_signed_and_a_pick_em_is_pk(point, market, shown):
    assert formatting.format_line(point, market) == shown


@pytest.mark.parametrize(
    ("amount", "shown", "signed"),
    [
        (8000.11000000000, "8,000.11", "+8,000.11"),
        (Decimal("8000.11000000000"), "8,000.11", "+8,000.11"),
        (Decimal("1234567.005"), "1,234,567.01", "+1,234,567.01"),  # half up, not to even
        (Decimal("-12.5"), "-12.50", "-12.50"),
        (Decimal("-0.001"), "0.00", "+0.00"),  # never -0.00
        (0, "0.00", "+0.00"),
        (None, formatting.DASH, formatting.DASH),
    ],
)
def test_money_is_to_the_cent_with_thousands_separators(amount, shown, signed):
    assert formatting.format_money(amount) == shown
    assert formatting.format_money(amount, signed=True) == signed


@pytest.mark.parametrize(
    ("share", "digits", "shown", "signed"),
    [
        (0.0525, 1, "5.3%", "+5.3%"),
        (Decimal("0.0525"), 1, "5.3%", "+5.3%"),
        (0.123456, 2, "12.35%", "+12.35%"),
        (-0.00001, 1, "0.0%", "+0.0%"),  # never -0.0%
        (-0.031, 1, "-3.1%", "-3.1%"),
        (1, 0, "100%", "+100%"),
        (None, 1, formatting.DASH, formatting.DASH),
    ],
)
def test_percentages_have_a_sensible_precision(share, digits, shown, signed):
    assert formatting.format_pct(share, digits) == shown
    assert formatting.format_pct(share, digits, signed=True) == signed


def render(text: str, **context: object) -> str:
    return Template("{% load pages %}" + text).render(Context(context))


def test_the_filters_follow_odds_format_and_a_style_forces_one(settings):
    settings.ODDS_FORMAT = "american"
    assert render("{{ p|odds }} {{ p|odds:'decimal' }}", p=Decimal("2.5")) == "+150 2.50"
    settings.ODDS_FORMAT = "decimal"
    assert render("{{ p|odds }} {{ p|odds:'american' }}", p=Decimal("1.909")) == "1.91 -110"
    html = render(
        "{{ a|line:'spreads' }} {{ z|line:'spreads' }} {{ t|line:'totals' }} {{ m|money }} {{ m|signed_money }}",
        a=Decimal("-3.5"),
        z=Decimal("0"),
        t=Decimal("221.0"),
        m=Decimal("8000.11000000000"),
    )
    assert html == "-3.5 PK 221 8,000.11 +8,000.11"


@pytest.fixture
def slate_game(reference):
    from betting.games.models import Game

    recorded_nba_odds()
    return Game.objects.get(home_team__abbreviation="ORL", game_date=dt.date(2023, 12, 11))


def _closing_prices(html: str) -> list[str]:
    """The prices of the game page's opening/closing table ("@ +105")."""
    return re.findall(r"@ ([+-]?\d[\d,.]*)", html)


@pytest.mark.django_db
def test_the_toggle_remembers_the_choice_and_every_page_follows_it(client, settings, slate_game):
    settings.ODDS_FORMAT = "american"
    url = f"/games/{slate_game.pk}"
    american = client.get(url).content.decode()
    shown = _closing_prices(american)
    assert shown and all(p.startswith(("+", "-")) for p in shown), shown
    assert 'href="/odds-format?odds=decimal&amp;next=%2Fgames%2F' in american  # the toggle, a plain link

    response = client.get(f"/odds-format?odds=decimal&next={url}")
    assert response.status_code == 302 and response["Location"] == url
    cookie = response.cookies[COOKIE]
    assert cookie.value == "decimal" and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 30 * 24 * 3600

    decimal = client.get(url).content.decode()  # the same cached page, in the other format
    prices = _closing_prices(decimal)
    assert prices and all(re.fullmatch(r"\d+\.\d\d", p) for p in prices), prices
    assert len(prices) == len(shown)
    # the recorded prices have two decimals, so each decimal figure is the stored price exactly
    assert [formatting.format_odds(Decimal(d), "american") for d in prices] == shown

    client.cookies.pop(COOKIE)
    assert _closing_prices(client.get(url).content.decode()) == shown  # back to ODDS_FORMAT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "location"),
    [("odds=american&next=https://evil.example/", "/"), ("odds=american", "/"), ("odds=american&next=/bets", "/bets")],
)
def test_the_toggle_only_returns_to_this_site(client, query, location):
    response = client.get(f"/odds-format?{query}")
    assert response.status_code == 302 and response["Location"] == location


@pytest.mark.django_db
def test_an_unknown_odds_format_is_a_400_and_a_bad_cookie_is_ignored(client, settings, slate_game):
    response = client.get("/odds-format?odds=fractional&next=/")
    assert response.status_code == 400 and "american, decimal" in response.content.decode()
    settings.ODDS_FORMAT = "american"
    client.cookies[COOKIE] = "fractional"
    html = client.get(f"/games/{slate_game.pk}").content.decode()
    assert all(p.startswith(("+", "-")) for p in _closing_prices(html))
