"""One market everywhere: settlement, the backtester, recommend, Today and the feature selectors read the
same quotes the same way (betting/games/market.py, one DEVIG_METHOD), on real recorded odds of 15 books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from betting.bets import backtest as engine
from betting.bets.models import Bet
from betting.bets.page_data import slate as today
from betting.bets.services import bankroll_open, bet_place, bets_settle, closing_probability, market_now
from betting.games.models import Bookmaker, Game, OddsQuote
from betting.predictions.selectors import closing_market
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORRUPT = Decimal("1.04")  # -2500/-2500: a corrupt archive pair


@pytest.fixture
def game(reference):
    recorded_nba_odds()
    return Game.objects.select_related("league").get(home_team__abbreviation="ORL", game_date=dt.date(2023, 12, 11))


def _common_spread(game: Game) -> Decimal:
    """The home spread most books quote."""
    points = OddsQuote.objects.filter(game=game, market="spreads", outcome="home").values_list("point", flat=True)
    return pd.Series(list(points)).mode()[0]


def _backtest_clv(game: Game, market: str, outcome: str, point: Decimal | None, price: Decimal) -> float | None:
    """The CLV the backtester reports for a bet at ``price`` on this side (its own reading of the quotes)."""
    quotes = engine._quotes(game.league, market, [game.pk])[game.pk]
    closes = engine.closing_probabilities(quotes, market, pd.Timestamp(game.start_time))
    return engine.clv_of(float(price), closes.get((outcome, None if point is None else float(point))))[1]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["multiplicative", "shin"])
@pytest.mark.parametrize("market", ["h2h", "spreads"])
def test_settlement_and_backtests_agree_on_a_clv(game, settings, method, market):
    settings.DEVIG_METHOD = method
    point = _common_spread(game) if market == "spreads" else None
    best = OddsQuote.objects.filter(game=game, market=market, outcome="home", point=point).order_by("-price").first()
    bet, _ = bet_place(
        bankroll=bankroll_open(name="paper", deposit=Decimal("1000")),
        game=game,
        market=market,
        outcome="home",
        bookmaker=best.bookmaker,
        price=best.price,
        point=point,
        stake=Decimal("25"),
        probability=0.55,
        decision_run="run-1",
    )
    game.status, game.home_score, game.away_score = "final", 110, 104
    game.save()
    bets_settle()
    bet.refresh_from_db()
    assert bet.clv is not None
    assert float(bet.clv) == _backtest_clv(game, market, "home", point, bet.price)


@pytest.mark.django_db
def test_the_settings_de_vig_method_moves_every_reading_together(game, settings):
    bet = Bet(game=game, market="h2h", outcome="home", point=None)
    multiplicative = closing_probability(bet)
    settings.DEVIG_METHOD = "shin"
    shin = closing_probability(bet)
    assert shin != pytest.approx(multiplicative, abs=1e-9)
    _, consensus = market_now(game_ids=[game.pk], now=game.start_time - dt.timedelta(minutes=1))
    assert consensus[(game.pk, "h2h", "home", None)] == pytest.approx(shin)
    assert closing_market(game.league).loc[game.pk, "home_prob"] == pytest.approx(shin)


def _readings(game: Game) -> dict[str, float]:
    """The home side's market probability as each caller reads it, just before the day's first game."""
    first = Game.objects.filter(game_date=game.game_date).order_by("start_time").first()
    assert first is not None
    as_of = first.start_time - dt.timedelta(minutes=1)
    quotes = engine._quotes(game.league, "h2h", [game.pk])[game.pk]
    rows = today(day=game.game_date, league="NBA", market="h2h", now=game.start_time + dt.timedelta(days=1)).rows
    page = next(row for row in rows if row.game.pk == game.pk)
    return {
        "settlement": closing_probability(Bet(game=game, market="h2h", outcome="home", point=None)) or 0.0,
        "recommend": market_now(game_ids=[game.pk], now=as_of)[1][(game.pk, "h2h", "home", None)],
        "backtest": engine.closing_probabilities(quotes, "h2h", pd.Timestamp(game.start_time))[("home", None)],
        "today": page.sides[0].market_prob or 0.0,
        "features": float(closing_market(game.league)["home_prob"].astype(float)[game.pk]),
    }


@pytest.mark.django_db
def test_a_corrupt_pair_reaches_no_consensus_anywhere(game):
    first = Game.objects.filter(game_date=game.game_date).order_by("start_time").first()
    book = Bookmaker.objects.filter(quotes__game=game, quotes__market="h2h").distinct().first()
    last = OddsQuote.objects.filter(game=game).order_by("-captured_at").first()
    at = first.start_time - dt.timedelta(minutes=2)
    assert last.captured_at < at  # the corrupt pair is this book's latest word
    for outcome in ("home", "away"):
        OddsQuote.objects.create(
            game=game, bookmaker=book, market="h2h", outcome=outcome, price=CORRUPT, captured_at=at
        )
    with_corrupt = _readings(game)
    OddsQuote.objects.filter(game=game, bookmaker=book, market="h2h").delete()
    without_book = _readings(game)
    assert with_corrupt == pytest.approx(without_book)
    # and every caller reads the same market
    assert max(with_corrupt.values()) - min(with_corrupt.values()) < 1e-12


@pytest.mark.django_db
def test_the_game_page_shows_the_close_the_way_settlement_reads_it(game, client):
    from betting.predictions.page_data import market_close

    rows = {(r["market"], r["side"]): r for r in market_close(game)}
    home = rows[("Moneyline (h2h)", "ORL")]
    assert home["fair_probability"] == pytest.approx(closing_probability(Bet(game=game, market="h2h", outcome="home")))
    assert home["books"] > 1 and home["best_price"] == max(
        OddsQuote.objects.filter(game=game, market="h2h", outcome="home").values_list("price", flat=True)
    )
    page = client.get(f"/games/{game.pk}").content.decode()
    assert "The market's last word before the start" in page
