"""What the API reads and writes: pydantic schemas (Django Ninja). Money is a decimal string;
odds and probabilities are numbers."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BaseModel, Field

from betting.bets.edges import Arbitrage, Middle, PositiveEV, Steam

MAX_ID = 2_147_483_647
MAX_OFFSET = 1_000_000
MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
LeagueCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,10}$", description="League code, e.g. NBA, MLB.")]
BookKey = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,50}$", description="Bookmaker key, e.g. draftkings.")]
GameMarket = Literal["h2h", "spreads", "totals"]
Side = Literal["home", "away", "over", "under"]
GameStatus = Literal["scheduled", "in_progress", "final", "postponed", "cancelled"]
BetStatus = Literal["open", "settled"]
BetResult = Literal["win", "loss", "push", "void"]
BetSource = Literal["model", "manual", "import"]
BacktestStatus = Literal["pending", "running", "success", "failed"]


def _aware(value: dt.datetime) -> dt.datetime:
    """A time without a zone is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


Moment = Annotated[dt.datetime, AfterValidator(_aware)]
Day = dt.date


class Out(BaseModel):
    """An answer. Plain pydantic rather than Ninja's ``Schema``, whose getter (made to read a model's
    attributes) wraps every nested object: the endpoints hand these plain values, and the getter
    was most of the time of a page of games with their markets."""


class Error(Schema):
    error: str = Field(description="A short code: bad_request, unauthorized, forbidden, not_found, rate_limited...")
    reason: str = Field(description="What went wrong, in words.")


class Page(Out):
    count: int = Field(description="Rows matching the filters, all pages.")
    limit: int
    offset: int


# --- Games ------------------------------------------------------------------------------------


class TeamOut(Out):
    id: int
    name: str
    abbreviation: str


class SideOut(Out):
    outcome: str
    point: float | None
    best_price: float = Field(description="The best decimal price any book offers now on this side and line.")
    best_book: str
    best_captured_at: dt.datetime
    consensus_probability: float | None = Field(
        description="De-vigged consensus (DEVIG_METHOD) of the books' latest sane two-way pairs at this line."
    )
    fair_price: float | None


class MarketOut(Out):
    market: str
    sides: list[SideOut]


class GameOut(Out):
    id: int
    league: str
    season: int
    game_date: dt.date
    start_time: dt.datetime
    status: str
    home_team: TeamOut
    away_team: TeamOut
    home_score: int | None
    away_score: int | None
    neutral_site: bool
    markets: list[MarketOut] | None = Field(
        default=None, description="The market now (before the start: each book's latest quote); null if not asked."
    )


class GamePage(Page):
    items: list[GameOut]


# --- Predictions ------------------------------------------------------------------------------


class PredictionOut(Out):
    id: int
    game_id: int
    league: str
    game_date: dt.date
    home_team: str
    away_team: str
    market: str
    outcome: str
    point: float | None
    probability: float
    fair_odds: float
    model_version: str
    model_active: bool
    stale_reason: str
    created_at: dt.datetime


class PredictionPage(Page):
    items: list[PredictionOut]


# --- Edges (the scanner) ----------------------------------------------------------------------


class EdgesOut(Out):
    at: dt.datetime = Field(description="The moment scanned.")
    games: int
    quotes: int = Field(description="Latest quotes scanned (one per game, book, market, side).")
    # The scanner's own records (`betting.bets.scanner`), as its `ScanResult.as_json` writes them.
    positive_ev: list[PositiveEV]
    arbitrage: list[Arbitrage]
    middles: list[Middle]
    steam: list[Steam]


# --- Bankrolls and bets -----------------------------------------------------------------------


class BankrollOut(Out):
    id: int
    name: str
    mode: str
    currency: str
    owner: str | None = Field(description="The owner's username; null for the house's bankroll.")
    balance: Decimal
    can_bet: bool = Field(description="Whether the caller may record bets on it.")
    created_at: dt.datetime


class BankrollPage(Page):
    items: list[BankrollOut]


class BetOut(Out):
    id: int
    bankroll_id: int
    game_id: int
    league: str
    home_team: str
    away_team: str
    start_time: dt.datetime
    market: str
    outcome: str
    point: float | None
    book: str
    price: float
    stake: Decimal
    placed_at: dt.datetime
    source: str
    status: str
    result: str
    payout: Decimal | None
    profit: Decimal | None
    closing_price: float | None
    clv: float | None


class BetPage(Page):
    items: list[BetOut]


class BetIn(Schema):
    """A bet placed at a book, recorded on a bankroll the caller may bet on."""

    bankroll: Id
    game: Id
    market: GameMarket
    outcome: Side
    book: BookKey
    price: float = Field(gt=1, le=1001, allow_inf_nan=False, description="Decimal odds taken (4 places kept).")
    stake: float = Field(ge=0.01, le=1_000_000_000, allow_inf_nan=False, description="Cents kept.")
    point: float | None = Field(default=None, ge=-500, le=500, allow_inf_nan=False, description="The line.")
    placed_at: Moment | None = Field(default=None, description="Default: now.")
    probability: float | None = Field(default=None, gt=0, lt=1, description="Your own; default the price's.")

    def decimal_price(self) -> Decimal:
        return Decimal(str(self.price)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    def decimal_stake(self) -> Decimal:
        return Decimal(str(self.stake)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def decimal_point(self) -> Decimal | None:
        return (
            None if self.point is None else Decimal(str(self.point)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        )


class RowProblemOut(Out):
    line: int = Field(description="The file's line (the header is line 1).")
    reason: str
    row: dict[str, Any]


class ImportOut(Out):
    ok: bool = Field(description="False: nothing was imported (see unmatched and errors).")
    layout: str
    rows: int
    created: int
    duplicates: list[RowProblemOut] = Field(description="Rows imported before, skipped.")
    unmatched: list[RowProblemOut] = Field(description="Rows invalid or matching no game: correct and send again.")
    errors: list[str] = Field(description="Problems with the whole file.")
    settled: int
    seconds: float
    bet_ids: list[int]


class ImportFailed(Error):
    result: ImportOut | None = Field(default=None, description="The rows' problems; null when the request was invalid.")


# --- Backtests --------------------------------------------------------------------------------


class BacktestOut(Out):
    id: int
    name: str
    league: str
    market: str
    date_from: dt.date
    date_to: dt.date
    status: str
    progress: float
    progress_note: str
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    starting_bankroll: Decimal
    final_bankroll: Decimal | None
    n_bets: int | None
    roi: float | None
    yield_rate: float | None
    hit_rate: float | None
    max_drawdown: float | None
    avg_clv: float | None


class BacktestPage(Page):
    items: list[BacktestOut]


class ProgressOut(Out):
    status: str
    progress: float
    note: str
    error: str
    done: bool


class StrategyIn(Schema):
    kelly_fraction: float | None = Field(default=None, gt=0, le=1)
    min_edge: float | None = Field(default=None, ge=0, lt=1)
    devig: Literal["multiplicative", "additive", "power", "shin"] | None = None
    lead_minutes: int = Field(default=5, ge=0, le=10080)
    starting_bankroll: float = Field(default=10000, ge=1, le=1_000_000_000, allow_inf_nan=False)
    at: Literal["open", "close"] = "close"


class BacktestIn(Schema):
    league: LeagueCode
    market: GameMarket
    date_from: Day
    date_to: Day
    name: str = Field(default="", max_length=100)
    strategy: StrategyIn = Field(default_factory=StrategyIn)
