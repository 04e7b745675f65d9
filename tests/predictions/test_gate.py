"""The promotion gate and the validation: a model that loses to its line is never active, and the
validation that chooses a model never sees a game it is then scored on."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from betting.games.models import League
from betting.predictions import features, registry, services, training
from betting.predictions.models import ModelVersion
from tests.conftest import train_active


def _frame(n: int = 1200, seed: int = 3) -> pd.DataFrame:
    """Games whose result follows the opening spread and nothing else (a feature of pure noise)."""
    rng = np.random.default_rng(seed)
    spread = rng.normal(0, 6, n)
    p = 1 / (1 + np.exp(0.15 * spread))
    home_win = (rng.random(n) < p).astype(float)
    frame = pd.DataFrame({name: rng.normal(size=n) for name in features.FEATURES})
    frame["open_spread_home"] = spread
    frame["open_home_prob"] = np.nan
    frame["elo_prob"] = 0.5 + 0.1 * rng.normal(size=n).clip(-3, 3)
    frame["home_win"] = home_win
    frame["margin"] = np.where(home_win == 1, 5.0, -5.0)
    frame["total_points"] = 200.0
    frame["final"] = True
    frame["home_prob"] = p
    frame["start_time"] = pd.date_range("2015-10-01", periods=n, freq="6h", tz="UTC")
    return frame


def test_a_model_of_noise_keeps_the_line_and_is_never_promoted():
    fitted = training.fit(_frame(), "h2h")
    assert fitted.family == "line"
    ok, reason = training.beats_baseline(fitted)
    assert not ok and "adds nothing" in reason
    promote, why, _ = services.holdout_gate(
        base=None, unseen=_frame().iloc[0:0], refit=None, league_code="NBA", candidate=fitted
    )
    assert not promote and why.startswith("not used for bets")
    assert fitted.params["blend"]["w_model"] == 0.0  # no say beside the market either


def test_a_candidate_that_loses_to_its_baseline_on_the_holdout_is_kept_out(settings):
    frame = _frame()
    fitted = training.fit(frame, "h2h", family="trees")
    fitted.params["tail"] = {"n": 100, "model": 0.60, "baseline": 0.61, "from": ""}  # says it won the tail
    fitted.params["family"] = "trees"
    settings.PROMOTION_TOLERANCE = 1.0  # the active-model comparison would let anything through
    base = training.fit(frame, "h2h", family="line")
    unseen = frame.iloc[-200:]
    promote, why, evidence = services.holdout_gate(
        base=base, unseen=unseen, refit=lambda part, start: fitted, league_code="NBA", candidate=fitted
    )
    scored = evidence["candidate_on_holdout"]
    if scored["model"]["log_loss"] >= scored["baseline"]["log_loss"]:
        assert not promote and "does not beat its line baseline" in why
    else:
        assert promote


def test_too_few_new_games_is_a_comparison_on_the_training_tail_never_a_free_pass(settings):
    frame = _frame()
    fitted = training.fit(frame, "h2h", family="trees")
    fitted.params.update(family="trees", tail={"n": 100, "model": 0.5, "baseline": 0.6, "from": ""})
    promote, why, evidence = services.holdout_gate(
        base=fitted, unseen=frame.iloc[-5:], refit=None, league_code="NBA", candidate=fitted, tail=frame.iloc[-200:]
    )
    assert "too few to compare" not in why
    assert "the last 200 games of the training window" in why and evidence
    promote, why, _ = services.holdout_gate(
        base=fitted, unseen=frame.iloc[-5:], refit=None, league_code="NBA", candidate=fitted, tail=None
    )
    assert not promote and "too few to compare" in why


def test_the_validation_that_chooses_a_model_never_sees_a_game_it_is_scored_on(monkeypatch):
    frame = _frame(n=1600)
    seen: dict[int, pd.Timestamp] = {}
    real_fit = training.fit

    def recording_fit(rows: pd.DataFrame, market: str, **kwargs):
        fitted = real_fit(rows, market, **kwargs)
        seen[id(fitted)] = rows["start_time"].max()
        return fitted

    monkeypatch.setattr(training, "fit", recording_fit)
    replay = services.WalkForward(frame, "h2h", "NBA", dt.date(2016, 9, 1), dt.date(2016, 10, 1))
    checked = 0
    for _, games, model, _ in replay:
        if id(model) in seen:
            assert seen[id(model)] < games["start_time"].min()
            checked += 1
    assert checked > 0


@pytest.mark.django_db
def test_train_never_activates_a_version_that_does_not_beat_its_baseline(seasons, model_dir):
    call_command("train", "--league", "NBA", "--market", "h2h", "--until", "2015-10-01", stdout=StringIO())
    version = ModelVersion.objects.get()
    assert not (version.is_active and not version.params["beats_baseline"])
    if not version.params["beats_baseline"]:
        assert version.status == ModelVersion.Status.REJECTED and "not used for bets" in version.note
        assert registry.active(League.objects.get(code="NBA"), "h2h") is None


@pytest.mark.django_db
def test_rollback_never_goes_to_a_version_that_does_not_beat_its_baseline(seasons, model_dir, time_machine):
    time_machine.move_to(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), tick=False)
    first = train_active("NBA", "h2h", "--until", "2015-10-01")
    time_machine.move_to(dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC), tick=False)
    train_active("NBA", "h2h", "--until", "2015-11-01")
    if first.params.get("beats_baseline"):
        pytest.skip("the first version beat its baseline on this data")
    with pytest.raises(registry.RegistryError, match="does not beat its line baseline"):
        registry.rollback(League.objects.get(code="NBA"), "h2h", first.version)
