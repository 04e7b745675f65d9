"""The Odds API v4: ``/v4/sports/{sport}/odds`` responses, parsed into ``OddsRecord`` (pure: no DB, no network).

The response is a list of events, each ``{id, sport_key, commence_time, home_team, away_team,
bookmakers: [{key, title, last_update, markets: [{key, last_update, outcomes: [{name, price, point?}]}]}]}``.
An outcome's ``name`` is a team's name for ``h2h`` and ``spreads`` (or ``Draw``), ``Over``/``Under`` for
``totals``; it becomes the side ``home``, ``away``, ``draw``, ``over`` or ``under``. Prices are decimal
odds, or American odds (``-164``, ``138``) when the request said ``oddsFormat=american``; either way the
record holds decimal odds with four places. ``captured_at`` is the market's ``last_update``, else the
bookmaker's: the moment that price was true, which makes re-reading the same response write nothing new.

What fails the whole payload (``ParseError``, naming where, e.g. ``events[3] (id abc), bookmaker
fanduel, market spreads: outcomes should be a list``): anything that says the response is not what v4
documents, so nothing of it can be trusted:
- the body is not JSON, or not a list (an error object such as ``{"message": ...}`` is reported as such);
- an event that is not an object, or lacks a usable ``id``, ``sport_key``, ``commence_time``,
  ``home_team``/``away_team`` (two distinct names) or a ``bookmakers`` list;
- a bookmaker without a ``key`` or a ``markets`` list; a market without a ``key`` or an ``outcomes``
  list; an outcome that is not an object;
- a ``last_update``/``commence_time`` that is present but is not an ISO 8601 time with a zone;
- a negative price read as decimal odds: the response holds American odds, and reading it as decimal
  would turn ``+138`` into ``138.0``, so the caller's ``odds_format`` is wrong, not one quote.

What is skipped and counted in ``report.skipped`` (and located in ``report.notes``), never fatal:
- a market other than ``h2h``/``spreads``/``totals`` (``h2h_lay``, ``outrights``...): ``unknown market <key>``;
- a duplicate event id, a bookmaker listed twice for one event, a market listed twice for one bookmaker
  (the first is kept);
- a market with no ``last_update`` and a bookmaker with none either;
- a market with a bad quote. A market is all or nothing: an outcome with a missing, non-numeric or
  impossible price (decimal at or below 1, American between -100 and +100), a name that is neither team
  (nor ``Draw``; nor ``Over``/``Under`` for totals), a spread or total without its point, two outcomes
  for one side, or a missing side drops that bookmaker's whole market, counted as
  ``<market> market dropped: <reason>``. One side of a market alone is never returned, so the event's
  other markets and bookmakers stay whole and every gap is in the counters.

What is refused, counted in ``report.refused`` (located in ``report.refusals``): a value longer than the
column it would be written to (``live_records``: team names 100 characters, bookmaker keys 50, titles
100, sport keys 50, event ids 100) refuses its event or its bookmaker; the rest of the payload is kept.
A payload with more events than ``max_events`` or more distinct bookmakers than ``max_bookmakers`` is
refused whole (``PayloadTooLarge``) before any event is read.

Player props (``parse_props``) come from the per-event endpoint ``/v4/sports/{sport}/events/{id}/odds``:
one event object of the same shape, whose prop markets (``player_points``...) hold outcomes
``{name: "Over"|"Under", description: <player>, price, point}``. Each player's pair is all or nothing
(an Over and an Under, both with a point and a usable price; a player name longer than 100 characters
or two outcomes for one side drop that player's pair, counted); game markets there are skipped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from betting.games.providers.live_records import (
    BOOKMAKER_KEY_LENGTH,
    BOOKMAKER_TITLE_LENGTH,
    EVENT_ID_LENGTH,
    MARKETS,
    PLAYER_NAME_LENGTH,
    PROP_MARKETS,
    SPORT_KEY_LENGTH,
    TEAM_NAME_LENGTH,
    OddsRecord,
    ParseReport,
    a_key,
    an_object,
    count_within,
    load_json,
    short,
    type_name,
    utc_time,
)
from betting.games.providers.records import FOUR_PLACES, ParseError, american_to_decimal

SOURCE = "odds_api"
ODDS_FORMATS = ("decimal", "american")
# The sides a market must have, and may have.
REQUIRED_SIDES = {"h2h": {"home", "away"}, "spreads": {"home", "away"}, "totals": {"over", "under"}}
ALLOWED_SIDES = {"h2h": {"home", "away", "draw"}, "spreads": {"home", "away"}, "totals": {"over", "under"}}
# What OddsQuote's columns hold (price DECIMAL(10, 4), point DECIMAL(6, 2)); beyond that a value is garbage.
MAX_PRICE = Decimal("999999")
MAX_POINT = Decimal("9999")


@dataclass(frozen=True)
class _Event:
    where: str
    id: str
    sport_key: str
    home: str
    away: str
    start_time: dt.datetime


class _BadQuote(Exception):
    """One outcome that cannot be used: its market is dropped and counted."""


def parse(
    payload: list[object] | bytes | str,
    *,
    odds_format: str = "decimal",
    max_events: int | None = None,
    max_bookmakers: int | None = None,
    props: bool = False,
) -> ParseReport[OddsRecord]:
    """Every usable quote in one odds response; see the module docstring for what is skipped, refused
    or fatal. ``max_events``/``max_bookmakers`` (None: no bound) refuse a payload larger than a pull.
    ``props``: read the player-prop markets instead of the game ones."""
    return _parse_decoded(
        payload, odds_format=odds_format, max_events=max_events, max_bookmakers=max_bookmakers, props=props
    )


def _parse_decoded(
    payload: object, *, odds_format: str, max_events: int | None, max_bookmakers: int | None, props: bool
) -> ParseReport[OddsRecord]:
    """`parse`, over a response or its decoded JSON (what `parse_props` holds)."""
    markets = PROP_MARKETS if props else MARKETS
    if odds_format not in ODDS_FORMATS:
        raise ValueError(f"odds_format must be one of {ODDS_FORMATS}, got {odds_format!r}")
    data = load_json(payload, what="The Odds API response")
    if not isinstance(data, list):
        message = data.get("message") if isinstance(data, dict) else None
        hint = f" (the API said: {short(message, 200)})" if isinstance(message, str) else ""
        raise ParseError(f"expected a list of events, got {type_name(data)}{hint}")
    count_within(len(data), max_events, "events")
    if max_bookmakers is not None:
        count_within(len(_bookmaker_keys(data)), max_bookmakers, "distinct bookmakers")
    report: ParseReport[OddsRecord] = ParseReport()
    seen: set[str] = set()
    for index, raw in enumerate(data):
        event = _event(index, raw)
        if report.refused_too_long(
            "event",
            event.where,
            id=(event.id, EVENT_ID_LENGTH),
            sport_key=(event.sport_key, SPORT_KEY_LENGTH),
            home_team=(event.home, TEAM_NAME_LENGTH),
            away_team=(event.away, TEAM_NAME_LENGTH),
        ):
            continue
        if event.id in seen:
            report.skip("duplicate event id", event.where)
            continue
        seen.add(event.id)
        report.records.extend(_event_quotes(event, raw, odds_format, report, markets))
    return report


def parse_props(
    payload: dict[str, object] | list[object] | bytes | str,
    *,
    odds_format: str = "decimal",
    max_events: int | None = None,
    max_bookmakers: int | None = None,
) -> ParseReport[OddsRecord]:
    """Every usable player-prop quote of a per-event odds response (one event object, or a list of them)."""
    data = load_json(payload, what="The Odds API event odds response")
    if isinstance(data, dict) and "bookmakers" in data:
        data = [data]
    return _parse_decoded(
        data, odds_format=odds_format, max_events=max_events, max_bookmakers=max_bookmakers, props=True
    )


def _bookmaker_keys(events: list[object]) -> set[object]:
    """The distinct bookmaker keys of a response, read before its events are checked."""
    return {
        bookmaker.get("key")
        for event in events
        if isinstance(event, dict) and isinstance(event.get("bookmakers"), list)
        for bookmaker in event["bookmakers"]
        if isinstance(bookmaker, dict) and isinstance(bookmaker.get("key"), str)
    }


def quota(headers: Mapping[str, str]) -> dict[str, int | None]:
    """The request quota from a response's headers: ``remaining``, ``used`` and ``last`` (cost of this call).

    Header names are matched without regard to case; a missing or unreadable value is None.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}
    return {
        "remaining": _header_int(lowered.get("x-requests-remaining")),
        "used": _header_int(lowered.get("x-requests-used")),
        "last": _header_int(lowered.get("x-requests-last")),
    }


