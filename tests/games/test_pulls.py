"""Pulls through the real HTTP client against recorded payloads behind `responses`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import responses
from django.core.management import CommandError, call_command

from betting.games.models import Game, Injury, OddsQuote
from betting.games.pulls import PullError, odds_pull, scores_pull
from core.http import client as http
from core.models import JobRun

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ODDS_URL = "https://odds.test/v4/sports/basketball_nba/odds"
KEY = "a" * 32


@pytest.fixture
def providers(settings):
    settings.ODDS_API_BASE_URL = "https://odds.test"
    settings.ESPN_BASE_URL = "https://espn.test/sports"
    settings.INJURIES_URL = "https://injuries.test/nba/injuries/"
    settings.ODDS_API_KEY = KEY
    settings.HTTP_BACKOFF_BASE = 0.0
    settings.HTTP_BACKOFF_CAP = 0.0
    http._forget_sessions()
    from django.core.cache import cache

    from core.http.breaker import get_breaker

    cache.delete("quota:odds_api")

    for name in http.providers():
        get_breaker().reset(name)
    return settings


@pytest.mark.django_db
@responses.activate
def test_live_odds_pull_sends_the_key_records_the_quota_and_writes_the_pull(reference, providers):
    responses.get(
        ODDS_URL,
        body=(FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_bytes(),
        headers={"x-requests-remaining": "480", "x-requests-used": "20", "x-requests-last": "3"},
    )
    result = odds_pull(league_code="NBA")
    assert result.status == "success" and result.counts["quotes_created"] == 840
    sent = responses.calls[0].request
    assert f"apiKey={KEY}" in sent.url and "markets=h2h%2Cspreads%2Ctotals" in sent.url
    assert http.quota("odds_api")["remaining"] == 480


@pytest.mark.django_db
@responses.activate
def test_odds_pull_stops_at_the_quota_reserve(reference, providers):
    providers.ODDS_API_QUOTA_RESERVE = 500
    responses.get(
        ODDS_URL,
        body=(FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_bytes(),
        headers={"x-requests-remaining": "480"},
    )
    odds_pull(league_code="NBA")
    again = odds_pull(league_code="NBA")
    assert again.status == "skipped" and "480 requests left" in again.note
    assert len(responses.calls) == 1


@pytest.mark.django_db
@responses.activate
def test_a_provider_down_is_a_failed_job_with_the_reason_and_no_rows(reference, providers):
    responses.get(ODDS_URL, status=503)
    with pytest.raises(http.ProviderUnavailable):
        odds_pull(league_code="NBA")
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == "failed" and "503" in run.error and KEY not in run.error
    assert OddsQuote.objects.count() == 0


@pytest.mark.django_db
def test_missing_or_malformed_api_key_is_a_clear_error(reference, providers):
    providers.ODDS_API_KEY = ""
    with pytest.raises(PullError, match="ODDS_API_KEY is not set"):
        odds_pull(league_code="NBA")
    providers.ODDS_API_KEY = "short-key!"
    with pytest.raises(PullError, match="ODDS_API_KEY is malformed") as caught:
        odds_pull(league_code="NBA")
    assert "short-key" not in str(caught.value)


@pytest.mark.django_db
@responses.activate
def test_scoreboard_pull_by_date(reference, providers):
    responses.get(
        "https://espn.test/sports/baseball/mlb/scoreboard", body=(FIXTURES / "mlb_scoreboard_2025.json").read_bytes()
    )
    result = scores_pull(league_code="MLB", day=dt.date(2025, 9, 21))
    assert result.counts["created"] == 14
    assert "dates=20250921" in responses.calls[0].request.url


@pytest.mark.django_db
def test_injury_page_replay_and_a_changed_page(reference, tmp_path):
    call_command("fetch_injuries", "--from-file", str(FIXTURES / "cbs_injuries_nba_structure.html"))
    rows = Injury.objects.filter(source="cbs").count()
    assert rows > 0
    changed = tmp_path / "page.html"
    changed.write_text("<html><head><title>Access denied</title></head><body>Blocked</body></html>")
    with pytest.raises(CommandError, match="PageChanged"):
        call_command("fetch_injuries", "--from-file", str(changed))
    assert Injury.objects.filter(source="cbs").count() == rows
    failed = JobRun.objects.filter(job="fetch_injuries", status="failed").get()
    assert "layout changed" in failed.error or "no injury tables" in failed.error


@pytest.mark.django_db
def test_scoreboard_replay_twice_changes_nothing(reference):
    path = str(FIXTURES / "mlb_scoreboard_2025.json")
    call_command("fetch_scores", "--league", "MLB", "--from-file", path)
    before = list(Game.objects.values_list("pk", "updated_at"))
    call_command("fetch_scores", "--league", "MLB", "--from-file", path)
    assert list(Game.objects.values_list("pk", "updated_at")) == before
