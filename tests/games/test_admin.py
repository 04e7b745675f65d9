"""The admin as a reviewer uses it: every list renders, filters and searches, in few queries."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from betting.games.models import Game, OddsQuote
from tests.conftest import NBA_SBR


@pytest.fixture
def season(reference):
    call_command(
        "import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2010-11.csv"), "--no-progress"
    )


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "games_game",
        "games_oddsquote",
        "games_team",
        "games_teamalias",
        "games_league",
        "games_bookmaker",
        "games_injury",
        "core_jobrun",
    ],
)
def test_every_list_renders_in_a_bounded_number_of_queries(season, staff, django_assert_max_num_queries, name):
    url = reverse(f"admin:{name}_changelist")
    with django_assert_max_num_queries(15):
        response = staff.get(url)
    assert response.status_code == 200


@pytest.mark.django_db
def test_game_search_finds_games_by_an_alias(season, staff):
    response = staff.get(reverse("admin:games_game_changelist"), {"q": "NewJersey"})
    assert response.status_code == 200
    shown = response.context["cl"].result_count
    assert (
        shown
        == Game.objects.filter(home_team__abbreviation="BKN").count()
        + Game.objects.filter(away_team__abbreviation="BKN").count()
    )


@pytest.mark.django_db
def test_game_filters_and_page_with_its_quotes(season, staff, django_assert_max_num_queries):
    response = staff.get(reverse("admin:games_game_changelist"), {"neutral_site__exact": "1"})
    assert response.context["cl"].result_count == 2
    game = Game.objects.filter(neutral_site=True).first()
    with django_assert_max_num_queries(25):
        page = staff.get(reverse("admin:games_game_change", args=[game.pk]))
    assert page.status_code == 200
    assert b"quotes" in page.content and b"spreads" in page.content


@pytest.mark.django_db
def test_quotes_are_read_only_history(season, staff):
    quote = OddsQuote.objects.first()
    response = staff.post(reverse("admin:games_oddsquote_change", args=[quote.pk]), {"price": "9.99"})
    assert response.status_code == 403
    listing = staff.get(reverse("admin:games_oddsquote_changelist"), {"league": "NBA", "market__exact": "totals"})
    assert listing.context["cl"].result_count == OddsQuote.objects.filter(market="totals").count()
