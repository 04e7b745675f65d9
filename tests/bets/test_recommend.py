"""From predictions to paper bets: line shopping, Kelly under the exposure cap, once per run."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from betting.bets.models import Bankroll, Bet
from betting.games.models import OddsQuote
from tests.conftest import RECOMMEND_RECORDED_NBA, predict_recorded_nba
from tests.factories import command_output

run = partial(command_output, stderr=False)


@pytest.fixture
def predicted(seasons, model_dir, settings):
    # These tests are about line shopping and sizing (the staleness guard is widened there).
    predict_recorded_nba(settings)


@pytest.mark.django_db
def test_paper_bets_take_the_best_price_stay_under_the_cap_and_are_placed_once(predicted, settings):
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}
    args = (*RECOMMEND_RECORDED_NBA, "--deposit", "10000")
    output = run(*args)
    bets = list(Bet.objects.select_related("game"))
    assert bets, output
    bankroll = Bankroll.objects.get(name="paper")
    assert bankroll.mode == "PAPER"
    total = sum(b.stake for b in bets)
    assert total <= Decimal("2000.00")  # DAILY_EXPOSURE_FRACTION 0.20 of 10,000
    assert bankroll.balance() == Decimal("10000.00") - total
    for bet in bets:
        best = (
            OddsQuote.objects.filter(game=bet.game, market=bet.market, outcome=bet.outcome).order_by("-price").first()
        )
        assert bet.price == best.price  # line shopping: the best book's price
        assert bet.edge > 0 and bet.stake <= Decimal("500.00")
    again = run(*args)
    assert Bet.objects.count() == len(bets)
    # the same run again sizes nothing twice: it reports the bets that stand, at their stakes
    assert f"0 placed, {len(bets)} already placed by run" in again
    assert again.count("(already placed)") == len(bets)
    for bet in bets:
        assert f"BET {bet.stake} " in again


@pytest.mark.django_db
@pytest.mark.slow
def test_the_kill_switch_stops_every_new_bet(predicted, settings):
    settings.BETTING_KILL_SWITCH = True
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}
    run(*RECOMMEND_RECORDED_NBA, "-v", "2")
    assert Bet.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.slow
def test_live_mode_never_places_a_bet(predicted, settings):
    settings.BETTING_MODE = "LIVE"
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}
    out = run(*RECOMMEND_RECORDED_NBA)
    assert Bet.objects.count() == 0 and "0 placed" in out
