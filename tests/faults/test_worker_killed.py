"""A worker SIGKILLed in the middle of writing an odds pull: the pull is delivered again to a
second worker and completed once. Nothing is lost, nothing is written twice.

The kill lands inside the pull's database transaction, deterministically: the test holds an
EXCLUSIVE lock on the quotes table, so the worker has created the games and waits on its quotes
INSERT when it is killed. PostgreSQL rolls the dead worker's transaction back; the message, never
acknowledged (``acks_late``), is restored by the second worker once the visibility timeout passed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from betting.games.models import Game, OddsQuote
from betting.games.providers import odds_api
from core.models import JobRun
from tests.faults.conftest import FIXTURES, celery_app, real_stack, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.realstack]

PAYLOAD = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
VISIBILITY = 3  # seconds, the second worker's CELERY_VISIBILITY_TIMEOUT
# From the kill to the pull written by the second worker: its start (about 4 s on 2 cores), the
# visibility timeout and one restore sweep (1 s at this timeout), with room for a busy machine.
REDELIVERY_BOUND = 25.0


def _blocked_on_quotes(watcher) -> bool:
    # Its own autocommit connection: inside a transaction pg_stat_activity is a frozen snapshot.
    with watcher.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ~* '^\\s*(INSERT INTO|COPY) \"?games_oddsquote'"
        )
        return bool(cur.fetchone()[0])


@contextlib.contextmanager
def quotes_locked() -> Iterator[Callable[[], bool]]:
    """An EXCLUSIVE lock on the quotes table (reads pass, inserts wait) on a connection of its own,
    held for the block, which gets a check of a writer waiting on it (another, autocommit connection)."""
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"] or None, "host": db["HOST"]}
    locker, watcher = psycopg2.connect(**params, port=db["PORT"]), psycopg2.connect(**params, port=db["PORT"])
    watcher.autocommit = True
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE games_oddsquote IN EXCLUSIVE MODE")
        yield lambda: _blocked_on_quotes(watcher)
    finally:
        locker.rollback()
        locker.close()
        watcher.close()


def test_a_worker_killed_mid_pull_loses_nothing_and_writes_nothing_twice(
    reference, transactional_db, private_redis, workers, provider, record_property
):
    real_stack()
    body = PAYLOAD.read_bytes()
    expected_quotes = len(odds_api.parse(body).records)
    expected_games = len(json.loads(body))
    odds = provider(body)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = {"ODDS_API_BASE_URL": odds.url, "ODDS_API_KEY": "a" * 32, "HTTP_READ_TIMEOUT": "5"}
    first = workers(redis_url=private_redis.url(), queue=queue, **env)
    first.wait_ready()

    with quotes_locked() as blocked:
        app = celery_app(private_redis.url())
        result = app.send_task("games.fetch_odds", args=["NBA"], queue=queue)
        try:
            wait_for(blocked, 30, "the worker to wait inside its write")
        except AssertionError:
            raise AssertionError(first.output()[-3000:]) from None
        first.kill()
        killed_at = time.monotonic()

    second = workers(redis_url=private_redis.url(), queue=queue, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY), **env)
    outcome = result.get(timeout=REDELIVERY_BOUND)
    redelivered_in = time.monotonic() - killed_at
    record_property("figure", f"worker SIGKILLed mid-write: pull done by another worker {redelivered_in:.1f}s later")
    assert redelivered_in < REDELIVERY_BOUND
    assert outcome["status"] == "success", (outcome, second.output()[-3000:])

    assert len(odds.hits) == 2  # fetched once by each delivery
    assert Game.objects.count() == expected_games
    assert OddsQuote.objects.count() == expected_quotes
    runs = JobRun.objects.filter(job="fetch_odds", task_id=result.id)
    assert runs.filter(status=JobRun.Status.SUCCESS).count() == 1
    done = runs.get(status=JobRun.Status.SUCCESS)
    assert done.counts["quotes_created"] == expected_quotes and done.counts["games_created"] == expected_games
    # The dead worker's run is on record as lost, not left "running" for ever.
    lost = runs.exclude(pk=done.pk).get()
    assert lost.status == JobRun.Status.FAILED and "re-delivered" in lost.error

    # And a third delivery of the same pull changes nothing.
    again = app.send_task("games.fetch_odds", args=["NBA"], queue=queue).get(timeout=30)
    assert again["status"] == "success"
    assert OddsQuote.objects.count() == expected_quotes and Game.objects.count() == expected_games


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def test_a_pool_process_killed_mid_pull_is_requeued_at_once(
    reference, transactional_db, private_redis, workers, provider
):
    """The prefork pool's child dies (OOM killer, SIGKILL) while the main process lives: with
    ``task_reject_on_worker_lost`` the message goes back on the queue at once and runs again;
    without it Celery records WorkerLostError and acknowledges it: the pull would be lost."""
    real_stack()
    body = PAYLOAD.read_bytes()
    expected_quotes = len(odds_api.parse(body).records)
    odds = provider(body)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = {"ODDS_API_BASE_URL": odds.url, "ODDS_API_KEY": "a" * 32}
    worker = workers(redis_url=private_redis.url(), queue=queue, pool="prefork", **env)
    worker.wait_ready()
    with quotes_locked() as blocked:
        result = celery_app(private_redis.url()).send_task("games.fetch_odds", args=["NBA"], queue=queue)
        wait_for(blocked, 30, "the pool process to wait inside its write")
        (child,) = _children(worker.process.pid)
        os.kill(child, signal.SIGKILL)
    outcome = result.get(timeout=30)
    assert outcome["status"] == "success"
    assert len(odds.hits) == 2 and OddsQuote.objects.count() == expected_quotes
    assert JobRun.objects.filter(task_id=result.id, status=JobRun.Status.SUCCESS).count() == 1
