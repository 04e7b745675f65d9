"""MLB starting pitchers: a prediction records the starters it assumed; when one changes (or is unknown)
the game is flagged on Today and the game page, and a changed starter gets no stake."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from betting.bets.models import Bet
from betting.games.models import Bookmaker, Game
from betting.predictions import registry
from betting.predictions.models import ModelVersion, Prediction
from betting.predictions.selectors import starter_flag
from tests import factories
from tests.conftest import MLB_SBR
from tests.factories import command_output as run

DAY = dt.date(2018, 3, 29)
START = dt.datetime(2018, 3, 29, 23, 10, tzinfo=dt.UTC)


def mlb_game(**values: object) -> Game:
    """Miami against the Cubs on opening day 2018 (the reference's teams when loaded)."""
    starters = {"home_pitcher": "JURENA-R", "away_pitcher": "JLESTER-L", **values}
    return factories.game(factories.league("MLB"), home="MIA", away="CHC", start=START, **starters)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "inputs", "flag"),
    [
        (("JURENA-R", "JLESTER-L"), {"home_pitcher": "JURENA-R", "away_pitcher": "JLESTER-L"}, ""),
        (("Jose Urena", "Jon Lester"), {"home_pitcher": "JURENA-R", "away_pitcher": "JLESTER-L"}, ""),
        (
            ("Dan Straily", "JLESTER-L"),
            {"home_pitcher": "JURENA-R", "away_pitcher": "JLESTER-L"},
            "starter changed since the prediction: JURENA-R -> Dan Straily",
        ),
        (
            ("JURENA-R", "JLESTER-L"),
            {"home_pitcher": "", "away_pitcher": "JLESTER-L"},
            "starter changed since the prediction: unknown -> JURENA-R",
        ),
        (("", "JLESTER-L"), None, "home starter unknown"),
        (("", ""), {}, "away and home starters unknown"),
        (("JURENA-R", "JLESTER-L"), {"model_age_days": 3}, ""),  # made before starters were recorded
    ],
)
def test_starter_flag_says_unknown_or_changed_in_words(now, inputs, flag):
    game = mlb_game(home_pitcher=now[0], away_pitcher=now[1])
    assert starter_flag(game=game, inputs=inputs) == flag


@pytest.mark.django_db
def test_no_starter_flag_outside_mlb():
    game = factories.game(factories.league("NBA"), start=START)
    assert starter_flag(game=game, inputs={}) == ""


@pytest.fixture
def mlb_predicted(reference, model_dir, settings):
    """A model trained on the real 2017 season; the 2018 opener CHC @ MIA priced with its starters."""
    settings.MODEL_STALE_DAYS = settings.FEATURE_STALE_DAYS = 10_000  # the off-season is not the subject here
    run("import_history", "--league", "MLB", "--format", "sbr", str(MLB_SBR / "sbr_mlb_odds_2017.csv"), "--no-progress")
    run("train", "--league", "MLB", "--market", "h2h")
    # Whether one season's model earns promotion is not the subject here: the newest version prices the game.
    with transaction.atomic():
        registry.activate(ModelVersion.objects.filter(league__code="MLB", market="h2h").latest(), "test")
    game = mlb_game()
    book = Bookmaker.objects.create(key="testbook", title="Test book")
    # Generous prices (their implied probabilities sum to 0.86): one side has an edge whatever the model says.
    # A margin of -14% is outside the default quote-sanity bounds (QUOTE_MIN_MARGIN -5%), so they are widened.
    settings.QUOTE_MIN_MARGIN = -0.20
    for outcome, price in (("home", "2.90"), ("away", "1.95")):
        factories.quote(game, book=book, outcome=outcome, price=price, captured_at=START - dt.timedelta(hours=6))
    run("predict", "--league", "MLB", "--date", str(DAY))
    return game


@pytest.mark.django_db
def test_a_changed_starter_gets_no_stake_and_is_flagged_on_today_and_the_game_page(
    mlb_predicted, settings, admin_client
):
    game = mlb_predicted
    made = Prediction.objects.filter(game=game, market="h2h")
    assert made.exists()
    assert {(p.inputs["home_pitcher"], p.inputs["away_pitcher"]) for p in made} == {("JURENA-R", "JLESTER-L")}
    args = ("recommend", "--league", "MLB", "--date", str(DAY), "--as-of", "2018-03-29T18:00:00+00:00", "-v", "2")
    before = run(*args, "--deposit", "10000", "--run", "a")
    assert "starter changed" not in before
    assert Bet.objects.filter(game=game, decision_run="a").exists(), before  # as assumed: a stake

    game.home_pitcher = "Dan Straily"
    game.save()
    output = run(*args, "--run", "b")
    passes = [line for line in output.splitlines() if line.startswith("pass ")]
    assert len(passes) == 2, output  # both sides of the game
    assert all(line.endswith("starter changed since the prediction: JURENA-R -> Dan Straily") for line in passes)
    assert not Bet.objects.filter(game=game, decision_run="b").exists()

    today = admin_client.get(f"/?date={DAY}&league=MLB&market=h2h").content.decode()
    assert "starter changed since the prediction: JURENA-R -&gt; Dan Straily" in today
    page = admin_client.get(f"/games/{game.pk}").content.decode()
    assert "starter changed since the prediction: JURENA-R -&gt; Dan Straily" in page
    assert "Dan Straily" in page and "JLESTER-L" in page
