"""The Today page opens on something: with no games today it shows the nearest date with games and
odds (the nearest future one first, else the most recent past one) and says so, with a league
switch; a date in the query string is respected; with no games at all it says how to get them.
The games and odds are the recorded Odds API payloads (NBA 2023-12-11 and 12-25, MLB 2024-05-24)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import DEMO
from tests.pages.conftest import run

pytestmark = pytest.mark.django_db

NBA_ODDS = DEMO / "odds_api" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB_ODDS = DEMO / "odds_api" / "mlb_odds_2024-05-24_us_eu_h2h_american.json"
NO_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def odds(reference):
    run("fetch_odds", "--league", "NBA", "--from-file", str(NBA_ODDS))
    run("fetch_odds", "--league", "MLB", "--from-file", str(MLB_ODDS), "--odds-format", "american")


def page(client, url: str, *, today: str) -> str:
    # 17:00 UTC is the same date in the display time zone (America/New_York by default).
    moment = dt.datetime.fromisoformat(f"{today}T17:00:00+00:00")
    with time_machine.travel(moment, tick=False), override_settings(CACHES=NO_CACHE):
        response = client.get(url)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html)
    assert found
    return found.group(1)


def test_no_games_today_opens_on_the_nearest_future_date_with_odds(client, odds):
    html = page(client, "/", today="2023-12-01")
    assert "No games today</strong> (2023-12-01); showing 2023-12-11 (NBA)" in html
    assert "the nearest date with games and odds." in html
    assert heading(html) == "Games of Monday 11 December 2023"
    assert 'value="2023-12-11"' in html  # the date picker shows the day opened on
    assert re.search(r'<option value="NBA" selected>', html)  # the one league playing that day
    # the league switch: each league's own nearest date, no date in its link
    assert 'href="?league=MLB&amp;market=h2h"' in html and "(2024-05-24)" in html
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_between_two_slates_the_future_one_wins(client, odds):
    html = page(client, "/", today="2023-12-20")
    assert "showing 2023-12-25 (NBA)" in html and heading(html) == "Games of Monday 25 December 2023"


def test_after_the_last_games_the_most_recent_past_date_is_shown(client, odds):
    html = page(client, "/", today="2025-01-10")
    assert "showing 2024-05-24 (MLB), the nearest date with games and odds (no later date has any)" in html
    html = page(client, "/?league=NBA", today="2025-01-10")
    assert "No NBA games today</strong> (2025-01-10); showing 2023-12-25, the nearest date with games and odds" in html
    assert heading(html) == "Games of Monday 25 December 2023"


def test_a_date_in_the_query_string_is_respected(client, odds):
    html = page(client, "/?date=2023-12-20", today="2023-12-01")
    assert "showing" not in html and "No games on Wednesday 20 December 2023" in html
    assert "Next games on" in html and "2023-12-25" in html


def test_a_day_with_games_today_opens_on_today(client, odds):
    html = page(client, "/", today="2023-12-11")
    assert "No games today" not in html and heading(html) == "Games of Monday 11 December 2023"


def test_games_without_odds_are_shown_when_no_date_has_odds(client, odds):
    from betting.games.models import OddsQuote

    OddsQuote.objects.all().delete()
    html = page(client, "/?league=MLB", today="2024-05-01")
    assert "showing 2024-05-24, the nearest date with games: none of them has odds yet" in html
    assert "ODDS_API_KEY" in html


def test_no_games_at_all_says_how_to_get_todays(client, reference):
    html = page(client, "/", today="2024-02-01")
    assert "No games are loaded yet" in html and "ODDS_API_KEY" in html
    assert "manage.py backfill --league NBA --from 2024-02-01 --to 2024-02-01 --what both" in html
    assert "manage.py fetch_odds" in html and "manage.py fetch_scores" in html


def test_finding_the_day_is_one_query(client, odds):
    from betting.bets import page_data

    with CaptureQueriesContext(connection) as queries:
        opening = page_data.opening_day(today=dt.date(2023, 12, 1), league=None, leagues=["MLB", "NBA"])
    assert len(queries) == 1
    assert opening.day == dt.date(2023, 12, 11) and opening.league == "NBA" and opening.future
    assert opening.nearest == (("MLB", dt.date(2024, 5, 24)), ("NBA", dt.date(2023, 12, 11)))


def test_an_archive_only_day_is_not_a_day_with_odds(client, odds, tmp_path):
    # A later day known only from an archive (closing lines, no bookmaker's prices) loses to the
    # recorded slate: the page opens where there are prices to compare.
    archive = tmp_path / "kaggle.csv"
    csv = (DEMO / "nba" / "kaggle" / "nba_betting_2022-23_to_2024-25.csv").read_text().splitlines()
    archive.write_text("\n".join([csv[0], csv[-1]]) + "\n")
    run("import_history", "--league", "NBA", "--format", "kaggle", str(archive))
    html = page(client, "/?league=NBA", today="2025-07-01")
    assert "showing 2023-12-25, the nearest date with games and odds" in html
