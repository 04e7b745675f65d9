"""The forecast-only model: a version whose chosen family is the line baseline is never active, but
its forecasts (the market's line, fitted on the training games) are written and shown; every stake
from them is refused with the reason, and rollback still refuses it for betting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from betting.bets.models import Bet
from betting.bets.services import bankroll_open, recommend, risk_limits
from betting.games.models import Game, League
from betting.predictions import registry, services, training
from betting.predictions.models import ModelVersion, Prediction

FIRST_DAY = dt.date(2015, 11, 2)  # a 2015-16 day with games, after the training window


@pytest.fixture
def line_only(monkeypatch):
    """The family search offers only the line baseline, so the version trained is the line's."""
    monkeypatch.setattr(training, "CANDIDATES", {"line": training.CANDIDATES["line"]})


def _train(until: str) -> ModelVersion:
    call_command("train", "--league", "NBA", "--market", "h2h", "--until", until, stdout=StringIO())
    return ModelVersion.objects.filter(league__code="NBA", market="h2h").order_by("-created_at", "-pk")[0]


@pytest.mark.django_db
def test_the_line_is_kept_as_a_forecast_only_model_never_active(seasons, line_only):
    version = _train("2015-10-01")
    nba = League.objects.get(code="NBA")
    assert version.params["family"] == "line" and not version.params["beats_baseline"]
    assert not version.is_active and version.status == ModelVersion.Status.REJECTED
    assert "not used for bets" in version.note and "forecast only" in version.note
    assert registry.active(nba, "h2h") is None
    assert registry.forecast(nba, "h2h") == version and registry.is_forecast_only(version)
    with pytest.raises(registry.RegistryError, match="does not beat its line baseline"):
        registry.rollback(nba, "h2h", version.version)

    newer = _train("2015-10-15")  # the newest line makes the predictions; the older stays forecast-only
    version.refresh_from_db()
    assert registry.forecast(nba, "h2h") == newer and registry.is_forecast_only(version)


@pytest.mark.django_db
def test_forecast_only_predictions_are_written_and_never_staked(seasons, line_only):
    version = _train("2015-10-01")
    nba = League.objects.get(code="NBA")
    games = list(Game.objects.filter(league=nba, game_date=FIRST_DAY).select_related("home_team", "away_team"))
    assert games
    first_start = min(g.start_time for g in games)
    as_of = first_start - dt.timedelta(minutes=4)  # the archive's closing moneylines (5 minutes before) are seen
    made = services.predictions_make(league=nba, day=FIRST_DAY, as_of=as_of)
    predictions = Prediction.objects.filter(game__in=games, market="h2h")
    assert made.created == 2 * len(games) == predictions.count()
    assert {p.model_version_id for p in predictions} == {version.pk}
    for game in games:  # the two sides of each game are one forecast
        sides = predictions.filter(game=game)
        assert sum(p.probability for p in sides) == Decimal("1.000000")

    bankroll = bankroll_open(name="paper", deposit=Decimal("10000"), at=as_of)
    limits = risk_limits()
    recs, _ = recommend(bankroll=bankroll, games=games, now=as_of, limits=limits, decision_run="t", place=True)
    assert recs, "the forecast-only predictions are priced against the market"
    for rec in recs:
        assert rec.stake == 0
        assert rec.reasons[0] == f"forecast only: {registry.FORECAST_ONLY_REASON}"
    assert not Bet.objects.exists()
    assert bankroll.balance() == Decimal("10000.00")


@pytest.mark.django_db
def test_a_replay_never_uses_a_model_that_saw_the_game(seasons, line_only):
    _train("2016-06-30")  # trained on the whole 2015-16 season
    nba = League.objects.get(code="NBA")
    games = Game.objects.filter(league=nba, game_date=FIRST_DAY)
    as_of = min(g.start_time for g in games) - dt.timedelta(hours=2)
    made = services.predictions_make(league=nba, day=FIRST_DAY, as_of=as_of)
    assert made.created == 0 and not Prediction.objects.exists()
    assert any("trained on" in reason for reason in made.skipped)
