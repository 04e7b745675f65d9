"""Every reason a bet is passed carries its figures ("6 losses in a row: over the stop of 5", never
"losses in a row over the stop of"): in the guards, in a backtest's summary, on its page and in the
command's report, while the counts still group the reasons by kind."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from betting.bets import backtest as engine
from betting.bets import blending
from betting.bets.models import Backtest
from betting.bets.services import backtest_create, backtest_run
from betting.bets.staking import BankrollState, Candidate, Position, RiskLimits, bankroll_warnings, size_slate
from tests import factories

# Reasons that state a fact with no figure to give.
WITHOUT_FIGURES = {"kill switch on", "one position per game and direction: one is already open"}
DIGIT = re.compile(r"\d")

LIMITS = RiskLimits()
FULL = BankrollState(balance=Decimal("10000"), peak=Decimal("10000"))


def reasons_of(candidates, bankroll=FULL, limits=LIMITS) -> list[str]:
    return [reason for decision in size_slate(candidates, bankroll, limits) for reason in decision.reasons]


def strong(
    key: str = "a", *, probability: float = 0.6, price: float = 2.1, label: str = "", position: Position | None = None
) -> Candidate:
    return Candidate(key=key, probability=probability, price=price, label=label, position=position)


# Each guard, the situation that trips it, and the figures its reason must show.
CASES = {
    "drawdown stop": (
        lambda: reasons_of([strong()], BankrollState(balance=Decimal("7500"), peak=Decimal("10000"))),
        ["25%", "20%"],
    ),
    "drawdown stop held": (
        lambda: reasons_of(
            [strong()],
            BankrollState(
                balance=Decimal("8400"), peak=Decimal("9000"), all_time_peak=Decimal("10000"), stop_held=True
            ),
        ),
        ["16%", "15%"],
    ),
    "losing streak": (
        lambda: reasons_of(
            [strong()], BankrollState(balance=Decimal("10000"), peak=Decimal("10000"), recent_results=["loss"] * 6)
        ),
        ["6 losses", "stop of 5"],
    ),
    "odds under the minimum": (lambda: reasons_of([strong(price=1.005, probability=0.999)]), ["1.005", "1.01"]),
    "odds over the maximum": (lambda: reasons_of([strong(price=1200, probability=0.5)]), ["1200", "1000"]),
    "probability": (lambda: reasons_of([strong(probability=0.1, price=12)]), ["10.0%", "15.0%"]),
    "edge": (lambda: reasons_of([strong(probability=0.47, price=2.1)]), ["-0.6%", "1.0%"]),
    "EV": (
        lambda: reasons_of([strong(probability=0.5, price=2.1)], limits=RiskLimits(min_ev=0.06)),
        ["5.0%", "6.0%"],
    ),
    "absolute cap": (
        lambda: reasons_of(
            [strong(probability=0.9)], BankrollState(balance=Decimal("1000000"), peak=Decimal("1000000"))
        ),
        ["500.00"],
    ),
    "fraction cap": (
        lambda: reasons_of([strong(probability=0.9)], BankrollState(balance=Decimal("5000"), peak=Decimal("5000"))),
        ["5%"],
    ),
    "larger edge": (
        lambda: reasons_of(
            [
                strong("a", probability=0.55, label="ORL ml", position=Position(game=1, direction="home")),
                strong("b", probability=0.6, label="ORL -4.5", position=Position(game=1, direction="home")),
            ]
        ),
        ["ORL -4.5", "12.4%"],
    ),
    "game exposure": (
        lambda: reasons_of(
            [strong(probability=0.7, position=Position(game=1, direction="away"))],
            BankrollState(
                balance=Decimal("9700"),
                peak=Decimal("10000"),
                open_stakes=Decimal("300"),
                open_positions=[(Position(game=1, direction="over"), Decimal("300"))],
            ),
        ),
        ["5% of equity", "200.00 left on this game"],
    ),
    "daily cap used": (
        lambda: reasons_of(
            [strong()], BankrollState(balance=Decimal("10000"), peak=Decimal("10000"), staked_today=Decimal("2000"))
        ),
        ["2,000.00"],
    ),
    "daily cap scaled": (
        lambda: reasons_of(
            [strong(k, probability=0.7) for k in "abcdef"],
            BankrollState(balance=Decimal("10000"), peak=Decimal("10000"), staked_today=Decimal("400")),
        ),
        ["1,600.00 left today"],
    ),
    "rounds to nothing": (
        lambda: reasons_of(
            [strong(probability=0.4762, price=2.1)],
            BankrollState(balance=Decimal("1"), peak=Decimal("1")),
            RiskLimits(min_edge=-1),
        ),
        ["0.00"],
    ),
    "warnings": (
        lambda: bankroll_warnings(
            BankrollState(balance=Decimal("8300"), peak=Decimal("10000"), recent_results=["loss"] * 3), LIMITS
        ),
        ["17%", "15%", "20%", "3 losses", "warning of 3", "stop at 5"],
    ),
    "no edge in the blend's words": (
        lambda: [blending.no_edge_reason(blended=0.482, market=0.485, price=1.91, min_edge=0.01)],
        ["48.2%", "48.5%", "1.91", "53.4%"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_guard_reason_shows_its_figures(case):
    produce, figures = CASES[case]
    reasons = produce()
    assert reasons, f"{case}: the guard did not trip"
    text = " | ".join(reasons)
    for figure in figures:
        assert figure in text, f"{case}: {figure!r} missing from {text!r}"
    for reason in reasons:
        assert reason in WITHOUT_FIGURES or DIGIT.search(reason), f"{case}: a reason without its figures: {reason!r}"
        # money in a reason is grouped by thousands and never carries more than cents
        assert not re.search(r"\d{4,}\.\d{2}", reason) and not re.search(
            r"\.\d{3,}\b(?!%)", reason.replace("1.005", "")
        )


def test_the_kind_groups_counts_but_the_summary_keeps_the_figures():
    texts = ["6 losses in a row: over the stop of 5", "7 losses in a row: over the stop of 5"]
    assert {engine._reason_kind(t) for t in texts} == {"losses in a row over the stop of"}  # one count
    summary = {
        "passes": {"losses in a row over the stop of": 5, "no model trained before the decision": 2},
        "pass_reasons": {"losses in a row over the stop of": [[texts[0], 3], [texts[1], 1]]},
    }
    rows = engine.passes_with_figures(summary)
    assert rows[0] == {
        "kind": "losses in a row over the stop of",
        "count": 5,
        "examples": [(texts[0], 3), (texts[1], 1)],
        "others": 1,
    }
    assert rows[1]["examples"] == [] and rows[1]["kind"] == "no model trained before the decision"
    assert engine.passes_with_figures({"passes": "garbage"}) == []


@pytest.fixture
def stopped_backtest(reference, model_dir, settings):
    """Two weeks of the real 2014-15 NBA season under tight stops, so the passes are the guards'."""
    nba = factories.nba_season_2014_15(
        settings,
        consecutive_loss_limit=2,
        consecutive_loss_warn=1,
        max_recent_losses_check=10,
        loss_streak_cooldown_hours=1000,
    )
    bt = backtest_create(
        league=nba,
        market="h2h",
        date_from=engine.dt.date(2014, 12, 1),
        date_to=engine.dt.date(2014, 12, 14),
        params={
            "kelly_fraction": 0.25,
            "min_edge": 0.0,
            "starting_bankroll": "10000",
            "blend_weights": {"intercept": 0.0, "w_market": 0.0, "w_model": 1.0},
        },
        name="stops",
    )
    backtest_run(bt.pk)
    return Backtest.objects.get(pk=bt.pk)


@pytest.mark.django_db
def test_a_backtests_passes_keep_their_figures_on_the_page_and_in_the_command(stopped_backtest, client):
    bt = stopped_backtest
    assert bt.status == Backtest.Status.SUCCESS, bt.error
    rows = engine.passes_with_figures(bt.summary)
    assert rows and sum(r["count"] for r in rows) == sum(bt.summary["passes"].values())
    streak = [r for r in rows if r["kind"].startswith("losses in a row")]
    assert streak, bt.summary["passes"]  # the losing-streak stop tripped in the replay
    for row in rows:
        for text, n in row["examples"]:
            assert engine._reason_kind(text) == row["kind"] and n >= 1
            assert DIGIT.search(text), text
        if row["kind"] not in ("no model trained before the decision", "no two-way market price at decision time"):
            assert row["examples"], row  # a reason with figures keeps them
    html = client.get(f"/backtests/{bt.pk}").content.decode()
    example = streak[0]["examples"][0][0]
    assert re.search(r"\d+ losses in a row: (at|over) the stop of 2", example)
    assert example in html
    assert "passed: losses in a row over the stop of" not in html  # the bare kind is not what is shown
    from betting.bets.management.commands.backtest import render

    assert example in render(bt)
