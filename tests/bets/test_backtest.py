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
from betting.bets import blending
from betting.bets.models import Backtest
from betting.bets.services import backtest_create, backtest_run
from betting.bets.staking import RiskLimits, streak_served
from betting.bets.tasks import run_backtest
from betting.games.models import Bookmaker, Game, League, OddsQuote
from core.models import JobRun
from tests.conftest import MLB_SBR, NBA_SBR

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


# The model alone: these tests exercise the replay's mechanics (limits, timing, figures), which need
# bets; a one-book archive at the close never beats the market itself (see the blend tests below).
MODEL_ONLY = {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0}
MARKET_ONLY = {"intercept": 0.0, "w_market": 1.0, "w_model": 0.0}


def replay(league: League, **params: object) -> engine.Report:
    params.setdefault("blend_weights", MODEL_ONLY)
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


# --- The blend, the timing and the sweep ------------------------------------------------------------


def test_the_market_alone_never_beats_a_single_books_close_and_the_pass_says_so(window):
    """With one archived book and no model weight, the blended probability is the de-vigged close
    itself, which always sits under the book's own implied probability: no bet, in words."""
    report = replay(window, blend_weights=MARKET_ONLY)
    assert report.n_bets == 0
    passes = report.summary["passes"]
    assert passes.get("no edge blend vs market the price needs", 0) > 0, passes
    blend = report.summary["blend"]
    assert blend["source"] == "strategy" and [w["weights"] for w in blend["weights"]] == [MARKET_ONLY]


def test_each_stake_is_sized_on_the_blend_of_its_model_and_market_at_decision_time(window):
    weights = {"intercept": 0.1, "w_market": 0.4, "w_model": 0.8}
    report = replay(window, blend_weights=weights)
    assert report.n_bets > 5
    for bet in report.bets:
        expected = blending.blend_sides(
            [bet["model_probability"]], [bet["market_probability"]], [bet["outcome"]], weights
        )
        assert bet["probability"] == pytest.approx(expected[0], abs=2e-6)
        assert bet["edge"] == pytest.approx(bet["probability"] - 1 / bet["price"], abs=2e-6)
        # the market at the close of a one-book archive is that book's pair, de-vigged
        assert bet["market_probability"] < 1 / bet["price"]
    assert report.summary["strategy"]["blend_weights"] == weights


def test_the_two_sides_of_a_game_blend_to_one_whatever_the_intercept():
    weights = {"intercept": 0.3, "w_market": 0.7, "w_model": 0.4}
    home, away = blending.blend_sides([0.62, 0.38], [0.55, 0.45], ["home", "away"], weights)
    assert home + away == pytest.approx(1.0, abs=1e-12)
    over, under = blending.blend_sides([0.4, 0.6], [0.5, 0.5], ["over", "under"], weights)
    assert over + under == pytest.approx(1.0, abs=1e-12)
    # no weights: the market itself; no market: no probability at all
    assert blending.blend_sides([0.9], [0.41], ["away"], None)[0] == pytest.approx(0.41, abs=1e-9)
    assert np.isnan(blending.blend_sides([0.9], [float("nan")], ["home"], weights)[0])


def test_a_strategy_with_malformed_blend_weights_or_timing_is_refused():
    with pytest.raises(engine.BacktestError, match="blend weights need exactly the keys"):
        engine.strategy_from({"blend_weights": {"w_model": 1.0}})
    with pytest.raises(engine.BacktestError, match="at must be one of open, close"):
        engine.strategy_from({"at": "noon"})


@pytest.fixture
def mlb_window(reference, model_dir, settings):
    """The real 2017 MLB season, whose archive has an opening and a closing moneyline per game; the
    replay covers ten days of June with April and May to train on."""
    call_command("import_history", "--league", "MLB", "--format", "sbr", str(MLB_SBR / "sbr_mlb_odds_2017.csv"),
                 "--no-progress", stdout=StringIO())  # fmt: skip
    settings.RISK_LIMITS = {
        **settings.RISK_LIMITS,
        "min_edge": 0.0,
        "min_probability": 0.0,
        "max_drawdown_fraction": 1.0,
        "drawdown_warn_fraction": 1.0,
        "consecutive_loss_limit": 10,
        "consecutive_loss_warn": 10,
    }
    return League.objects.get(code="MLB")


MLB_START, MLB_END = dt.date(2017, 6, 1), dt.date(2017, 6, 10)


def test_at_the_open_each_game_is_decided_at_its_first_quote_with_a_model_from_before_it(mlb_window):
    strategy = engine.strategy_from({"at": "open", "blend_weights": MODEL_ONLY})
    report = engine.run(league=mlb_window, market="h2h", start=MLB_START, end=MLB_END, strategy=strategy)
    assert report.n_bets > 10
    first = {
        game_id: pd.Timestamp(captured)
        for game_id, captured in OddsQuote.objects.filter(game__league=mlb_window, market="h2h")
        .order_by("-captured_at")
        .values_list("game_id", "captured_at")
    }
    for bet in report.bets:
        decided, start = pd.Timestamp(bet["decided_at"]), pd.Timestamp(bet["start_time"])
        assert decided == first[bet["game_id"]] and decided <= start - pd.Timedelta(hours=12)
        assert pd.Timestamp(bet["quote_at"]) <= decided
        assert pd.Timestamp(bet["model_trained_until"]) + pd.Timedelta(hours=3) <= decided
        assert bet["clv"] is not None  # measured against the de-vigged close, hours later
    # the opening price is not the close: some bets beat it, unlike at the close of one book
    assert any(b["clv"] > 0 for b in report.bets) and any(b["clv"] < 0 for b in report.bets)
    assert report.clv_ci95 is not None and report.clv_ci95[0] <= report.avg_clv <= report.clv_ci95[1]
    at_close = engine.run(
        league=mlb_window,
        market="h2h",
        start=MLB_START,
        end=MLB_END,
        strategy=engine.strategy_from({"blend_weights": MODEL_ONLY}),
    )
    assert all(b["clv"] < 0 for b in at_close.bets)  # the close of one book: CLV is minus its margin


