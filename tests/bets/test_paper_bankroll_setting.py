"""Issue 17: PAPER_BANKROLL names the automatic run's bankroll everywhere: the run, the recommend
command, the Today page's stakes and the /bets page all use it, not a hard-coded "paper"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from betting.bets import page_data
from betting.bets.models import Bankroll
from betting.bets.services import bankroll_open
from betting.bets.strategies import recommend_upcoming
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(reference, settings):
    settings.PAPER_BANKROLL = "sim"
    settings.PUBLIC_PAGES = True
    bankroll_open(name="paper", deposit=Decimal("100"))  # a bankroll named as the old default, sorted first


def test_the_automatic_run_uses_paper_bankroll(sim, settings):
    settings.BETTING_MODE = "PAPER"
    assert recommend_upcoming(league_code="NBA")["bankroll"] == "sim"
    assert Bankroll.objects.filter(name="sim", owner__isnull=True).exists()


def test_the_recommend_command_uses_paper_bankroll(sim):
    out = StringIO()
    call_command("recommend", "--league", "NBA", "--date", "2001-01-01", stdout=out)
    assert "sim (" in out.getvalue() and Bankroll.objects.filter(name="sim").exists()


def test_the_pages_show_paper_bankroll(sim, client):
    recorded_nba_odds()
    bankroll_open(name="sim", deposit=Decimal("5000"))
    assert page_data.page_bankroll().name == "sim"
    assert page_data.slate(day=dt.date(2023, 12, 11), league="NBA", market="h2h").bankroll.name == "sim"
    assert client.get("/bets").context["bankroll"].name == "sim"
    today = client.get("/?date=2023-12-11&league=NBA")
    assert today.status_code == 200 and b"<strong>sim</strong>" in today.content
