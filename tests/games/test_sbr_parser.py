"""The sportsbookreviewsonline archives, parsed with no database: real files, real quirks."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from betting.games.providers import sbr
from betting.games.providers.records import ParseError, american_to_decimal, pitcher_key
from betting.games.providers.tables import read_table
from tests.conftest import MLB_SBR, NBA_SBR, corrupt_csv


def parse(path: Path, season: int = 2007):
    return sbr.parse_nba(read_table(path), season=season)


def quotes(game, market, line):
    return {(q.outcome, q.point, q.price) for q in game.quotes if q.market == market and q.line == line}


def test_first_game_of_2007_08_has_scores_lines_and_moneylines():
    result = parse(NBA_SBR / "nba_odds_2007-08.csv")
    game = result.games[0]
    # 1030,501,V,Portland,26,23,28,20,97,184,189.5,900,95 / 502,H,SanAntonio,...,106,12.5,13,-1400,5
    assert (game.game_date, game.away, game.home) == (dt.date(2007, 10, 30), "Portland", "SanAntonio")
    assert (game.away_score, game.home_score, game.neutral) == (97, 106, False)
    assert game.period_scores == {"away": [26, 23, 28, 20], "home": [29, 30, 22, 25]}
    assert quotes(game, "spreads", "open") == {("home", Decimal("-12.5"), None), ("away", Decimal("12.5"), None)}
    assert quotes(game, "spreads", "close") == {("home", Decimal("-13"), None), ("away", Decimal("13"), None)}
    assert quotes(game, "totals", "open") == {("over", Decimal("184"), None), ("under", Decimal("184"), None)}
    assert quotes(game, "totals", "close") == {("over", Decimal("189.5"), None), ("under", Decimal("189.5"), None)}
    assert quotes(game, "h2h", "close") == {("away", None, Decimal("10.0000")), ("home", None, Decimal("1.0714"))}


def test_visitor_favourite_gets_the_negative_spread():
    game = parse(NBA_SBR / "nba_odds_2007-08.csv").games[2]  # Houston -2.5/-5 at LALakers, total on home row
    assert (game.away, game.home) == ("Houston", "LALakers")
    assert quotes(game, "spreads", "close") == {("away", Decimal("-5"), None), ("home", Decimal("5"), None)}
    assert quotes(game, "totals", "close") == {("over", Decimal("199"), None), ("under", Decimal("199"), None)}


def test_season_turns_the_year_in_january():
    games = parse(NBA_SBR / "nba_odds_2007-08.csv").games
    assert games[0].game_date == dt.date(2007, 10, 30)
    assert games[-1].game_date == dt.date(2008, 6, 17)
    assert all(a.game_date <= b.game_date + dt.timedelta(days=1) for a, b in itertools.pairwise(games))


def test_xlsx_and_csv_of_the_same_season_parse_the_same():
    from_csv = parse(NBA_SBR / "nba_odds_2016-17.csv", 2016)
    xlsx = Path(__file__).resolve().parents[2] / "data/demo/nba/sbr/nba_odds_2017-18.xlsx"
    from_xlsx = parse(xlsx, 2017)
    assert len(from_csv.games) > 1200 and len(from_xlsx.games) > 1200
    # the bundled xlsx is 2017-18; its first game is the season opener
    first = from_xlsx.games[0]
    assert (first.game_date, first.away, first.home, first.away_score, first.home_score) == (
        dt.date(2017, 10, 17),
        "Boston",
        "Cleveland",
        99,
        102,
    )


def test_neutral_site_rows_make_a_neutral_game():
    games = parse(NBA_SBR / "nba_odds_2010-11.csv", 2010).games
    neutral = [g for g in games if g.neutral]
    assert len(neutral) == 2  # the two Toronto-New Jersey games in London, March 2011
    assert {(g.away, g.home, g.game_date) for g in neutral} == {
        ("Toronto", "NewJersey", dt.date(2011, 3, 4)),
        ("Toronto", "NewJersey", dt.date(2011, 3, 5)),
    }


def test_pickem_and_no_line_and_total_with_its_price(tmp_path):
    rows = [
        ["Date", "Rot", "VH", "Team", "1st", "2nd", "3rd", "4th", "Final", "Open", "Close", "ML", "2H"],
        ["1030", "501", "V", "Portland", "26", "23", "28", "20", "97", "197.5u10", "pk", "NL", "95"],
        ["1030", "502", "H", "SanAntonio", "29", "30", "22", "25", "106", "pk", "189.5", "-110", "5"],
    ]
    path = tmp_path / "nba_odds_2007-08.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    game = parse(path).games[0]
    assert quotes(game, "spreads", "open") == {("home", Decimal(0), None), ("away", Decimal(0), None)}
    assert quotes(game, "totals", "open") == {("over", Decimal("197.5"), None), ("under", Decimal("197.5"), None)}
    assert quotes(game, "spreads", "close") == {("home", Decimal(0), None), ("away", Decimal(0), None)}
    assert quotes(game, "h2h", "close") == {("home", None, american_to_decimal(-110))}


def test_a_season_that_pauses_and_resumes_in_the_same_months_keeps_its_years(tmp_path):
    """2019-20 ran Oct..Mar, then Jul..Oct 2020 at a neutral site. Built from real rows re-dated."""
    with open(NBA_SBR / "nba_odds_2007-08.csv", newline="") as handle:
        source = list(csv.reader(handle))
    header, body = source[0], source[1:9]
    dates = ["1022", "1022", "1231", "1231", "0311", "0311", "1011", "1011"]
    rows = [header]
    for row, date in zip(body, dates, strict=True):
        row = list(row)
        row[0] = date.lstrip("0")
        rows.append(row)
    for row in rows[7:9]:
        row[2] = "N"
    path = tmp_path / "nba_odds_2019-20.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    games = parse(path, 2019).games
    assert [g.game_date for g in games] == [
        dt.date(2019, 10, 22),
        dt.date(2019, 12, 31),
        dt.date(2020, 3, 11),
        dt.date(2020, 10, 11),
    ]
    assert [g.neutral for g in games] == [False, False, False, True]


def test_known_bad_rows_in_the_real_archive_are_skipped_and_counted():
    result = parse(NBA_SBR / "nba_odds_2008-09.csv", 2008)
    assert result.skipped == {
        "period score that is negative": 2,
        "game whose final score is below the sum of its periods (a shifted row)": 1,
        "game whose two rows have different dates (the first row's date is used)": 1,
    }


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Final", "1O6", "expected a whole number of points"),
        ("Date", "1332", "no such month"),
        ("Open", "abc", "expected a line"),
        ("ML", "minus", "expected an American moneyline"),
        ("VH", "X", "expected a V row then an H row"),
    ],
)
def test_malformed_values_fail_naming_the_row_column_and_value(season_csv, column, value, message):
    path = season_csv()
    corrupt_csv(path, 6, column, value)  # file row 8 (header is row 1)
    with pytest.raises(ParseError) as caught:
        parse(path)
    error = caught.value
    assert message in str(error)
    assert error.path == str(path)
    assert error.row in (7, 8)
    if column != "VH":
        assert error.row == 8 and error.column == column and error.value == value


def test_wrong_header_names_the_missing_columns(tmp_path):
    path = tmp_path / "nba_odds_2007-08.csv"
    text = (NBA_SBR / "nba_odds_2007-08.csv").read_text().replace("Final", "Score", 1)
    path.write_text(text)
    with pytest.raises(ParseError, match=r"row 1: missing column\(s\) Final"):
        parse(path)


def test_unreadable_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "nba_odds_2007-08.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(ParseError, match=r"not a readable \.xlsx workbook"):
        read_table(path)


def test_mlb_archive_has_doubleheaders_pitchers_and_two_moneylines():
    result = sbr.parse_mlb(read_table(MLB_SBR / "sbr_mlb_odds_2017.csv"), season=2017)
    first = result.games[0]
    assert (first.game_date, first.away, first.home, first.away_score, first.home_score) == (
        dt.date(2017, 4, 2),
        "SFO",
        "ARI",
        5,
        6,
    )
    assert (first.away_pitcher, first.home_pitcher) == ("MBUMGARNER-L", "ZGREINKE-R")
    assert quotes(first, "h2h", "open") == {("away", None, american_to_decimal(-130)), ("home", None, Decimal("2.15"))}
    assert quotes(first, "h2h", "close") == {("away", None, american_to_decimal(-144)), ("home", None, Decimal("2.29"))}
    assert sum(g.game_number == 2 for g in result.games) == 29
    last = result.games[-1]
    assert last.period_scores["home"][-1] is None  # 'x': the home half of the 9th not played


def test_american_to_decimal():
    assert american_to_decimal(150) == Decimal("2.5")
    assert american_to_decimal(-200) == Decimal("1.5")
    assert american_to_decimal(100) == Decimal("2")
    with pytest.raises(ValueError):
        american_to_decimal(50)


def test_a_workbook_with_real_date_cells_reads_like_mmdd(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    with open(NBA_SBR / "nba_odds_2007-08.csv", newline="") as handle:
        rows = list(csv.reader(handle))[:5]
    sheet.append(rows[0])
    for row in rows[1:]:
        month, day = divmod(int(row[0]), 100)
        sheet.append([dt.datetime(2007, month, day), *[int(c) if c.lstrip("-").isdigit() else c for c in row[1:]]])
    path = tmp_path / "nba_odds_2007-08.xlsx"
    book.save(path)
    games = parse(path).games
    assert [(g.game_date, g.away, g.home) for g in games] == [
        (dt.date(2007, 10, 30), "Portland", "SanAntonio"),
        (dt.date(2007, 10, 30), "Utah", "GoldenState"),
    ]


def test_a_blank_pitcher_cell_leaves_the_starter_unknown():
    result = sbr.parse_mlb(read_table(MLB_SBR / "sbr_mlb_odds_2017.csv"), season=2017)
    # 511,951,V,LOS,HRYU-L / 511,952,H,COL,(blank)
    game = next(g for g in result.games if g.game_date == dt.date(2017, 5, 11) and g.home == "COL")
    assert (game.away_pitcher, game.home_pitcher) == ("HRYU-L", "")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("JLESTER-L", "jlester"),
        ("Jon Lester", "jlester"),
        ("Simeon Woods Richardson", "swoodsrichardson"),
        ("Sawyer Gipson-Long", "sgipsonlong"),
        ("", ""),
    ],
)
def test_sbr_and_espn_spellings_of_a_pitcher_share_one_key(name, key):
    assert pitcher_key(name) == key
