"""The scanner paper strategy on the recorded 2023-12-11 NBA odds: bets on the scanner's +EV prices
at the best price across books, staked on the sharp consensus by fractional Kelly under the risk
limits, settled like any bet; CLV only against prices seen after the bet."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from betting.bets import edges, staking, strategies
from betting.bets.models import Bet
from betting.bets.services import bankroll_open, bet_place, bets_settle, risk_limits
from betting.games.models import Game, OddsQuote

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DECIDE = dt.datetime(2023, 12, 11, 17, 0, tzinfo=dt.UTC)  # after the recording (16:55-16:58 UTC), before the games


@pytest.fixture
def slate(reference):
    call_command(
        "fetch_odds",
        "--league",
        "NBA",
        "--from-file",
        str(FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"),
        stdout=StringIO(),
    )
    return list(Game.objects.filter(game_date=dt.date(2023, 12, 11)).select_related("home_team", "away_team"))


def _run(slate, limits, *, place=True, bankroll=None, run="t"):
    bankroll = bankroll or bankroll_open(name="paper", deposit=Decimal("10000"), at=DECIDE)
    recs, warnings = strategies.scanner_recommend(
        bankroll=bankroll, games=slate, now=DECIDE, limits=limits, decision_run=run, place=place
    )
    return bankroll, recs, warnings


def _best_edges(slate):
    """The scanner's +EV items of these games, best price per side and line."""
    found = edges.edges_scan(at=DECIDE, league="NBA").result.positive_ev
    ids = {g.pk for g in slate}
    best: dict[tuple, object] = {}
    for item in found:
        if item.game_id in ids:
            key = (item.game_id, item.market, item.side, item.point)
            if key not in best or item.price > best[key].price:
                best[key] = item
    return best


@pytest.mark.django_db
def test_bets_are_placed_from_the_scanners_edges_at_the_best_price(slate):
    best = _best_edges(slate)
    assert best, "the recording holds +EV prices against the sharp consensus"
    limits = replace(risk_limits(), min_edge=0.0)
    bankroll, recs, _ = _run(slate, limits)
    assert {(r.game.pk, r.market, r.outcome, None if r.point is None else float(r.point)) for r in recs} == set(best)
    placed = list(Bet.objects.filter(bankroll=bankroll))
    assert placed and len(placed) == sum(1 for r in recs if r.stake > 0)
    for bet in placed:
        item = best[(bet.game_id, bet.market, bet.outcome, None if bet.point is None else float(bet.point))]
        assert bet.bookmaker.key == item.book and float(bet.price) == pytest.approx(item.price)
        assert float(bet.probability) == pytest.approx(item.fair_prob, abs=1e-6)  # the sharp consensus
        assert bet.model_version is None and strategies.is_scanner_bet(bet.decision_run)
        assert bet.placed_at == DECIDE
    # once per run: a second run finds its bets placed and sizes nothing again
    _, again, _ = _run(slate, limits, bankroll=bankroll)
    assert Bet.objects.count() == len(placed)
    assert all(r.already_placed for r in again if r.stake > 0)


@pytest.mark.django_db
def test_stakes_follow_fractional_kelly_and_the_risk_limits(slate):
    limits = replace(risk_limits(), min_edge=0.0)
    _, recs, _ = _run(slate, limits, place=False)
    assert any(r.stake > 0 for r in recs)
    equity = Decimal("10000")
    for rec in recs:
        if rec.probability < limits.min_probability:
            assert rec.stake == 0 and any("MIN_PROBABILITY" in reason for reason in rec.reasons)
            continue
        full = staking.kelly_fraction(rec.probability, rec.price)
        expected = (Decimal(str(limits.kelly_fraction * full)) * equity).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        assert rec.stake > 0 and abs(rec.stake - expected) <= Decimal("0.01")
    # the default MIN_EDGE (1 point) refuses every one of these long-shot edges, with the reason
    _, strict, _ = _run(slate, replace(limits, min_edge=0.05), place=False)
    assert strict and all(r.stake == 0 for r in strict)
    assert all(any("under the minimum" in reason for reason in r.reasons) for r in strict)
    # a cap on the stake holds, and the kill switch stops everything
    _, capped, _ = _run(slate, replace(limits, max_stake_absolute=Decimal("5")), place=False)
    assert any(r.stake > 0 for r in capped) and all(r.stake <= Decimal("5") for r in capped)
    _, stopped, _ = _run(slate, replace(limits, kill_switch=True), place=True)
    assert all(r.stake == 0 for r in stopped) and not Bet.objects.exists()


@pytest.mark.django_db
def test_scanner_bets_settle_with_no_invented_closing_price(slate):
    bankroll, _, _ = _run(slate, replace(risk_limits(), min_edge=0.0))
    bets = list(Bet.objects.filter(bankroll=bankroll).select_related("game"))
    assert bets
    for bet in bets:
        game = bet.game
        game.status, game.home_score, game.away_score = Game.Status.FINAL, 110, 100  # home wins
        game.save()
    start = bets[0].game.start_time
    assert bets_settle(now=start - dt.timedelta(minutes=1)).settled == 0  # a replay settles nothing not started
    summary = bets_settle(now=start + dt.timedelta(hours=4))
    assert summary.settled == len(bets)
    for bet in Bet.objects.filter(bankroll=bankroll):
        assert bet.status == "settled" and bet.settled_at == start + dt.timedelta(hours=4)
        assert bet.result == ("win" if bet.outcome == "home" else "loss")
        # the recording is the last price seen before the start, and it was before the bet: no close
        assert bet.closing_price is None and bet.clv is None
    stakes = sum(b.stake for b in bets)
    returns = sum(b.payout for b in Bet.objects.filter(bankroll=bankroll))
    assert bankroll.balance() == Decimal("10000.00") - stakes + returns


@pytest.mark.django_db
def test_clv_is_computed_against_prices_seen_after_the_bet(slate):
    """The same recorded quotes: a bet placed before the last of them were captured gets a close (the
    later quotes), one placed after all of them gets none."""
    game = next(g for g in slate if OddsQuote.objects.filter(game=g, market="h2h").count() > 2)
    quotes = OddsQuote.objects.filter(game=game, market="h2h", outcome="home").order_by("captured_at")
    first, last = quotes.first(), quotes.last()
    assert first.captured_at < last.captured_at
    bankroll = bankroll_open(name="paper", deposit=Decimal("1000"))
    common = dict(bankroll=bankroll, game=game, market="h2h", outcome="home", stake=Decimal("10"), probability=0.5)
    early, _ = bet_place(
        **common, bookmaker=first.bookmaker, price=first.price, decision_run="early", placed_at=first.captured_at
    )
    late, _ = bet_place(**common, bookmaker=last.bookmaker, price=last.price, decision_run="late", placed_at=DECIDE)
    game.status, game.home_score, game.away_score = Game.Status.FINAL, 100, 90
    game.save()
    bets_settle(now=game.start_time + dt.timedelta(hours=4))
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.closing_price is not None and early.clv is not None
    assert float(early.clv) == pytest.approx(float(early.price / early.closing_price - 1), abs=5e-5)
    assert late.closing_price is None and late.clv is None
