"""Each league's last final result and the gaps behind its scheduled games
(``betting.games.selectors.results_by_league``), on /status (through ``settings.RESULTS_SUMMARY``)
and /data. A few games built in the test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.games.models import Game, League, Team
from betting.games.selectors import results_by_league

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2023, 12, 12, 12, 0, tzinfo=dt.UTC)


def game(code: str, day: dt.date, *, season: int, final: bool, home: str, away: str, hour: int = 0) -> Game:
    league = League.objects.get(code=code)
    values: dict[str, object] = {}
    if final:
        values = {"status": Game.Status.FINAL, "home_score": 110, "away_score": 101}
    return Game.objects.create(
        league=league,
        season=season,
        game_date=day,
        start_time=dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC) + dt.timedelta(hours=24),
        home_team=Team.objects.get(league=league, abbreviation=home),
        away_team=Team.objects.get(league=league, abbreviation=away),
        **values,
    )


def by_league(now: dt.datetime = NOW) -> dict[str, object]:
    return {row.league: row for row in results_by_league(now=now)}


def test_a_gap_across_seasons_longer_than_an_offseason_is_named_with_the_backfill_command(reference, settings):
    settings.OFFSEASON_DAYS = {"NBA": 190}
    game("NBA", dt.date(2018, 6, 8), season=2017, final=True, home="CLE", away="GSW")
    game("NBA", dt.date(2023, 12, 20), season=2023, final=False, home="BOS", away="LAL")
    row = by_league()["NBA"]
    assert row.last_final.game_date == dt.date(2018, 6, 8) and row.last_final_label == "GSW 101 @ CLE 110 (2018-06-08)"
    assert row.next_game.game_date == dt.date(2023, 12, 20) and row.overdue == 0
    gap = (dt.date(2023, 12, 20) - dt.date(2018, 6, 8)).days
    assert row.gap_days == gap and row.gap_allowed == 190
    (warning,) = row.warnings
    assert f"{gap} days later" in warning and "more than the 190 days" in warning
    assert "manage.py backfill --league NBA --from 2018-06-09 --to 2023-12-19 --what both" in warning


def test_an_offseason_of_normal_length_is_no_gap(reference, settings):
    settings.OFFSEASON_DAYS = {"NBA": 190}
    game("NBA", dt.date(2023, 6, 12), season=2022, final=True, home="DEN", away="MIA")
    game("NBA", dt.date(2023, 10, 24), season=2023, final=False, home="DEN", away="LAL")
    row = by_league(dt.datetime(2023, 10, 20, tzinfo=dt.UTC))["NBA"]
    assert row.gap_days == 134 and row.warnings == ()
    settings.OFFSEASON_DAYS = {"NBA": 120}
    assert "134 days later" in by_league(dt.datetime(2023, 10, 20, tzinfo=dt.UTC))["NBA"].warnings[0]


def test_a_gap_inside_a_season_longer_than_feature_staleness_warns(reference, settings):
    settings.FEATURE_STALE_DAYS = 14
    game("NBA", dt.date(2023, 11, 1), season=2023, final=True, home="BOS", away="NYK")
    game("NBA", dt.date(2023, 11, 25), season=2023, final=False, home="BOS", away="LAL")
    before = dt.datetime(2023, 11, 20, tzinfo=dt.UTC)  # the scheduled game is still to come
    (warning,) = by_league(before)["NBA"].warnings
    assert "24 days later (more than the 14 days a season pauses)" in warning
    assert "--from 2023-11-02 --to 2023-11-24 --what both" in warning
    settings.FEATURE_STALE_DAYS = 30
    assert by_league(before)["NBA"].warnings == ()


def test_started_games_without_a_final_score_are_counted_with_their_dates(reference):
    game("NBA", dt.date(2023, 12, 9), season=2023, final=True, home="BOS", away="NYK")
    for day, (home, away) in [(10, ("BOS", "LAL")), (10, ("MIA", "CHI")), (11, ("DEN", "PHX"))]:
        game("NBA", dt.date(2023, 12, day), season=2023, final=False, home=home, away=away)
    # Tonight's game (starts 2023-12-13 00:00 UTC) is not late yet.
    game("NBA", dt.date(2023, 12, 12), season=2023, final=False, home="GSW", away="SAC")
    row = by_league()["NBA"]
    assert row.overdue == 3 and (row.overdue_first, row.overdue_last) == (dt.date(2023, 12, 10), dt.date(2023, 12, 11))
    (warning,) = row.warnings
    assert warning.startswith("NBA: 3 games between 2023-12-10 and 2023-12-11 started more than 6 hours ago")
    assert "manage.py backfill --league NBA --from 2023-12-10 --to 2023-12-11 --what scores" in warning
    # A day later the evening game is late too; postponed games never are.
    Game.objects.filter(game_date=dt.date(2023, 12, 10), home_team__abbreviation="MIA").update(
        status=Game.Status.POSTPONED
    )
    later = by_league(NOW + dt.timedelta(days=1))["NBA"]
    assert later.overdue == 3 and later.overdue_last == dt.date(2023, 12, 12)


def test_leagues_apart_and_in_three_queries_whatever_the_number_of_games(reference):
    game("NBA", dt.date(2023, 12, 9), season=2023, final=True, home="BOS", away="NYK")
    game("MLB", dt.date(2018, 10, 28), season=2018, final=True, home="LAD", away="BOS")
    game("MLB", dt.date(2024, 5, 24), season=2024, final=False, home="PIT", away="ATL")
    with CaptureQueriesContext(connection) as few:
        rows = by_league(dt.datetime(2024, 5, 26, tzinfo=dt.UTC))
    assert rows["NBA"].warnings == () and rows["NBA"].next_game is None
    assert len(rows["MLB"].warnings) == 2  # the game of 2024-05-24 is late, and the years before it are missing
    for day in range(10, 20):
        game("NBA", dt.date(2023, 12, day), season=2023, final=True, home="BOS", away="NYK")
    with CaptureQueriesContext(connection) as more:
        by_league(dt.datetime(2024, 5, 26, tzinfo=dt.UTC))
    assert len(few) == len(more) == 3


def test_status_and_data_pages_show_the_last_result_and_the_warning(reference, client, settings):
    settings.OFFSEASON_DAYS = {"MLB": 180}
    game("MLB", dt.date(2018, 10, 28), season=2018, final=True, home="LAD", away="BOS")
    game("MLB", dt.date(2024, 5, 24), season=2024, final=False, home="PIT", away="ATL")
    for url in ("/status", "/data"):
        html = client.get(url).content.decode()
        assert "2018-10-28: BOS 101 @ LAD 110" in html, url
        assert "manage.py backfill --league MLB --from 2018-10-29 --to 2024-05-23 --what both" in html, url
        assert "Results missing." in html and "Traceback" not in html


def test_the_status_page_reads_the_results_through_the_setting(reference, client, settings):
    game("MLB", dt.date(2018, 10, 28), season=2018, final=True, home="LAD", away="BOS")
    settings.RESULTS_SUMMARY = ""
    assert "BOS 101 @ LAD 110" not in client.get("/status").content.decode()
