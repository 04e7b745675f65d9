"""Bets placed at books, imported from a CSV: each row matched to a game, refused when already
imported (the ``bet_import_natural_key`` constraint), and the whole file in one transaction, so a
file with a bad row imports nothing and lists every bad row for correction. Imported bets settle
and get their CLV against the de-vigged close through ``services.bets_settle``, like paper bets.

Layouts (``LAYOUTS``), documented in the README ("Importing your bets"): ``generic``, a CSV whose
column names are matched case-insensitively, spaces and dashes read as underscores; ``betfair``, the
Betfair Exchange API's ``listClearedOrders`` response (``ClearedOrderSummary`` records, with
``includeItemDescription=true``) as the API returns it in JSON, or flattened to a CSV with dotted
column names (``itemDescription.eventDesc``: what a data-frame export of the response writes);
``pinnacle``, the ``straightBets`` of the Pinnacle API's ``GET /v3/bets`` response (JSON).

A row carrying the book's own bet id (``external_id``: Betfair's and Pinnacle's ``betId``, the
generic layout's optional ``bet_id``) is a duplicate when that book's id was imported onto the
bankroll before (the ``bet_external_id_per_book`` constraint); a row without one by the natural key.
More new bets than ``SETTLE_INLINE`` are settled by the settlement task (``tasks.settle_bets``), queued
when the import commits.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction

from betting.bets.models import Bankroll, BankrollEntry, Bet
from betting.bets.pricing import american_to_decimal
from betting.bets.services import CENT, BetError, bets_settle, check_can_place
from betting.games.models import Bookmaker, Game, League, normalize_name
from betting.games.selectors import TeamResolver, UnknownTeam

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
LIVE_HOURS = 6  # a bet placed up to this long after the start (in play) still matches the game
MATCH_DAYS = 10  # the game matched is the teams' first one starting within this many days of the bet
SETTLE_INLINE = 500  # more new bets than this are settled by the settlement task, queued (about 15 ms a bet)
BATCH = 1_000
DUPLICATE = "imported before (same game, side, book, time, price and stake)"
DUPLICATE_ID = "imported before (the book's bet id {})"
EXTERNAL_ID_LENGTH = 64  # Bet.external_id
SOURCE = "import"  # the TeamAlias source an import resolves names for ("" aliases serve any source)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    # canonical column -> the header names it may have in this layout
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # a layout that is not the canonical columns: its records (line, record), file-level errors and
    # notes (what the file holds that is not imported) from the file's text, and each record turned
    # into the canonical columns (ValueError: a bad row)
    read: Callable[[str], tuple[list[tuple[int, dict[str, str]]], list[str], list[str]]] | None = None
    convert: Callable[[dict[str, str]], dict[str, str]] | None = None


GENERIC = Layout(
    name="generic",
    title="Generic (placed_at, book, league, home, away, market, side, point, price, stake, status)",
    columns={
        "placed_at": ("placed_at", "placed", "date", "bet_date"),
        "book": ("book", "sportsbook", "bookmaker"),
        "league": ("league", "sport"),
        "home": ("home", "home_team"),
        "away": ("away", "away_team"),
        "market": ("market", "bet_type"),
        "side": ("side", "selection", "pick"),
        "point": ("point", "line"),
        "price": ("price", "odds"),
        "stake": ("stake", "risk", "wager"),
        "status": ("status", "result", "outcome"),
        "game_date": ("game_date", "event_date"),
        "external_id": ("bet_id", "book_bet_id", "external_id", "ticket_id"),
    },
    required=("placed_at", "book", "league", "home", "away", "market", "side", "price", "stake"),
)


# Betfair Exchange API, listClearedOrders -> ClearedOrderSummary (with includeItemDescription=true):
# https://docs.developer.betfair.com/display/1smk3cen4v3lu3yomq5qye0ni/listClearedOrders and
# https://betfair-developer-docs.atlassian.net/wiki/spaces/1smk3cen4v3lu3yomq5qye0ni/pages/2687465/Betting+Type+Definitions
BETFAIR_BOOK = "Betfair"
BETFAIR_REQUIRED = (
    "betid",
    "placeddate",
    "side",
    "pricematched",
    "sizesettled",
    "itemdescription.eventdesc",
    "itemdescription.runnerdesc",
)
BETFAIR_EVENT_TYPES = {"7522": "NBA", "basketball": "NBA", "7511": "MLB", "baseball": "MLB"}  # eventTypeId/Desc
BETFAIR_H2H = {"match_odds", "money_line", "moneyline", "match odds", "money line"}
BETFAIR_OUTCOMES = {"win": "win", "place": "win", "lose": "loss", "loss": "loss", "void": "void", "push": "push"}
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _flatten(record: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """A JSON record as one level of lowercase dotted keys (``itemdescription.eventdesc``), the
    values as text (numbers exactly as written)."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}".strip().lower()
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif value is None:
            flat[name] = ""
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = str(value)
    return flat


