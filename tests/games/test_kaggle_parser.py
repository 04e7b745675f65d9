from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from betting.games.providers import kaggle
from betting.games.providers.records import ParseError
from betting.games.providers.tables import read_table
from tests.conftest import KAGGLE


@pytest.fixture(scope="module")
def parsed():
    return kaggle.parse(read_table(KAGGLE))


def test_every_row_is_a_game_with_its_closing_lines(parsed):
    assert len(parsed.games) == 14209
    first = parsed.games[0]
    # 2008,2007-10-30,True,False,por,sa,97,106,...,home,13.0,189.5,900,-1400
    assert (first.season, first.game_date, first.away, first.home) == (2007, dt.date(2007, 10, 30), "por", "sa")
    assert (first.away_score, first.home_score, first.season_type, first.neutral) == (97, 106, "regular", None)
    spreads = {(q.outcome, q.point) for q in first.quotes if q.market == "spreads"}
    assert spreads == {("home", Decimal("-13.0")), ("away", Decimal("13.0"))}
    h2h = {(q.outcome, q.price) for q in first.quotes if q.market == "h2h"}
    assert h2h == {("away", Decimal("10.0000")), ("home", Decimal("1.0714"))}
    assert sum(g.season_type == "post" for g in parsed.games) == 920


def test_a_letter_in_a_score_fails_with_row_and_column(tmp_path):
    lines = KAGGLE.read_text().splitlines()[:4]
    lines[2] = lines[2].replace(",117,96,", ",117,9B,", 1)
    path = tmp_path / "k.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError) as caught:
        kaggle.parse(read_table(path))
    assert (caught.value.row, caught.value.column, caught.value.value) == (3, "score_home", "9B")
