"""Observability: a request id on every request and log line, the task id (and the request id
of the request that queued it) in every task, JSON logs in production, Sentry and Prometheus
only when configured."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import responses
from django.utils.module_loading import import_string

from core.observe.log import ContextFilter, logging_config, request_id_var, task_id_var
from core.observe.signals import _send_request_id
from core.tasks import ping
from tests.core.health_helpers import isolate_cache, run_django
from tests.core.test_settings import FERNET_KEY, SAFE_KEY

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def isolated_cache(settings):
    yield from isolate_cache(settings)


@pytest.fixture
def json_lines():
    """The root logger also writes through the production JSON formatter; returns the parsed lines."""
    config = logging_config(log_format="json", level="INFO")["formatters"]["json"].copy()
    formatter = import_string(config.pop("()"))(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


# --- Requests -------------------------------------------------------------------------------


def test_every_response_carries_a_fresh_request_id(client):
    first, second = client.get("/health")["X-Request-ID"], client.get("/health")["X-Request-ID"]
    assert HEX32.match(first) and HEX32.match(second) and first != second


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("3f2b8c1e-6a4d-4f0e-9b7a-2c5d8e1f0a9b", True),
        ("lb.req:000123456", True),
        ("short", False),
        ("two words here ok", False),
        ("abc123456\nFAKE log line", False),
        ("x" * 129, False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_sane(client, sent, kept):
    received = client.get("/health", headers={"X-Request-ID": sent})["X-Request-ID"]
    assert (received == sent) is kept
    if not kept:
        assert HEX32.match(received)


def test_json_log_lines_of_a_request_carry_its_request_id(client, db, settings, json_lines):
    settings.HEALTH_CHECKS = ["tests.core.health_helpers.stub_broken"]
    settings.READY_CACHE_SECONDS = 0
    response = client.get("/ready", headers={"X-Request-ID": "probe-0001-abcdef"})
    missing = client.get("/no-such-page")
    lines = json_lines()
    raised = next(line for line in lines if line["message"] == "health check stub-broken raised")
    assert raised["request_id"] == "probe-0001-abcdef" == response["X-Request-ID"]
    assert raised["level"] == "ERROR" and raised["logger"] == "core.health.checks" and raised["task_id"] == "-"
    assert "ZeroDivisionError" in raised["exc_info"]
    # Django logs a 404 after the middleware returned: the id comes from the request itself.
    not_found = next(line for line in lines if line["message"] == "Not Found: /no-such-page")
    assert not_found["request_id"] == missing["X-Request-ID"]
    assert {"time", "level", "logger", "message", "request_id", "task_id"} <= set(raised)


# --- Tasks ----------------------------------------------------------------------------------


def test_an_eager_task_logs_its_task_id_and_the_request_id(json_lines):
    token = request_id_var.set("req-eager-0001")
    try:
        result = ping.apply()
    finally:
        request_id_var.reset(token)
    assert result.get()["task_id"] == result.id and result.get()["request_id"] == "req-eager-0001"
    line = next(line for line in json_lines() if line["message"] == "ping")
    assert line["task_id"] == result.id and line["request_id"] == "req-eager-0001"
    assert task_id_var.get() == "" and request_id_var.get() == ""  # nothing leaks past the task


def test_publishing_a_task_puts_the_request_id_in_its_headers():
    headers: dict[str, str] = {}
    token = request_id_var.set("req-publish-0001")
    try:
        _send_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {"request_id": "req-publish-0001"}
    outside: dict[str, str] = {}
    _send_request_id(headers=outside)
    assert outside == {}


@pytest.mark.realstack
def test_a_real_worker_passes_the_worker_check_and_keeps_the_request_id(settings, isolated_cache, transactional_db):
    """One worker process for both: its heartbeat makes /ready's worker check pass, and a task it
    runs sees its own id and the request id of the request that queued it."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the real-stack run of .ci/run sets it)")
    import time

    from core.health import checks as health
    from tests.core.test_celery_worker import running_worker

    prefix = isolated_cache
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert not health.check_workers().ok
    with running_worker(CACHE_KEY_PREFIX=prefix) as queue:
        deadline = time.monotonic() + 30
        while not (result := health.check_workers()).ok and time.monotonic() < deadline:
            time.sleep(0.2)
        assert result.ok, result.detail
        assert queue in result.detail and result.data["workers"][0]["age"] < 15
        token = request_id_var.set("req-worker-0001")
        try:
            sent = ping.apply_async(queue=queue)
        finally:
            request_id_var.reset(token)
        answer = sent.get(timeout=30)
        assert answer["task_id"] == sent.id and answer["request_id"] == "req-worker-0001"
        assert answer["hostname"] == result.data["workers"][0]["name"]
        # The beat job on the worker writes beat's tick into the shared cache.
        from core.tasks import health_check

        health_check.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while not health.check_beat().ok and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health.check_beat().ok
    assert not health.check_workers().ok  # a stopped worker removes its heartbeat


