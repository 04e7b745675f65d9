"""The report card on /backtests: per league and market, the latest backtest's walk-forward forecasts
beside the market's, and ROI, yield and CLV by edge bucket with bootstrap intervals and bet counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from betting.bets import backtest as engine
from betting.bets import report_card
from betting.bets.models import Backtest
from betting.bets.services import backtest_create, backtest_run
from betting.games.models import League
from betting.predictions import metrics
from tests.conftest import NBA_SBR


def bet(edge: float, stake: float, profit: float, clv: float | None, result: str = "win") -> dict[str, object]:
    return {"edge": edge, "stake": stake, "profit": profit, "clv": clv, "result": result}


def test_bets_fall_into_their_edge_bucket_with_counts_yield_roi_and_clv():
    bets = [
        bet(0.01, 100, 90, -0.02),
        bet(0.015, 100, -100, -0.01, "loss"),
        bet(0.03, 50, 45, 0.01),
        bet(0.05, 20, -20, None, "loss"),
    ]
    rows = {row["label"]: row for row in report_card.edge_buckets(bets, 1000.0)}
    low = rows["under 2%"]
    assert (low["n"], low["wins"], low["staked"], low["profit"]) == (2, 1, 200.0, -10.0)
    assert low["yield"] == pytest.approx(-0.05) and low["roi"] == pytest.approx(-0.01)
    assert low["clv"] == pytest.approx(-0.015) and low["n_clv"] == 2
    assert low["yield_ci"] is not None and low["yield_ci"][0] <= low["yield"] <= low["yield_ci"][1]
    assert rows["2% to 4%"]["n"] == 1 and rows["2% to 4%"]["yield_ci"] is None  # one bet: no interval
    assert rows["4% to 7%"]["clv"] is None and rows["4% to 7%"]["n_clv"] == 0
    assert rows["7% and more"]["n"] == 0 and rows["7% and more"]["yield"] is None


def test_forecasts_are_scored_beside_the_market_on_the_same_games():
    rng = np.random.default_rng(7)
    market = rng.uniform(0.2, 0.8, 300)
    won = (rng.random(300) < market).astype(float)
    model = np.clip(market + rng.normal(0, 0.1, 300), 0.01, 0.99)
    scores = engine.forecast_scores(list(zip(model, (model + market) / 2, market, won, strict=True)))
    assert scores is not None and scores["n"] == 300
    assert scores["market"]["log_loss"] == pytest.approx(metrics.log_loss(market, won), abs=1e-6)
    assert scores["model"]["brier"] == pytest.approx(metrics.brier(model, won), abs=1e-6)
    assert sum(b["n"] for b in scores["blend"]["reliability"]) == 300
    assert engine.forecast_scores([]) is None


@pytest.fixture
def finished(reference, model_dir, settings):
    call_command("import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2014-15.csv"),
                 "--no-progress", stdout=StringIO())  # fmt: skip
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0, "min_probability": 0.0}
    league = League.objects.get(code="NBA")
    bt = backtest_create(
        league=league,
        market="h2h",
        date_from=dt.date(2014, 12, 1),
        date_to=dt.date(2014, 12, 10),
        params={"blend_weights": {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0}, "starting_bankroll": "10000"},
        name="card",
    )
    return backtest_run(bt.pk)


@pytest.mark.django_db
def test_the_backtests_page_shows_the_latest_backtests_report_card(finished, client):
    assert finished.status == Backtest.Status.SUCCESS and finished.n_bets
    forecasts = finished.summary["forecasts"]
    assert forecasts["n"] >= finished.n_bets  # every decided game is scored, not only the ones bet
    assert {"model", "blend", "market"} <= set(forecasts)
    cards = report_card.report_cards()
    assert [(c["league"], c["market"]) for c in cards] == [("NBA", "h2h")]
    assert sum(row["n"] for row in cards[0]["buckets"]) == finished.n_bets
    older = Backtest.objects.create(
        league=finished.league,
        market="h2h",
        date_from=finished.date_from,
        date_to=finished.date_to,
        status=Backtest.Status.SUCCESS,
        starting_bankroll=Decimal("100"),
        finished_at=finished.finished_at - dt.timedelta(days=1),
    )
    assert report_card.report_cards()[0]["backtest"].pk == finished.pk != older.pk  # the latest one
    page = client.get(reverse("bets:backtests")).content.decode()
    assert 'id="report-card"' in page and "Walk-forward forecasts on" in page
    assert "7% and more" in page and 'data-figure="card-NBA-h2h"' in page
