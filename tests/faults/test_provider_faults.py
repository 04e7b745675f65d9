"""A provider that answers 500, hangs past the read timeout, or answers slowly, behind the real
client (``core.http.client``) and the real scoreboard pull: each call retries, then the circuit breaker
opens and refuses calls without touching the provider; nothing already written is lost, each
failed pull is on record, the pages still render the last good data with the breaker shown, and a
slow but in-time answer after the cool-down closes the breaker again.

The breaker state lives in the test's own Redis (``settings.REDIS_URL`` points at it here), so
opening it cannot disturb other tests sharing a Redis.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import NoReverseMatch, reverse

from betting.games.models import Game
from betting.games.pulls import scores_pull
from core.http import client as http
from core.http.breaker import State
from core.http.client import ProviderUnavailable
from core.models import JobRun
from tests.faults.conftest import FIXTURES, real_stack

pytestmark = [pytest.mark.faults, pytest.mark.realstack]

DAY = dt.date(2025, 9, 2)
READ_TIMEOUT = 0.5
RETRIES = 2
READY_TOKEN = "faults-ready-token-not-a-secret-0123456789"


@pytest.fixture
def espn(settings, private_redis, provider):
    server = provider((FIXTURES / "mlb_scoreboard_2025.json").read_bytes())
    settings.REDIS_URL = private_redis.url()  # breaker and rate limiter state: the private Redis
    settings.READY_CACHE_SECONDS = 0  # each /ready runs its checks
    settings.METRICS_TOKEN = READY_TOKEN  # /ready shows each check's data to its bearer
    settings.ESPN_BASE_URL = f"{server.url}/sports"
    settings.HTTP_READ_TIMEOUT = READ_TIMEOUT
    settings.HTTP_CONNECT_TIMEOUT = 0.5
    settings.HTTP_MAX_RETRIES = RETRIES
    settings.HTTP_BACKOFF_BASE = 0.05
    settings.HTTP_BACKOFF_CAP = 0.2
    settings.CIRCUIT_BREAKER_MAX_FAILURES = 2
    settings.CIRCUIT_BREAKER_RESET_TIMEOUT = 1.0
    settings.HTTP_PROVIDERS = {**settings.HTTP_PROVIDERS, "espn": {"rate": 100.0, "burst": 20}}
    return server


def _games() -> list[tuple[object, ...]]:
    return list(Game.objects.order_by("pk").values_list("pk", "status", "home_score", "away_score", "updated_at"))


def _failed_pull(expect: str) -> ProviderUnavailable:
    with pytest.raises(ProviderUnavailable) as failure:
        scores_pull(league_code="MLB", day=DAY)
    run = JobRun.objects.filter(job="fetch_scores").order_by("-pk").first()
    assert run is not None
    assert run.status == JobRun.Status.FAILED and expect in run.error, run.error
    return failure.value


def test_failing_provider_retries_opens_the_breaker_keeps_the_data_and_recovers(reference, espn, client):
    real_stack()
    assert scores_pull(league_code="MLB", day=DAY).status == "success"
    good = _games()
    assert len(good) == 14

    espn.mode = "error"
    hits = len(espn.hits)
    failure = _failed_pull("HTTP 500")
    assert failure.reason == "retries_exhausted"
    assert len(espn.hits) - hits == RETRIES + 1  # the first attempt and every retry
    assert http.breaker_state("espn").state == State.CLOSED  # one failed call of the two allowed

    espn.mode, espn.delay = "hang", 3.0
    hits, started = len(espn.hits), time.monotonic()
    _failed_pull("Timeout")
    took = time.monotonic() - started
    assert len(espn.hits) - hits == RETRIES + 1
    assert (RETRIES + 1) * READ_TIMEOUT <= took < (RETRIES + 1) * (READ_TIMEOUT + 0.5) + 1, took
    assert http.breaker_state("espn").state == State.OPEN

    espn.mode = "ok"  # the provider is back, but the breaker is still cooling down
    hits, started = len(espn.hits), time.monotonic()
    refused = _failed_pull("circuit open")
    assert refused.reason == "circuit_open" and time.monotonic() - started < 0.5
    assert len(espn.hits) == hits  # refused without a request
    assert _games() == good  # nothing written, nothing lost

    # The pages still show the last good data, and say the breaker is open.
    _pages_show_the_last_good_data_and_the_open_breaker(client)
    _ready_reports_the_breaker(client)

    # After the cool-down one trial call goes out; a slow answer inside the timeout closes it.
    time.sleep(1.1)
    espn.mode, espn.delay = "slow", READ_TIMEOUT * 0.5
    hits = len(espn.hits)
    assert scores_pull(league_code="MLB", day=DAY).status == "success"
    assert len(espn.hits) - hits == 1
    assert http.breaker_state("espn").state == State.CLOSED
    assert [g[:4] for g in _games()] == [g[:4] for g in good]


def _pages_show_the_last_good_data_and_the_open_breaker(client) -> None:
    teams = set(Game.objects.values_list("home_team__name", flat=True))
    today = client.get(f"/?date={DAY}")
    assert today.status_code == 200
    text = today.content.decode()
    assert "espn is failing" in text and "circuit breaker is open" in text, text[:3000]
    assert any(name in text for name in teams), "the day's games (the last good data) are not on the page"
    try:
        data = reverse("games:data")
    except NoReverseMatch:
        return
    page = client.get(data)
    assert page.status_code == 200 and "breaker-open" in page.content.decode()


def _ready_reports_the_breaker(client) -> None:
    try:
        url = reverse("ready")
    except NoReverseMatch:
        pytest.fail("/ready is missing (core/health/checks.py, the operations issue)")
    report = client.get(url, headers={"Authorization": f"Bearer {READY_TOKEN}"}).json()
    breaker = next(c for c in report["checks"] if c["name"] == "breaker:espn")
    assert breaker["ok"] is False and breaker["data"]["state"] == "open", breaker
    assert breaker["critical"] is False  # a failing provider degrades readiness, it does not fail it
