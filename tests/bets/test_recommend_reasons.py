"""``recommend`` says why it priced nothing (``bets.services.why_nothing_priced``), each reason with
its numbers: the games started (and the --as-of that replays the day), no active model (and why),
no prediction, no odds quote before the start or before --as-of, no book at the predicted line.
The games and quotes come from the recorded Odds API payload of 2023-12-11; models and
predictions are a few rows built in the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Max, Min

from betting.bets.services import why_nothing_priced
from betting.games.models import Game, League, OddsQuote
from betting.predictions.models import ModelVersion, Prediction
from tests.conftest import DEMO, RECOMMEND_RECORDED_NBA
from tests.factories import command_output as run

pytestmark = pytest.mark.django_db

ODDS = DEMO / "odds_api" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
DAY = dt.date(2023, 12, 11)
MORNING = dt.datetime(2023, 12, 11, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def slate(reference):
    run("fetch_odds", "--league", "NBA", "--from-file", str(ODDS))
    games = list(Game.objects.filter(game_date=DAY).order_by("start_time"))
    assert games
    return games


def version(*, active: bool, market: str = "h2h", note: str = "", status: str = "candidate") -> ModelVersion:
    return ModelVersion.objects.create(
        league=League.objects.get(code="NBA"),
        market=market,
        version="20231201_000000" if active else "20231205_000000",
        kind=ModelVersion.Kind.FULL,
        status=ModelVersion.Status.ACTIVE if active else status,
        is_active=active,
        feature_set_version="test",
        features=[],
        feature_hash="0" * 16,
        params={},
        trained_until=dt.datetime(2023, 11, 30, tzinfo=dt.UTC),
        n_train=10,
        artifact="",
        note=note,
    )


def predict(game: Game, model: ModelVersion, *, market: str = "h2h", point: Decimal | None = None) -> None:
    for outcome, p in (("home", "0.55"), ("away", "0.45")):
        Prediction.objects.create(
            game=game,
            model_version=model,
            market=market,
            outcome=outcome,
            point=None if point is None else (point if outcome == "home" else -point),
            probability=Decimal(p),
            fair_odds=1 / Decimal(p),
        )


def nba() -> League:
    return League.objects.get(code="NBA")


def test_a_day_whose_games_started_names_the_as_of_that_replays_it(slate):
    first = slate[0].start_time
    newest = OddsQuote.objects.filter(game__in=slate, captured_at__lt=first).aggregate(t=Max("captured_at"))["t"]
    later = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
    (reason,) = why_nothing_priced(league=nba(), games=slate, now=later, day=DAY)
    assert reason.startswith(f"the {len(slate)} NBA games on 2023-12-11 have started by 2024-01-05 00:00 UTC")
    assert f"(the first at {first:%Y-%m-%d %H:%M} UTC)" in reason
    assert f"pass --as-of {newest.isoformat()} to replay the day as it was" in reason
    # Played and final: recommend replays them too (the results settle the replayed bets).
    Game.objects.filter(pk__in=[g.pk for g in slate]).update(status=Game.Status.FINAL, home_score=100, away_score=90)
    finals = list(Game.objects.filter(pk__in=[g.pk for g in slate]))
    (reason,) = why_nothing_priced(league=nba(), games=finals, now=later, day=DAY)
    assert f"the {len(slate)} NBA games on 2023-12-11 are final by 2024-01-05 00:00 UTC" in reason
    assert f"pass --as-of {newest.isoformat()} to replay the day as it was" in reason


def test_no_active_model_says_why_for_each_market(slate, settings):
    settings.READY_MODELS = ["NBA:h2h", "NBA:spreads", "MLB:h2h"]
    version(active=False, status="rejected", note="the line baseline itself won the validation")
    reasons = why_nothing_priced(league=nba(), games=slate, now=MORNING, day=DAY)
    assert reasons == [
        "no active model for NBA h2h: the newest version 20231205_000000 is not active (rejected): "
        "the line baseline itself won the validation",
        "no active model for NBA spreads: none trained (run manage.py train --league NBA --market spreads)",
    ]


def test_an_active_model_without_predictions(slate):
    version(active=True)
    (reason,) = why_nothing_priced(league=nba(), games=slate, now=MORNING, day=DAY)
    assert reason == (
        f"no prediction from the active NBA models (h2h 20231201_000000) for the {len(slate)} games still to start: "
        "run manage.py predict --league NBA --date 2023-12-11"
    )


def test_no_quote_before_the_as_of_names_the_first_capture(slate):
    model = version(active=True)
    for game in slate:
        predict(game, model)
    first = OddsQuote.objects.filter(game__in=slate).aggregate(t=Min("captured_at"))["t"]
    early = first - dt.timedelta(hours=2)
    (reason,) = why_nothing_priced(league=nba(), games=slate, now=early, day=DAY)
    assert f"no odds quotes captured before {early:%Y-%m-%d %H:%M} UTC for the {len(slate)} NBA games" in reason
    assert f"the first was captured {first:%Y-%m-%d %H:%M} UTC: pass a later --as-of" in reason
    OddsQuote.objects.filter(game__in=slate).delete()
    (reason,) = why_nothing_priced(league=nba(), games=slate, now=early, day=DAY)
    assert f"no odds quotes captured for the {len(slate)} NBA games still to start" in reason
    assert "fetch_odds --league NBA" in reason


def test_a_line_no_book_quotes(slate):
    model = version(active=True, market="spreads")
    predict(slate[0], model, market="spreads", point=Decimal("-30.5"))
    (reason,) = why_nothing_priced(league=nba(), games=slate, now=MORNING + dt.timedelta(hours=8), day=DAY)
    assert reason.startswith("2 of 2 predicted sides have no two-way price from any book at their line")
    assert "(for example spreads away +30.5)" in reason
    assert f"quotes exist for {len(slate)} of {len(slate)} games" in reason


def test_no_games_on_the_day(reference):
    assert why_nothing_priced(league=nba(), games=[], now=MORNING, day=DAY) == ["no NBA games on 2023-12-11"]


def test_the_command_prints_the_reason(slate):
    out = run("recommend", "--league", "NBA", "--date", "2023-12-11", "--bankroll", "reasons")
    assert "0 priced sides" in out
    assert f"nothing priced: the {len(slate)} NBA games on 2023-12-11 have started by" in out
    assert "pass --as-of 2023-12-1" in out
    out = run(*RECOMMEND_RECORDED_NBA)
    assert "nothing priced: no active model for NBA h2h: none trained" in out
