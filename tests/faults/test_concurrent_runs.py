"""Two real processes at once on the real stack: an archive import of one league, and two
``recommend`` runs with the same run id. The loser says so in words; nothing is written twice."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from betting.bets.models import Bet
from core.ops.jobs import single_flight
from tests.conftest import NBA_SBR, RECOMMEND_RECORDED_NBA, predict_recorded_nba
from tests.core.test_celery_worker import ROOT

pytestmark = [
    pytest.mark.faults,
    pytest.mark.realstack,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs REDIS_URL and PostgreSQL (the real-stack run of .ci/run)",
    ),
]


def _env(**extra: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        **extra,
    }


def _manage(*args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(**extra),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_an_import_while_another_of_the_league_runs_is_refused_in_words(reference, transactional_db):
    season = str(NBA_SBR / "nba_odds_2014-15.csv")
    with single_flight("import_history:NBA"):  # another process's import, holding the league's lock
        proc = _manage("import_history", "--league", "NBA", "--format", "sbr", season, "--no-progress")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "another import of NBA history is running; nothing was written" in err
    assert "Traceback" not in err
    proc = _manage("import_history", "--league", "NBA", "--format", "sbr", season, "--no-progress")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "games 1311 created" in out


def test_two_recommend_runs_with_one_run_id_place_each_bet_once(seasons, transactional_db, model_dir, settings):
    predict_recorded_nba(settings)  # the staleness guard widened there: this is about the lock
    limits = {"MODEL_STALE_DAYS": "10000", "FEATURE_STALE_DAYS": "10000", "MIN_EDGE": "0"}
    args = (*RECOMMEND_RECORDED_NBA, "--run", "same", "--deposit", "10000")
    env = {**limits, "MODEL_DIR": str(settings.MODEL_DIR)}
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda _: _manage(*args, **env), range(2)))
        outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    bets = Bet.objects.filter(decision_run="same")
    assert bets.exists()
    n = bets.count()
    texts = sorted(out for out, _ in outputs)
    assert any(f"{n} placed" in t and "already" not in t.split("priced sides")[-1] for t in texts), texts
    assert any(f"0 placed, {n} already placed by run same" in t for t in texts), texts
