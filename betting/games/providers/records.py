"""Plain records every provider produces and the services consume. No Django here."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from core.errors import SharplineError

OPEN = "open"
CLOSE = "close"


class ParseError(SharplineError, ValueError):
    """A payload that cannot be trusted. Says where: file, row, column and the value."""

    def __init__(
        self, reason: str, *, path: str = "", row: int | None = None, column: str = "", value: object = None
    ) -> None:
        self.reason = reason
        self.path = path
        self.row = row
        self.column = column
        self.value = value
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = ", ".join(where)
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{text}: {self.reason}{value}" if text else f"{self.reason}{value}"


class PayloadTooLarge(ParseError):
    """A payload larger than any real one (more events or bookmakers than a pull may hold): refused
    whole, nothing of it written."""


@dataclass(frozen=True)
class QuoteRecord:
    market: str  # h2h | spreads | totals
    outcome: str  # home | away | over | under
    price: Decimal | None  # decimal odds; None when the source gives only the line
    point: Decimal | None
    line: str  # OPEN or CLOSE for archives


@dataclass
class GameRecord:
    row: int  # first row of the game in its file (the header is row 1)
    season: int  # year the season starts
    game_date: dt.date  # local date
    home: str  # team as the source spells it
    away: str
    neutral: bool | None  # None: the source does not say
    home_score: int | None
    away_score: int | None
    period_scores: dict[str, list[int | None]] = field(default_factory=dict)
    season_type: str = ""
    game_number: int = 1
    quotes: list[QuoteRecord] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)  # kept in Game.details (JSON)
    home_pitcher: str = ""  # MLB starter as the source writes it (SBR: JLESTER-L); "" unknown
    away_pitcher: str = ""
    # Where each team's name stands in the file: side -> (row, column), for error messages.
    team_cells: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class ParseResult:
    games: list[GameRecord]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (values dropped, not rows)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


FOUR_PLACES = Decimal("0.0001")

_HAND = re.compile(r"-[LRS]$", re.IGNORECASE)


def pitcher_key(name: str) -> str:
    """One form for a pitcher whichever source wrote the name: first initial and surname, lowercase
    letters only. SBR's ``JLESTER-L`` (initial, surname, throwing hand) and ESPN's ``Jon Lester`` both
    become ``jlester``; ``Simeon Woods Richardson`` becomes ``swoodsrichardson``. Two pitchers sharing an
    initial and surname share a key (rare; accepted). ``""`` for a blank name."""
    text = _HAND.sub("", name.strip())
    words = text.split()
    if len(words) > 1:
        text = words[0][:1] + "".join(words[1:])
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", ascii_only.lower())


def american_to_decimal(american: int | Decimal) -> Decimal:
    """American odds to decimal odds: +150 -> 2.5, -200 -> 1.5."""
    value = Decimal(american)
    if abs(value) < 100:
        raise ValueError(f"American odds must be <= -100 or >= +100, got {american}")
    result = 1 + value / 100 if value > 0 else 1 + Decimal(100) / -value
    return result.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
