"""Compact real data for the page tests: one real SBR season, the recorded Odds API payload of
2023-12-11, a model trained on the season, predictions, paper bets through ``recommend``, a few of
them settled, and a finished backtest."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import DEMO, NBA_SBR, train_active

SEASON = NBA_SBR / "nba_odds_2015-16.csv"
ODDS = DEMO / "odds_api" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
SLATE_DAY = dt.date(2023, 12, 11)
SMALL_DAY = dt.date(2023, 12, 25)  # five games in the same payload
BACKTEST_WINDOW = (dt.date(2016, 3, 1), dt.date(2016, 3, 20))


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def build_demo(*, backtest: bool = True) -> dict[str, object]:
    """Everything the pages show, from real data. Returns a few handles for the tests."""
    from django.conf import settings

    from betting.bets.models import Bankroll, Bet
    from betting.bets.services import bets_settle
    from betting.games.ingest.reference import reference_sync
    from betting.games.models import Game

    reference_sync()
    run("import_history", "--league", "NBA", "--format", "sbr", str(SEASON), "--no-progress")
    train_active("NBA", "h2h")
    run("fetch_odds", "--league", "NBA", "--from-file", str(ODDS))
    # The pages need stakes to show: a 2015-16 season prices the recorded 2023 odds, which the
    # staleness guard rightly rejects (tests/pages/test_views.py checks it says so), so widen it here.
    stale_days = settings.MODEL_STALE_DAYS, settings.FEATURE_STALE_DAYS
    settings.MODEL_STALE_DAYS = settings.FEATURE_STALE_DAYS = 10_000
    try:
        run("predict", "--league", "NBA", "--since", "2023-12-01")
    finally:
        settings.MODEL_STALE_DAYS, settings.FEATURE_STALE_DAYS = stale_days
    limits = settings.RISK_LIMITS
    settings.RISK_LIMITS = {**limits, "min_edge": 0.0}
    try:
        run(
            "recommend", "--league", "NBA", "--date", "2023-12-11", "--as-of", "2023-12-11T18:00:00+00:00", "--run", "t"
        )
    finally:
        settings.RISK_LIMITS = limits
    # Two of the bet-on games get a final score (test inputs) so the ledger has settled rows too.
    settled_games = list(Game.objects.filter(bets__isnull=False).distinct().order_by("start_time")[:2])
    for number, game in enumerate(settled_games):
        Game.objects.filter(pk=game.pk).update(status=Game.Status.FINAL, home_score=110 + number * 10, away_score=105)
    bets_settle(now=dt.datetime(2023, 12, 12, 8, 0, tzinfo=dt.UTC))
    handles: dict[str, object] = {
        "bankroll": Bankroll.objects.get(name="paper"),
        "bets": Bet.objects.count(),
        "game": Game.objects.filter(game_date=SLATE_DAY).order_by("start_time").first(),
    }
    if backtest:
        handles["backtest"] = make_backtest(run_now=True)
    return handles


def make_backtest(*, run_now: bool, name: str = "march") -> object:
    from betting.bets.services import backtest_create, backtest_run
    from betting.games.models import League

    bt = backtest_create(
        league=League.objects.get(code="NBA"),
        market="h2h",
        date_from=BACKTEST_WINDOW[0],
        date_to=BACKTEST_WINDOW[1],
        params={"kelly_fraction": 0.25, "min_edge": 0.0, "starting_bankroll": "10000"},
        name=name,
    )
    if run_now:
        backtest_run(bt.pk)
        bt.refresh_from_db()
    return bt


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, built once per module and test worker, committed; each test still runs in a
    transaction that is rolled back, so tests may change it freely."""
    from django.conf import settings

    saved = (settings.MODEL_DIR, settings.PROMOTION_RECENT_GAMES)
    settings.MODEL_DIR = tmp_path_factory.mktemp("models")
    settings.PROMOTION_RECENT_GAMES = 100
    with django_db_blocker.unblock():
        handles = build_demo()
    yield handles
    with django_db_blocker.unblock():
        call_command("flush", "--noinput", verbosity=0)
    settings.MODEL_DIR, settings.PROMOTION_RECENT_GAMES = saved
