"""CSV downloads of bets, streamed row by row: the ledger (``/bets.csv``, the page's filters) and a
backtest's simulated bets (``/backtests/<id>/bets.csv``). A ledger row carries the book's own bet id
(``book_bet_id``, blank for paper bets) beside ours (``bet_id``). Prices carry both formats (decimal as
stored, American as bettors write it), money is plain to the cent (no thousands separator: a
spreadsheet reads it as a number), shares are plain fractions."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from betting.bets.models import Bet
from core.web.formatting import CENT, american, format_line, to_decimal

LEDGER_COLUMNS = (
    "placed_at",
    "bet_id",
    "bankroll",
    "league",
    "game_date",
    "game",
    "market",
    "outcome",
    "line",
    "book",
    "book_bet_id",
    "price_decimal",
    "price_american",
    "stake",
    "probability",
    "edge",
    "status",
    "result",
    "profit",
    "closing_price_decimal",
    "clv",
    "model_version",
)
BACKTEST_COLUMNS = (
    "game_id",
    "game",
    "start_time",
    "decided_at",
    "quote_at",
    "model_trained_until",
    "outcome",
    "line",
    "book",
    "price_decimal",
    "price_american",
    "probability",
    "model_probability",
    "market_probability",
    "edge",
    "stake",
    "result",
    "profit",
    "closing_price_decimal",
    "clv",
)
CHUNK = 500  # ledger rows read per query


class _Echo:
    """A file-like object whose write() returns the line: csv.writer then yields text to stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    return "" if value is None else value


def _cents(value: object) -> str:
    number = to_decimal(value)
    return "" if number is None else f"{number.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def _american(price: object) -> str:
    whole = american(price)
    return "" if whole is None else f"{whole:+d}"


def ledger_rows(ledger: QuerySet[Bet], bankroll: str) -> Iterator[list[object]]:
    """One row per bet of ``ledger`` (its order kept; all of one bankroll), read ``CHUNK`` at a time."""
    for bet in ledger.iterator(chunk_size=CHUNK):
        game = bet.game
        yield [
            bet.placed_at.isoformat(),
            bet.pk,
            bankroll,
            game.league.code,
            game.game_date.isoformat(),
            f"{game.away_team.abbreviation} @ {game.home_team.abbreviation}",
            bet.market,
            bet.outcome,
            format_line(bet.point, bet.market),
            bet.bookmaker.title,
            bet.external_id,
            _cell(bet.price),
            _american(bet.price),
            _cents(bet.stake),
            _cell(bet.probability),
            _cell(bet.edge),
            bet.status,
            bet.result,
            _cents(bet.profit),
            _cell(bet.closing_price),
            _cell(bet.clv),
            bet.model_version.version if bet.model_version is not None else "",
        ]


def backtest_rows(bets: Iterable[object], market: str) -> Iterator[list[object]]:
    """One row per simulated bet as the backtest stored it (a dict per bet); anything else is skipped."""
    for bet in bets:
        if not isinstance(bet, dict):
            continue
        yield [
            _cell(bet.get("game_id")),
            _cell(bet.get("label")),
            _cell(bet.get("start_time")),
            _cell(bet.get("decided_at")),
            _cell(bet.get("quote_at")),
            _cell(bet.get("model_trained_until")),
            _cell(bet.get("outcome")),
            format_line(bet.get("point"), market),
            _cell(bet.get("book")),
            _cell(bet.get("price")),
            _american(bet.get("price")),
            _cell(bet.get("probability")),
            _cell(bet.get("model_probability")),
            _cell(bet.get("market_probability")),
            _cell(bet.get("edge")),
            _cents(bet.get("stake")),
            _cell(bet.get("result")),
            _cents(bet.get("profit")),
            _cell(bet.get("closing_price")),
            _cell(bet.get("clv")),
        ]


def csv_response(columns: Iterable[str], rows: Iterable[list[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download: the header, then each row as it is produced."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(list(columns))
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
