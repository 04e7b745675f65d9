"""The beat schedule: defined in code, every task real, crons from the environment, cadence rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from betting.games.models import Game, League, Team
from betting.games.pulls import odds_due
from core.celery import app
from core.models import JobRun


def test_every_scheduled_task_exists_and_expires_before_its_next_run():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert entry["options"]["expires"] > 0


def test_tasks_are_routed_to_named_queues():
    assert settings.CELERY_TASK_ROUTES["games.*"] == {"queue": "ingest"}
    assert settings.CELERY_TASK_ROUTES["predictions.*"] == {"queue": "models"}


@pytest.mark.django_db
def test_odds_are_due_every_interval_and_at_every_tick_near_the_start(reference):
    nba = League.objects.get(code="NBA")
    now = dt.datetime(2026, 1, 9, 12, 0, tzinfo=dt.UTC)
    assert odds_due(now=now) == []  # no games, no pulls
    game = Game.objects.create(
        league=nba,
        season=2025,
        game_date=dt.date(2026, 1, 9),
        start_time=now + dt.timedelta(hours=8),
        home_team=Team.objects.get(league=nba, abbreviation="BOS"),
        away_team=Team.objects.get(league=nba, abbreviation="NYK"),
    )
    assert odds_due(now=now) == ["NBA"]  # never pulled
    JobRun.objects.create(
        job="fetch_odds", params={"league": "NBA"}, status="success", started_at=now - dt.timedelta(minutes=4)
    )
    assert odds_due(now=now) == []  # pulled 4 minutes ago, interval 10
    assert odds_due(now=now + dt.timedelta(minutes=7)) == ["NBA"]
    game.start_time = now + dt.timedelta(minutes=60)
    game.save()
    assert odds_due(now=now) == ["NBA"]  # within 90 minutes of the start: every tick
