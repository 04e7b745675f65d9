from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
NBA_SBR = DEMO / "nba" / "sbr"
KAGGLE = DEMO / "nba" / "kaggle" / "nba_betting_2007-08_to_2017-18.csv"
MLB_SBR = DEMO / "mlb" / "sbr"


def train_active(league: str = "NBA", market: str = "h2h", *extra: str):
    """Train through the ``train`` command and return an active version of ``league``/``market``.

    On the two seasons the tests load, the line baseline usually wins the validation, so the gate
    rightly keeps the version out. Tests of the betting path (line shopping, staking, pages) need an
    active model all the same: the fixture activates the version it just trained, saying so in its
    note. The gate's own behaviour is tested in tests/predictions/test_training.py without this."""
    from io import StringIO

    from django.core.management import call_command

    from betting.predictions import registry
    from betting.predictions.models import ModelVersion

    call_command("train", "--league", league, "--market", market, *extra, stdout=StringIO())
    version = ModelVersion.objects.filter(league__code=league, market=market).order_by("-created_at", "-pk").first()
    assert version is not None
    if not version.is_active:
        registry.activate(version, "activated by a test fixture to exercise the betting path")
    return version


# ``manage.py recommend`` for the day of the recorded NBA odds, at the hour they were captured.
RECOMMEND_RECORDED_NBA = (
    "recommend", "--league", "NBA", "--date", "2023-12-11", "--as-of", "2023-12-11T18:00:00+00:00",
)  # fmt: skip


def predict_recorded_nba(settings):
    """Train an active NBA h2h version (``train_active``), load the recorded odds of 2023-12-11 and
    predict that day; return the version. Needs the ``seasons`` and ``model_dir`` fixtures.

    2014-16 inputs price the recorded 2023 odds, which the staleness guard rightly rejects
    (tests/bets/test_stale_inputs.py): it is widened here for the tests that are about something
    else (line shopping, sizing, the blend, the kill switch, the single-flight lock)."""
    from io import StringIO

    from django.core.management import call_command

    from tests.factories import recorded_nba_odds

    settings.MODEL_STALE_DAYS = settings.FEATURE_STALE_DAYS = 10_000
    version = train_active("NBA", "h2h")
    recorded_nba_odds()
    call_command("predict", "--league", "NBA", "--date", "2023-12-11", stdout=StringIO())
    return version


@pytest.fixture
def reference(db):
    """Leagues, teams and aliases as the bundled reference files define them."""
    from betting.games.ingest.reference import reference_sync

    return reference_sync()


@pytest.fixture
def nba(reference):
    from betting.games.models import League

    return League.objects.get(code="NBA")


@pytest.fixture
def mlb(reference):
    from betting.games.models import League

    return League.objects.get(code="MLB")


@pytest.fixture
def season_csv(tmp_path):
    """Copy of a real SBR season file, to be corrupted by a test without touching the original."""

    def make(name: str = "nba_odds_2007-08.csv") -> Path:
        target = tmp_path / name
        shutil.copy(NBA_SBR / name, target)
        return target

    return make


def corrupt_csv(path: Path, row_index: int, column: str, value: str) -> None:
    """Overwrite one cell of a CSV in place (row_index 0 is the first row after the header)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[row_index][column] = value
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def model_dir(settings, tmp_path):
    """Boosters go to a temporary folder; the gate compares on fewer games so small data suffices."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.PROMOTION_RECENT_GAMES = 100
    return settings.MODEL_DIR


@pytest.fixture
def seasons(reference):
    """Two real NBA seasons, 2014-15 and 2015-16."""
    from django.core.management import call_command

    files = [str(NBA_SBR / f"nba_odds_{y}.csv") for y in ("2014-15", "2015-16")]
    call_command("import_history", "--league", "NBA", "--format", "sbr", *files, "--no-progress")


def pytest_terminal_summary(terminalreporter):
    """Figures the fault-injection tests measured (``record_property("figure", ...)``), also under xdist."""
    figures = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("measured figures")
        for line in dict.fromkeys(figures):
            terminalreporter.write_line(line)
