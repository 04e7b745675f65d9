"""One name per operation: a task is named as its command and its JobRun. A renamed task keeps its
old name for a release (messages queued under it still run the same code), and the periodic tasks
stored by django-celery-beat follow the rename (core/migrations/0005_rename_task_names.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from betting.bets.models import Backtest, Bet
from betting.bets.services import backtest_create
from betting.games import tasks as games_tasks
from betting.games.pulls import PullResult
from core.celery import app
from core.models import JobRun
from tests import factories

RENAMED = {"bets.settle": "bets.settle_bets", "bets.run_backtest": "bets.backtest"}
ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"
OPTIONS = ("acks_late", "serializer", "soft_time_limit", "time_limit", "autoretry_for", "max_retries")


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setattr(app.conf, "task_always_eager", True)  # no worker in this process's real-stack run
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)


@pytest.mark.parametrize(("old", "new"), RENAMED.items())
def test_an_old_task_name_is_the_same_code_with_the_same_options(old, new):
    app.loader.import_default_modules()
    alias, task = app.tasks[old], app.tasks[new]
    assert alias.run.__func__ is task.run.__func__
    assert {o: getattr(alias, o, None) for o in OPTIONS} == {o: getattr(task, o, None) for o in OPTIONS}


def _names_table() -> list[list[str]]:
    """The rows (operation, command, task, JobRun, service) of the names table in ARCHITECTURE.md."""
    lines = ARCHITECTURE.read_text().splitlines()
    start = lines.index("  | operation | command | task | JobRun | service |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("  |"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_the_names_table_lists_every_registered_task_and_only_those():
    app.loader.import_default_modules()
    listed = {name for row in _names_table() for name in re.findall(r"`([a-z]+\.[a-z_]+)`", row[2])}
    assert listed == {name for name in app.tasks if not name.startswith("celery.")}


def test_a_command_and_its_task_and_its_run_share_one_name():
    shared = 0
    for operation, command, task, job, _service in _names_table():
        names = [
            re.match(pattern, cell)
            for pattern, cell in ((r"`(\w+)`", command), (r"`[a-z]+\.(\w+)`", task), (r"`(\w+)`", job))
        ]
        if all(names) and "step" not in task:
            assert len({m.group(1) for m in names if m}) == 1, operation
            shared += 1
    assert shared >= 10  # the pulls, backfill, recommend, settle, backtest, backup...


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bets.settle", "bets.settle_bets"])
def test_a_settlement_queued_under_either_name_settles_the_bets_as_settle_bets(name, eager):
    bet = factories.bet(game_=factories.game(status="final", home_score=101, away_score=99))
    result = app.signature(name).delay().get()
    bet.refresh_from_db()
    assert result["settled"] == 1 and bet.result == Bet.Result.WIN
    assert list(JobRun.objects.values_list("job", "status")) == [("settle_bets", "success")]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bets.run_backtest", "bets.backtest"])
def test_a_backtest_queued_under_either_name_runs_it_as_backtest(name, eager):
    empty = dt.date(2030, 1, 1)
    bt = backtest_create(league=factories.league("NBA"), market="h2h", date_from=empty, date_to=empty, params={})
    result = app.signature(name, args=[bt.pk]).delay().get()
    bt.refresh_from_db()
    assert result == {"backtest": bt.pk, "status": "failed", "bets": bt.n_bets}
    assert bt.status == Backtest.Status.FAILED and "no finished NBA games" in bt.error
    assert list(JobRun.objects.values_list("job", "status")) == [("backtest", "failed")]


@pytest.mark.django_db
def test_a_scores_pull_that_wrote_queues_settlement_under_the_commands_name(eager, monkeypatch):
    written = JobRun.objects.create(job="fetch_scores", status="success")
    monkeypatch.setattr(games_tasks, "scores_pull", lambda **kwargs: PullResult(written.pk, "success"))
    result = games_tasks.fetch_scores.delay("NBA").get()
    assert result["then"] == "bets.settle_bets"
    assert JobRun.objects.filter(job="settle_bets", status="success").exists()


def _beat_rows() -> dict[str, str]:
    return dict(PeriodicTask.objects.order_by("name").values_list("name", "task"))


def test_the_migration_renames_stored_periodic_tasks_and_back(transactional_db):
    executor = MigrationExecutor(connection)
    before, after = [("core", "0004_health_events")], [("core", "0005_rename_task_names")]
    executor.migrate(before)
    every = IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)
    for name, task in [
        ("bets: settle", "bets.settle"),
        ("a backtest", "bets.run_backtest"),
        ("odds", "games.fetch_odds"),
    ]:
        PeriodicTask.objects.create(name=name, task=task, interval=every)
    PeriodicTasks.objects.all().delete()  # the stamp a running beat watches: the migration must set it
    try:
        executor.loader.build_graph()
        executor.migrate(after)
        assert _beat_rows() == {
            "a backtest": "bets.backtest",
            "bets: settle": "bets.settle_bets",
            "odds": "games.fetch_odds",
        }
        assert PeriodicTasks.objects.get(ident=1).last_update is not None
        executor.loader.build_graph()
        executor.migrate(before)
        assert _beat_rows() == {
            "a backtest": "bets.run_backtest",
            "bets: settle": "bets.settle",
            "odds": "games.fetch_odds",
        }
    finally:
        executor.loader.build_graph()
        executor.migrate(after)
