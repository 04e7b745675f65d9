"""A real Celery worker process, on the real PostgreSQL and Redis, runs a job end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from betting.games.models import Game
from betting.games.tasks import import_history_task
from core.models import JobRun
from tests.conftest import NBA_SBR

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.realstack,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (the real-stack run of .ci/run sets it)"),
]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def running_worker(**extra_env: str) -> Iterator[str]:
    """A real `celery worker` process on the test database, serving a queue of its own."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database, which needs a server")
    queue = f"sharpline-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "core.settings.test", **extra_env}
    command = [sys.executable, "-m", "celery", "-A", "core", "worker", "-Q", queue, "--pool", "solo",
               "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Traceback" not in output, output


@pytest.fixture
def worker(transactional_db):
    with running_worker() as queue:
        yield queue


def test_worker_runs_the_import_task_and_records_the_job(reference, worker):
    path = str(NBA_SBR / "nba_odds_2011-12.csv")
    result = import_history_task.apply_async(args=["NBA", "sbr", [path]], queue=worker)
    payload = result.get(timeout=120)
    assert payload["games_created"] == 1074 and payload["failures"] == []
    assert Game.objects.count() == 1074
    job = JobRun.objects.get(job="import_history")
    assert job.task_id == result.id and job.status == JobRun.Status.SUCCESS
    again = import_history_task.apply_async(args=["NBA", "sbr", [path]], queue=worker).get(timeout=120)
    assert again["games_unchanged"] == 1074 and again.get("games_created", 0) == 0


def test_eager_mode_is_off_on_the_real_stack():
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
