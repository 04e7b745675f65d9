"""sportsbookreviewsonline season archives (NBA and MLB), as users download them.

Quirks handled, all seen in the real files:
- ``Date`` is ``MMDD`` without a year; a season can span two calendar years, so the year
  turns when the month falls back by half a year or more (December -> January). That also
  reads seasons that pause and resume in the same calendar months (2019-20: Oct..Mar, Jul..Oct).
- Two rows per game: ``V`` (visitor) then ``H`` (home), or ``N`` then ``N`` at a neutral site,
  where the first row is taken as the nominal visitor.
- NBA ``Open``/``Close`` hold the spread on the favourite's row and the total on the other
  row; ``pk`` is a pick'em (spread 0), ``NL`` no line, and a total may carry its price
  (``197.5u10``), which is dropped.
- ``ML`` is the closing moneyline (NBA); for MLB ``ML`` (or ``Open``) opens and ``Close`` closes.
- MLB ``Pitcher`` is the starter, initial and surname and throwing hand (``JLESTER-L``); blank in a few rows
  (unknown).
- A value that is a number but not a possible price (``ML`` of ``8``) is skipped and
  counted; a value that is not a number at all fails the file.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from betting.games.providers.records import (
    CLOSE,
    OPEN,
    GameRecord,
    ParseError,
    ParseResult,
    QuoteRecord,
    american_to_decimal,
)
from betting.games.providers.tables import Table

NBA_PERIODS = ["1st", "2nd", "3rd", "4th"]
MLB_PERIODS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th"]
NO_LINE = {"", "nl", "n/l", "-", "off"}
PICK = {"pk", "pick", "pickem", "p"}
# A line value: a number, maybe with a half sign, maybe followed by its price (o10, u-115).
LINE_RE = re.compile(r"^(?P<num>\d+(?:\.\d+)?|\d*½)(?P<juice>[ou][+-]?\d+)?$")

# Any NBA line above this is a total, any at or below it a spread.
NBA_TOTAL_THRESHOLD = Decimal(60)


class _Pick(Decimal):
    """A pick'em spread: numerically 0, but known to be a spread and not a total."""


def parse_nba(table: Table, *, season: int, spans_years: bool = True) -> ParseResult:
    table.require(["Date", "VH", "Team", "Final", "Open", "Close", "ML"])
    result = ParseResult(games=[])
    dates = _SeasonCalendar(table.path, season, spans_years)
    for visitor, home in _pairs(table):
        game = _game(table, dates, visitor, home, NBA_PERIODS, result)
        if game is None:
            continue
        (vrow, vcells), (hrow, hcells) = visitor, home
        for column, line in (("Open", OPEN), ("Close", CLOSE)):
            away_line = _line(table.path, vrow, column, vcells[column])
            home_line = _line(table.path, hrow, column, hcells[column])
            game.quotes.extend(_spread_and_total(away_line, home_line, line, result))
        for side, (row_number, cells) in (("away", visitor), ("home", home)):
            price = _moneyline(table.path, row_number, "ML", cells["ML"], result)
            if price is not None:
                game.quotes.append(QuoteRecord("h2h", side, price, None, CLOSE))
        result.games.append(game)
    return result


def parse_mlb(table: Table, *, season: int) -> ParseResult:
    # Older sheets call the opening moneyline "ML", later ones "Open"; totals/run lines are ignored.
    opening = "Open" if "Open" in table.header else "ML"
    table.require(["Date", "VH", "Team", "Final", opening, "Close"])
    result = ParseResult(games=[])
    dates = _SeasonCalendar(table.path, season, spans_years=False)
    seen: dict[tuple[dt.date, str, str], int] = {}
    for visitor, home in _pairs(table):
        game = _game(table, dates, visitor, home, MLB_PERIODS, result)
        if game is None:
            continue
        key = (game.game_date, game.home, game.away)
        seen[key] = game.game_number = seen.get(key, 0) + 1  # doubleheaders: 1, 2
        game.away_pitcher = visitor[1].get("Pitcher", "").strip()
        game.home_pitcher = home[1].get("Pitcher", "").strip()
        for column, line in ((opening, OPEN), ("Close", CLOSE)):
            for side, (row_number, cells) in (("away", visitor), ("home", home)):
                price = _moneyline(table.path, row_number, column, cells[column], result)
                if price is not None:
                    game.quotes.append(QuoteRecord("h2h", side, price, None, line))
        result.games.append(game)
    return result


