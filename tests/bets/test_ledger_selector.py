"""The ledger's filters (bets.selectors.ledger), which the page, its CSV and the API share."""

from __future__ import annotations

import datetime as dt

import pytest

from betting.bets import selectors
from tests import factories


@pytest.mark.django_db
def test_ledger_applies_only_the_filters_given_newest_first():
    paper = factories.bankroll("ledger-test")
    game = factories.game()
    home = factories.bet(paper, game, outcome="home")
    away = factories.bet(paper, game, outcome="away", decision_run="test-2")
    other = factories.bet(factories.bankroll("someone-else"), game)
    assert list(selectors.ledger(paper, {})) == [away, home]
    assert list(selectors.ledger(paper, {"market": "spreads"})) == []
    assert list(selectors.ledger(paper, {"market": "h2h", "status": "", "league": None})) == [away, home]
    assert other not in selectors.ledger(paper, {})
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    assert list(selectors.ledger(paper, {"date_from": tomorrow})) == []
