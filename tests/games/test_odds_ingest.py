"""A recorded The Odds API pull into the database: games, quote history, unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from betting.games.ingest.odds import odds_ingest
from betting.games.models import Game, OddsQuote, UnresolvedName
from betting.games.providers import odds_api
from core.models import JobRun

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB = FIXTURES / "mlb_odds_2024-05-24_us_eu_h2h_american.json"


@pytest.mark.django_db
def test_a_pull_creates_scheduled_games_and_quotes_and_a_second_changes_nothing(reference):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA))
    assert Game.objects.filter(status="scheduled").count() == 18
    assert OddsQuote.objects.filter(source="odds_api").count() == 840
    game = Game.objects.get(home_team__abbreviation="ORL", game_date="2023-12-11")
    assert game.start_time_exact and game.season == 2023 and game.away_team.abbreviation == "CLE"
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA))
    assert OddsQuote.objects.count() == 840 and Game.objects.count() == 18
    assert JobRun.objects.filter(job="fetch_odds", status="success").count() == 2


@pytest.mark.django_db
def test_only_moved_prices_are_appended(reference):
    payload = json.loads(NBA.read_text())
    odds_ingest(records=odds_api.parse(payload).records)
    event = payload[0]
    book = event["bookmakers"][0]
    market = book["markets"][0]
    market["last_update"] = "2023-12-11T23:59:00Z"
    book["last_update"] = "2023-12-11T23:59:00Z"
    market["outcomes"][0]["price"] = round(market["outcomes"][0]["price"] + 0.1, 2)
    for other in book["markets"][1:]:
        other["last_update"] = "2023-12-11T23:59:00Z"  # newer snapshot, same prices: nothing to append
    summary = odds_ingest(records=odds_api.parse([event]).records)
    assert summary.quotes_created == 1
    history = OddsQuote.objects.filter(
        bookmaker__key=book["key"], market=market["key"], game__details__odds_api__event_id=event["id"]
    )
    assert history.filter(outcome__in=["home", "away"]).count() == 3


def gotham(tmp_path: Path) -> Path:
    """The real MLB sample with one team renamed to a name nobody knows."""
    payload = json.loads(MLB.read_text())
    payload[0]["home_team"] = "Gotham Knights"
    for book in payload[0]["bookmakers"]:
        for market in book["markets"]:
            for outcome in market["outcomes"]:
                if outcome["name"] == "Pittsburgh Pirates":
                    outcome["name"] = "Gotham Knights"
    path = tmp_path / "odds.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.django_db
def test_an_unknown_team_fails_the_pull_writes_nothing_and_is_listed(reference, tmp_path):
    path = gotham(tmp_path)
    with pytest.raises(CommandError, match=r"unknown team name.*MLB 'Gotham Knights'.*nothing from this pull"):
        call_command("fetch_odds", "--league", "MLB", "--odds-format", "american", "--from-file", str(path))
    assert Game.objects.count() == 0 and OddsQuote.objects.count() == 0
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == "failed" and "Gotham Knights" in run.error
    unknown = UnresolvedName.objects.get()
    assert (unknown.name, unknown.source, unknown.league.code) == ("Gotham Knights", "odds_api", "MLB")
    # The operator marks it as not a league team: the replay keeps the other eight games.
    unknown.ignore = True
    unknown.save()
    call_command("fetch_odds", "--league", "MLB", "--odds-format", "american", "--from-file", str(path))
    assert Game.objects.filter(league__code="MLB").count() == 8


@pytest.mark.django_db
def test_a_truncated_payload_fails_with_a_clear_message_and_writes_nothing(reference, tmp_path):
    path = tmp_path / "odds.json"
    path.write_bytes(NBA.read_bytes()[:5000])
    with pytest.raises(CommandError, match="ParseError"):
        call_command("fetch_odds", "--league", "NBA", "--from-file", str(path))
    assert Game.objects.count() == 0 and OddsQuote.objects.count() == 0
    assert JobRun.objects.get(job="fetch_odds").status == "failed"
