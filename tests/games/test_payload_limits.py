"""Hostile provider payloads, made from the real recorded ones: a value longer than its column is
refused with its event, bookmaker or row (the rest of the pull written, the run partial and saying
where), never a database error; a payload larger than a pull may be is refused whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from betting.games import models
from betting.games.models import Bookmaker, Game, Injury, OddsQuote, UnresolvedName
from betting.games.providers import live_records
from betting.games.pulls import injuries_pull, scores_pull
from core.models import JobRun

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA_ODDS = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"  # 18 events, 15 bookmakers, 840 quotes
MLB_BOARD = FIXTURES / "mlb_scoreboard_2025.json"  # 14 games
INJURIES = FIXTURES / "espn_api_derived_injuries_2026-01-20.json"  # 99 rows
LONG_TEAM = "Los Angeles " + "L" * 488  # 500 characters


def mutated(tmp_path: Path, source: Path, change) -> Path:
    payload = json.loads(source.read_text())
    change(payload)
    path = tmp_path / source.name
    path.write_text(json.dumps(payload))
    return path


def fetch_odds(path: Path) -> str:
    from io import StringIO

    out = StringIO()
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(path), stdout=out)
    return out.getvalue()


def quotes_of(event: dict[str, Any]) -> int:
    return sum(len(m["outcomes"]) for b in event["bookmakers"] for m in b["markets"])


def test_the_parsers_bounds_are_the_columns_widths():
    def width(model, name):
        return model._meta.get_field(name).max_length

    columns = {
        "TEAM_NAME_LENGTH": [width(models.TeamAlias, "name"), width(models.UnresolvedName, "name")],
        "SPORT_KEY_LENGTH": [width(models.League, "sport_key")],
        "BOOKMAKER_KEY_LENGTH": [width(models.Bookmaker, "key")],
        "BOOKMAKER_TITLE_LENGTH": [width(models.Bookmaker, "title")],
        "PITCHER_LENGTH": [width(models.Game, "home_pitcher"), width(models.Game, "away_pitcher")],
        "PLAYER_NAME_LENGTH": [width(models.Injury, "player_name")],
        "PLAYER_ID_LENGTH": [width(models.Injury, "player_external_id")],
    }
    bounds = {name: [getattr(live_records, name)] * len(widths) for name, widths in columns.items()}
    assert columns == bounds


def test_a_500_character_team_name_refuses_its_event_and_the_other_17_are_written(reference, tmp_path):
    payload = json.loads(NBA_ODDS.read_text())
    hostile = payload[3]

    def lengthen(events):
        events[3]["home_team"] = LONG_TEAM

    out = fetch_odds(mutated(tmp_path, NBA_ODDS, lengthen))
    assert out.startswith("partial:")
    assert Game.objects.count() == 17
    assert OddsQuote.objects.count() == 840 - quotes_of(hostile)
    assert not UnresolvedName.objects.exists()  # no name to alias: refused before any lookup
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == JobRun.Status.PARTIAL
    assert run.counts["refused"] == {"event refused: home_team longer than 100 characters": 1}
    assert f"events[3] (id {hostile['id']})" in run.error and "the rest written" in run.error


def test_a_51_character_bookmaker_key_refuses_that_bookmaker_only(reference, tmp_path):
    payload = json.loads(NBA_ODDS.read_text())
    book = payload[0]["bookmakers"][0]
    long_key = "b" * 51

    def lengthen(events):
        events[0]["bookmakers"][0]["key"] = long_key

    fetch_odds(mutated(tmp_path, NBA_ODDS, lengthen))
    assert Game.objects.count() == 18
    assert OddsQuote.objects.count() == 840 - sum(len(m["outcomes"]) for m in book["markets"])
    assert not Bookmaker.objects.filter(key=long_key).exists()
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == JobRun.Status.PARTIAL
    assert run.counts["refused"] == {"bookmaker refused: key longer than 50 characters": 1}
    # The next scheduled pull is not hurried by a partial one (it wrote the rest): a day before the
    # games, a minute after this run, NBA odds are not due again yet.
    from datetime import timedelta

    from betting.games.pulls import odds_due

    now = Game.objects.order_by("start_time").first().start_time - timedelta(days=1)
    JobRun.objects.filter(pk=run.pk).update(started_at=now - timedelta(minutes=1))
    assert "NBA" not in odds_due(now=now)
    JobRun.objects.filter(pk=run.pk).update(started_at=now - timedelta(minutes=20))
    assert "NBA" in odds_due(now=now)


def test_a_pull_with_more_events_than_pull_max_events_is_refused_whole(reference, settings, tmp_path):
    def multiply(events):
        events[:] = [{**event, "id": f"{event['id']}-{n}"} for n in range(6) for event in events]  # 108 events

    settings.PULL_MAX_EVENTS = 100
    with pytest.raises(CommandError, match=r"PayloadTooLarge: the payload holds 108 events, more than the 100"):
        fetch_odds(mutated(tmp_path, NBA_ODDS, multiply))
    assert Game.objects.count() == 0 and OddsQuote.objects.count() == 0
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == JobRun.Status.FAILED and "108 events" in run.error


def test_a_pull_with_more_bookmakers_than_pull_max_bookmakers_is_refused_whole(reference, settings):
    settings.PULL_MAX_BOOKMAKERS = 10
    with pytest.raises(CommandError, match=r"holds 15 distinct bookmakers, more than the 10"):
        fetch_odds(NBA_ODDS)
    assert not OddsQuote.objects.exists() and not Bookmaker.objects.exists()


def test_a_payload_over_pull_max_bytes_is_refused_before_it_is_read(reference, settings):
    settings.PULL_MAX_BYTES = 100_000
    with pytest.raises(CommandError, match=r"is 199,157 bytes, more than PULL_MAX_BYTES \(100,000\)"):
        fetch_odds(NBA_ODDS)
    assert not Game.objects.exists()
    assert JobRun.objects.get(job="fetch_odds").status == JobRun.Status.FAILED


def test_a_live_answer_over_pull_max_bytes_is_refused(reference, settings):
    import responses

    from betting.games.pulls import PullError

    settings.ODDS_API_BASE_URL, settings.ODDS_API_KEY, settings.PULL_MAX_BYTES = "https://odds.test", "a" * 32, 1000
    with responses.RequestsMock() as mock:
        mock.get("https://odds.test/v4/sports/basketball_nba/odds", body=NBA_ODDS.read_bytes())
        with pytest.raises(PullError, match="The Odds API's answer is 199,157 bytes"):
            from betting.games.pulls import odds_pull

            odds_pull(league_code="NBA")
    assert not Game.objects.exists()


def test_scoreboard_an_overlong_team_refuses_its_game_and_an_overlong_pitcher_is_left_unknown(reference, tmp_path):
    def lengthen(board):
        board["events"][0]["competitions"][0]["competitors"][0]["team"]["abbreviation"] = "X" * 101
        probable = board["events"][1]["competitions"][0]["competitors"][0]["probables"][0]
        probable["athlete"]["displayName"] = "P" * 61

    result = scores_pull(league_code="MLB", from_file=mutated(tmp_path, MLB_BOARD, lengthen))
    assert result.status == JobRun.Status.PARTIAL and Game.objects.count() == 13
    assert result.counts["refused"] == {
        "event refused: home_team longer than 100 characters": 1,
        "probable pitcher refused: longer than 60 characters": 1,
    }
    assert not Game.objects.filter(home_pitcher__startswith="PPP").exists()


def test_injuries_an_overlong_player_refuses_that_row_only(reference, tmp_path):
    def lengthen(rows):
        rows[0]["player_name"] = "N" * 101
        rows[1]["player_id"] = "9" * 51

    result = injuries_pull(from_file=mutated(tmp_path, INJURIES, lengthen))
    assert result.status == JobRun.Status.PARTIAL and Injury.objects.count() == 97
    assert result.counts["refused"] == {
        "injury refused: player_name longer than 100 characters": 1,
        "injury refused: player_id longer than 50 characters": 1,
    }


def test_an_injury_file_with_more_rows_than_pull_max_events_is_refused_whole(reference, settings):
    from betting.games.providers.records import PayloadTooLarge

    settings.PULL_MAX_EVENTS = 50
    with pytest.raises(PayloadTooLarge, match="99 injury rows"):
        injuries_pull(from_file=INJURIES)
    assert not Injury.objects.exists()
