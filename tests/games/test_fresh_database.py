"""A freshly migrated database knows its leagues, teams and aliases: every command works after ``migrate``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from betting.games.models import Game, League, Team, TeamAlias
from tests.conftest import ROOT

SCOREBOARD = ROOT / "tests" / "fixtures" / "mlb_scoreboard_2025.json"


def manage(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "core.settings.test"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_new_database_migrated_from_nothing_has_the_leagues_and_fetch_scores_works(tmp_path):
    database = str(tmp_path / "fresh.sqlite3")
    migrated = manage("migrate", "--noinput", database=database)
    assert migrated.returncode == 0, migrated.stderr
    assert "Loaded the reference leagues (2), teams (60)" in migrated.stdout
    fetched = manage("fetch_scores", "--league", "MLB", "--from-file", str(SCOREBOARD), database=database)
    assert fetched.returncode == 0, fetched.stderr
    assert "unknown league" not in fetched.stderr and "success: records 14, created 14" in fetched.stdout
    with sqlite3.connect(database) as db:
        assert [code for (code,) in db.execute("SELECT code FROM games_league ORDER BY code")] == ["MLB", "NBA"]
        assert db.execute("SELECT count(*) FROM games_game").fetchone() == (14,)


def _delete_leagues(*codes: str) -> None:
    leagues = League.objects.filter(code__in=codes) if codes else League.objects.all()
    TeamAlias.objects.filter(league__in=leagues).delete()
    Team.objects.filter(league__in=leagues).delete()
    leagues.delete()


@pytest.mark.django_db
def test_migrate_fills_an_empty_league_table_and_leaves_a_filled_one_alone():
    _delete_leagues()
    with pytest.raises(CommandError, match="unknown league 'NBA'; known leagues: none"):
        call_command("fetch_scores", "--league", "NBA", "--from-file", str(SCOREBOARD), stdout=StringIO())

    call_command("migrate", verbosity=0)
    counts = League.objects.count(), Team.objects.count(), TeamAlias.objects.count()
    assert counts[0] == 2 and counts[1] == 60 and counts[2] > 60
    call_command("fetch_scores", "--league", "MLB", "--from-file", str(SCOREBOARD), stdout=StringIO())
    assert Game.objects.filter(league__code="MLB").count() == 14
    out = StringIO()
    call_command("sync_teams", stdout=out)  # still works, and finds nothing to add
    assert "teams 0 created, 0 updated; aliases 0 created, 0 updated" in out.getvalue()

    _delete_leagues("NBA")  # a league the operator removed stays removed
    call_command("migrate", verbosity=0)
    assert list(League.objects.values_list("code", flat=True)) == ["MLB"]


@pytest.mark.django_db
def test_flush_leaves_the_database_empty_for_a_restore():
    call_command("flush", interactive=False, verbosity=0)
    assert not League.objects.exists()