def _read_betfair(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str], list[str]]:
    """The cleared orders of a listClearedOrders response (``{"clearedOrders": [...], ...}``, its
    JSON-RPC envelope ``{"result": {...}}``, or a bare list of records; each record numbered from 1)
    or of its CSV flattening (dotted column names; lines numbered from the header, line 1)."""
    body = text.strip()
    if body[:1] in ("{", "["):
        try:
            data = json.loads(body, parse_float=str, parse_int=str)
        except json.JSONDecodeError as exc:
            return [], [f"the file is not valid JSON ({exc.msg}, line {exc.lineno})"], []
        if isinstance(data, dict) and isinstance(data.get("result"), dict):
            data = data["result"]
        orders = data.get("clearedOrders") if isinstance(data, dict) else data
        if not isinstance(orders, list):
            return [], ["the JSON has no clearedOrders list (the listClearedOrders response)"], []
        records = [(number, _flatten(o)) for number, o in enumerate(orders, start=1) if isinstance(o, dict)]
        if len(records) != len(orders):
            return [], ["clearedOrders holds something other than ClearedOrderSummary records"], []
        if records and not any(key.startswith("itemdescription.") for _, r in records for key in r):
            return (
                [],
                ["the records have no itemDescription: call listClearedOrders with includeItemDescription=true"],
                [],
            )
        return records, [], []
    reader = csv.DictReader(io.StringIO(text))
    header = {name.strip().lower() for name in reader.fieldnames or [] if name}
    missing = [name for name in BETFAIR_REQUIRED if name not in header]
    if "markettype" not in {h.rsplit(".", 1)[-1] for h in header} and "itemdescription.marketdesc" not in header:
        missing.append("itemdescription.markettype")
    if "eventtypeid" not in header and "itemdescription.eventtypedesc" not in header:
        missing.append("eventtypeid")
    if missing:
        return (
            [],
            [f"the file has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} (Betfair layout)"],
            [],
        )
    rows = [
        (number, {(k or "").strip().lower(): (v or "") for k, v in raw.items() if isinstance(v, str)})
        for number, raw in enumerate(reader, start=2)
    ]
    return rows, [], []


