"""Issue 14, observations 5 and 8 on the real stack: `manage.py fetch_odds --from-file` in its own
process on PostgreSQL, fed mutated copies of the recorded NBA odds. A 500-character team name or a
51-character bookmaker key used to end in a raw ``DataError`` traceback with nothing written; a payload
of any size was accepted. Now the value is refused with its event or bookmaker (the rest written, the
run partial), and an oversized payload is refused whole with a one-line reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from betting.games.models import Game, OddsQuote
from core.models import JobRun
from tests.faults.conftest import FIXTURES, ROOT, database_url, real_stack

pytestmark = [pytest.mark.faults, pytest.mark.realstack]

NBA_ODDS = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"


def fetch_odds(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_", "PULL_"))}
    clean.update(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="core.settings.test", CONN_MAX_AGE="0", **env)
    command = [sys.executable, "manage.py", "fetch_odds", "--league", "NBA", "--from-file", str(path)]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False)


def write(tmp_path: Path, events: list[dict[str, Any]]) -> Path:
    path = tmp_path / "odds.json"
    path.write_text(json.dumps(events))
    return path


@pytest.fixture
def stack(transactional_db, reference):
    real_stack()


def test_overlong_team_and_bookmaker_are_refused_and_the_rest_written(stack, tmp_path):
    events = json.loads(NBA_ODDS.read_text())
    events[3]["home_team"] = "Los Angeles " + "L" * 488
    events[5]["bookmakers"][0]["key"] = "b" * 51
    result = fetch_odds(write(tmp_path, events))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("partial:") and "Traceback" not in result.stderr + result.stdout
    assert Game.objects.count() == 17 and OddsQuote.objects.exists()
    run = JobRun.objects.get(job="fetch_odds")
    assert run.status == JobRun.Status.PARTIAL and "events[3]" in run.error and "bookmaker refused" in run.error


def test_a_payload_too_large_is_refused_whole_in_one_line(stack, tmp_path):
    events = json.loads(NBA_ODDS.read_text())
    many = [{**event, "id": f"{event['id']}-{n}"} for n in range(120) for event in events]  # 2160 events
    path = write(tmp_path, many)
    assert path.stat().st_size > 10_000_000
    over_bytes = fetch_odds(path)  # the default PULL_MAX_BYTES, 10 MB
    over_events = fetch_odds(path, PULL_MAX_BYTES=str(20_000_000))  # the default PULL_MAX_EVENTS, 1000
    for result, reason in ((over_bytes, "more than PULL_MAX_BYTES"), (over_events, "holds 2160 events")):
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0] and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert not Game.objects.exists()
    assert list(JobRun.objects.values_list("status", flat=True)) == [JobRun.Status.FAILED] * 2