Row = tuple[int, dict[str, str]]


def _game(
    table: Table, dates: _SeasonCalendar, visitor: Row, home: Row, periods: list[str], result: ParseResult
) -> GameRecord | None:
    """The game two rows describe, without its lines; None (counted) when the rows are unusable."""
    (vrow, vcells), (hrow, hcells) = visitor, home
    day = dates.date_of(vrow, vcells["Date"])
    if hcells["Date"] != vcells["Date"]:
        dates.date_of(hrow, hcells["Date"])  # still has to be a date
        result.skip("game whose two rows have different dates (the first row's date is used)")
    away_score = _score(table.path, vrow, vcells, "Final")
    home_score = _score(table.path, hrow, hcells, "Final")
    if away_score is None and home_score is None:
        result.skip("game without a final score")
        return None
    if away_score is None or home_score is None:
        raise ParseError("only one team has a final score", path=table.path, row=vrow, column="Final")
    game = GameRecord(
        row=vrow,
        season=dates.season,
        game_date=day,
        home=hcells["Team"],
        away=vcells["Team"],
        neutral=vcells["VH"].upper() == "N",
        home_score=home_score,
        away_score=away_score,
        period_scores={
            "away": _periods(table, vrow, vcells, periods, result),
            "home": _periods(table, hrow, hcells, periods, result),
        },
        details={"rotation": [vcells.get("Rot", ""), hcells.get("Rot", "")]},
        team_cells={"away": (vrow, "Team"), "home": (hrow, "Team")},
    )
    if not _final_covers_periods(game):
        result.skip("game whose final score is below the sum of its periods (a shifted row)")
        return None
    return game


class _SeasonCalendar:
    """Gives MMDD cells their year, walking the file in order."""

    def __init__(self, path: str, season: int, spans_years: bool) -> None:
        self.path = path
        self.season = season
        self.year = season
        self.spans_years = spans_years
        self.turned = False
        self.last_month: int | None = None

    def date_of(self, row: int, cell: str) -> dt.date:
        if not cell.isdigit() or not 3 <= len(cell) <= 4:
            raise ParseError("expected a date written MMDD", path=self.path, row=row, column="Date", value=cell)
        month, day = divmod(int(cell), 100)
        if not 1 <= month <= 12:
            raise ParseError("no such month", path=self.path, row=row, column="Date", value=cell)
        if self.last_month is not None and self.last_month - month >= 6:
            if not self.spans_years or self.turned:
                raise ParseError(
                    "the dates fall back by months (rows out of order, or more than one season in the file?)",
                    path=self.path,
                    row=row,
                    column="Date",
                    value=cell,
                )
            self.year += 1
            self.turned = True
        self.last_month = month
        try:
            return dt.date(self.year, month, day)
        except ValueError as exc:
            raise ParseError(
                f"no such date in {self.year}", path=self.path, row=row, column="Date", value=cell
            ) from exc


def _pairs(table: Table) -> list[tuple[Row, Row]]:
    rows = table.rows
    pairs = []
    for index in range(0, len(rows), 2):
        first_number, first = rows[index]
        if index + 1 >= len(rows):
            raise ParseError("a game's first row has no second row", path=table.path, row=first_number)
        second_number, second = rows[index + 1]
        kinds = (first["VH"].upper(), second["VH"].upper())
        if kinds not in {("V", "H"), ("N", "N")}:
            raise ParseError(
                f"expected a V row then an H row (or two N rows), found {kinds[0] or 'blank'} "
                f"then {kinds[1] or 'blank'}",
                path=table.path,
                row=first_number,
                column="VH",
                value=first["VH"],
            )
        for number, row in ((first_number, first), (second_number, second)):
            if not row["Team"]:
                raise ParseError("no team name", path=table.path, row=number, column="Team", value="")
        pairs.append(((first_number, first), (second_number, second)))
    return pairs