def _header_int(value: object) -> int | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return int(number) if number.is_finite() and number.adjusted() < 18 else None


def _event(index: int, raw: object) -> _Event:
    where = f"events[{index}]"
    raw = an_object(raw, "an event", where)
    event_id = a_key(raw, "id", "event without an id", where)
    where = f"events[{index}] (id {short(event_id)})"
    names = {}
    for key in ("sport_key", "home_team", "away_team"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ParseError(f"{key} should be a non-empty text, got {type_name(value)}", path=where)
        names[key] = value
    if names["home_team"] == names["away_team"]:
        raise ParseError("home_team and away_team are the same team", path=where, value=short(names["home_team"]))
    start_time = utc_time(raw.get("commence_time"), where=where, field_name="commence_time")
    if not isinstance(raw.get("bookmakers"), list):
        raise ParseError(f"bookmakers should be a list, got {type_name(raw.get('bookmakers'))}", path=where)
    return _Event(where, event_id, names["sport_key"], names["home_team"], names["away_team"], start_time)


def _event_quotes(
    event: _Event, raw: dict[str, object], odds_format: str, report: ParseReport[OddsRecord], markets: frozenset[str]
) -> list[OddsRecord]:
    quotes: list[OddsRecord] = []
    seen: set[str] = set()
    bookmakers = raw["bookmakers"]
    for index, bookmaker in enumerate(bookmakers if isinstance(bookmakers, list) else []):  # `_event` checked it
        where = f"{event.where}, bookmakers[{index}]"
        bookmaker = an_object(bookmaker, "a bookmaker", where)
        key = a_key(bookmaker, "key", "bookmaker without a key", where)
        where = f"{event.where}, bookmaker {short(key)}"
        if key in seen:
            report.skip("bookmaker listed twice for one event", where)
            continue
        seen.add(key)
        title = bookmaker.get("title")
        if report.refused_too_long(
            "bookmaker",
            where,
            key=(key, BOOKMAKER_KEY_LENGTH),
            title=(title if isinstance(title, str) else "", BOOKMAKER_TITLE_LENGTH),
        ):
            continue
        quotes.extend(_bookmaker_quotes(event, bookmaker, key, where, odds_format, report, markets))
    return quotes


def _bookmaker_quotes(
    event: _Event,
    bookmaker: dict[str, object],
    key: str,
    where: str,
    odds_format: str,
    report: ParseReport[OddsRecord],
    allowed: frozenset[str] = MARKETS,
) -> list[OddsRecord]:
    title = bookmaker.get("title")
    title = title if isinstance(title, str) and title else key
    fallback_time = bookmaker.get("last_update")
    if fallback_time is not None:
        fallback_time = utc_time(fallback_time, where=where, field_name="last_update")
    markets = bookmaker.get("markets")
    if not isinstance(markets, list):
        raise ParseError(f"markets should be a list, got {type_name(markets)}", path=where)
    quotes: list[OddsRecord] = []
    seen: set[str] = set()
    for index, market in enumerate(markets):
        market_where = f"{where}, markets[{index}]"
        market = an_object(market, "a market", market_where)
        market_key = a_key(market, "key", "market without a key", market_where)
        market_where = f"{where}, market {market_key}"
        if market_key not in allowed:  # not ours to judge: skipped before its shape is checked
            report.skip(f"unknown market {short(market_key, 40)}", market_where)
            continue
        outcomes = market.get("outcomes")
        if not isinstance(outcomes, list):
            raise ParseError(f"outcomes should be a list, got {type_name(outcomes)}", path=market_where)
        if market_key in seen:
            report.skip(f"{market_key} market listed twice for one bookmaker", market_where)
            continue
        seen.add(market_key)
        captured_at = fallback_time
        if market.get("last_update") is not None:
            captured_at = utc_time(market["last_update"], where=market_where, field_name="last_update")
        if captured_at is None:
            report.skip(f"{market_key} market dropped: no last_update", market_where)
            continue
        if market_key in PROP_MARKETS:
            players = _prop_sides(market_key, outcomes, odds_format, market_where, report)
            quotes.extend(
                _record(event, key, title, market_key, side, price, point, captured_at, player)
                for player, sides_of in players.items()
                for side, (price, point) in sides_of.items()
            )
            continue
        try:
            sides = _market_sides(event, market_key, outcomes, odds_format, market_where)
        except _BadQuote as exc:
            report.skip(f"{market_key} market dropped: {exc.args[0]}", f"{market_where}: {exc.args[1]}")
            continue
        quotes.extend(
            _record(event, key, title, market_key, side, price, point, captured_at)
            for side, (price, point) in sides.items()
        )
    return quotes


def _record(
    event: _Event,
    key: str,
    title: str,
    market: str,
    side: str,
    price: Decimal,
    point: Decimal | None,
    captured_at: dt.datetime,
    player: str = "",
) -> OddsRecord:
    return OddsRecord(
        source=SOURCE,
        sport_key=event.sport_key,
        event_external_id=event.id,
        home=event.home,
        away=event.away,
        start_time=event.start_time,
        bookmaker_key=key,
        bookmaker_title=title,
        market=market,
        outcome=side,
        price=price,
        point=point,
        captured_at=captured_at,
        player=player,
    )


def _prop_sides(
    market: str, outcomes: list[object], odds_format: str, where: str, report: ParseReport[OddsRecord]
) -> dict[str, dict[str, tuple[Decimal, Decimal | None]]]:
    """player -> side -> (decimal price, point) for one prop market; a player's bad pair is dropped and counted."""
    players: dict[str, dict[str, tuple[Decimal, Decimal | None]]] = {}
    bad: set[str] = set()
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict):
            raise ParseError(
                f"an outcome should be an object, got {type_name(outcome)}", path=f"{where}, outcomes[{index}]"
            )
        name, player = outcome.get("name"), outcome.get("description")
        if not isinstance(player, str) or not player.strip():
            report.skip(f"{market} outcome dropped: no player description", f"{where}, outcomes[{index}]")
            continue
        player = player.strip()
        try:
            if len(player) > PLAYER_NAME_LENGTH:
                raise _BadQuote("player name too long", f"player {short(player)!r}")
            side = name.strip().lower() if isinstance(name, str) else None
            if side not in ("over", "under"):
                raise _BadQuote("outcome is neither Over nor Under", f"outcome {short(name)!r}")
            if side in players.get(player, {}):
                raise _BadQuote("two outcomes for one side", f"player {short(player)!r}")
            price = _price(outcome.get("price"), odds_format, name, where)
            point = _number(outcome.get("point"))
            if point is None or abs(point) > MAX_POINT:
                raise _BadQuote("outcome without a usable point", f"player {short(player)!r}")
        except _BadQuote as exc:
            if player not in bad:
                report.skip(f"{market} player dropped: {exc.args[0]}", f"{where}: {exc.args[1]}")
            bad.add(player)
            continue
        players.setdefault(player, {})[side] = (price, point)
    for player, sides in list(players.items()):
        if player in bad or set(sides) != {"over", "under"}:
            if player not in bad:
                report.skip(f"{market} player dropped: a side is missing", f"{where}: player {short(player)!r}")
            del players[player]
    return players


