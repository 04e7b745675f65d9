"""Player props from The Odds API per-event endpoint: parsed, written once, budgeted.

The payload is built by hand from the documented response shape (tests/fixtures/SOURCES.md), on the real
events and books of the recorded 2023-12-11 NBA pull."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from betting.games.ingest.odds import odds_ingest
from betting.games.models import OddsQuote
from betting.games.providers import odds_api
from core.models import JobRun

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROPS = FIXTURES / "nba_props_event_2023-12-11_documented_shape.json"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"


def test_props_parse_into_quotes_keyed_by_player_market_and_line():
    report = odds_api.parse_props(PROPS.read_bytes())
    assert report.skipped == {} and report.refused == {}
    assert len(report.records) == 76  # 38 over/under pairs
    bam = [r for r in report.records if r.player == "Bam Adebayo" and r.market == "player_points"]
    assert {(r.bookmaker_key, r.outcome, float(r.point or 0), float(r.price)) for r in bam} >= {
        ("betmgm", "over", 19.5, 2.10),
        ("fanduel", "under", 19.5, 2.00),
    }
    assert {r.outcome for r in report.records} == {"over", "under"}
    assert {r.event_external_id for r in report.records} == {
        "837bd47f179cf27d9fceb17c23a32580",
        "1357b87c524dbf1b090c2eefd5206295",
    }


def test_one_event_object_is_read_like_a_list_of_one():
    events = json.loads(PROPS.read_text())
    assert odds_api.parse_props(json.dumps(events[0])).records == odds_api.parse_props([events[0]]).records


def test_a_player_missing_a_side_is_dropped_and_counted_the_rest_kept():
    events = json.loads(PROPS.read_text())
    outcomes = events[0]["bookmakers"][0]["markets"][0]["outcomes"]
    outcomes.pop(1)  # Bam Adebayo's under at DraftKings
    report = odds_api.parse_props(events)
    assert report.skipped == {"player_points player dropped: a side is missing": 1}
    assert len(report.records) == 74


def test_the_plain_odds_parser_still_skips_prop_markets():
    report = odds_api.parse(PROPS.read_bytes())
    assert report.records == [] and report.skipped["unknown market player_points"] == 8


@pytest.mark.django_db
def test_second_props_pull_changes_nothing_and_game_markets_are_untouched(reference):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA), stdout=StringIO())
    game_quotes = OddsQuote.objects.count()
    call_command("fetch_props", "--league", "NBA", "--from-file", str(PROPS), stdout=StringIO())
    props = OddsQuote.objects.exclude(player="")
    assert props.count() == 76
    assert OddsQuote.objects.filter(player="").count() == game_quotes
    assert props.values("game").distinct().count() == 2  # the games of the odds pull, not new ones
    call_command("fetch_props", "--league", "NBA", "--from-file", str(PROPS), stdout=StringIO())
    assert OddsQuote.objects.count() == game_quotes + 76
    runs = JobRun.objects.filter(job="fetch_props").order_by("started_at")
    assert [r.status for r in runs] == ["success", "success"]
    last = runs.last()
    assert last is not None and last.counts["quotes_created"] == 0


@pytest.mark.django_db
def test_two_players_on_one_line_are_two_quotes(reference):
    odds_ingest(records=odds_api.parse_props(PROPS.read_bytes()).records)
    at_line = OddsQuote.objects.filter(
        market="player_points", point=19.5, bookmaker__key="draftkings", outcome="over"
    ).values_list("player", flat=True)
    assert sorted(at_line) == ["Bam Adebayo", "Miles Bridges"]


class _Response:
    def __init__(self, body: bytes) -> None:
        self.content = body


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2023, 12, 11, 17, 0, tzinfo=dt.UTC), tick=False)
def test_live_props_pull_asks_per_event_within_the_budget(reference, settings, monkeypatch):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA), stdout=StringIO())
    settings.ODDS_API_KEY = "a" * 32
    settings.PROPS_MAX_EVENTS_PER_PULL = 2
    settings.ODDS_API_QUOTA_RESERVE = 50
    events = {event["id"]: event for event in json.loads(PROPS.read_text())}
    asked: list[tuple[str, dict[str, Any]]] = []
    left = {"remaining": 60}

    def fake_get(provider: str, url: str, *, params: dict[str, Any]) -> _Response:
        asked.append((url, params))
        left["remaining"] -= 6  # 3 markets x 1 region, priced high to reach the reserve
        event_id = url.rstrip("/").split("/")[-2]
        return _Response(json.dumps(events.get(event_id, {**next(iter(events.values())), "id": event_id})).encode())

    from betting.games import pulls

    monkeypatch.setattr(pulls.http, "get", fake_get)
    monkeypatch.setattr(pulls.http, "quota", lambda provider: dict(left))
    result = pulls.props_pull(league_code="NBA")
    assert len(asked) == 2 and result.counts["events_asked"] == 2
    url, params = asked[0]
    assert "/v4/sports/basketball_nba/events/" in url and url.endswith("/odds")
    assert params["markets"] == "player_points,player_rebounds,player_assists"

    left["remaining"] = 49  # under the reserve: nothing is asked, the run says why
    asked.clear()
    result = pulls.props_pull(league_code="NBA")
    assert asked == [] and result.status == JobRun.Status.SKIPPED
    assert "under the reserve of 50" in result.note
