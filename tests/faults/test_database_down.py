"""The database unreachable: liveness stays up, readiness says 503, and a task that runs meanwhile
is retried later (``autoretry_for`` OperationalError with backoff) and completes once the database
is back, instead of being lost.

"Down" is a TCP proxy in front of the shared PostgreSQL that drops every connection and refuses
new ones; the server itself is never touched.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from betting.games.models import Game
from core.models import JobRun
from tests.faults.conftest import FIXTURES, TcpProxy, celery_app, database_url, real_stack, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.realstack]

DAY = dt.date(2025, 9, 2)


@pytest.fixture
def db_proxy():
    real_stack()
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


def test_health_stays_up_and_ready_says_503_while_the_database_is_down(transactional_db, db_proxy, client, settings):
    settings.READY_CACHE_SECONDS = 0  # each /ready runs its checks
    settings_dict = connection.settings_dict
    saved = settings_dict["HOST"], settings_dict["PORT"]
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", db_proxy.port
    try:
        assert client.get("/health").status_code == 200
        db_proxy.cut()
        assert client.get("/health").status_code == 200
        response = client.get(reverse("ready"))
        assert response.status_code == 503
        database = next(c for c in response.json()["checks"] if c["name"] == "database")
        assert database["ok"] is False and database["critical"] is True, database
        assert client.get("/health").status_code == 200
        db_proxy.restore()
        connection.close()
        back = next(c for c in client.get(reverse("ready")).json()["checks"] if c["name"] == "database")
        assert back["ok"] is True, back
    finally:
        db_proxy.restore()
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = saved


def test_a_task_run_while_the_database_is_down_is_retried_and_completes(
    reference, transactional_db, db_proxy, private_redis, workers, provider, record_property
):
    espn = provider((FIXTURES / "mlb_scoreboard_2025.json").read_bytes())
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    worker = workers(
        redis_url=private_redis.url(),
        queue=queue,
        DATABASE_URL=database_url(port=db_proxy.port),
        ESPN_BASE_URL=f"{espn.url}/sports",
        TASK_RETRY_BACKOFF="1",
    )
    worker.wait_ready()
    db_proxy.cut()
    started = time.monotonic()
    result = celery_app(private_redis.url()).send_task("games.fetch_scores", args=["MLB", str(DAY)], queue=queue)
    wait_for(lambda: db_proxy.refused >= 1, 30, "the task to find the database down")
    assert Game.objects.count() == 0 and not JobRun.objects.filter(job="fetch_scores").exists()
    db_proxy.restore()  # the first attempt failed: what follows is the retry's doing

    result.get(timeout=30, propagate=False)
    output = worker.output()
    assert result.successful(), output[-3000:]
    took = time.monotonic() - started
    record_property("figure", f"database down: the task was retried and completed {took:.1f}s after it was queued")
    assert result.result["status"] == "success"
    assert "Retry in" in output and "OperationalError" in output
    assert Game.objects.filter(league__code="MLB").count() == 14
    assert JobRun.objects.filter(job="fetch_scores", status=JobRun.Status.SUCCESS).count() == 1
    assert len(espn.hits) == 1  # the provider was called once, by the run that could write
