"""Placing, settling and closing-line value on real recorded odds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from betting.bets.models import Bankroll, BankrollEntry, Bet
from betting.bets.services import bankroll_open, bet_place, bets_settle, grade
from betting.games.models import Bookmaker, Game, OddsQuote
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("market", "outcome", "point", "home", "away", "result"),
    [
        ("h2h", "home", None, 101, 99, "win"),
        ("h2h", "away", None, 101, 99, "loss"),
        ("spreads", "home", Decimal("-2.5"), 101, 99, "loss"),
        ("spreads", "away", Decimal("2.5"), 101, 99, "win"),
        ("spreads", "home", Decimal("-2"), 101, 99, "push"),
        ("totals", "over", Decimal("199.5"), 101, 99, "win"),
        ("totals", "under", Decimal("200"), 101, 99, "push"),
        ("totals", "under", Decimal("200.5"), 101, 99, "win"),
    ],
)
def test_grading(market, outcome, point, home, away, result):
    assert grade(market=market, outcome=outcome, point=point, home=home, away=away) == result


@pytest.fixture
def slate(reference):
    recorded_nba_odds()
    return Game.objects.get(home_team__abbreviation="ORL", game_date=dt.date(2023, 12, 11))


@pytest.mark.django_db
def test_a_bet_is_placed_once_per_decision_run_and_settled_once_with_clv(slate):
    bankroll = bankroll_open(name="paper", deposit=Decimal("1000"))
    best = OddsQuote.objects.filter(game=slate, market="h2h", outcome="home").order_by("-price").first()
    kwargs = dict(
        bankroll=bankroll,
        game=slate,
        market="h2h",
        outcome="home",
        bookmaker=best.bookmaker,
        price=best.price,
        stake=Decimal("25"),
        probability=0.55,
        decision_run="run-1",
    )
    bet, created = bet_place(**kwargs)
    again, created_again = bet_place(**kwargs)
    assert created and not created_again and again.pk == bet.pk
    assert bankroll.balance() == Decimal("975.00")

    slate.status, slate.home_score, slate.away_score = "final", 110, 104
    slate.save()
    first = bets_settle()
    second = bets_settle()
    assert (first.settled, second.settled) == (1, 0)
    bet.refresh_from_db()
    assert bet.result == "win" and bet.payout == (Decimal("25") * best.price).quantize(Decimal("0.01"))
    assert bankroll.balance() == Decimal("975.00") + bet.payout
    assert BankrollEntry.objects.filter(bet=bet).count() == 2
    # Even the best of 15 books (1.85) sits under the de-vigged consensus close (1.8813): CLV -1.66%.
    assert bet.closing_price == Decimal("1.8813") and bet.clv < 0
    # price x fair closing probability - 1 (games.market.clv): the shown close is that price rounded
    assert float(bet.clv) == pytest.approx(float(bet.price / bet.closing_price - 1), abs=5e-5)


@pytest.mark.django_db
def test_a_cancelled_game_voids_the_bet_and_refunds_the_stake(slate):
    bankroll = bankroll_open(name="paper", deposit=Decimal("100"))
    book = Bookmaker.objects.get(key="fanduel")
    bet_place(
        bankroll=bankroll,
        game=slate,
        market="h2h",
        outcome="away",
        bookmaker=book,
        price=Decimal("2.1"),
        stake=Decimal("10"),
        probability=0.5,
        decision_run="run-1",
    )
    slate.status = "cancelled"
    slate.save()
    bets_settle()
    bet = Bet.objects.get()
    assert bet.result == "void" and bet.payout == Decimal("10.00")
    assert bankroll.balance() == Decimal("100.00")
    assert Bankroll.objects.get().mode == "PAPER"
