"""Liveness and readiness: /health needs nothing, /ready says what is down (503 for the critical
parts), the beat job records and alerts on changes only."""

from __future__ import annotations

import json
import time

import pytest
import requests
import responses
from django.core import mail
from django.db import OperationalError

from betting.games.health import check_freshness
from betting.games.models import Game
from betting.predictions.models import ModelVersion
from core.health import checks as health
from core.health.checks import CheckResult, health_check
from core.models import HealthEvent, JobRun
from core.observe.signals import Heartbeat
from tests.core.health_helpers import STUB, aware, isolate_cache, run_django

STUBS = ["tests.core.health_helpers.stub_critical", "tests.core.health_helpers.stub_warning"]
CRITICAL = {"database", "cache", "broker", "workers"}


@pytest.fixture
def isolated_cache(settings):
    yield from isolate_cache(settings)


TOKEN = "ready-test-token-not-a-secret-0123456789"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}  # what a monitor holding METRICS_TOKEN sends


@pytest.fixture
def operator(settings):
    """Headers that show /ready's detail (METRICS_TOKEN, as /metrics reads it)."""
    settings.METRICS_TOKEN = TOKEN
    return OPERATOR


def names(report_json):
    return {c["name"]: c for c in report_json["checks"]}


def make_healthy(settings):
    """What a running stack provides: a worker heartbeat and a beat tick (written the way the
    worker and the health job write them); no model is required."""
    settings.READY_MODELS = []
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        Heartbeat("celery@test-host", ["default"]).beat()
        health.record_beat_tick()


# --- /health and /ready -------------------------------------------------------------------------