# --- Settings -------------------------------------------------------------------------------

PRODUCTION = {
    "SECRET_KEY": SAFE_KEY,
    "ALLOWED_HOSTS": "sharpline.example.com",
    "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
}
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); import sentry_sdk; "
    "print(json.dumps({'formatter': settings.LOGGING['handlers']['console']['formatter'], "
    "'sentry': sentry_sdk.get_client().is_active(), 'metrics': 'core.web.middleware.MetricsMiddleware' in "
    "settings.MIDDLEWARE}))"
)


def test_embedded_defaults_log_plain_text_without_sentry_or_metrics(settings):
    import sentry_sdk

    assert settings.LOG_FORMAT == "plain" and settings.LOGGING["handlers"]["console"]["formatter"] == "plain"
    assert not sentry_sdk.get_client().is_active()
    assert "core.web.middleware.MetricsMiddleware" not in settings.MIDDLEWARE
    assert settings.MIDDLEWARE[0] == "core.web.middleware.RequestIdMiddleware"


def test_production_logs_json_and_starts_sentry_and_prometheus_when_configured(tmp_path):
    result = run_django(
        PROBE,
        settings_module="core.settings.production",
        SHARPLINE_VAR_DIR=str(tmp_path),
        SENTRY_DSN="https://public@127.0.0.1:9/1",  # nothing is sent: no event happens
        PROMETHEUS_ENABLED="true",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"formatter": "json", "sentry": True, "metrics": True}


def test_a_malformed_log_format_stops_the_start(tmp_path):
    result = run_django("import django; django.setup()", LOG_FORMAT="xml", SHARPLINE_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "LOG_FORMAT is malformed: json or plain, got 'xml'" in result.stderr


# --- Prometheus -----------------------------------------------------------------------------


@pytest.fixture
def metrics_on(settings):
    settings.PROMETHEUS_ENABLED = True
    settings.METRICS_TOKEN = "m" * 40
    settings.MIDDLEWARE = ["core.web.middleware.MetricsMiddleware", *settings.MIDDLEWARE]
    return {"Authorization": f"Bearer {'m' * 40}"}


def test_metrics_are_off_unless_enabled(client, settings):
    assert not settings.PROMETHEUS_ENABLED
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token_or_a_staff_login(client, admin_client, django_user_model, metrics_on):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers=metrics_on).status_code == 200
    assert admin_client.get("/metrics").status_code == 200
    client.force_login(django_user_model.objects.create_user("not-staff", password="pw-not-secret-123"))
    assert client.get("/metrics").status_code == 401


def test_metrics_count_requests_tasks_provider_errors_and_quota(client, db, settings, metrics_on, isolated_cache):
    from django.core.cache import cache

    from core.http import client as http

    client.get("/health")
    ping.apply()
    settings.HTTP_MAX_RETRIES = 0
    with responses.RequestsMock() as rsps:
        rsps.get("https://site.api.espn.com/missing", status=404)
        with pytest.raises(http.ProviderHTTPError):
            http.get("espn", "https://site.api.espn.com/missing")
    cache.set("quota:odds_api", {"remaining": 321, "used": 179, "at": "2025-01-01T00:00:00+00:00"}, None)
    text = client.get("/metrics", headers=metrics_on).content.decode()
    assert re.search(
        r'sharpline_http_request_duration_seconds_count\{method="GET",route="health",status="200"\} \d', text
    )
    assert re.search(r'sharpline_celery_tasks_total\{state="SUCCESS",task="core.ping"\} \d', text)
    assert re.search(r'sharpline_celery_task_duration_seconds_count\{task="core.ping"\} \d', text)
    assert re.search(r'sharpline_provider_errors_total\{kind="ProviderHTTPError",provider="espn"\} \d', text)
    assert 'sharpline_provider_quota_remaining{provider="odds_api"} 321.0' in text
