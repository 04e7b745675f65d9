"""One name per operation, and the scheduling rules the beat tasks call (games/pulls.py)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from betting.games.models import League
from betting.games.pulls import schedule_due, scores_due
from core.models import JobRun
from tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["sync_reference", "sync_teams"])
def test_the_reference_sync_is_recorded_under_one_name_whichever_command_runs_it(command):
    call_command(command, "--league", "NBA", stdout=StringIO())
    assert list(JobRun.objects.values_list("job", flat=True)) == ["sync_reference"]


@pytest.mark.django_db
def test_schedule_due_lists_every_active_league_for_each_day():
    factories.league("NBA")
    factories.league("MLB")
    League.objects.filter(code="MLB").update(active=False)
    today = dt.date(2024, 1, 10)
    assert schedule_due(today=today, days=2) == [("NBA", today), ("NBA", dt.date(2024, 1, 11))]


@pytest.mark.django_db
def test_scores_due_keeps_leagues_with_a_game_on_now_and_not_final():
    on = factories.game(start=factories.START)
    assert scores_due(now=factories.START + dt.timedelta(hours=4)) == [on.league.code]
    assert scores_due(now=factories.START + dt.timedelta(hours=6)) == []  # started too long ago
    on.status, on.home_score, on.away_score = "final", 101, 99
    on.save()
    assert scores_due(now=factories.START + dt.timedelta(hours=1)) == []
