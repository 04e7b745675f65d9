"""The staleness guard's rule on plain dates, and the as-of facts read from the database."""

from __future__ import annotations

import datetime as dt

import pytest

from betting.predictions.staleness import AsOf, Limits, staleness

LIMITS = Limits(model_days=14, feature_days=14, offseason_days=190)  # the NBA defaults


def nba_label(season: int) -> str:
    return f"{season}-{(season + 1) % 100:02d}"


def judge(game: dt.date, season: int, model: AsOf, home: AsOf | None = None, away: AsOf | None = None):
    return staleness(
        game_date=game,
        game_season=season,
        model=model,
        home=home or model,
        away=away or model,
        home_name="BOS",
        away_name="NYK",
        limits=LIMITS,
        season_label=nba_label,
    )


def test_2018_inputs_pricing_a_2023_game_are_stale_and_say_why():
    old = AsOf(date=dt.date(2018, 6, 8), season=2017)
    facts, reason = judge(dt.date(2023, 12, 11), 2023, old)
    assert reason.startswith(
        "model last trained on games up to 2018-06-08, 2,012 days before this game "
        "(limit 14 + off-season 190, from the 2017-18 season)"
    )
    assert (
        "; BOS last result 2018-06-08, 2,012 days (limit 14 + off-season 190, from 2017-18); NYK last result" in reason
    )
    assert len(reason) < 300  # all three inputs fit, none cut off
    assert facts["model_age_days"] == 2012 and facts["model_trained_until"] == "2018-06-08"


def test_last_seasons_inputs_stay_fresh_through_the_off_season():
    # Model trained through the 2024 Finals; BOS played the Finals, NYK (say) missed the playoffs.
    model = AsOf(date=dt.date(2024, 6, 17), season=2023)
    away = AsOf(date=dt.date(2024, 4, 14), season=2023)  # 191 days before the opener
    facts, reason = judge(dt.date(2024, 10, 22), 2024, model, home=model, away=away)
    assert reason == ""
    assert facts["away_last_result_days"] == 191 and facts["model_age_days"] == 127


def test_the_off_season_allowance_runs_out():
    last = AsOf(date=dt.date(2024, 4, 14), season=2023)
    _, fresh = judge(dt.date(2024, 11, 4), 2024, last)  # 204 days = 14 + 190
    _, stale = judge(dt.date(2024, 11, 5), 2024, last)
    assert fresh == ""
    assert "205 days before this game (limit 14 + off-season 190)" in stale


def test_within_a_season_there_is_no_off_season_allowance():
    last = AsOf(date=dt.date(2024, 1, 2), season=2023)
    _, fresh = judge(dt.date(2024, 1, 16), 2023, last)  # 14 days: longer than any All-Star break
    _, stale = judge(dt.date(2024, 1, 17), 2023, last)
    assert fresh == ""
    assert stale.startswith("model last trained on games up to 2024-01-02, 15 days before this game (limit 14)")


def test_a_team_without_any_final_result_is_stale():
    model = AsOf(date=dt.date(2024, 1, 10), season=2023)
    facts, reason = judge(dt.date(2024, 1, 11), 2023, model, away=AsOf(date=None, season=None))
    assert reason == "NYK last result: none on record"
    assert facts["away_last_result_days"] is None


def test_a_long_reason_is_cut_to_the_field_length():
    old = AsOf(date=dt.date(2001, 1, 1), season=2000)
    _, reason = staleness(
        game_date=dt.date(2023, 12, 11), game_season=2023, model=old, home=old, away=old,
        home_name="Golden State Warriors of San Francisco", away_name="Los Angeles Clippers of Inglewood",
        limits=LIMITS, season_label=nba_label,
    )  # fmt: skip
    assert len(reason) == 300 and reason.endswith("…")


# --- The as-of facts read from the database ----------------------------------------------------


@pytest.mark.django_db
def test_a_teams_last_result_is_its_last_final_game_before_this_one(nba):
    from betting.games.models import Game
    from betting.predictions.services import teams_as_of

    bos, nyk, mia = (nba.teams.get(abbreviation=code) for code in ("BOS", "NYK", "MIA"))

    def game(day: int, home, away, status=Game.Status.FINAL) -> Game:
        start = dt.datetime(2024, 1, day, 0, 30, tzinfo=dt.UTC)
        scores = {"home_score": 100, "away_score": 90} if status == Game.Status.FINAL else {}
        return Game.objects.create(
            league=nba, season=2023, game_date=start.date() - dt.timedelta(days=1), start_time=start,
            home_team=home, away_team=away, status=status, **scores,
        )  # fmt: skip

    game(3, bos, mia)
    game(5, mia, bos)
    game(6, bos, mia, status=Game.Status.POSTPONED)  # no result: does not count
    target = game(10, bos, nyk, status=Game.Status.SCHEDULED)
    game(12, nyk, mia)  # after the game: never counts
    facts = teams_as_of([target])
    assert facts[(target.pk, bos.pk)] == AsOf(date=dt.date(2024, 1, 4), season=2023)
    assert facts[(target.pk, nyk.pk)] == AsOf(date=None, season=None)
