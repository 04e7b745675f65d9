"""Walk-forward backtests on real archive data: figures, limits, and no information from the future."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from betting.bets import backtest as engine
from betting.bets.models import Backtest
from betting.bets.services import backtest_create, backtest_run
from betting.bets.staking import RiskLimits, streak_served
from betting.bets.tasks import run_backtest
from betting.games.models import Bookmaker, Game, League, OddsQuote
from core.models import JobRun
from tests.conftest import NBA_SBR

START, END = dt.date(2014, 12, 1), dt.date(2014, 12, 14)


@pytest.fixture
def window(reference, model_dir, settings):
    """The real 2014-15 NBA season; the backtest replays two weeks of December with the five weeks
    before them to train on."""
    call_command("import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2014-15.csv"),
                 "--no-progress", stdout=StringIO())  # fmt: skip
    settings.RISK_LIMITS = {
        **settings.RISK_LIMITS,
        "min_edge": 0.0,
        "min_probability": 0.0,
        # no stops, so a month of replay keeps betting to the end whatever the model does
        "max_drawdown_fraction": 1.0,
        "drawdown_warn_fraction": 1.0,
        "consecutive_loss_limit": 10,
        "consecutive_loss_warn": 10,
    }
    return League.objects.get(code="NBA")


def replay(league: League, **params: object) -> engine.Report:
    return engine.run(league=league, market="h2h", start=START, end=END, strategy=engine.strategy_from(dict(params)))


# --- Pure parts with known values -----------------------------------------------------------------


def test_max_drawdown_known_values():
    assert engine.max_drawdown([100, 120, 90, 130, 65, 140]) == 0.5  # 130 -> 65
    assert engine.max_drawdown([100, 101, 102]) == 0.0
    assert engine.max_drawdown([100, 80]) == 0.2


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(1)
    stakes = np.full(400, 100.0)
    profits = np.where(rng.random(400) < 0.55, 91.0, -100.0)
    low, high = engine.bootstrap_ci(stakes, profits) or (0, 0)
    point = profits.sum() / stakes.sum()
    assert low < point < high
    assert high - low < 0.25  # 400 bets at even-ish money: a yield interval of about +-9 points
    assert engine.bootstrap_ci(stakes, profits) == (low, high)
    assert engine.bootstrap_ci(stakes[:1], profits[:1]) is None


@pytest.mark.parametrize(
    ("market", "outcome", "point", "margin", "total", "expected"),
    [
        ("h2h", "home", None, 3, 201, "win"),
        ("h2h", "away", None, 3, 201, "loss"),
        ("spreads", "home", -3.0, 3, 201, "push"),
        ("spreads", "away", 3.0, 2, 200, "win"),
        ("spreads", "away", 1.5, 2, 200, "loss"),
        ("totals", "over", 200.5, 1, 201, "win"),
        ("totals", "under", 201.0, 1, 201, "push"),
    ],
)
def test_grading_matches_the_settlement_rules(market, outcome, point, margin, total, expected):
    from betting.bets.services import grade
    from betting.bets.staking import grade as grade_side

    assert grade_side(market, outcome, point, margin, total) == expected
    home, away = (total + margin) // 2, (total - margin) // 2
    assert (home - away, home + away) == (margin, total)
    ours = grade(
        market=market, outcome=outcome, point=None if point is None else Decimal(str(point)), home=home, away=away
    )
    assert ours == expected


def test_losing_streak_stop_lifts_after_its_cooldown():
    limits = RiskLimits(consecutive_loss_limit=3, consecutive_loss_warn=2, loss_streak_cooldown_hours=24)
    streak = [("loss", 30.0), ("loss", 29.0), ("loss", 28.0)]
    assert streak_served(streak, limits) == []  # 28 h since the third loss: served
    assert streak_served([("loss", 3.0), ("loss", 2.0), ("loss", 1.0)], limits) == ["loss"] * 3
    # A new loss after a served streak starts a new count instead of stopping again at once.
    assert streak_served([*streak, ("loss", 1.0)], limits) == ["loss"]


def test_strategy_errors_are_clear(settings):
    with pytest.raises(engine.BacktestError, match="kelly_fraction must be between 0 and 1"):
        engine.strategy_from({"kelly_fraction": 2})
    with pytest.raises(engine.BacktestError, match="unknown de-vig method 'fancy'"):
        engine.strategy_from({"devig": "fancy"})
    with pytest.raises(engine.BacktestError, match="starting_bankroll must be positive"):
        engine.strategy_from({"starting_bankroll": "-5"})
    strategy = engine.strategy_from({"kelly_fraction": 0.1, "min_edge": 0.03, "devig": "shin"})
    assert (strategy.limits.kelly_fraction, strategy.limits.min_edge, strategy.devig) == (0.1, 0.03, "shin")
    assert strategy.limits.kill_switch is False


# --- The replay on real games ---------------------------------------------------------------------


def test_future_data_changes_no_earlier_decision(window):
    """Poison everything after 8 December (scores, prices at the close) and replay: every bet
    decided before then is the same, to the cent."""
    before = replay(window)
    cut = pd.Timestamp("2014-12-08T10:00:00Z")
    later = Game.objects.filter(league=window, start_time__gte=cut.to_pydatetime())
    later.update(home_score=0, away_score=150)
    book = Bookmaker.objects.first()
    assert book is not None
    for game in later:
        OddsQuote.objects.create(
            game=game,
            bookmaker=book,
            market="h2h",
            outcome="away",
            price=Decimal("9.0"),
            captured_at=game.start_time - dt.timedelta(minutes=1),
        )
    from django.core.cache import cache

    cache.clear()  # the feature frame is cached by an input fingerprint; start clean anyway
    after = replay(window)
    early = [b for b in before.bets if pd.Timestamp(b["decided_at"]) < cut]
    assert early
    assert early == [b for b in after.bets if pd.Timestamp(b["decided_at"]) < cut]
    # and the poison did reach the later days: the replays differ there
    assert before.bets != after.bets


def test_every_stake_is_within_the_limits(window, settings):
    settings.RISK_LIMITS = {
        **settings.RISK_LIMITS,
        "max_stake_absolute": "250",
        "max_stake_fraction": 0.03,
        "daily_exposure_fraction": 0.10,
    }
    report = replay(window, kelly_fraction=1.0)  # full Kelly so the caps must bite
    balance_by_day = {point["date"]: Decimal(str(point["bankroll"])) for point in report.curve}
    days = sorted(balance_by_day)
    opening = {day: balance_by_day[days[i - 1]] if i else report.starting_bankroll for i, day in enumerate(days)}
    by_day: dict[str, Decimal] = {}
    for bet in report.bets:
        day = _day(bet)
        stake = Decimal(str(bet["stake"]))
        assert Decimal("0") < stake <= Decimal("250")
        assert stake <= Decimal("0.03") * opening[day] + Decimal("0.01")
        by_day[day] = by_day.get(day, Decimal(0)) + stake
    capped = [
        b
        for b in report.bets
        if Decimal(str(b["stake"])) >= min(Decimal("250"), Decimal("0.03") * opening[_day(b)]) - Decimal("0.01")
    ]
    assert capped, "full Kelly never reached a cap: the limits were not exercised"
    for day, total in by_day.items():
        assert total <= Decimal("0.10") * opening[day] + Decimal("0.01"), day


def _day(bet: dict[str, object]) -> str:
    return str((pd.Timestamp(str(bet["start_time"])) - pd.Timedelta(hours=10)).date().isoformat())


def test_no_lookahead_and_the_figures_add_up(window):
    """One replay of real games: nothing from after a decision was used, and the figures agree with
    the bets they summarise."""
    report = replay(window, kelly_fraction=0.25)
    assert report.n_bets > 15
    starts = dict(Game.objects.filter(league=window).values_list("pk", "start_time"))
    for bet in report.bets:
        start = pd.Timestamp(bet["start_time"])
        decided = pd.Timestamp(bet["decided_at"])
        assert start == pd.Timestamp(starts[bet["game_id"]])
        assert pd.Timestamp(bet["quote_at"]) <= decided < start
        # the model knew only games that had started (and so finished) hours before the decision
        assert pd.Timestamp(bet["model_trained_until"]) + pd.Timedelta(hours=3) <= decided
    stakes = sum(Decimal(str(b["stake"])) for b in report.bets)
    profit = sum(Decimal(str(b["profit"])) for b in report.bets)
    assert report.staked == stakes
    assert report.profit == profit == report.final_bankroll - report.starting_bankroll
    assert report.curve[-1]["bankroll"] == float(report.final_bankroll)
    assert report.roi == pytest.approx(float(profit / report.starting_bankroll), abs=1e-6)
    assert report.yield_rate == pytest.approx(float(profit / stakes), abs=1e-6)
    wins = sum(1 for b in report.bets if b["result"] == "win")
    losses = sum(1 for b in report.bets if b["result"] == "loss")
    assert report.hit_rate == pytest.approx(wins / (wins + losses), abs=1e-6)
    assert report.roi_ci95 is not None and report.roi_ci95[0] <= report.roi <= report.roi_ci95[1]
    clvs = [b["clv"] for b in report.bets if b["clv"] is not None]
    assert clvs and report.avg_clv == pytest.approx(sum(clvs) / len(clvs), abs=1e-6)
    for bet in report.bets:  # one archived book: the price taken is the close, so CLV is minus the margin
        assert bet["clv"] is None or bet["clv"] < 0


def test_strategies_are_comparable(window):
    cautious = replay(window, kelly_fraction=0.1, min_edge=0.04)
    bold = replay(window, kelly_fraction=0.5, min_edge=0.0)
    assert 0 < cautious.n_bets < bold.n_bets
    assert {b["game_id"] for b in cautious.bets} <= {b["game_id"] for b in bold.bets}
    assert all(b["edge"] >= 0.04 for b in cautious.bets)
    assert cautious.staked < bold.staked
    assert cautious.summary["strategy"]["min_edge"] == 0.04


# --- Rows, command and task ------------------------------------------------------------------------


def test_command_json_has_the_promised_keys_and_saves_a_row(window):
    out = StringIO()
    call_command(
        "backtest",
        "--league",
        "nba",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
        "--kelly",
        "0.2",
        "--min-edge",
        "0.02",
        "--json",
        stdout=out,
    )
    figures = json.loads(out.getvalue())
    for key in ("n_bets", "staked", "profit", "roi", "roi_ci95", "max_drawdown", "avg_clv", "hit_rate"):
        assert key in figures
    assert "final_bankroll" in figures
    bt = Backtest.objects.get(pk=figures["id"])
    assert bt.status == Backtest.Status.SUCCESS and bt.progress == 1.0
    assert bt.n_bets == figures["n_bets"] and len(bt.bets) == bt.n_bets
    assert bt.params["kelly_fraction"] == 0.2 and bt.params["min_edge"] == 0.02
    text = StringIO()
    call_command("backtest", "--league", "NBA", "--from", "2014-12-01", "--to", "2014-12-05", stdout=text)
    assert "ROI" in text.getvalue() and "95% CI" in text.getvalue()


def test_command_errors_are_clear(window):
    with pytest.raises(CommandError, match="unknown league 'NHL'"):
        call_command("backtest", "--league", "NHL", "--from", "2014-12-01", "--to", "2014-12-30")
    with pytest.raises(CommandError, match=r"ends .* before it starts"):
        call_command("backtest", "--league", "NBA", "--from", "2014-12-30", "--to", "2014-12-01")
    with pytest.raises(CommandError, match="no finished NBA games between 2030-01-01"):
        call_command("backtest", "--league", "NBA", "--from", "2030-01-01", "--to", "2030-02-01")
    failed = Backtest.objects.get(date_from=dt.date(2030, 1, 1))
    assert failed.status == Backtest.Status.FAILED and "no finished NBA games" in failed.error


def test_task_runs_a_queued_backtest_and_reports_progress(window, monkeypatch):
    bt = backtest_create(
        league=window, market="h2h", date_from=START, date_to=dt.date(2014, 12, 6), params={"kelly_fraction": 0.25}
    )
    assert bt.status == Backtest.Status.PENDING and bt.progress == 0
    seen: list[float] = []
    backtest_run(bt.pk, progress=lambda done, total, note: seen.append(done / total))
    assert seen == sorted(seen) and seen[-1] == 1.0
    again = backtest_create(
        league=window, market="h2h", date_from=START, date_to=dt.date(2014, 12, 6), params={"kelly_fraction": 0.25}
    )
    from core.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)  # no worker in this process's real-stack run
    result = run_backtest.delay(again.pk).get()
    again.refresh_from_db()
    assert result["status"] == "success" and again.status == Backtest.Status.SUCCESS
    assert again.n_bets == Backtest.objects.get(pk=bt.pk).n_bets  # same strategy, same data, same bets
    assert JobRun.objects.filter(job="backtest", status="success").exists()
    # a re-delivered task does not run the finished backtest again
    assert run_backtest.delay(again.pk).get()["status"] == "success"
