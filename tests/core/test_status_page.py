"""/status: the readiness checks for people, in a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.games.models import Game
from betting.predictions.models import ModelVersion
from core.health.checks import record_beat_tick
from core.models import HealthEvent, JobRun
from core.observe.signals import Heartbeat
from tests.core.health_helpers import STUB, aware, isolate_cache


@pytest.fixture
def isolated_cache(settings):
    yield from isolate_cache(settings)


@pytest.fixture
def stack(settings, nba, isolated_cache):
    """A day of data: jobs, changes, an active model, a game to start; on the real stack a worker
    heartbeat and a beat tick, as a running worker and beat write them."""
    settings.READY_MODELS = ["NBA:h2h", "MLB:h2h"]
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        Heartbeat("celery@test-host", ["default"]).beat()
        record_beat_tick()
    cache.set("quota:odds_api", {"remaining": 432, "used": 68, "at": "2025-01-01T00:00:00+00:00"}, None)
    for job, status in [("fetch_odds", "success"), ("fetch_scores", "failed"), ("settle_bets", "success")]:
        JobRun.objects.create(job=job, status=status, params={"league": "NBA"}, started_at=aware(hours=-2))
        JobRun.objects.create(
            job=job, status=status, params={"league": "NBA"}, started_at=aware(minutes=-5), error=f"{job} last note"
        )
    HealthEvent.objects.create(name="breaker:espn", old_state="ok", new_state="warn", detail="open after 5 failures")
    ModelVersion.objects.create(
        league=nba, market="h2h", version="20250101_000000", kind="full", status="active", is_active=True,
        feature_set_version="1", features=[], feature_hash="x", params={}, trained_until=aware(days=-1),
        n_train=100, artifact="nba/h2h.ubj", activated_at=aware(hours=-2),
    )  # fmt: skip
    return nba


def add_games_and_jobs(league, n):
    teams = list(league.teams.all()[:2])
    for i in range(n):
        start = aware(hours=2 + i)
        Game.objects.create(
            league=league, season=2025, game_date=start.date(), start_time=start, home_team=teams[0],
            away_team=teams[1], game_number=i + 1,
        )  # fmt: skip
        JobRun.objects.create(job=f"job_{i}", status="success", started_at=aware(minutes=-i))
        HealthEvent.objects.create(name=f"check:{i}", new_state="ok")


def test_status_page_shows_host_names_and_raw_errors_only_to_staff(client, stack, settings):
    html = client.get("/status").content.decode()
    assert "shown to staff" in html
    assert "fetch_scores last note" not in html and "celery@test-host" not in html
    assert "tasks run in-process" not in html
    settings.METRICS_TOKEN = "t" * 32
    with_token = client.get("/status", HTTP_AUTHORIZATION=f"Bearer {'t' * 32}").content.decode()
    assert "fetch_scores last note" in with_token


def test_status_page_shows_checks_providers_jobs_models_and_changes(admin_client, stack, settings):
    response = admin_client.get("/status")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Infrastructure", "Providers", "Data freshness", "Active models", "Last run of each job"):
        assert f">{heading}</h2>" in html
    assert "Degraded." in html  # MLB h2h has no active model
    assert "20250101_000000" in html and "no active model" in html
    assert "odds_api" in html and "espn" in html and "injuries" in html
    assert '<td class="num">432</td>' in html and '<td class="num">–</td>' in html  # requests left, or a dash
    # One row per job, the latest run.
    assert html.count("fetch_scores last note") == 1 and html.count(">fetch_odds</th>") == 1
    assert "open after 5 failures" in html
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert "tasks run in-process" in html  # embedded: eager mode, said plainly
    else:
        assert "celery@test-host" in html


def test_status_page_queries_do_not_grow_with_games_jobs_or_events(client, stack, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        assert client.get("/status").status_code == 200
    add_games_and_jobs(stack, 30)
    with django_assert_max_num_queries(len(small)):
        response = client.get("/status")
    assert response.status_code == 200 and ">job_29</th>" in response.content.decode()
    assert len(small) <= 10, [q["sql"] for q in small.captured_queries]


def test_status_page_follows_public_pages(client, django_user_model, settings, isolated_cache):
    settings.HEALTH_CHECKS = ["tests.core.health_helpers.stub_critical"]
    settings.PUBLIC_PAGES = False
    response = client.get("/status")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    user = django_user_model.objects.create_user("viewer", password="pw-not-secret-123")
    client.force_login(user)
    assert client.get("/status").status_code == 200
    settings.PUBLIC_PAGES = True
    client.logout()
    assert client.get("/status").status_code == 200


def test_a_failing_critical_check_is_announced_and_states_are_words_not_colours(client, db, settings, isolated_cache):
    settings.HEALTH_CHECKS = ["tests.core.health_helpers.stub_critical", "tests.core.health_helpers.stub_warning"]
    STUB.update(critical_ok=False, warning_ok=False)
    html = client.get("/status").content.decode()
    assert '<div class="banner banner-bad" role="alert"><p><strong>Not ready.</strong>' in html
    assert '<span class="badge badge-bad">failing</span> <strong>stub-critical</strong>' in html
    assert '<span class="badge badge-warn">warning</span> <strong>stub-warning</strong>' in html


def test_status_markup_is_accessible(client, stack):
    html = client.get("/status").content.decode()
    assert html.count("<h1>") == 1
    tables = html.count("<table")
    assert tables >= 4 and html.count("<caption>") == tables
    assert not re.search(r"<th[\s>](?![^>]*scope=)", html.split("<main", 1)[1])  # every header cell is scoped
    assert 'aria-current="page"' in html  # the nav marks the status page (base.html)


def test_status_is_get_only(client, db):
    assert client.post("/status").status_code == 405
    assert client.post("/ready").status_code == 405
