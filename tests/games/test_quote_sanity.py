"""Quote sanity: a two-way pair whose margin is out of bounds (a corrupt -2500/-2500 archive row) is kept
in the database but reaches no consensus, no training input and no CLV; it is counted on the import's
job run and listed in the admin."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from betting.bets.pricing import american_to_decimal, consensus_probability, devig
from betting.games import market
from betting.games.models import League, OddsQuote
from betting.games.selectors import insane_pair_count, insane_pairs
from betting.predictions.selectors import closing_market
from core.models import JobRun
from tests.conftest import NBA_SBR

CORRUPT = american_to_decimal(-2500.0)  # 1.04: both sides of a -2500/-2500 pair


def test_the_margin_of_a_pair_and_its_default_bounds():
    assert market.pair_margin(1.91, 1.91) == pytest.approx(0.04712, abs=1e-5)
    assert market.sane_pair(1.91, 1.91)
    assert not market.sane_pair(CORRUPT, CORRUPT)  # margin 0.92
    assert not market.sane_pair(4.0, 4.0)  # margin -0.5: no book pays that
    assert market.sane_pair(2.1, 2.1)  # -0.048: best prices of two books can be a little underround
    assert not market.sane_pair(2.1, 2.1, lo=-0.01, hi=0.25)
    assert not market.sane_pair(None, 1.9) and not market.sane_pair(1.0, 1.9)
    assert market.sane_pairs([1.91, CORRUPT, np.nan], [1.91, CORRUPT, 1.9]).tolist() == [True, False, False]


def test_a_corrupt_pair_does_not_reach_the_consensus():
    real = (1.8, 2.1)
    assert consensus_probability([real, (CORRUPT, CORRUPT)]) == pytest.approx(devig(list(real))[0])
    assert consensus_probability([(CORRUPT, CORRUPT)]) is None
    assert consensus_probability([(CORRUPT, CORRUPT)], bounds=(-1.0, 1.0)) == pytest.approx(0.5)


def test_the_bounds_follow_the_settings(settings):
    settings.QUOTE_MAX_MARGIN = 0.01
    assert market.bounds() == (-0.05, 0.01)
    assert consensus_probability([(1.91, 1.91)]) is None
    settings.QUOTE_MAX_MARGIN = 0.25
    assert consensus_probability([(1.91, 1.91)]) == pytest.approx(0.5)


@pytest.fixture
def season(reference):
    call_command(
        "import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2014-15.csv"), "--no-progress"
    )
    return League.objects.get(code="NBA")


@pytest.mark.django_db
def test_corrupt_archive_pairs_are_kept_counted_listed_and_left_out_of_the_closing_market(
    season, admin_client, django_assert_max_num_queries
):
    flagged = list(insane_pairs().select_related("game"))
    assert flagged  # the 2014-15 archive has a -2500/-2500 moneyline
    assert all(not market.sane_pair(q.price, q.other_price) for q in flagged)
    run = JobRun.objects.filter(job="import_history").latest("started_at")
    assert run.counts["insane_pairs"] == len(flagged)

    assert [(q.game.game_date.isoformat(), q.market, float(q.price)) for q in flagged] == [
        ("2015-01-07", "h2h", CORRUPT)
    ]
    [corrupt] = flagged
    # The archive's one book quoted only that pair: the closing market has no moneyline probability
    # for the game (it was 0.5 before), and still has its spread and total.
    assert not OddsQuote.objects.filter(game=corrupt.game, market="h2h").exclude(bookmaker=corrupt.bookmaker).exists()
    close = closing_market(season)
    assert math.isnan(close.loc[corrupt.game_id, "home_prob"])
    assert not math.isnan(close.loc[corrupt.game_id, "total"])

    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse("admin:games_oddsquote_changelist"), {"pair": "insane"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(flagged)


@pytest.mark.django_db
def test_an_odds_pull_counts_its_insane_pairs_on_the_job_run(reference):
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(fixture))
    run = JobRun.objects.filter(job="fetch_odds").latest("started_at")
    assert run.counts["insane_pairs"] == 0  # a live book's pairs are sane
    # One book's moneyline corrupted after the fact: the same count finds it.
    quote = OddsQuote.objects.filter(market="h2h", outcome="home").first()
    OddsQuote.objects.filter(
        game=quote.game, bookmaker=quote.bookmaker, market="h2h", captured_at=quote.captured_at
    ).update(price=CORRUPT)
    assert insane_pair_count(since=run.started_at, league=quote.game.league) == 1