def _market_sides(
    event: _Event, market: str, outcomes: list[object], odds_format: str, where: str
) -> dict[str, tuple[Decimal, Decimal | None]]:
    """side -> (decimal price, point) for one whole market, or _BadQuote(reason, detail)."""
    sides: dict[str, tuple[Decimal, Decimal | None]] = {}
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict):
            raise ParseError(
                f"an outcome should be an object, got {type_name(outcome)}", path=f"{where}, outcomes[{index}]"
            )
        name = outcome.get("name")
        side = _side(event, market, name)
        if side is None:
            raise _BadQuote(
                "outcome names neither team" if market != "totals" else "outcome is neither Over nor Under",
                f"outcome {short(name)!r}" if isinstance(name, str) else f"outcome name {type_name(name)}",
            )
        if side in sides:
            raise _BadQuote("two outcomes for one side", f"outcome {short(name)!r}")
        price = _price(outcome.get("price"), odds_format, name, where)
        point = None
        if market != "h2h":
            point = _number(outcome.get("point"))
            if point is None or abs(point) > MAX_POINT:
                raise _BadQuote("outcome without a usable point", f"outcome {short(name)!r}")
        sides[side] = (price, point)
    missing = REQUIRED_SIDES[market] - set(sides)
    if missing:
        raise _BadQuote("a side is missing", f"no {' or '.join(sorted(missing))} outcome")
    return sides


