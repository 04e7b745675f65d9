"""The loop Celery beat runs: an odds pull queues recommend (predict + stake + paper bets), a scores
pull queues settlement; LIVE mode's two locks; a bet entered in the admin goes through the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
import time_machine
from django.core.management import call_command

from betting.bets.models import Bankroll, BankrollEntry, Bet
from betting.bets.services import BetError, bankroll_open, bet_place
from betting.bets.strategies import recommend_upcoming
from betting.games.models import Bookmaker, Game
from betting.games.tasks import fetch_odds
from core.models import JobRun
from tests.conftest import train_active
from tests.games.test_pulls import ODDS_URL, providers  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAYLOAD = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
AS_OF = dt.datetime(2023, 12, 11, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def eager(monkeypatch):
    """Tasks, and the tasks they queue, run in this process (the real-stack run has a broker but
    no worker here; the real worker is exercised in tests/core)."""
    from core.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)


@pytest.fixture
def trained(seasons, model_dir, settings):
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}
    # The loop, not input freshness, is under test: 2014-16 inputs price the recorded 2023 odds,
    # which the staleness guard rightly rejects (tests/bets/test_stale_inputs.py), so it is widened here.
    settings.MODEL_STALE_DAYS = settings.FEATURE_STALE_DAYS = 10_000
    train_active("NBA", "h2h")


@pytest.mark.django_db
@responses.activate
@pytest.mark.slow
def test_an_odds_pull_queues_recommend_which_predicts_and_places_paper_bets_once_a_day(trained, providers, eager):  # noqa: F811
    responses.get(ODDS_URL, body=PAYLOAD.read_bytes())
    with time_machine.travel(AS_OF, tick=False):
        result = fetch_odds.delay("NBA").get()
        assert result["status"] == "success" and result["then"] == "bets.recommend"
        run = JobRun.objects.get(job="recommend", params__auto=True)
        assert run.status == "success", run.error
        assert run.counts["predictions"] > 0 and run.counts["mode"] == "PAPER"
        bets = list(Bet.objects.all())
        assert bets and run.counts["placed"] == len(bets)
        assert {b.decision_run for b in bets} == {"auto-2023-12-11"}
        assert Bankroll.objects.get(name="paper").mode == "PAPER"
        # the next pull the same day places nothing twice
        fetch_odds.delay("NBA").get()
        assert Bet.objects.count() == len(bets)


@pytest.mark.django_db
@pytest.mark.slow
def test_live_mode_recommends_but_places_nothing(trained, settings):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(PAYLOAD), stdout=None)
    settings.BETTING_MODE = "LIVE"
    summary = recommend_upcoming(league_code="NBA", now=AS_OF)
    assert summary["with_stake"] > 0 and summary["placed"] == 0
    assert Bet.objects.count() == 0


@pytest.mark.django_db
def test_live_bankroll_locks(reference, settings):
    game, book, live = live_setup()
    kwargs = {
        "bankroll": live,
        "game": game,
        "market": "h2h",
        "outcome": "home",
        "bookmaker": book,
        "price": Decimal("1.95"),
        "stake": Decimal("50"),
        "probability": 0.55,
        "decision_run": "r1",
    }
    with pytest.raises(BetError, match="never gets automatic bets"):
        bet_place(**kwargs)
    settings.ENABLE_LIVE_BETTING = False
    with pytest.raises(BetError, match="set ENABLE_LIVE_BETTING=true"):
        bet_place(**kwargs, manual=True)
    settings.ENABLE_LIVE_BETTING = True
    bet, created = bet_place(**kwargs, manual=True)
    assert created and live.balance() == Decimal("950.00")
    assert BankrollEntry.objects.get(bet=bet).amount == Decimal("-50.00")


@pytest.mark.django_db
def test_a_bet_entered_in_the_admin_goes_into_the_ledger(reference, admin_client, settings):
    game, book, live = live_setup()
    form = {
        "bankroll": live.pk,
        "game": game.pk,
        "market": "h2h",
        "outcome": "home",
        "point": "",
        "bookmaker": book.pk,
        "price": "2.10",
        "stake": "40",
        "probability": "0.52",
    }
    settings.ENABLE_LIVE_BETTING = False
    refused = admin_client.post("/admin/bets/bet/add/", form)
    assert refused.status_code == 200 and b"ENABLE_LIVE_BETTING" in refused.content
    assert Bet.objects.count() == 0
    settings.ENABLE_LIVE_BETTING = True
    bad = admin_client.post("/admin/bets/bet/add/", {**form, "price": "0.9"})
    assert bad.status_code == 200 and b"above 1.00" in bad.content
    done = admin_client.post("/admin/bets/bet/add/", form)
    assert done.status_code == 302, done.content[:2000]
    bet = Bet.objects.get()
    assert bet.decision_run.startswith("manual-")
    assert bet.edge == Decimal(str(round(0.52 - 1 / 2.10, 6)))
    assert live.balance() == Decimal("960.00")


def live_setup() -> tuple[Game, Bookmaker, Bankroll]:
    """A scheduled NBA game, a book, and a LIVE bankroll of 1,000."""
    game = Game.objects.create(
        league_id=_nba_id(),
        season=2024,
        game_date=dt.date(2024, 1, 2),
        start_time=dt.datetime(2024, 1, 3, 0, 30, tzinfo=dt.UTC),
        home_team=_team("BOS"),
        away_team=_team("NYK"),
    )
    book, _ = Bookmaker.objects.get_or_create(key="pinnacle", defaults={"title": "Pinnacle"})
    return game, book, bankroll_open(name="real", deposit=Decimal("1000"), mode=Bankroll.Mode.LIVE)


def _nba_id() -> int:
    from betting.games.models import League

    return League.objects.get(code="NBA").pk


def _team(abbreviation: str) -> Any:
    from betting.games.models import Team

    return Team.objects.get(league__code="NBA", abbreviation=abbreviation)
