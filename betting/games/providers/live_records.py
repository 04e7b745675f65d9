"""Plain records the live providers (The Odds API, ESPN) produce and the services consume. No Django here.

Each record carries its natural key so a write can be an idempotent upsert:
- ``EventRecord``: ``(source, external_id)``; and ``(sport_key, local date, home, away)`` to match a
  game another source created.
- ``OddsRecord``: ``(event, bookmaker_key, market, outcome, captured_at)``, the ``OddsQuote`` key.
- ``InjuryRecord``: ``(team, player_name, source, reported_at)``, the ``Injury`` key.

Times are timezone-aware UTC, prices ``Decimal`` decimal odds with four places.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

from betting.games.providers.records import ParseError, PayloadTooLarge

# Values shared with ``games.models`` (Game.Status, Game.SeasonType, OddsQuote.Market/Outcome,
# Injury.Status); spelled out here because providers import no Django.
SCHEDULED = "scheduled"
IN_PROGRESS = "in_progress"
FINAL = "final"
POSTPONED = "postponed"
CANCELLED = "cancelled"
EVENT_STATUSES = frozenset({SCHEDULED, IN_PROGRESS, FINAL, POSTPONED, CANCELLED})

SEASON_TYPES = frozenset({"pre", "regular", "post", ""})
MARKETS = frozenset({"h2h", "spreads", "totals"})
# Player props (over/under on one player's line), read from The Odds API's per-event endpoint.
PROP_MARKETS = frozenset(
    {
        "player_points",
        "player_rebounds",
        "player_assists",
        "player_threes",
        "player_blocks",
        "player_steals",
        "player_points_rebounds_assists",
    }
)
PLAYER_NAME_LENGTH = 100
OUTCOMES = frozenset({"home", "away", "draw", "over", "under"})
INJURY_STATUSES = frozenset({"out", "doubtful", "questionable", "probable", "day_to_day", "other"})

# The longest value the columns a record is written to hold (games.models; spelled out for the same
# reason, and tests/games/test_payload_limits.py checks them against the models). A longer value is
# no real name: the parsers refuse its event, bookmaker or row (``ParseReport.refuse``), so the rest
# of the pull is written and the database never sees it.
TEAM_NAME_LENGTH = 100  # TeamAlias.name, UnresolvedName.name: what a provider's team name is matched as
SPORT_KEY_LENGTH = 50  # League.sport_key
BOOKMAKER_KEY_LENGTH = 50  # Bookmaker.key
BOOKMAKER_TITLE_LENGTH = 100  # Bookmaker.title
PITCHER_LENGTH = 60  # Game.home_pitcher, Game.away_pitcher
PLAYER_NAME_LENGTH = 100  # Injury.player_name
PLAYER_ID_LENGTH = 50  # Injury.player_external_id
# An event's id goes into Game.details (JSON, no column): bounded all the same, far above any real
# one (The Odds API's are 32 characters, ESPN's 9 digits).
EVENT_ID_LENGTH = 100


@dataclass(frozen=True)
class EventRecord:
    source: str  # espn
    external_id: str  # the source's event id
    sport_key: str  # The Odds API sport key: basketball_nba, baseball_mlb
    start_time: dt.datetime  # aware, UTC
    home: str  # team as the source writes it (ESPN: its abbreviation, e.g. BOS)
    away: str
    status: str  # one of EVENT_STATUSES
    home_score: int | None  # None until the game starts
    away_score: int | None
    period_scores: dict[str, list[int | None]] = field(default_factory=dict)  # {"home": [..], "away": [..]}
    season: int | None = None  # year the season starts (2025 for 2025-26)
    season_type: str = ""  # pre | regular | post | "" (unknown)
    neutral: bool | None = None  # None: the source does not say
    start_time_exact: bool = True  # False when the source says the time is not set yet
    home_name: str = ""  # the source's long name (Boston Celtics), for people reading the admin
    away_name: str = ""
    status_detail: str = ""  # the source's own words (8:41 - 4th Quarter, Final/OT)
    home_pitcher: str = ""  # MLB probable starter as the source writes it (Clayton Kershaw); "" unknown
    away_pitcher: str = ""


@dataclass(frozen=True)
class OddsRecord:
    source: str  # odds_api
    sport_key: str
    event_external_id: str
    home: str  # team as the source writes it (The Odds API: full name, e.g. Charlotte Hornets)
    away: str
    start_time: dt.datetime  # aware, UTC
    bookmaker_key: str
    bookmaker_title: str
    market: str  # one of MARKETS
    outcome: str  # one of OUTCOMES
    price: Decimal  # decimal odds, four places, above 1
    point: Decimal | None  # the spread for this side, or the total; None for h2h
    captured_at: dt.datetime  # the market's last_update, else the bookmaker's; aware, UTC
    player: str = ""  # a prop market's player, as the source writes it; "" for game markets


@dataclass(frozen=True)
class InjuryRecord:
    source: str  # espn
    team: str  # team as the source writes it (Atlanta Hawks)
    team_abbreviation: str  # the source's abbreviation (ATL), "" when not given
    player_name: str
    player_external_id: str  # "" when not given
    position: str  # G, F, C, SG... "" when not given
    status: str  # one of INJURY_STATUSES
    status_raw: str  # exactly as the source wrote it (Day-To-Day)
    detail: str  # what and where, as far as the source says ("" when it does not)
    reported_at: dt.datetime  # when the source dated this status; aware, UTC


R = TypeVar("R")


@dataclass
class ParseReport(Generic[R]):
    """What a parse produced, and what it left out and why.

    ``skipped`` counts by reason (``{"unknown market h2h_lay": 3}``): easy to log, to store in a
    JobRun and to assert on. ``notes`` says where each of them was, for a person chasing one.
    """

    records: list[R] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Parts left out because they hold what no real payload does (a name longer than its column):
    # counted like ``skipped``, located in ``refusals``; a pull with any is recorded as partial.
    refused: dict[str, int] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)

    def skip(self, reason: str, where: str = "") -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.notes.append(f"{where}: {reason}" if where else reason)

    def refuse(self, reason: str, where: str = "") -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        self.refusals.append(f"{where}: {reason}" if where else reason)

    def refused_too_long(self, what: str, where: str, **fields: tuple[str, int]) -> bool:
        """Whether ``what`` is refused for a value of ``name=(value, limit)`` longer than its column
        (counted as ``event refused: home_team longer than 100 characters``)."""
        refusal = too_long(**fields)
        if refusal:
            self.refuse(f"{what} refused: {refusal}", where)
        return refusal is not None


def too_long(**fields: tuple[str, int]) -> str | None:
    """The first of ``name=(value, limit)`` whose value is longer than its limit, said as
    ``home_team longer than 100 characters``; None when all fit."""
    for name, (value, limit) in fields.items():
        if len(value) > limit:
            return f"{name} longer than {limit} characters"
    return None


def refuse_injury(record: InjuryRecord, report: ParseReport[InjuryRecord]) -> bool:
    """Whether an injury row is refused for a value longer than its column (counted in ``report``)."""
    return report.refused_too_long(
        "injury",
        f"{short(record.team)}, {short(record.player_name)}",
        player_name=(record.player_name, PLAYER_NAME_LENGTH),
        player_id=(record.player_external_id, PLAYER_ID_LENGTH),
        team=(record.team, TEAM_NAME_LENGTH),
        team_abbreviation=(record.team_abbreviation, TEAM_NAME_LENGTH),
    )


def count_within(count: int, limit: int | None, what: str) -> None:
    """Refuse a whole payload holding more ``what`` than a pull may (``PayloadTooLarge``)."""
    if limit is not None and count > limit:
        raise PayloadTooLarge(f"the payload holds {count} {what}, more than the {limit} a pull may hold")


# Helpers the live parsers share: JSON in, aware UTC times out, every failure a ParseError.


def load_json(payload: object, *, what: str) -> object:
    """The decoded payload: ``bytes``/``str`` are decoded as JSON, anything else is taken as decoded."""
    if isinstance(payload, bytes | bytearray):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{what} is not UTF-8 text", value=str(exc)) from exc
    if isinstance(payload, str):
        try:
            data = json.loads(payload)
            # No real payload holds NUL characters (an escaped \u0000), and PostgreSQL text cannot
            # store them: they are dropped rather than crash the write (found by tests/faults fuzzing).
            return _without_nul(data) if "\\u0000" in payload else data
        except ValueError as exc:  # json.JSONDecodeError, and recursion limits on absurd nesting
            raise ParseError(f"{what} is not JSON", value=str(exc)) from exc
        except RecursionError as exc:
            raise ParseError(f"{what} is nested too deeply to read") from exc
    return payload


def _without_nul(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def utc_time(value: object, *, where: str, field_name: str, assume_utc: bool = False) -> dt.datetime:
    """An ISO 8601 timestamp (``2023-12-12T00:10:00Z``, ``2026-05-02T23:30Z``) as an aware UTC datetime.

    A timestamp without a zone is refused unless ``assume_utc`` says the source writes UTC without saying so.
    """
    if not isinstance(value, str) or not value:
        raise ParseError(f"{field_name} should be an ISO 8601 timestamp, got {type_name(value)}", path=where)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ParseError(f"{field_name} is not an ISO 8601 timestamp", path=where, value=short(value)) from exc
    if moment.tzinfo is None:
        if not assume_utc:
            raise ParseError(f"{field_name} has no time zone", path=where, value=short(value))
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ParseError(f"{field_name} is out of range", path=where, value=short(value)) from exc


def type_name(value: object) -> str:
    """How a JSON value reads in a message: ``a list``, ``null``, ``the number 3``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def an_object(raw: object, what: str, where: str) -> dict[str, object]:
    """``raw`` when it is a JSON object, else ``ParseError("<what> should be an object, got <type>")``."""
    if not isinstance(raw, dict):
        raise ParseError(f"{what} should be an object, got {type_name(raw)}", path=where)
    return raw


def a_key(raw: Mapping[str, object], key: str, missing: str, where: str) -> str:
    """The non-empty text under ``key``, else ``ParseError("<missing> (got <type>)")``: ``missing``
    says what lacks what (``event without an id``)."""
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ParseError(f"{missing} (got {type_name(value)})", path=where)
    return value


def short(text: object, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
