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


def _big_table_queries(queries, table):
    return [q["sql"] for q in queries if f'"{table}"' in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["Boston", "NewJersey", "BOS"])
def test_quote_search_uses_indexed_ids_in_few_queries(season, staff, term):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from betting.games.models import Team

    with CaptureQueriesContext(connection) as ctx:
        response = staff.get(reverse("admin:games_oddsquote_changelist"), {"q": term})
    assert response.status_code == 200
    assert len(ctx.captured_queries) <= 12
    on_quotes = _big_table_queries(ctx.captured_queries, "games_oddsquote")
    assert on_quotes
    for sql in on_quotes:
        # no text scan, no DISTINCT over the quotes, no count of the whole table
        assert "LIKE" not in sql.upper() and "DISTINCT" not in sql.upper(), sql
        assert "WHERE" in sql.upper() or "LIMIT" in sql.upper(), sql
    team = Team.objects.get(league__code="NBA", abbreviation={"NewJersey": "BKN"}.get(term, "BOS"))
    expected = (
        OddsQuote.objects.filter(game__home_team=team).count() + OddsQuote.objects.filter(game__away_team=team).count()
    )
    assert expected and response.context["cl"].result_count == expected


@pytest.mark.django_db
def test_quote_search_by_game_id_and_bookmaker(season, staff):
    quote = OddsQuote.objects.select_related("bookmaker").first()
    by_game = staff.get(reverse("admin:games_oddsquote_changelist"), {"q": str(quote.game_id)})
    assert by_game.context["cl"].result_count == OddsQuote.objects.filter(game_id=quote.game_id).count()
    by_book = staff.get(reverse("admin:games_oddsquote_changelist"), {"q": quote.bookmaker.key})
    from betting.games.admin_search import CappedCountPaginator

    of_book = OddsQuote.objects.filter(bookmaker=quote.bookmaker).count()
    assert by_book.context["cl"].result_count == min(of_book, CappedCountPaginator.CAP + 1)
    nothing = staff.get(reverse("admin:games_oddsquote_changelist"), {"q": "no such team"})
    assert nothing.context["cl"].result_count == 0


@pytest.mark.django_db
def test_the_quote_list_never_counts_the_whole_table(season, staff, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from betting.games.admin_search import CappedCountPaginator

    with CaptureQueriesContext(connection) as ctx:
        response = staff.get(reverse("admin:games_oddsquote_changelist"))
    assert response.status_code == 200
    counts = [sql for sql in _big_table_queries(ctx.captured_queries, "games_oddsquote") if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
    total = OddsQuote.objects.count()
    assert response.context["cl"].result_count == min(total, CappedCountPaginator.CAP + 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, table",
    [
        ("games_game", "games_game"),
        ("games_oddsquote", "games_oddsquote"),
        ("predictions_prediction", "predictions_prediction"),
        ("bets_bet", "bets_bet"),
    ],
)
def test_big_lists_search_without_text_scans_or_distinct(reference, admin_client, name, table):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse(f"admin:{name}_changelist"), {"q": "Celtics"})
    assert response.status_code == 200
    assert len(ctx.captured_queries) <= 15
    on_table = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert on_table
    # no text scan, and the rows found are not de-duplicated (the search joins nothing that repeats them)
    assert not [sql for sql in on_table if "LIKE" in sql.upper() or f'SELECT DISTINCT "{table}"."id"' in sql]
