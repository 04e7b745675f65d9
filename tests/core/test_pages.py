from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import NBA_SBR


def test_health_answers_without_touching_the_database(client):
    # No django_db mark: any database access in the view would raise here.
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_overview_lists_imported_seasons_in_one_query_per_table(reference, client, django_assert_max_num_queries):
    empty = client.get("/data")  # the data overview; "/" is the today page (tests/pages)
    assert b"No games yet" in empty.content
    call_command(
        "import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2011-12.csv"), "--no-progress"
    )
    # seasons, unknown names, job runs, and the results per league (three: games.selectors.results_by_league)
    with django_assert_max_num_queries(6):
        response = client.get("/data")
    assert response.status_code == 200
    assert b"2011-12" in response.content and b"1,074" in response.content


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"There is no page at this address" in response.content
    assert b"Traceback" not in response.content


def open_breaker(provider: str, error: str, failures: int):
    """The circuit breaker of ``provider`` reset, then opened by ``failures`` failures saying ``error``."""
    from core.http.breaker import get_breaker

    breaker = get_breaker()
    breaker.reset(provider)
    for _ in range(failures):
        breaker.record_failure(provider, error)
    return breaker


@pytest.mark.django_db
def test_overview_shows_an_open_breaker_and_unknown_names(reference, client, settings):
    from betting.games.models import League, UnresolvedName

    breaker = open_breaker("espn", "espn: 503 Service Unavailable", settings.CIRCUIT_BREAKER_MAX_FAILURES)
    UnresolvedName.objects.create(
        league=League.objects.get(code="NBA"), source="espn", name="MEL", last_seen="2025-10-02T00:00Z", example="x"
    )
    page = client.get("/data").content.decode()
    breaker.reset("espn")
    assert '<td class="breaker-open">open</td>' in page
    assert "<strong>MEL</strong>" in page


@pytest.mark.django_db
def test_admin_shows_breakers_and_staff_can_close_one(admin_client, client, settings):
    breaker = open_breaker("odds_api", "odds_api: 503", settings.CIRCUIT_BREAKER_MAX_FAILURES)
    assert client.get("/admin/providers/").status_code == 302  # staff only
    page = admin_client.get("/admin/providers/").content.decode()
    assert "<strong>open</strong>" in page and "Close breaker" in page
    admin_client.post("/admin/providers/", {"reset": "odds_api"})
    assert breaker.state("odds_api").state == "closed"
    assert "Providers: circuit breakers" in admin_client.get("/admin/").content.decode()