def _betfair_row(record: dict[str, str]) -> dict[str, str]:
    """A ClearedOrderSummary as the canonical columns, or ValueError saying why it is not imported."""

    def get(*names: str) -> str:
        return next((record[n].strip() for n in names if record.get(n, "").strip()), "")

    def number(name: str, text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{name} {text!r} is not a number") from None
        if not value.is_finite():
            raise ValueError(f"{name} {text!r} is not a number")
        return value

    missing = [name for name in BETFAIR_REQUIRED if not get(name)]
    if missing:
        raise ValueError(f"the record has no {', '.join(missing)}")
    if get("side").upper() != "BACK":
        raise ValueError("lay bets are not imported" if get("side").upper() == "LAY" else f"side {get('side')!r}")
    sport = get("itemdescription.eventtypedesc")
    league = BETFAIR_EVENT_TYPES.get(get("eventtypeid")) or BETFAIR_EVENT_TYPES.get(sport.lower())
    if league is None:
        raise ValueError(
            f"event type {sport or '?'} ({get('eventtypeid') or '?'}) is not NBA (Basketball, 7522) or MLB"
            " (Baseball, 7511)"
        )
    event = get("itemdescription.eventdesc")
    teams = [part.strip() for part in event.split(" @ ")]
    if len(teams) != 2 or not all(teams):
        raise ValueError(f"event {event!r} is not an {league} game written 'Away @ Home' (another competition?)")
    away, home = teams
    market_type = get("itemdescription.markettype").lower()
    market_desc = get("itemdescription.marketdesc").lower()
    runner = get("itemdescription.runnerdesc")
    handicap = get("handicap")
    point = ""
    if market_type in BETFAIR_H2H or market_desc in BETFAIR_H2H:
        market, side = "h2h", NUMBER.sub("", runner).strip()
    elif runner.lower().startswith(("over", "under")) or "total" in market_type or "total" in market_desc:
        market = "totals"
        side = "over" if runner.lower().startswith("over") else "under" if runner.lower().startswith("under") else ""
        if not side:
            raise ValueError(f"runner {runner!r} of a total is neither Over nor Under")
        line = NUMBER.search(runner) or NUMBER.search(market_desc)
        point = line.group() if line else handicap
        if not point or number("line", point) == 0:
            raise ValueError(f"the total of {runner!r} has no line (in the runner, market or handicap)")
    elif "handicap" in market_type or "handicap" in market_desc or "spread" in market_desc:
        market = "spreads"
        line = NUMBER.search(runner)
        side = NUMBER.sub("", runner).strip()
        point = handicap if handicap and number("handicap", handicap) != 0 else line.group() if line else "0"
    else:
        raise ValueError(
            f"market {get('itemdescription.marketdesc') or market_type!r} is not match odds/moneyline, a handicap"
            " or a total"
        )
    profit = get("profit")
    result = BETFAIR_OUTCOMES.get(get("betoutcome").lower(), "")
    if not result and profit:
        gain = number("profit", profit)
        result = "win" if gain > 0 else "loss" if gain < 0 else "push"
    if number("sizeSettled", get("sizesettled")) <= 0:
        raise ValueError("nothing was matched (sizeSettled 0): a lapsed or cancelled order")
    return {
        "placed_at": _parse_time(get("placeddate"), ZoneInfo("UTC")).isoformat(),  # Betfair's times are UTC
        "book": BETFAIR_BOOK,
        "league": league,
        "home": home,
        "away": away,
        "market": market,
        "side": side,
        "point": point,
        "price": get("pricematched"),
        "price_format": "decimal",
        "stake": get("sizesettled"),
        "status": result,
        "external_id": get("betid"),
    }


BETFAIR = Layout(
    name="betfair",
    title="Betfair Exchange: listClearedOrders JSON, or its CSV with dotted columns (itemDescription.eventDesc)",
    columns={name: (name,) for name in (*GENERIC.columns, "price_format")},
    required=GENERIC.required,
    read=_read_betfair,
    convert=_betfair_row,
)


# Pinnacle API, GET /v3/bets -> GetBetsByTypeResponseV3 {straightBets: [StraightBetV3], parlayBets, ...}:
# https://github.com/pinnacleapi/openapi-specification/blob/master/betsapi-oas.yaml (rendered at
# https://pinnacleapi.github.io/betsapi); an accepted bet in full in the FAQ ("How to place a bet on live
# events?"): https://github.com/pinnacleapi/pinnacleapi-documentation/blob/master/FAQ.md
PINNACLE_BOOK = "Pinnacle"
PINNACLE_REQUIRED = ("betid", "placedat", "betstatus", "bettype", "price", "risk", "oddsformat", "team1", "team2")
# Pinnacle's league ids, NBA 487 (sport 4, Basketball) and MLB 246 (sport 3, Baseball), as recorded Pinnacle
# responses show them (the documentation lists none; its Get Leagues operation returns them).
PINNACLE_LEAGUES = {"487": "NBA", "246": "MLB"}
PINNACLE_MARKETS = {"MONEYLINE": "h2h", "SPREAD": "spreads", "TOTAL_POINTS": "totals"}
PINNACLE_RESULTS = {"ACCEPTED": "", "WON": "win", "LOSE": "loss", "REFUNDED": "void"}  # betStatus
PINNACLE_NOT_A_BET = {
    "PENDING_ACCEPTANCE": "is still pending acceptance (a live bet): import it once Pinnacle has accepted it",
    "NOT_ACCEPTED": "was not accepted: there is no bet",
    "CANCELLED": "was cancelled by Pinnacle (its stake returned): remove it from the file",
}
PINNACLE_OTHER_BETS = {"parlayBets": "parlay", "teaserBets": "teaser", "specialBets": "special", "manualBets": "manual"}


def _read_pinnacle(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str], list[str]]:
    """The straight bets of a ``GET /v3/bets`` response (``{"straightBets": [...], ...}``, or a bare
    list of StraightBetV3 records), numbered from 1; the parlays, teasers, specials and manual bets
    of the response are counted in the notes, not imported."""
    try:
        data = json.loads(text.strip(), parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        return [], [f"the file is not the JSON of Pinnacle's GET /v3/bets ({exc.msg}, line {exc.lineno})"], []
    notes: list[str] = []
    if isinstance(data, dict):
        for key, kind in PINNACLE_OTHER_BETS.items():
            others = data.get(key)
            if isinstance(others, list) and others:
                notes.append(
                    f"{len(others)} {kind} bet{'s' if len(others) > 1 else ''} not imported (straight bets only)"
                )
        bets = data.get("straightBets")
        if bets is None and notes:
            return [], [f"the response holds no straight bets: {'; '.join(notes)}"], []
    else:
        bets = data
    if not isinstance(bets, list):
        return [], ["the JSON has no straightBets list (the GET /v3/bets response)"], []
    records = [(number, _flatten(bet)) for number, bet in enumerate(bets, start=1) if isinstance(bet, dict)]
    if len(records) != len(bets):
        return [], ["straightBets holds something other than StraightBetV3 records"], []
    return records, [], notes


def _pinnacle_price(record: dict[str, str]) -> tuple[str, str]:
    """(price, its format for ``parse_price``) of a straight bet in its ``oddsFormat``: American and
    decimal as written; Hong Kong, Indonesian and Malay from the bet's own amounts (1 + win / risk)."""
    odds_format, price = record.get("oddsformat", "").upper(), record.get("price", "")
    if odds_format == "AMERICAN":
        return price, "american"
    if odds_format == "DECIMAL":
        return price, "decimal"
    try:
        win, risk = Decimal(record.get("win", "")), Decimal(record.get("risk", ""))
    except InvalidOperation:
        raise ValueError(f"{odds_format or '?'} odds need the bet's win and risk amounts") from None
    if not (win.is_finite() and risk.is_finite()) or win <= 0 or risk <= 0:
        raise ValueError(f"{odds_format or '?'} odds need positive win and risk amounts")
    return str(1 + win / risk), "decimal"


def _pinnacle_row(record: dict[str, str]) -> dict[str, str]:
    """A StraightBetV3 as the canonical columns, or ValueError saying why it is not imported."""

    def get(name: str) -> str:
        return record.get(name, "").strip()

    status = get("betstatus").upper()
    if status in PINNACLE_NOT_A_BET:  # such a record may have no betId yet: its uniqueRequestId names it
        raise ValueError(f"bet {get('betid') or get('uniquerequestid') or '?'} {PINNACLE_NOT_A_BET[status]}")
    missing = [name for name in PINNACLE_REQUIRED if not get(name)]
    if missing:
        raise ValueError(f"the record has no {', '.join(missing)}")
    league = PINNACLE_LEAGUES.get(get("leagueid"))
    if league is None:
        raise ValueError(
            f"league {get('leagueid') or '?'} (sport {get('sportid') or '?'}) is not NBA (487) or MLB (246)"
        )
    bet_type = get("bettype").upper()
    market = PINNACLE_MARKETS.get(bet_type)
    if market is None:
        raise ValueError(f"bet type {bet_type} is not MONEYLINE, SPREAD or TOTAL_POINTS")
    if get("periodnumber") not in ("", "0"):
        raise ValueError(f"a bet on period {get('periodnumber')} (not the whole game) is not imported")
    if market == "totals":
        side = get("side").lower()
        if side not in ("over", "under"):
            raise ValueError(f"side {get('side')!r} of a total is neither OVER nor UNDER")
    else:
        side = get("teamname")
        if not side:
            raise ValueError(f"a {bet_type} bet with no teamName")
    point = get("handicap") if market != "h2h" else ""
    if market != "h2h" and not point:
        raise ValueError(f"a {bet_type} bet with no handicap (its line)")
    price, price_format = _pinnacle_price(record)
    wager = get("wagernumber")
    return {
        "placed_at": _parse_time(get("placedat"), ZoneInfo("UTC")).isoformat(),  # "All times are GMT"
        "book": PINNACLE_BOOK,
        "league": league,
        # team1/team2 are not home/away ("Is home team always team1? No.", the FAQ): either way round
        "home": get("team1"),
        "away": get("team2"),
        "teams_either_way": "1",
        "market": market,
        "side": side,
        "point": point,
        "price": price,
        "price_format": price_format,
        "stake": get("risk"),
        "status": PINNACLE_RESULTS.get(status, ""),
        "external_id": get("betid") if wager in ("", "1") else f"{get('betid')}/{wager}",
    }


PINNACLE = Layout(
    name="pinnacle",
    title="Pinnacle: the straightBets of the API's GET /v3/bets response (JSON)",
    columns={name: (name,) for name in (*GENERIC.columns, "price_format", "teams_either_way")},
    required=GENERIC.required,
    read=_read_pinnacle,
    convert=_pinnacle_row,
)

LAYOUTS: dict[str, Layout] = {GENERIC.name: GENERIC, BETFAIR.name: BETFAIR, PINNACLE.name: PINNACLE}

MARKETS = {
    "h2h": "h2h",
    "moneyline": "h2h",
    "money_line": "h2h",
    "ml": "h2h",
    "spread": "spreads",
    "spreads": "spreads",
    "point_spread": "spreads",
    "handicap": "spreads",
    "run_line": "spreads",
    "puck_line": "spreads",
    "total": "totals",
    "totals": "totals",
    "over_under": "totals",
    "ou": "totals",
}
SIDES = {"home": "home", "away": "away", "over": "over", "o": "over", "under": "under", "u": "under"}
RESULTS = {
    "": "",
    "open": "",
    "pending": "",
    "win": "win",
    "won": "win",
    "w": "win",
    "loss": "loss",
    "lost": "loss",
    "lose": "loss",
    "l": "loss",
    "push": "push",
    "p": "push",
    "void": "void",
    "cancelled": "void",
    "canceled": "void",
    "refunded": "void",
}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p")


@dataclass
class RowProblem:
    line: int  # the line of the file (the header is line 1)
    reason: str
    row: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    layout: str
    rows: int = 0
    created: int = 0
    duplicates: list[RowProblem] = field(default_factory=list)
    unmatched: list[RowProblem] = field(default_factory=list)  # bad or unmatched rows: nothing was imported
    errors: list[str] = field(default_factory=list)  # file-level problems: nothing was imported
    settled: int = 0
    settle_later: int = 0  # new bets left to the settlement task (a long history)
    settle_queued: bool = False  # the settlement task was queued for them (when the import committed)
    settle_task_id: str = ""  # its Celery task id, once sent
    settled_by_task: int | None = None  # Celery eager: the task ran in this process and settled these
    settle_error: str = ""  # why the task could not be queued
    seconds: float = 0.0
    bet_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the file holds that was not imported, on purpose

    @property
    def ok(self) -> bool:
        return not self.unmatched and not self.errors

    @property
    def settle_note(self) -> str:
        """What became of the bets not settled inline, for the page ("" when none)."""
        return settle_later_message(self).removeprefix("; ")


@dataclass
class _Parsed:
    line: int
    row: dict[str, str]
    placed_at: dt.datetime
    book: str
    league: str
    home: str
    away: str
    market: str
    side: str
    point: Decimal | None
    price: Decimal
    stake: Decimal
    result: str
    game_date: dt.date | None
    external_id: str = ""  # the book's own bet id
    either_way: bool = False  # the file does not say which team is at home (Pinnacle's team1/team2)


def _header_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_price(text: str, *, decimal: bool = False) -> Decimal:
    """American (a sign, or |x| >= 100: -110, +150, 150) or decimal (1.91) odds, as decimal odds;
    ``decimal``: always decimal odds (an exchange's 100 and more)."""
    raw = text.strip().replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"price {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"price {text!r} is not a number")
    if not decimal and (raw[:1] in "+-" or abs(value) >= 100):
        try:
            price = american_to_decimal(value)
        except ValueError:
            raise ValueError(f"American odds {text!r} are impossible (|odds| must be 100 or more)") from None
    else:
        price = value
    if price <= 1:
        raise ValueError(f"decimal odds {text!r} must be above 1")
    return price.quantize(Decimal("0.0001"))


def _parse_time(text: str, zone: ZoneInfo) -> dt.datetime:
    raw = text.strip()
    if not raw:
        raise ValueError("placed_at is empty")
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                value = dt.datetime.strptime(raw, fmt)  # the zone is set below
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"placed_at {text!r} is not a date and time (YYYY-MM-DD HH:MM, ISO 8601)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _parse_row(line: int, raw: dict[str, str], columns: dict[str, str], zone: ZoneInfo) -> _Parsed:
    def get(name: str) -> str:
        header = columns.get(name)
        return (raw.get(header) or "").strip() if header else ""

    market = MARKETS.get(_header_key(get("market")))
    if market is None:
        raise ValueError(f"market {get('market')!r} is not moneyline (h2h), spread or total")
    point: Decimal | None = None
    if get("point"):
        try:
            point = Decimal(get("point").replace("½", ".5"))
        except InvalidOperation:
            raise ValueError(f"point {get('point')!r} is not a number") from None
    if market in ("spreads", "totals") and point is None:
        raise ValueError(f"a {market} bet needs its point (the line)")
    if market == "h2h":
        point = None
    try:
        stake = Decimal(get("stake").replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise ValueError(f"stake {get('stake')!r} is not a number") from None
    if not stake.is_finite() or stake <= 0:
        raise ValueError(f"stake {get('stake')!r} must be positive")
    status = _header_key(get("status"))
    if status not in RESULTS:
        raise ValueError(f"status {get('status')!r} is not one of win, loss, push, void, open")
    external_id = get("external_id")
    if len(external_id) > EXTERNAL_ID_LENGTH:
        raise ValueError(f"bet id {external_id[:20]!r}... is longer than {EXTERNAL_ID_LENGTH} characters")
    game_date = None
    if get("game_date"):
        try:
            game_date = dt.date.fromisoformat(get("game_date")[:10])
        except ValueError:
            raise ValueError(f"game_date {get('game_date')!r} is not YYYY-MM-DD") from None
    return _Parsed(
        line=line,
        row=raw,
        placed_at=_parse_time(get("placed_at"), zone),
        book=get("book"),
        league=get("league").upper(),
        home=get("home"),
        away=get("away"),
        market=market,
        side=get("side"),
        point=point,
        price=parse_price(get("price"), decimal=get("price_format") == "decimal"),
        stake=stake.quantize(CENT),
        result=RESULTS[status],
        game_date=game_date,
        external_id=external_id,
        either_way=get("teams_either_way") == "1",
    )


class _Games:
    """The games of one league around the bets' dates, by (home, away), in one query."""

    def __init__(self, league: League, first: dt.datetime, last: dt.datetime) -> None:
        self.by_teams: dict[tuple[int, int], list[tuple[dt.datetime, int, dt.date]]] = defaultdict(list)
        rows = Game.objects.filter(
            league=league,
            start_time__gte=first - dt.timedelta(days=2),
            start_time__lte=last + dt.timedelta(days=MATCH_DAYS + 2),
        ).values_list("home_team_id", "away_team_id", "start_time", "id", "game_date")
        for home, away, start, pk, day in rows:
            self.by_teams[(home, away)].append((start, pk, day))
        for games in self.by_teams.values():
            games.sort()

    def find(self, home: int, away: int, placed_at: dt.datetime, game_date: dt.date | None) -> int | None:
        games = self.by_teams.get((home, away), [])
        if game_date is not None:
            return next((pk for _, pk, day in games if day == game_date), None)
        earliest = placed_at - dt.timedelta(hours=LIVE_HOURS)
        index = bisect_left(games, (earliest,))
        if index < len(games) and games[index][0] <= placed_at + dt.timedelta(days=MATCH_DAYS):
            return games[index][1]
        return None


def _columns(header: Iterable[str], layout: Layout) -> tuple[dict[str, str], list[str]]:
    """canonical -> the file's header name, and the required columns missing."""
    by_key = {_header_key(name): name for name in header if name}
    found: dict[str, str] = {}
    for canonical, names in layout.columns.items():
        for name in names:
            if name in by_key:
                found[canonical] = by_key[name]
                break
    missing = [c for c in layout.required if c not in found]
    return found, missing


# bankroll, game, market, outcome, book, placed at, price, stake: the ``bet_import_natural_key`` constraint
NaturalKey = tuple[int, int, str, str, int, dt.datetime, Decimal, Decimal]
Column = int | str | Decimal | dt.datetime | None  # a value of a new Bet's column (``_insert``)


def natural_key(bankroll_id: int, game_id: int, p: _Parsed, outcome: str, book_id: int) -> NaturalKey:
    return (bankroll_id, game_id, p.market, outcome, book_id, p.placed_at, p.price, p.stake)


def _book_key(name: str) -> str:
    return normalize_name(name)[:50]


def import_bets(
    fileobj: IO[bytes] | IO[str],
    *,
    user: Any,  # noqa: ANN401 (the swappable user model: AUTH_USER_MODEL)
    bankroll: Bankroll,
    layout: str = "generic",
    progress: Progress | None = None,
    settle: bool = True,
) -> ImportResult:
    """Import the bets of a CSV onto ``bankroll`` for ``user`` (who must be allowed to bet on it,
    ``selectors.can_bet``; a LIVE bankroll only with ENABLE_LIVE_BETTING). All or nothing: any row
    that is invalid or matches no game leaves the ledger untouched and is listed with its reason;
    rows imported before (same game, side, book, time, price and stake) are skipped as duplicates.
    The new bets whose games are over are then settled, with their CLV."""
    import time

    from betting.bets.selectors import can_bet

    started = time.perf_counter()
    chosen = LAYOUTS.get(layout)
    result = ImportResult(layout=layout)
    if chosen is None:
        result.errors.append(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
        return result
    if not can_bet(user, bankroll):
        result.errors.append(f"you may not record bets on bankroll {bankroll.name}")
        return result
    try:
        check_can_place(bankroll, manual=True)
    except BetError as exc:
        result.errors.append(str(exc))
        return result
    report = progress or (lambda done, total, note: None)
    content = fileobj.read()
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    records: Iterable[tuple[int, dict[str, str]]]
    if chosen.read is not None:
        records, problems, result.notes = chosen.read(text)
        result.errors += problems
        columns = {name: name for name in chosen.columns}
    else:
        reader = csv.DictReader(io.StringIO(text))
        columns, missing = _columns(reader.fieldnames or [], chosen)
        if missing:
            result.errors.append(f"the file has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}")
        records = enumerate(reader, start=2)
    if result.errors:
        return result
    zone = ZoneInfo(settings.DISPLAY_TIME_ZONE)
    parsed: list[_Parsed] = []
    for number, raw in records:
        if not any((value or "").strip() for value in raw.values() if isinstance(value, str)):
            continue  # a blank line
        if len(parsed) + len(result.unmatched) >= MAX_ROWS:
            result.errors.append(f"more than {MAX_ROWS} rows: split the file")
            return result
        try:
            row = chosen.convert(raw) if chosen.convert is not None else raw
            one = _parse_row(number, row, columns, zone)
        except ValueError as exc:
            result.unmatched.append(RowProblem(number, str(exc), raw))
            continue
        one.row = raw
        parsed.append(one)
    result.rows = len(parsed) + len(result.unmatched)
    total = result.rows
    report(len(parsed), total * 2, "read")

    # Match each row to a game: the league's team names through TeamResolver, the start near the bet.
    leagues = {league.code: league for league in League.objects.filter(code__in={p.league for p in parsed})}
    resolvers: dict[str, TeamResolver] = {}
    games: dict[str, _Games] = {}
    for code, league in leagues.items():
        times = [p.placed_at for p in parsed if p.league == code]
        resolvers[code] = TeamResolver(league)
        games[code] = _Games(league, min(times), max(times))
    books = {_book_key(b.key): b for b in Bookmaker.objects.all()}
    books.update({_book_key(b.title): b for b in books.values()})
    matched: list[tuple[_Parsed, int, str]] = []
    for p in parsed:
        try:
            matched.append((p, *_match(p, leagues, resolvers, games)))
        except ValueError as exc:
            result.unmatched.append(RowProblem(p.line, str(exc), p.row))
    report(total, total * 2, "matched")
    result.unmatched.sort(key=lambda problem: problem.line)
    if not result.ok:
        return result

    try:
        with transaction.atomic():
            locked = Bankroll.objects.select_for_update().get(pk=bankroll.pk)
            for p, _, _ in matched:
                if _book_key(p.book) not in books:
                    book = Bookmaker.objects.create(key=_book_key(p.book) or "unknown", title=p.book[:100])
                    books[_book_key(p.book)] = book
            game_ids = {game_id for _, game_id, _ in matched}
            imported = Bet.objects.filter(bankroll=locked, source=Bet.Source.IMPORT, game_id__in=game_ids).values_list(
                "bankroll_id",
                "game_id",
                "market",
                "outcome",
                "bookmaker_id",
                "placed_at",
                "price",
                "stake",
                "external_id",
            )
            # A row without the book's id is any imported bet of its natural key; a row with one is
            # the bet of that id, or a bet of its natural key imported without an id (before ids were kept).
            seen = {row[:-1] for row in imported}
            seen_without_id = {row[:-1] for row in imported if not row[-1]}
            seen_ids = set(
                Bet.objects.filter(
                    bankroll=locked, bookmaker_id__in={books[_book_key(p.book)].pk for p, _, _ in matched}
                )
                .exclude(external_id="")
                .values_list("bookmaker_id", "external_id")
            )
            new: list[dict[str, Column]] = []  # by the columns' attnames
            for p, game_id, outcome in matched:
                book = books[_book_key(p.book)]
                key = natural_key(locked.pk, game_id, p, outcome, book.pk)
                if p.external_id and (book.pk, p.external_id) in seen_ids:
                    result.duplicates.append(RowProblem(p.line, DUPLICATE_ID.format(p.external_id), p.row))
                    continue
                if key in (seen_without_id if p.external_id else seen):
                    result.duplicates.append(RowProblem(p.line, DUPLICATE, p.row))
                    continue
                if p.external_id:
                    seen_ids.add((book.pk, p.external_id))
                else:
                    seen.add(key)
                digest = hashlib.sha256(repr((key, p.external_id) if p.external_id else key).encode()).hexdigest()[:24]
                new.append(
                    {
                        "bankroll_id": locked.pk,
                        "game_id": game_id,
                        "market": p.market,
                        "outcome": outcome,
                        "bookmaker_id": book.pk,
                        "price": p.price,
                        "point": p.point,
                        "stake": p.stake,
                        "probability": (1 / p.price).quantize(Decimal("0.000001")),
                        "edge": Decimal(0),
                        "decision_run": f"import-{digest}",
                        "placed_at": p.placed_at,
                        "source": Bet.Source.IMPORT.value,
                        "reported_result": p.result,
                        "external_id": p.external_id,
                    }
                )
            for start in range(0, len(new), BATCH):
                result.bet_ids += _insert(locked, new[start : start + BATCH])
                report(total + min(total, start + BATCH), total * 2, "saved")
    except IntegrityError as exc:  # a concurrent import of the same rows: nothing of this one stays
        result.errors.append(f"the import collided with another one, nothing was imported ({exc})")
        result.bet_ids = []
        return result
    result.created = len(result.bet_ids)
    if settle and len(result.bet_ids) <= SETTLE_INLINE:
        result.settled = bets_settle(bet_ids=result.bet_ids).settled
    elif settle:  # a long history: the settlement task does it, queued now rather than at its next run
        result.settle_later = len(result.bet_ids)
        _queue_settlement(result)
    report(total * 2, total * 2, "done")
    result.seconds = time.perf_counter() - started
    return result


def settle_later_message(result: ImportResult) -> str:
    """What became of the new bets not settled inline ("" when there are none), for the command and
    the page alike."""
    if not result.settle_later:
        return ""
    if result.settled_by_task is not None:
        return (
            f"; the other {result.settle_later} went to the settlement task, which ran here (Celery eager)"
            f" and settled {result.settled_by_task} bets whose games are over"
        )
    rest = f"; the other {result.settle_later}"
    if result.settle_task_id:
        return f"{rest} are being settled by the settlement task queued now (task {result.settle_task_id})"
    if result.settle_queued:
        return f"{rest} go to the settlement task, queued when the import commits"
    return f"{rest} wait for the next settlement run (manage.py settle_bets): {result.settle_error}"


def _queue_settlement(result: ImportResult) -> None:
    """Queue the settlement task (``tasks.settle_bets``: every open bet whose game is over, with its
    CLV) for when the import's transaction commits (at once outside one). With Celery eager, the
    embedded stack's default (no ``REDIS_URL``: ``CELERY_TASK_ALWAYS_EAGER``), it runs then, here."""
    from betting.bets.tasks import settle_bets as settle_task

    def send() -> None:
        try:
            sent = settle_task.delay()
        except Exception as exc:  # the broker (or, eager, the run) failed: the scheduled run settles them
            logger.exception("the settlement of an import could not be queued")
            result.settle_queued, result.settle_error = False, f"{type(exc).__name__}: {exc}"
            return
        result.settle_task_id = sent.id or ""
        if settle_task.app.conf.task_always_eager and isinstance(sent.result, dict):
            result.settled_by_task = int(sent.result.get("settled", 0))

    result.settle_queued = True
    transaction.on_commit(send)


def _insert(bankroll: Bankroll, rows: list[dict[str, Column]]) -> list[int]:
    """Insert the bets of ``rows`` and their stakes in the ledger; their ids. Plain INSERTs (the
    ORM's bulk_create spends 20x longer preparing values than the database inserting them): every
    constraint of the tables still holds, the columns and defaults come from the models."""
    fields = [f for f in Bet._meta.concrete_fields if not f.primary_key]
    table, quote = Bet._meta.db_table, connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    defaults = {f.attname: f.get_default() for f in fields}
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 (names from the model)  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    dates = {f.attname for f in fields if isinstance(f, models.DateTimeField)}
    values = [
        [
            adapt(value)
            if f.attname in dates and isinstance(value := row.get(f.attname), dt.datetime)
            else row.get(f.attname, defaults[f.attname])
            for f in fields
        ]
        for row in rows
    ]
    runs = [row["decision_run"] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    ids = list(Bet.objects.filter(bankroll=bankroll, decision_run__in=runs).values_list("id", flat=True))
    entries, bets, stake = BankrollEntry._meta.db_table, Bet._meta.db_table, BankrollEntry.Kind.STAKE.value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(entries)} (bankroll_id, kind, amount, bet_id, created_at, note) "  # noqa: S608  # nosec B608
            f"SELECT bankroll_id, %s, -stake, id, placed_at, %s FROM {quote(bets)} b "
            "WHERE b.bankroll_id = %s AND b.id >= %s AND b.id <= %s AND b.source = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {quote(entries)} e WHERE e.bet_id = b.id AND e.kind = %s)",
            [stake, "imported", bankroll.pk, min(ids, default=0), max(ids, default=0), Bet.Source.IMPORT.value, stake],
        )
    return ids


def _match(
    p: _Parsed, leagues: dict[str, League], resolvers: dict[str, TeamResolver], games: dict[str, _Games]
) -> tuple[int, str]:
    """(game id, outcome) of a row, or ValueError saying what to correct."""
    if p.league not in leagues:
        raise ValueError(f"unknown league {p.league!r} (use its code, e.g. NBA)")
    resolver = resolvers[p.league]
    on = p.game_date or p.placed_at.date()
    try:
        home = resolver.resolve(p.home, source=SOURCE, on=on)
        away = resolver.resolve(p.away, source=SOURCE, on=on)
    except UnknownTeam as exc:
        raise ValueError(f"{exc} (add a team alias in the admin, or correct the name)") from None
    game_id = games[p.league].find(home, away, p.placed_at, p.game_date)
    if game_id is None and p.either_way:  # the file does not say which team was at home
        game_id = games[p.league].find(away, home, p.placed_at, p.game_date)
        home, away = away, home
    if game_id is None:
        if p.either_way:
            raise ValueError(
                f"no {p.league} game of {p.home} and {p.away} starting within {MATCH_DAYS} days of"
                f" {p.placed_at:%Y-%m-%d %H:%M} UTC"
            )
        if games[p.league].find(away, home, p.placed_at, p.game_date) is not None:
            raise ValueError(
                f"no game with {p.home} at home against {p.away}, but one the other way round: swap home and away"
            )
        when = (
            f"on {p.game_date}"
            if p.game_date
            else f"starting within {MATCH_DAYS} days of {p.placed_at:%Y-%m-%d %H:%M} UTC"
        )
        raise ValueError(f"no {p.league} game {p.away} at {p.home} {when}")
    side = SIDES.get(_header_key(p.side))
    if side is None:  # a team name
        try:
            team = resolver.resolve(p.side, source=SOURCE, on=on)
        except UnknownTeam:
            raise ValueError(f"side {p.side!r} is not home, away, over, under or one of the two teams") from None
        side = "home" if team == home else "away" if team == away else ""
        if not side:
            raise ValueError(f"side {p.side!r} plays in neither team of the game")
    if (p.market == "totals") != (side in ("over", "under")):
        raise ValueError(f"side {p.side!r} does not fit a {p.market} bet (totals: over or under; others: a team)")
    return game_id, side
