"""What a Today page served whole from the cache still does at each view, kept small: its query
string is cleaned once per spelling and league list (``_today_input``), the filter form is built only
when the page is rendered, and the slate fingerprint is reused within its clock second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from betting.bets import views
from betting.bets.forms import TodayForm
from core.web.pages import page_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh() -> Iterator[None]:
    views._cleaned_today.cache_clear()
    page_cache().clear()
    yield
    views._cleaned_today.cache_clear()


@pytest.fixture
def forms_built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    built: list[object] = []
    original = TodayForm.__init__

    def counting(self: TodayForm, *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else None)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TodayForm, "__init__", counting)
    return built


def test_a_today_page_served_whole_builds_no_form(fresh, client, forms_built):
    first = client.get("/?date=2023-12-11")
    assert first.status_code == 200
    assert len(forms_built) == 2  # the query's cleaning, then the form the page shows
    assert 'value="2023-12-11"' in first.content.decode()  # the date picker shows the day asked
    forms_built.clear()
    again = client.get("/?date=2023-12-11")
    assert again.status_code == 200 and again.content == first.content
    assert forms_built == []


def test_another_spelling_is_cleaned_once_and_shows_the_normalised_form(fresh, client, forms_built):
    for _ in range(2):
        response = client.get("/?market=h2h&date=2023-12-11&utm=x")
        assert response.status_code == 200
        assert 'value="2023-12-11"' in response.content.decode()
    # Cleaned at the first view only; the form the page shows (bound to the normalised query) is
    # built at each, as this spelling's page is not cached whole.
    assert len(forms_built) == 3
    assert sum(1 for data in forms_built if data is not None and "utm" in data) == 1


def test_a_bad_query_stays_a_400_with_its_message(fresh, client):
    for _ in range(2):
        response = client.get("/?date=2023-13-45")
        assert response.status_code == 400
        assert "could not be shown" in response.content.decode()


def test_a_new_league_makes_its_query_valid(fresh, client):
    from betting.games.models import League

    assert client.get("/?league=ZZL").status_code == 400
    League.objects.create(code="ZZL", name="Zed League", sport_key="basketball_zzl")
    assert client.get("/?league=ZZL").status_code == 200  # the cleaning is keyed by the league list too


def test_the_slate_fingerprint_is_reused_within_its_clock_second_only(monkeypatch):
    import datetime as dt

    from django.test.utils import override_settings

    from betting.bets import page_data
    from core.web import pages as web_pages

    built: list[dt.datetime] = []

    def fingerprint(**kwargs: Any) -> tuple[Any, ...]:
        built.append(kwargs["now"])
        return ("figures", len(built))

    monkeypatch.setattr(page_data, "_slate_fingerprint", fingerprint)
    start = dt.datetime(2023, 12, 11, 18, 0, 0, 100000, tzinfo=dt.UTC)
    web_pages._RECENT.clear()
    try:
        with override_settings(PAGE_FINGERPRINT_SECONDS=1.0):
            seen = [
                page_data.slate_fingerprint(day=start.date(), league=None, market="h2h", now=start + step)
                for step in (dt.timedelta(0), dt.timedelta(seconds=0.5), dt.timedelta(seconds=1))
            ]
            other = page_data.slate_fingerprint(day=start.date(), league="NBA", market="h2h", now=start)
        with override_settings(PAGE_FINGERPRINT_SECONDS=0.0):
            off = [page_data.slate_fingerprint(day=start.date(), league=None, market="h2h", now=start) for _ in (1, 2)]
    finally:
        web_pages._RECENT.clear()
    assert seen[0] == seen[1] != seen[2]  # the next second (a new query memo key) builds it again
    assert other not in seen and off[0] != off[1] and len(built) == 5
