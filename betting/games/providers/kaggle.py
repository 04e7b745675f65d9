"""The Kaggle NBA betting set: one row per game, ESPN-style lowercase team codes.

``season`` names the year a season ends (2008 for 2007-08); ``spread`` is unsigned and
``whos_favored`` says which side gives it; the lines are closing lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from betting.games.providers.records import (
    CLOSE,
    GameRecord,
    ParseError,
    ParseResult,
    QuoteRecord,
    american_to_decimal,
)
from betting.games.providers.tables import Table

COLUMNS = ["season", "date", "away", "home", "score_away", "score_home", "whos_favored", "spread", "total"]
PERIODS = ["q1", "q2", "q3", "q4"]


def parse(table: Table) -> ParseResult:
    table.require(COLUMNS)
    result = ParseResult(games=[])
    for number, row in table.rows:
        game = GameRecord(
            row=number,
            season=_int(table, number, row, "season") - 1,
            game_date=_date(table, number, row),
            home=_team(table, number, row, "home"),
            away=_team(table, number, row, "away"),
            neutral=None,  # the set does not say
            home_score=_int(table, number, row, "score_home"),
            away_score=_int(table, number, row, "score_away"),
            season_type=_season_type(row),
            team_cells={"away": (number, "away"), "home": (number, "home")},
            period_scores={
                side: [_int(table, number, row, f"{q}_{side}") for q in PERIODS if f"{q}_{side}" in table.header]
                for side in ("away", "home")
            },
        )
        game.quotes = _quotes(table, number, row, result)
        result.games.append(game)
    return result


def _int(table: Table, number: int, row: dict[str, str], column: str) -> int:
    text = row[column]
    try:
        value = float(text)
    except ValueError as exc:
        raise ParseError("expected a whole number", path=table.path, row=number, column=column, value=text) from exc
    if not value.is_integer() or value < 0:
        raise ParseError("expected a whole number", path=table.path, row=number, column=column, value=text)
    return int(value)


def _date(table: Table, number: int, row: dict[str, str]) -> dt.date:
    try:
        return dt.date.fromisoformat(row["date"][:10])
    except ValueError as exc:
        raise ParseError(
            "expected a date written YYYY-MM-DD", path=table.path, row=number, column="date", value=row["date"]
        ) from exc


def _team(table: Table, number: int, row: dict[str, str], column: str) -> str:
    if not row[column]:
        raise ParseError("no team", path=table.path, row=number, column=column, value="")
    return row[column]


def _season_type(row: dict[str, str]) -> str:
    if row.get("playoffs", "").lower() == "true":
        return "post"
    if row.get("regular", "").lower() == "true":
        return "regular"
    return ""


def _decimal(table: Table, number: int, row: dict[str, str], column: str) -> Decimal | None:
    text = row.get(column, "")
    if text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ParseError("expected a number", path=table.path, row=number, column=column, value=text) from exc


def _quotes(table: Table, number: int, row: dict[str, str], result: ParseResult) -> list[QuoteRecord]:
    quotes = []
    spread = _decimal(table, number, row, "spread")
    favoured = row["whos_favored"].lower()
    if spread is not None:
        if favoured not in {"home", "away"}:
            raise ParseError(
                "expected home or away", path=table.path, row=number, column="whos_favored", value=row["whos_favored"]
            )
        underdog = "away" if favoured == "home" else "home"
        points = abs(spread)
        quotes.append(QuoteRecord("spreads", favoured, None, -points if points else Decimal(0), CLOSE))
        quotes.append(QuoteRecord("spreads", underdog, None, points, CLOSE))
    total = _decimal(table, number, row, "total")
    if total is not None:
        quotes.append(QuoteRecord("totals", "over", None, total, CLOSE))
        quotes.append(QuoteRecord("totals", "under", None, total, CLOSE))
    for side in ("away", "home"):
        american = _decimal(table, number, row, f"moneyline_{side}")
        if american is None:
            continue
        if abs(american) < 100:
            result.skip(f"moneyline_{side}: not a possible moneyline")
            continue
        quotes.append(QuoteRecord("h2h", side, american_to_decimal(american), None, CLOSE))
    return quotes