def _side(event: _Event, market: str, name: object) -> str | None:
    if not isinstance(name, str):
        return None
    if market == "totals":
        side = name.strip().lower()
    elif name == event.home:
        side = "home"
    elif name == event.away:
        side = "away"
    else:
        side = name.strip().lower()
    return side if side in ALLOWED_SIDES[market] else None


def _price(value: object, odds_format: str, name: object, where: str) -> Decimal:
    number = _number(value)
    detail = f"outcome {short(name)!r}, price {short(value)}"
    if number is None:
        raise _BadQuote("outcome without a usable price", detail)
    if abs(number) >= MAX_PRICE:
        raise _BadQuote("price too large to be real", detail)
    if odds_format == "american":
        if number != number.to_integral_value() or abs(number) < 100:
            raise _BadQuote("American price between -100 and +100, or not whole", detail)
        return american_to_decimal(number)
    if number < 0:  # never a decimal price, always an American one: the whole response is misread
        raise ParseError(
            "negative price in a response read as decimal odds: were American odds requested? "
            "(parse with odds_format='american')",
            path=f"{where}, outcome {short(name)!r}",
            value=short(value),
        )
    if number <= 1:
        raise _BadQuote("decimal price not above 1", detail)
    return number.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _number(value: object) -> Decimal | None:
    """A JSON number as a Decimal (``1.89`` stays ``1.89``, not its binary neighbour); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Decimal(str(value))


def parse_historical(
    payload: dict[str, object] | bytes | str,
    *,
    odds_format: str = "decimal",
    max_events: int | None = None,
    max_bookmakers: int | None = None,
) -> tuple[dt.datetime, ParseReport[OddsRecord]]:
    """A historical snapshot (``/v4/historical/sports/{sport}/odds?date=...``): the documented envelope
    ``{timestamp, previous_timestamp, next_timestamp, data: [events as /odds returns them]}``.

    Returns the snapshot's ``timestamp`` (the moment the prices were true: the provider's snapshot at or
    before the date asked for) and the events parsed as ``parse`` does, every quote's ``captured_at`` set
    to that timestamp (a bookmaker's ``last_update`` may be hours older and would date a closing line as
    the opening one). Fatal besides ``parse``'s reasons: not an object, no usable ``timestamp``, no
    ``data`` list."""
    data = load_json(payload, what="The Odds API historical response")
    if not isinstance(data, dict):
        raise ParseError(f"expected a historical snapshot object, got {type_name(data)}")
    if "data" not in data and isinstance(data.get("message"), str):
        raise ParseError(f"expected a historical snapshot (the API said: {short(data['message'], 200)})")
    timestamp = utc_time(data.get("timestamp"), where="timestamp", field_name="timestamp")
    events = data.get("data")
    if not isinstance(events, list):
        raise ParseError(f"no data list (got {type_name(events)})", path="data")
    report = parse(events, odds_format=odds_format, max_events=max_events, max_bookmakers=max_bookmakers)
    report.records = [replace(record, captured_at=timestamp) for record in report.records]
    return timestamp, report