def test_a_sweep_replays_every_strategy_exactly_as_its_own_backtest(mlb_window):
    rows = engine.sweep(
        league=mlb_window,
        market="h2h",
        start=MLB_START,
        end=MLB_END,
        params={"blend_weights": MODEL_ONLY},
        kelly=[0.1, 0.25],
        min_edge=[0.0, 0.04],
        at=["open", "close"],
    )
    assert [(r["at"], r["kelly_fraction"], r["min_edge"]) for r in rows] == [
        (at, k, e) for at in ("open", "close") for k in (0.1, 0.25) for e in (0.0, 0.04)
    ]
    for at, kelly, edge in (("open", 0.25, 0.0), ("close", 0.1, 0.04)):
        single = engine.run(
            league=mlb_window,
            market="h2h",
            start=MLB_START,
            end=MLB_END,
            strategy=engine.strategy_from(
                {"at": at, "kelly_fraction": kelly, "min_edge": edge, "blend_weights": MODEL_ONLY}
            ),
        ).as_json()
        row = next(r for r in rows if (r["at"], r["kelly_fraction"], r["min_edge"]) == (at, kelly, edge))
        for key in ("n_bets", "staked", "profit", "roi", "yield", "avg_clv", "clv_ci95", "max_drawdown"):
            assert row[key] == single[key], (at, kelly, edge, key)
    assert len({r["n_bets"] for r in rows}) > 1  # the strategies did differ


def _whole(report: engine.Report) -> dict[str, object]:
    return json.loads(json.dumps({**report.as_json(), "curve": report.curve, "bets": report.bets}, default=str))


def test_strategies_sharing_one_walk_forward_report_exactly_what_each_reports_alone(mlb_window):
    """The sweep's reuse: one walk-forward for both timings, and one set of blended slates per timing
    and blend shared by every staking setting; each strategy's whole report (every bet, the curve,
    the summary) is the one its own backtest gives, whatever was replayed on the slates before it."""
    settings = [
        {"at": at, "kelly_fraction": kelly, "min_edge": edge, "blend_weights": MODEL_ONLY}
        for at in ("open", "close")
        for kelly, edge in ((0.25, 0.0), (0.1, 0.04))
    ]
    settings.append({"at": "close", "kelly_fraction": 0.25, "min_edge": 0.0})  # the models' own blend
    strategies = [engine.strategy_from(params) for params in settings]
    prepared = engine.prepare(
        league=mlb_window,
        market="h2h",
        start=MLB_START,
        end=MLB_END,
        timings=list(dict.fromkeys(s.timing for s in strategies)),
        devig=strategies[0].devig,
    )
    shared = [_whole(engine.replay(prepared, s)) for s in strategies]
    assert len(prepared.blends) == 3  # (open, model only), (close, model only), (close, the models' blend)
    again = [_whole(engine.replay(prepared, s)) for s in reversed(strategies)][::-1]
    assert again == shared  # a replay changes nothing another replay reads
    alone = [
        _whole(engine.run(league=mlb_window, market="h2h", start=MLB_START, end=MLB_END, strategy=s))
        for s in strategies
    ]
    assert shared == alone
    assert all(report["n_bets"] for report in shared[:4])  # the model-only strategies did bet
    assert len({report["n_bets"] for report in shared[:4]}) > 1  # and the staking settings differed


def test_command_sweep_prints_one_row_per_combination_and_refuses_lists_without_it(mlb_window):
    out = StringIO()
    call_command(
        "backtest", "--league", "MLB", "--from", "2017-06-01", "--to", "2017-06-04", "--sweep",
        "--kelly", "0.1,0.25", "--min-edge", "0.01,0.03", "--at", "open,close", "--json", stdout=out,
    )  # fmt: skip
    rows = json.loads(out.getvalue())
    assert len(rows) == 8
    for row in rows:
        for key in ("at", "kelly_fraction", "min_edge", "n_bets", "staked", "profit", "roi", "yield", "avg_clv"):
            assert key in row
        assert "clv_ci95" in row
    assert not Backtest.objects.exists()  # a sweep saves nothing
    text = StringIO()
    call_command("backtest", "--league", "MLB", "--from", "2017-06-01", "--to", "2017-06-02", "--sweep",
                 "--kelly", "0.1,0.2", stdout=text)  # fmt: skip
    assert text.getvalue().count("\nclose ") == 2
    with pytest.raises(CommandError, match="several values of --kelly need --sweep"):
        call_command("backtest", "--league", "MLB", "--from", "2017-06-01", "--to", "2017-06-02", "--kelly", "0.1,0.2")


def test_command_at_open_records_the_timing_the_blend_and_the_clv_interval(mlb_window):
    out = StringIO()
    call_command("backtest", "--league", "MLB", "--from", "2017-06-01", "--to", "2017-06-04", "--at", "open",
                 "--json", stdout=out)  # fmt: skip
    figures = json.loads(out.getvalue())
    assert figures["strategy"]["at"] == "open"
    assert "clv_ci95" in figures and "avg_clv" in figures
    assert figures["blend"]["source"] == "model" and figures["blend"]["weights"]
    bt = Backtest.objects.get(pk=figures["id"])
    assert bt.params["at"] == "open" and bt.summary["blend"] == figures["blend"]
