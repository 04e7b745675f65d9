"""The staleness guard on the recommend path: a prediction priced from inputs too old to trust
gets no stake and says why, in `recommend`, in `recommend -v 2`, and end to end from `predict`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from betting.bets.models import Bankroll, Bet
from betting.bets.services import bankroll_open, recommend, risk_limits
from betting.games.models import Game
from betting.predictions.models import ModelVersion, Prediction
from tests import factories
from tests.conftest import train_active

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = dt.datetime(2024, 1, 10, 18, 0, tzinfo=dt.UTC)
MODEL_ONLY = {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0}  # the blend is the model's probability
STALE = "model last trained on games up to 2018-06-08, 2,042 days before this game (limit 14 + off-season 190)"


@pytest.fixture
def two_games(db):
    """Two games tonight at the same price (2.00 home) and the same model probability (60%): the
    first priced from stale inputs, the second from fresh ones."""
    nba = factories.league("NBA")
    version = factories.model_version(
        nba, status="active", is_active=True, params={"blend": MODEL_ONLY}, trained_until=NOW - dt.timedelta(days=1)
    )
    games = []
    for number, (home, away, reason) in enumerate((("BOS", "NYK", STALE), ("MIA", "LAL", ""))):
        game = factories.game(nba, home=home, away=away, start=NOW + dt.timedelta(hours=6 + number), season=2023)
        for outcome, price in (("home", "2.00"), ("away", "1.90")):
            factories.quote(game, outcome=outcome, price=price, captured_at=NOW - dt.timedelta(hours=1))
        Prediction.objects.create(
            game=game, model_version=version, market="h2h", outcome="home", probability=Decimal("0.6"),
            fair_odds=Decimal("1.6667"), stale_reason=reason,
        )  # fmt: skip
        games.append(game)
    return games


@pytest.mark.django_db
def test_a_stale_prediction_gets_no_stake_while_a_fresh_one_at_the_same_price_does(two_games):
    stale_game, fresh_game = two_games
    bankroll = bankroll_open(name="paper", deposit=Decimal("10000"), mode=Bankroll.Mode.PAPER)
    recs, _ = recommend(bankroll=bankroll, games=two_games, now=NOW, limits=risk_limits(), decision_run="t", place=True)
    by_game = {r.game.pk: r for r in recs}
    fresh, stale = by_game[fresh_game.pk], by_game[stale_game.pk]
    assert fresh.stake > 0 and fresh.bet_id is not None
    assert stale.stake == 0 and stale.bet_id is None
    assert stale.edge == pytest.approx(fresh.edge)  # the edge is still shown, only the stake is refused
    assert stale.reasons == [f"stale: {STALE}"]
    assert not Bet.objects.filter(game=stale_game).exists()


@pytest.mark.django_db
def test_a_stale_prediction_also_shows_the_kill_switch(two_games, settings):
    settings.BETTING_KILL_SWITCH = True
    bankroll = bankroll_open(name="paper", deposit=Decimal("10000"), mode=Bankroll.Mode.PAPER)
    recs, _ = recommend(
        bankroll=bankroll, games=two_games, now=NOW, limits=risk_limits(), decision_run="t", place=False
    )
    stale = next(r for r in recs if r.game.pk == two_games[0].pk)
    assert stale.reasons == [f"stale: {STALE}", "kill switch on"]


@pytest.mark.django_db
def test_recommend_v2_says_why_a_stale_prediction_is_passed(two_games):
    out = StringIO()
    call_command("recommend", "--league", "NBA", "--as-of", NOW.isoformat(), "-v", "2", stdout=out)
    lines = out.getvalue().splitlines()
    passed = [line for line in lines if line.startswith("pass") and "NYK @ BOS" in line]
    assert passed and passed[0].endswith(f": stale: {STALE}")
    assert any(line.startswith("BET") and "LAL @ MIA" in line for line in lines)


def train_and_activate() -> None:
    """Train NBA h2h on the fixture's seasons and make the version active whatever the promotion
    gate decided: these tests are about the age of the inputs, not about the model's merit."""
    train_active("NBA", "h2h")
    if not ModelVersion.objects.filter(is_active=True).exists():
        ModelVersion.objects.filter(pk=ModelVersion.objects.latest().pk).update(is_active=True, status="active")


@pytest.mark.django_db
def test_predictions_from_old_seasons_are_marked_stale_and_never_staked(seasons, model_dir, settings):
    """The demo's failure: 2014-16 data pricing the recorded 2023-12-11 odds, now refused."""
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}
    train_and_activate()
    odds = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(odds), stdout=StringIO())
    call_command("predict", "--league", "NBA", "--date", "2023-12-11", stdout=StringIO())
    made = list(Prediction.objects.filter(game__game_date="2023-12-11").select_related("model_version"))
    assert made
    trained_until = made[0].model_version.trained_until.date()
    for prediction in made:
        assert prediction.stale_reason.startswith("model last trained on games up to 2016-"), prediction.stale_reason
        assert "(limit 14 + off-season 190, from the 2015-16 season)" in prediction.stale_reason
        assert prediction.inputs["model_age_days"] == (prediction.game.game_date - trained_until).days
        assert prediction.inputs["home_last_result_days"] > 2000
    out = StringIO()
    call_command(
        "recommend", "--league", "NBA", "--date", "2023-12-11", "--as-of", "2023-12-11T18:00:00+00:00",
        "-v", "2", stdout=out,
    )  # fmt: skip
    assert Bet.objects.count() == 0
    assert "stale: model last trained on games up to 2016-" in out.getvalue()


@pytest.mark.django_db
def test_fresh_inputs_are_not_marked_stale(seasons, model_dir):
    """A game the day after the training data ends: model and both teams' results are one day old."""
    train_and_activate()
    last = Game.objects.filter(status=Game.Status.FINAL).order_by("-start_time").first()
    game = Game.objects.create(
        league=last.league, season=last.season, game_date=last.game_date + dt.timedelta(days=1),
        start_time=last.start_time + dt.timedelta(days=1), home_team=last.home_team, away_team=last.away_team,
    )  # fmt: skip
    call_command("predict", "--league", "NBA", "--date", str(game.game_date), stdout=StringIO())
    made = list(Prediction.objects.filter(game=game))
    assert made and all(p.stale_reason == "" for p in made)
    assert made[0].inputs["model_age_days"] == 1
    assert made[0].inputs["home_last_result_days"] == made[0].inputs["away_last_result_days"] == 1
