"""The live bankroll on equity: bets placed are not a drawdown (the Today banner), and a drawdown stop
tripped by settled losses holds after those losses leave the PEAK_BANKROLL_DAYS window."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from betting.bets.models import Bet
from betting.bets.services import bankroll_open, bankroll_state, risk_limits
from betting.bets.staking import bankroll_stops, bankroll_warnings
from betting.games.models import Game, OddsQuote
from tests import factories
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AS_OF = "2023-12-11T18:00:00+00:00"


@pytest.fixture
def game(reference):
    recorded_nba_odds()
    return Game.objects.get(home_team__abbreviation="ORL", game_date=dt.date(2023, 12, 11))


@pytest.mark.django_db
def test_a_stop_tripped_by_old_losses_holds_until_equity_recovers(game):
    now = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    bankroll = bankroll_open(name="paper", deposit=Decimal("1000"), at=now - dt.timedelta(days=60))
    quote = OddsQuote.objects.filter(game=game, market="h2h", outcome="home").first()
    bet = factories.bet(
        bankroll,
        game,
        book=quote.bookmaker,
        price=quote.price,
        stake="250",
        probability=0.6,
        decision_run="old",
        placed_at=now - dt.timedelta(days=46),
    )
    Bet.objects.filter(pk=bet.pk).update(
        status=Bet.Status.SETTLED, result="loss", payout=Decimal("0"), settled_at=now - dt.timedelta(days=45)
    )
    limits = risk_limits()
    state = bankroll_state(bankroll, now=now, limits=limits)
    assert state.equity == Decimal("750") and state.drawdown == 0  # the loss is out of the 30-day window
    assert bankroll_stops(state, limits) == [
        "drawdown stop holds: equity is 25% under its all-time peak; betting resumes within 15% of it"
    ]
    assert bankroll_stops(state, replace(limits, drawdown_rearm="rolling")) == []  # the old behaviour


@pytest.mark.django_db
def test_bets_just_placed_show_no_drawdown_on_the_today_banner(game, settings):
    # A warning level low enough that counting the open stakes as lost (the old banner) would show it.
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "drawdown_warn_fraction": 0.001, "max_drawdown_fraction": 0.5}
    now = dt.datetime.fromisoformat(AS_OF)
    bankroll = bankroll_open(name="paper", deposit=Decimal("10000"), at=now - dt.timedelta(days=1))
    for quote in OddsQuote.objects.filter(game__game_date=game.game_date, market="h2h", outcome="home")[:4]:
        factories.bet(
            bankroll,
            quote.game,
            book=quote.bookmaker,
            price=quote.price,
            stake="400",
            probability=0.6,
            decision_run="auto",
            placed_at=now,
        )
    assert bankroll.balance() < Decimal("10000")
    limits = risk_limits()
    state = bankroll_state(bankroll, now=now, limits=limits)
    # The banner is the slate's warnings and stops (pages.slate via recommend): none about a drawdown.
    assert state.equity == Decimal("10000") and state.drawdown == 0
    assert bankroll_warnings(state, limits) == [] and bankroll_stops(state, limits) == []
