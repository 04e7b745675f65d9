from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.conftest import NBA_SBR


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.PROMOTION_RECENT_GAMES = 100
    return settings.MODEL_DIR


@pytest.fixture
def seasons(reference):
    """Three real NBA seasons, 2013-14 to 2015-16."""
    files = [str(NBA_SBR / f"nba_odds_{y}.csv") for y in ("2013-14", "2014-15", "2015-16")]
    call_command("import_history", "--league", "NBA", "--format", "sbr", *files, "--no-progress")