def test_health_answers_without_touching_the_database(client):
    # No db fixture: any query would raise here.
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_is_200_ok_when_everything_is_healthy(client, reference, settings, isolated_cache):
    make_healthy(settings)
    response = client.get("/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok", [c for c in body["checks"] if not c["ok"]]
    checks = names(body)
    assert CRITICAL | {"beat", "breaker:odds_api", "quota:odds_api", "odds:NBA", "scores:MLB"} <= set(checks)
    assert {n for n, c in checks.items() if c["critical"]} == CRITICAL
    assert response["Cache-Control"].startswith("max-age=0")


def test_missing_models_degrade_but_do_not_fail_readiness(client, reference, settings, isolated_cache, operator):
    make_healthy(settings)
    settings.READY_MODELS = ["NBA:h2h", "MLB:h2h"]
    response = client.get("/ready", headers=operator)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"
    model = names(body)["model:NBA:h2h"]
    assert model["state"] == "warn" and not model["critical"]
    assert "manage.py train --league NBA --market h2h" in model["detail"]


def test_ready_is_503_when_redis_and_the_broker_are_unreachable(client, reference, settings, isolated_cache, operator):
    make_healthy(settings)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    started = time.monotonic()
    response = client.get("/ready", headers=operator)
    assert time.monotonic() - started < 10
    body = response.json()
    assert response.status_code == 503 and body["status"] == "fail"
    checks = names(body)
    assert checks["database"]["ok"]
    for name in ("cache", "broker", "workers"):
        assert checks[name]["state"] == "fail", checks[name]
    assert "127.0.0.1:1" in checks["broker"]["detail"] or "refused" in checks["broker"]["detail"].lower()


@health_check(name="workers", critical=True)
def stub_workers_with_a_host() -> CheckResult:
    return CheckResult("workers", True, "1 live: celery@worker-host-7 (queues default)", {"workers": ["worker-host-7"]})


@health_check(name="cache", critical=True)
def stub_cache_refused() -> CheckResult:
    return CheckResult(
        "cache", False, "Redis unreachable: Error 111 connecting to cache-host:6379. Connection refused."
    )


LEAKY = ["tests.core.test_health.stub_workers_with_a_host", "tests.core.test_health.stub_cache_refused"]


def test_anonymous_probes_get_the_status_and_check_names_but_no_hosts_or_errors(
    client, django_user_model, settings, isolated_cache, operator
):
    settings.HEALTH_CHECKS = LEAKY
    for who in (client.get("/ready"), client.get("/ready", headers={"Authorization": "Bearer wrong-token"})):
        assert who.status_code == 503
        body = who.json()
        assert body["status"] == "fail"
        assert names(body) == {
            "workers": {"name": "workers", "ok": True, "state": "ok", "critical": True},
            "cache": {"name": "cache", "ok": False, "state": "fail", "critical": True},
        }
        assert "worker-host-7" not in who.content.decode() and "cache-host" not in who.content.decode()
    # Signed in without staff rights: still no detail.
    client.force_login(django_user_model.objects.create_user("not-staff", password="pw-not-secret-123"))
    assert "worker-host-7" not in client.get("/ready").content.decode()


def test_staff_and_the_metrics_token_see_what_each_check_saw(client, admin_client, settings, isolated_cache, operator):
    settings.HEALTH_CHECKS = LEAKY
    for response in (client.get("/ready", headers=operator), admin_client.get("/ready")):
        assert response.status_code == 503
        checks = names(response.json())
        assert checks["workers"]["detail"].startswith("1 live: celery@worker-host-7")
        assert checks["workers"]["data"] == {"workers": ["worker-host-7"]}
        assert "Connection refused" in checks["cache"]["detail"]


DB_DOWN = """
import json, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
client = Client()
out = {}
for path in ("/health", "/ready", "/status"):
    r = client.get(path)
    out[path] = {"status": r.status_code, "body": r.content.decode()}
r = client.get("/ready", headers={"Authorization": "Bearer " + __import__("os").environ["METRICS_TOKEN"]})
out["/ready with the token"] = {"status": r.status_code, "body": r.content.decode()}
client.cookies["sessionid"] = "x" * 32  # a signed-in visitor: the session cannot be loaded either
for path in ("/ready", "/status"):
    r = client.get(path)
    out[f"{path} with a session"] = {"status": r.status_code, "body": r.content.decode()}
print(json.dumps(out))
"""


def test_database_down_gives_503_json_and_no_stack_trace_while_health_stays_up(tmp_path):
    # A real failure: PostgreSQL on a port where nothing listens.
    result = run_django(
        DB_DOWN,
        DATABASE_URL="postgres://postgres@127.0.0.1:1/sharpline",
        SHARPLINE_VAR_DIR=str(tmp_path),
        METRICS_TOKEN=TOKEN,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["/health"]["status"] == 200
    ready = out["/ready"]
    assert ready["status"] == 503
    body = json.loads(ready["body"])
    checks = names(body)
    assert body["status"] == "fail" and checks["database"]["state"] == "fail"
    assert "detail" not in checks["database"] and "OperationalError" not in ready["body"]  # anonymous: no raw error
    assert out["/ready with the token"]["status"] == 503
    checks = names(json.loads(out["/ready with the token"]["body"]))
    assert "OperationalError" in checks["database"]["detail"]
    assert checks["freshness"]["detail"] == "not checked: the database is unreachable"
    assert out["/ready with a session"]["status"] == 503
    assert json.loads(out["/ready with a session"]["body"])["status"] == "fail"
    for page in ("/status", "/status with a session"):
        assert out[page]["status"] == 200, out[page]["body"][-2000:]
        assert "Not ready" in out[page]["body"] and "the database did not answer" in out[page]["body"]
    for answer in out.values():
        assert "Traceback" not in answer["body"]


def test_ready_reuses_its_report_for_ready_cache_seconds(db, settings, isolated_cache):
    settings.HEALTH_CHECKS = STUBS
    settings.READY_CACHE_SECONDS = 60
    first = health.ready_report()
    STUB["critical_ok"] = False
    assert health.ready_report() is first
    settings.READY_CACHE_SECONDS = 0
    assert health.ready_report().status == "fail"


def test_a_check_that_raises_is_reported_as_failed(settings):
    settings.HEALTH_CHECKS = [*STUBS, "tests.core.health_helpers.stub_broken"]
    report = health.run_checks()
    broken = report.result("stub-broken")
    assert broken is not None and not broken.ok and not broken.critical
    assert broken.detail == "the check itself failed: ZeroDivisionError: division by zero in a check"
    assert report.status == "degraded" and report.http_status == 200


def test_checks_that_need_the_database_are_skipped_when_it_is_down(settings):
    settings.HEALTH_CHECKS = ["tests.core.health_helpers.stub_database_down", "tests.core.health_helpers.stub_needs_db"]
    report = health.run_checks()
    assert report.http_status == 503
    assert report.result("stub-needs-db").detail == "not checked: the database is unreachable"


# --- The checks -----------------------------------------------------------------------------


def test_beat_is_stale_without_a_recent_tick(settings, isolated_cache):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.READY_BEAT_MAX_AGE_SECONDS = 300
    assert "never run" in health.check_beat().detail and not health.check_beat().ok
    from django.core.cache import cache

    cache.set(health.BEAT_TICK_KEY, time.time() - 900, timeout=None)
    stale = health.check_beat()
    assert not stale.ok and stale.detail.startswith("stale: the last tick was 900 s ago")
    health.record_beat_tick()
    assert health.check_beat().ok


@pytest.mark.realstack
def test_worker_check_reads_fresh_heartbeats_only(settings, isolated_cache):
    if not settings.REDIS_URL:
        pytest.skip("worker heartbeats live in Redis (REDIS_URL)")
    settings.READY_WORKER_MAX_AGE_SECONDS = 60
    assert health.check_workers().detail == "no worker heartbeat within 60 s"
    old = Heartbeat("celery@old", ["ingest"])
    old.beat()
    from core.http.throttle import redis_client
    from core.observe.signals import heartbeat_key

    redis_client(settings.REDIS_URL).hset(
        heartbeat_key(), "celery@old", json.dumps({"at": time.time() - 120, "queues": ["ingest"]})
    )
    result = health.check_workers()
    assert not result.ok and "the last one 120 s ago" in result.detail
    Heartbeat("celery@new", ["default", "models"]).beat()
    result = health.check_workers()
    assert result.ok and result.detail == "1 live: celery@new (queues default, models)"
    Heartbeat("celery@new", []).stop()
    assert not health.check_workers().ok


def test_odds_freshness_on_a_day_with_games(nba, settings):
    settings.READY_ODDS_MAX_AGE_MINUTES = 30
    home, away = nba.teams.order_by("abbreviation")[:2]
    start = aware(hours=3)
    Game.objects.create(
        league=nba, season=2025, game_date=start.date(), start_time=start, home_team=home, away_team=away
    )
    by_name = {r.name: r for r in health.run_checks().results}
    assert not by_name["odds:NBA"].ok and "no successful pull in 7 days" in by_name["odds:NBA"].detail
    assert by_name["odds:MLB"].ok and by_name["odds:MLB"].detail == "no game to start in the next 24 hours"
    JobRun.objects.create(job="fetch_odds", params={"league": "NBA"}, status="success", started_at=aware(minutes=-95))
    stale = {r.name: r for r in check_freshness()}["odds:NBA"]
    assert not stale.ok and "the last good pull is 95 min old (limit 30)" in stale.detail
    JobRun.objects.create(job="fetch_odds", params={"league": "NBA"}, status="failed", started_at=aware(minutes=-1))
    JobRun.objects.create(job="fetch_odds", params={"league": "NBA"}, status="success", started_at=aware(minutes=-5))
    fresh = {r.name: r for r in check_freshness()}["odds:NBA"]
    assert fresh.ok and fresh.data["age_minutes"] == pytest.approx(5, abs=0.5)


def test_scores_freshness_while_games_are_on(nba, settings):
    settings.READY_SCORES_MAX_AGE_MINUTES = 20
    home, away = nba.teams.order_by("abbreviation")[:2]
    start = aware(hours=-1)
    Game.objects.create(
        league=nba, season=2025, game_date=start.date(), start_time=start, home_team=home, away_team=away,
        status=Game.Status.IN_PROGRESS,
    )  # fmt: skip
    JobRun.objects.create(job="fetch_scores", params={"league": "NBA"}, status="success", started_at=aware(minutes=-45))
    scores = {r.name: r for r in check_freshness()}["scores:NBA"]
    assert not scores.ok and scores.detail == "games on now; the last good pull is 45 min old (limit 20)"


def test_an_active_model_per_configured_league_and_market(nba, settings):
    settings.READY_MODELS = ["NBA:h2h", "NBA:totals"]
    ModelVersion.objects.create(
        league=nba, market="h2h", version="20250101_000000", kind="full", status="active", is_active=True,
        feature_set_version="1", features=[], feature_hash="x", params={}, trained_until=aware(days=-1),
        n_train=100, artifact="nba/h2h.ubj", activated_at=aware(hours=-2),
    )  # fmt: skip
    from betting.predictions.health import check_active_models

    by_name = {r.name: r for r in check_active_models()}
    assert by_name["model:NBA:h2h"].ok and by_name["model:NBA:h2h"].data["version"] == "20250101_000000"
    assert not by_name["model:NBA:totals"].ok


def test_breaker_and_quota_warnings(settings, isolated_cache):
    from django.core.cache import cache

    from core.http.breaker import get_breaker

    breaker = get_breaker()
    try:
        for _ in range(settings.CIRCUIT_BREAKER_MAX_FAILURES):
            breaker.record_failure("injuries", "HTTP 503 Service Unavailable")
        cache.set("quota:odds_api", {"remaining": 12, "used": 488, "at": "2025-01-01T00:00:00+00:00"}, None)
        settings.READY_QUOTA_WARN = 100
        by_name = {r.name: r for r in [*health.check_breakers(), *health.check_quota()]}
        assert not by_name["breaker:injuries"].ok and "HTTP 503" in by_name["breaker:injuries"].detail
        assert by_name["breaker:odds_api"].ok
        assert not by_name["quota:odds_api"].ok and by_name["quota:odds_api"].detail.startswith("12 requests left")
        assert by_name["quota:espn"].detail == "no quota reported"
    finally:
        breaker.reset("injuries")


def test_malformed_ready_models_stops_the_start(tmp_path):
    result = run_django(
        "import django; django.setup()", settings_module="core.settings.local", READY_MODELS="NBA:h2h,NBA-winner",
        SHARPLINE_VAR_DIR=str(tmp_path),
    )  # fmt: skip
    assert result.returncode != 0
    assert "READY_MODELS is malformed" in result.stderr and "NBA-winner" in result.stderr


# --- Transitions and alerts ---------------------------------------------------------------------


def test_transitions_are_recorded_only_on_change_and_alerted(db, settings, isolated_cache):
    settings.HEALTH_CHECKS = STUBS
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ALERT_WEBHOOK_URL = ""
    first = health.health_job()
    assert first == {"status": "ok", "changes": 2, "alerted": 0}  # first seen healthy: no news
    assert set(HealthEvent.objects.values_list("name", "old_state", "new_state")) == {
        ("stub-critical", "", "ok"),
        ("stub-warning", "", "ok"),
    }
    assert health.health_job()["changes"] == 0
    STUB["critical_ok"] = False
    assert health.health_job() == {"status": "fail", "changes": 1, "alerted": 1}
    event = HealthEvent.objects.first()
    assert (event.name, event.old_state, event.new_state, event.critical) == ("stub-critical", "ok", "fail", True)
    assert len(mail.outbox) == 1 and "stub-critical fail" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["ops@example.com"]
    assert health.health_job()["changes"] == 0 and len(mail.outbox) == 1
    STUB["critical_ok"] = True
    assert health.health_job()["alerted"] == 1
    assert "stub-critical: fail -> ok" in mail.outbox[1].body
    assert HealthEvent.objects.count() == 4


def test_events_wait_in_the_cache_while_the_database_is_down(db, settings, isolated_cache, monkeypatch):
    settings.HEALTH_CHECKS = STUBS
    health.health_job()
    STUB["warning_ok"] = False
    real = HealthEvent.objects.bulk_create

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(HealthEvent.objects, "bulk_create", down)
    assert health.health_job()["changes"] == 1
    assert HealthEvent.objects.count() == 2
    monkeypatch.setattr(HealthEvent.objects, "bulk_create", real)
    STUB["warning_ok"] = True
    assert health.health_job()["changes"] == 1  # warn -> ok: not a second ok -> warn
    events = HealthEvent.objects.filter(name="stub-warning").order_by("pk")
    assert list(events.values_list("old_state", "new_state")) == [
        ("", "ok"),
        ("ok", "warn"),
        ("warn", "ok"),
    ]


def test_webhook_alert_posts_json_and_a_failing_hook_is_logged_not_raised(db, settings, isolated_cache, caplog):
    url = "https://hooks.example.com/services/T000/B000/secretpart"
    settings.HEALTH_CHECKS = STUBS
    settings.ALERT_WEBHOOK_URL = url
    health.health_job()
    STUB["warning_ok"] = False
    with responses.RequestsMock() as rsps:
        rsps.post(url, json={"ok": True})
        health.health_job()
        payload = json.loads(rsps.calls[0].request.body)
    assert payload["status"] == "degraded"
    assert payload["text"].startswith("Sharpline health degraded: stub-warning warn")
    assert payload["events"][0]["name"] == "stub-warning" and payload["events"][0]["old_state"] == "ok"
    STUB["warning_ok"] = True
    with responses.RequestsMock() as rsps:
        rsps.post(url, body=requests.ConnectionError("connection refused"))
        assert health.health_job()["alerted"] == 1
    STUB["warning_ok"] = False
    with responses.RequestsMock() as rsps:
        rsps.post(url, status=500)
        health.health_job()
    messages = [r.getMessage() for r in caplog.records if "alert webhook" in r.getMessage()]
    assert messages == [
        "health: alert webhook https://hooks.example.com/... failed: ConnectionError",
        "health: alert webhook https://hooks.example.com/... failed: HTTP 500",
    ]
    assert "secretpart" not in caplog.text


def test_the_beat_job_runs_every_minute_from_the_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["ops: health check"]
    assert entry["task"] == "core.health_check"
    assert str(entry["schedule"]) == "<crontab: * * * * * (m/h/dM/MY/d)>"
    from core.tasks import health_check

    assert health_check.name == "core.health_check"
