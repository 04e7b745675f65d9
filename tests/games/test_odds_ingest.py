"""A recorded The Odds API pull into the database: games, quote history, unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from betting.games.models import Game, OddsQuote, UnresolvedName
from betting.games.providers import odds_api
from betting.games.services import odds_ingest
from core.models import JobRun

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB = FIXTURES / "mlb_odds_2024-05-24_us_eu_h2h_american.json"


@pytest.mark.django_db
def test_a_pull_creates_scheduled_games_and_quotes_and_a_second_changes_nothing(reference):
    call_command("import_odds", str(NBA))
    assert Game.objects.filter(status="scheduled").count() == 18
    assert OddsQuote.objects.filter(source="odds_api").count() == 840
    game = Game.objects.get(home_team__abbreviation="ORL", game_date="2023-12-11")
    assert game.start_time_exact and game.season == 2023 and game.away_team.abbreviation == "CLE"
    call_command("import_odds", str(NBA))
    assert OddsQuote.objects.count() == 840 and Game.objects.count() == 18
    assert JobRun.objects.filter(job="import_odds", status="success").count() == 2


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


@pytest.mark.django_db
def test_an_unknown_team_is_reported_and_the_rest_kept(reference):
    payload = json.loads(MLB.read_text())
    payload[0]["home_team"] = "Gotham Knights"
    for book in payload[0]["bookmakers"]:
        for market in book["markets"]:
            for outcome in market["outcomes"]:
                if outcome["name"] == "Pittsburgh Pirates":
                    outcome["name"] = "Gotham Knights"
    summary = odds_ingest(records=odds_api.parse(payload, odds_format="american").records)
    assert summary.events == 8 and summary.unknown_teams == ["Gotham Knights"]
    unknown = UnresolvedName.objects.get()
    assert (unknown.name, unknown.source, unknown.league.code) == ("Gotham Knights", "odds_api", "MLB")
    assert Game.objects.filter(league__code="MLB").count() == 8