def _score(path: str, row_number: int, row: dict[str, str], column: str) -> int | None:
    text = row.get(column, "")
    if text == "" or text.lower() == "x":
        return None  # not played (e.g. the home half of the 9th)
    if not text.isdigit():
        raise ParseError("expected a whole number of points", path=path, row=row_number, column=column, value=text)
    return int(text)


def _periods(
    table: Table, row_number: int, row: dict[str, str], columns: list[str], result: ParseResult
) -> list[int | None]:
    """Points per period. A negative number (seen: ``-42``) is dropped and counted; letters fail."""
    points: list[int | None] = []
    for column in columns:
        if column not in table.header:
            continue
        text = row[column]
        if text.startswith("-") and text[1:].isdigit():
            result.skip("period score that is negative")
            points.append(None)
            continue
        points.append(_score(table.path, row_number, row, column))
    return points


def _final_covers_periods(game: GameRecord) -> bool:
    """Overtime only adds, so a final below the sum of the periods means the row is shifted."""
    for side, final in (("home", game.home_score), ("away", game.away_score)):
        known = [p for p in game.period_scores.get(side, []) if p is not None]
        if final is not None and sum(known) > final:
            return False
    return True


def _line(path: str, row_number: int, column: str, text: str) -> Decimal | None:
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in NO_LINE:
        return None
    if cleaned in PICK:
        return _Pick(0)
    match = LINE_RE.match(cleaned)
    if not match:
        raise ParseError("expected a line (a number, pk or NL)", path=path, row=row_number, column=column, value=text)
    number = match.group("num")
    if number.endswith("½"):
        number = (number[:-1] or "0") + ".5"
    return Decimal(number)


def _spread_and_total(
    away_line: Decimal | None, home_line: Decimal | None, line: str, result: ParseResult
) -> list[QuoteRecord]:
    def is_total(value: Decimal) -> bool:
        return not isinstance(value, _Pick) and value > NBA_TOTAL_THRESHOLD

    spread: tuple[str, Decimal] | None = None  # (favourite side, points)
    total: Decimal | None = None
    for side, value in (("away", away_line), ("home", home_line)):
        if value is None:
            continue
        if is_total(value):
            if total is not None:
                result.skip(f"{line} line: two totals for one game")
                return []
            total = value
        else:
            if spread is not None:
                result.skip(f"{line} line: two spreads for one game")
                return []
            spread = (side, value)
    quotes = []
    if spread is not None:
        favourite, points = spread
        underdog = "home" if favourite == "away" else "away"
        points = abs(Decimal(points))
        quotes.append(QuoteRecord("spreads", favourite, None, -points if points else Decimal(0), line))
        quotes.append(QuoteRecord("spreads", underdog, None, points, line))
    if total is not None:
        quotes.append(QuoteRecord("totals", "over", None, total, line))
        quotes.append(QuoteRecord("totals", "under", None, total, line))
    if spread is None and total is None and (away_line is not None or home_line is not None):
        result.skip(f"{line} line: unreadable")
    return quotes


def _moneyline(path: str, row_number: int, column: str, text: str, result: ParseResult) -> Decimal | None:
    cleaned = text.strip().lower()
    if cleaned in NO_LINE:
        return None
    try:
        american = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ParseError(
            "expected an American moneyline such as -150 or 130", path=path, row=row_number, column=column, value=text
        ) from exc
    if abs(american) < 100 or american != american.to_integral_value():
        result.skip(f"{column}: not a possible moneyline (e.g. a spread typed in the price column)")
        return None
    return american_to_decimal(american)
