"""ESPN's ``site.api`` JSON: scoreboards into ``EventRecord``, injuries into ``InjuryRecord`` (pure: no DB, no network).

Scoreboards (``/apis/site/v2/sports/{sport}/{league}/scoreboard``, NBA and MLB alike): ``events[]``, each
with ``competitions[0]`` holding two ``competitors`` (``homeAway``, ``team.abbreviation``/``displayName``,
``score`` as text, ``linescores[].value``), ``status.type`` (``name`` such as ``STATUS_FINAL``, ``state``
``pre``/``in``/``post``, ``completed``), ``neutralSite``, ``timeValid``; and ``season {year, type}`` with
type 1 preseason, 2 regular season, 3 postseason. Facts taken from the real payloads:
- ESPN's ``season.year`` is the year a season *ends* for leagues spanning New Year (2026 for the NBA's
  2025-26) and the year itself for MLB. The record's ``season`` is the year the season starts, as in
  ``Game.season``: the offset comes from the payload's own ``leagues[0].season`` (``year`` against the year
  of ``startDate``); with no such block the season is left None and counted.
- A game not started yet carries ``score: "0"``: scores and linescores are read only once a game is in
  progress or final, and are None/empty before (and for postponed or cancelled games).
- An MLB home team that did not bat in the 9th has one linescore fewer; the shorter list is padded with
  None (not played), as the archives' ``x`` is.
- MLB ``competitors[].probables[]``: the item named ``probableStartingPitcher`` gives the probable starter
  (``athlete.displayName``, e.g. ``Clayton Kershaw``) as the record's ``home_pitcher``/``away_pitcher``; ESPN
  keeps it on finished games too. Absent: ""; present but unreadable: "" and counted.
- The record's ``home``/``away`` are ESPN's abbreviations (``BOS``, ``NY``, ``GS``), ``home_name``/``away_name``
  its display names. Preseason boards include guests from outside the league (``MEL``, Melbourne United).
- Statuses: ``STATUS_SCHEDULED`` scheduled; ``STATUS_IN_PROGRESS``, ``_HALFTIME``, ``_END_PERIOD`` in
  progress; ``STATUS_FINAL`` final; ``STATUS_POSTPONED`` and ``_SUSPENDED`` (to be resumed another day)
  postponed; ``STATUS_CANCELED`` cancelled; ``STATUS_DELAYED``/``_RAIN_DELAY`` follow their ``state``.

Fatal (``ParseError`` naming where, e.g. ``events[3] (id 401869412), competitors[1]: ...``): no ``events``
list; an event without an id, a competition, a start time, a status, or two competitors marked one
``home`` and one ``away`` with a team abbreviation; a score or linescore that is not a whole number in a
game that has started; a time that is not ISO 8601 with a zone; a payload whose league is not the one asked
for. Skipped and counted: a duplicate event id; an unknown status name (read from its ``state``: pre ->
scheduled, in -> in progress, post -> final when ``completed``, else postponed); an unknown season type
(recorded as ""); an unknown season start year. Refused (``report.refused``, see ``live_records``): an
event whose id or team abbreviation is longer than its column allows; a probable pitcher's name longer
than ``Game.home_pitcher`` holds is refused alone (recorded as unknown). More events than ``max_events``
refuse the whole scoreboard (``PayloadTooLarge``).

Injuries: the flattened file (a list of rows with ``player_name``, ``team_name``, ``team_abbreviation``,
``injury_status``, ``injury_date``, ``last_updated``...) and the ``injuries`` block of a game summary
(``[{team, injuries: [{athlete, status, date, type, details}]}]``). Statuses become out, doubtful,
questionable, probable, day_to_day or other, the source's text kept in ``status_raw``: injured lists and
suspensions are ``out``, a game-time decision ``questionable``; anything else is ``other`` and counted.
``reported_at`` is the date ESPN gives the status (``injury_date``/``date``), so pulling the same report
twice gives the same records; the flattened file's ``last_updated`` (when it was scraped, written without a
zone, taken as UTC) stands in only when that is missing. Fatal: a row or item that is not an object, or
has no player name or no team. Skipped and counted: no status, no date, the same player twice at one time.
Refused: a row whose player name, player id or team is longer than its column (``refuse_injury``); more
rows than ``max_rows`` refuse the whole file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import NamedTuple, TypeGuard

from betting.games.providers.live_records import (
    CANCELLED,
    EVENT_ID_LENGTH,
    FINAL,
    IN_PROGRESS,
    PITCHER_LENGTH,
    POSTPONED,
    SCHEDULED,
    TEAM_NAME_LENGTH,
    EventRecord,
    InjuryRecord,
    ParseReport,
    an_object,
    count_within,
    load_json,
    refuse_injury,
    short,
    type_name,
    utc_time,
)
from betting.games.providers.records import ParseError

SOURCE = "espn"
# ESPN's league slug -> The Odds API sport key, the key leagues are known by here.
SPORT_KEYS = {
    "nba": "basketball_nba",
    "wnba": "basketball_wnba",
    "mlb": "baseball_mlb",
    "nfl": "americanfootball_nfl",
    "nhl": "icehockey_nhl",
}
SEASON_TYPES = {1: "pre", 2: "regular", 3: "post"}
STATUS_NAMES = {
    "STATUS_SCHEDULED": SCHEDULED,
    "STATUS_IN_PROGRESS": IN_PROGRESS,
    "STATUS_HALFTIME": IN_PROGRESS,
    "STATUS_END_PERIOD": IN_PROGRESS,
    "STATUS_FINAL": FINAL,
    "STATUS_FINAL_OT": FINAL,
    "STATUS_POSTPONED": POSTPONED,
    "STATUS_SUSPENDED": POSTPONED,
    "STATUS_CANCELED": CANCELLED,
    "STATUS_CANCELLED": CANCELLED,
}
# Names that say nothing about whether the game started (a delay can come before or during it).
STATE_DECIDES = {"STATUS_DELAYED", "STATUS_RAIN_DELAY"}
PLAYED = {IN_PROGRESS, FINAL}

INJURY_WORDS = {
    "out": "out",
    "out for season": "out",
    "injured reserve": "out",
    "ir": "out",
    "il": "out",
    "injured list": "out",
    "suspension": "out",
    "suspended": "out",
    "doubtful": "doubtful",
    "questionable": "questionable",
    "game time decision": "questionable",
    "gtd": "questionable",
    "probable": "probable",
    "day to day": "day_to_day",
    "daytoday": "day_to_day",
    "dtd": "day_to_day",
}
INJURED_LIST = re.compile(r"^\d+ day il$")  # MLB: 10-Day IL, 60-Day-IL
DETAIL_LENGTH = 300  # Injury.detail's column
MAX_SCORE = 9999  # no game scores more; a bigger number is garbage (and would not fit Game's columns)
SEASON_YEARS = range(1870, 2200)


# Scoreboards ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _League:
    sport_key: str
    season_offset: int | None  # ESPN's season year minus the year the season starts
    season: object  # the scoreboard's own season {year, type}, for events that do not say theirs


def parse_scoreboard(
    payload: dict[str, object] | bytes | str, *, sport_key: str | None = None, max_events: int | None = None
) -> ParseReport[EventRecord]:
    """Every event of one scoreboard. ``sport_key`` (basketball_nba) checks the payload is that league's;
    without it the league is read from the payload. ``max_events`` (None: no bound) refuses a larger one."""
    data = load_json(payload, what="ESPN scoreboard")
    if not isinstance(data, dict):
        raise ParseError(f"expected a scoreboard object, got {type_name(data)}")
    events = data.get("events")
    if not isinstance(events, list):
        raise ParseError(f"no events list (got {type_name(events)})", path="events")
    count_within(len(events), max_events, "events")
    report: ParseReport[EventRecord] = ParseReport()
    league = _league(data, sport_key)
    seen: set[str] = set()
    for index, raw in enumerate(events):
        record = _event(index, raw, league, report)
        if record is None:
            continue
        if record.external_id in seen:
            report.skip("duplicate event id", f"events[{index}] (id {record.external_id})")
            continue
        seen.add(record.external_id)
        report.records.append(record)
    return report


def _league(data: dict[str, object], sport_key: str | None) -> _League:
    leagues = data.get("leagues")
    block = leagues[0] if isinstance(leagues, list) and leagues and isinstance(leagues[0], dict) else {}
    slug = block.get("slug")
    found = SPORT_KEYS.get(slug.lower()) if isinstance(slug, str) else None
    if sport_key is not None and found is not None and found != sport_key:
        raise ParseError(f"this is the {slug} scoreboard, not {sport_key}'s", path="leagues[0].slug", value=slug)
    key = sport_key or found
    if key is None:
        raise ParseError(
            "cannot tell which league this scoreboard is (no known leagues[0].slug): pass sport_key",
            path="leagues[0].slug",
            value=short(slug) if slug is not None else None,
        )
    season = block.get("season")
    offset = None
    if isinstance(season, dict) and _is_int(season.get("year")) and season.get("startDate") is not None:
        start = utc_time(season["startDate"], where="leagues[0].season", field_name="startDate")
        if season["year"] - start.year in (0, 1):
            offset = season["year"] - start.year
    return _League(key, offset, data.get("season"))


def _event(index: int, raw: object, league: _League, report: ParseReport[EventRecord]) -> EventRecord | None:
    """One event, or None when it is refused (counted in the report)."""
    where = f"events[{index}]"
    raw = an_object(raw, "an event", where)
    event_id = raw.get("id")
    if not (isinstance(event_id, str) and event_id) and not _is_int(event_id):
        raise ParseError(f"event without an id (got {type_name(event_id)})", path=where)
    event_id = str(event_id)
    where = f"events[{index}] (id {short(event_id)})"
    competitions = raw.get("competitions")
    if not isinstance(competitions, list) or not competitions or not isinstance(competitions[0], dict):
        raise ParseError("no competitions[0] object", path=where)
    game: dict[str, object] = competitions[0]
    start_time = utc_time(game.get("date") or raw.get("date"), where=where, field_name="date")
    status, detail = _status(game.get("status") or raw.get("status"), where, report)
    sides = _competitors(game.get("competitors"), where)
    if report.refused_too_long(
        "event",
        where,
        id=(event_id, EVENT_ID_LENGTH),
        home_team=(sides["home"].abbreviation, TEAM_NAME_LENGTH),
        away_team=(sides["away"].abbreviation, TEAM_NAME_LENGTH),
    ):
        return None
    scores: dict[str, int | None] = {"home": None, "away": None}
    periods: dict[str, list[int | None]] = {}
    if status in PLAYED:
        for side, competitor in sides.items():
            side_where = f"{where}, {side} competitor"
            scores[side] = _whole(competitor.raw.get("score"), side_where, "score")
            periods[side] = _linescores(competitor.raw.get("linescores"), side_where)
        _pad(periods)
    season, season_type = _season(raw.get("season") or league.season, league, where, report)
    neutral = game.get("neutralSite")
    return EventRecord(
        source=SOURCE,
        external_id=event_id,
        sport_key=league.sport_key,
        start_time=start_time,
        home=sides["home"].abbreviation,
        away=sides["away"].abbreviation,
        status=status,
        home_score=scores["home"],
        away_score=scores["away"],
        period_scores=periods,
        season=season,
        season_type=season_type,
        neutral=neutral if isinstance(neutral, bool) else None,
        start_time_exact=game.get("timeValid") is not False,
        home_name=_text(sides["home"].team.get("displayName")),
        away_name=_text(sides["away"].team.get("displayName")),
        status_detail=detail,
        home_pitcher=_probable(sides["home"].raw, f"{where}, home competitor", report),
        away_pitcher=_probable(sides["away"].raw, f"{where}, away competitor", report),
    )


def _status(raw: object, where: str, report: ParseReport[EventRecord]) -> tuple[str, str]:
    """(status, ESPN's own words for it)."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(kind, dict):
        raise ParseError("no status.type object", path=where)
    name, state, detail = kind.get("name"), kind.get("state"), _text(kind.get("detail"))
    if isinstance(name, str) and name in STATUS_NAMES:
        return STATUS_NAMES[name], detail
    if state == "pre":
        status = SCHEDULED
    elif state == "in":
        status = IN_PROGRESS
    elif state == "post":
        status = FINAL if kind.get("completed") is True else POSTPONED
    else:
        raise ParseError(
            "status has neither a known name nor a state (pre, in, post)",
            path=f"{where}, status.type",
            value=short(name) if name is not None else None,
        )
    if not (isinstance(name, str) and name in STATE_DECIDES):
        report.skip(f"unknown status {short(name, 40)} (read from its state as {status})", where)
    return status, detail


class _Competitor(NamedTuple):
    raw: dict[str, object]  # the competitor object
    team: dict[str, object]  # its team object
    abbreviation: str  # the team's, never empty


def _competitors(raw: object, where: str) -> dict[str, _Competitor]:
    """{"home": competitor, "away": competitor}, each with a team abbreviation."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise ParseError("competitors should be a list of two", path=where)
    sides: dict[str, _Competitor] = {}
    for index, competitor in enumerate(raw):
        place = f"{where}, competitors[{index}]"
        competitor = an_object(competitor, "a competitor", place)
        side = competitor.get("homeAway")
        if not isinstance(side, str) or side not in ("home", "away"):
            raise ParseError("homeAway should be home or away", path=place, value=short(side))
        if side in sides:
            raise ParseError(f"two {side} competitors", path=place)
        team = competitor.get("team")
        abbreviation = team.get("abbreviation") if isinstance(team, dict) else None
        if not isinstance(team, dict) or not isinstance(abbreviation, str) or not abbreviation:
            raise ParseError("competitor without a team abbreviation", path=place)
        sides[side] = _Competitor(competitor, team, abbreviation)
    return sides


def _probable(competitor: dict[str, object], where: str, report: ParseReport[EventRecord]) -> str:
    """The probable starting pitcher's display name (MLB), "" when not given; unreadable ones counted."""
    probables = competitor.get("probables")
    if probables is None:
        return ""
    if isinstance(probables, list):
        for item in probables:
            if isinstance(item, dict) and item.get("name") == "probableStartingPitcher":
                athlete = item.get("athlete")
                name = _text(athlete.get("displayName") or athlete.get("fullName")) if isinstance(athlete, dict) else ""
                if len(name) > PITCHER_LENGTH:
                    report.refuse(f"probable pitcher refused: longer than {PITCHER_LENGTH} characters", where)
                    return ""
                if name:
                    return name
    report.skip("probable pitcher unreadable (recorded as unknown)", where)
    return ""


def _linescores(raw: object, where: str) -> list[int | None]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ParseError(f"linescores should be a list, got {type_name(raw)}", path=where)
    points: list[int | None] = []
    for index, line in enumerate(raw):
        value = line.get("value") if isinstance(line, dict) else line
        points.append(_whole(value, where, f"linescores[{index}]"))
    return points


def _pad(periods: dict[str, list[int | None]]) -> None:
    """Both sides get as many periods as the longer one; the missing ones were not played."""
    longest = max((len(points) for points in periods.values()), default=0)
    for points in periods.values():
        points.extend([None] * (longest - len(points)))


def _season(raw: object, league: _League, where: str, report: ParseReport[EventRecord]) -> tuple[int | None, str]:
    if not isinstance(raw, dict):
        report.skip("event without a season", where)
        return None, ""
    kind = raw.get("type")
    season_type = SEASON_TYPES.get(kind, "") if _is_int(kind) else ""
    if not season_type:
        report.skip(f"unknown season type {short(kind)} (recorded as unknown)", where)
    year = raw.get("year")
    if not _is_int(year) or league.season_offset is None:
        report.skip("season start year unknown", where)
        return None, season_type
    if year not in SEASON_YEARS:
        raise ParseError("season.year is not a plausible year", path=where, value=year)
    return year - league.season_offset, season_type


def _whole(value: object, where: str, field_name: str) -> int:
    """A score: ESPN writes ``"87"``, a linescore ``19.0``; anything but a whole number >= 0 fails."""
    number: int | None = None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    elif _is_int(value):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None or not 0 <= number <= MAX_SCORE:
        raise ParseError(f"{field_name} should be a whole number of points, got {type_name(value)}", path=where)
    return number


# Injuries ------------------------------------------------------------------------------------------------


def parse_injuries(
    payload: list[object] | dict[str, object] | bytes | str, *, max_rows: int | None = None
) -> ParseReport[InjuryRecord]:
    """Injuries from the flattened ESPN injuries file (a list of rows) or a game summary (its ``injuries``).
    ``max_rows`` (None: no bound) refuses a file with more rows (or a summary with more teams)."""
    data = load_json(payload, what="ESPN injuries")
    report: ParseReport[InjuryRecord] = ParseReport()
    if isinstance(data, list):
        count_within(len(data), max_rows, "injury rows")
        records = [_flat_injury(index, row, report) for index, row in enumerate(data)]
    elif isinstance(data, dict) and isinstance(data.get("injuries"), list):
        count_within(len(data["injuries"]), max_rows, "team injury blocks")
        records = _summary_injuries(data["injuries"], report)
    else:
        raise ParseError(f"expected a list of injuries or a summary with an injuries list, got {type_name(data)}")
    seen: set[tuple[str, str, dt.datetime]] = set()
    for record in records:
        if record is None or refuse_injury(record, report):
            continue
        key = (record.team_abbreviation or record.team, record.player_name, record.reported_at)
        if key in seen:
            report.skip("the same player twice at one time", f"{record.player_name} ({record.team})")
            continue
        seen.add(key)
        report.records.append(record)
    return report


def _flat_injury(index: int, row: object, report: ParseReport[InjuryRecord]) -> InjuryRecord | None:
    where = f"[{index}]"
    row = an_object(row, "an injury row", where)
    player = _required(row.get("player_name"), where, "player_name")
    where = f"[{index}] ({short(player)})"
    team, abbreviation = _text(row.get("team_name")), _text(row.get("team_abbreviation"))
    if not team and not abbreviation:
        raise ParseError("no team_name or team_abbreviation", path=where)
    when = row.get("injury_date")
    if when is not None:
        reported_at = utc_time(when, where=where, field_name="injury_date")
    elif row.get("last_updated") is not None:
        reported_at = utc_time(row["last_updated"], where=where, field_name="last_updated", assume_utc=True)
    else:
        report.skip("injury without a date", where)
        return None
    status = _injury_status(_text(row.get("injury_status")), where, report)
    if status is None:
        return None
    detail = _text(row.get("injury_description")) or " ".join(
        part for part in (_text(row.get("injury_type")), _text(row.get("injury_details"))) if part
    )
    return InjuryRecord(
        source=SOURCE,
        team=team or abbreviation,
        team_abbreviation=abbreviation,
        player_name=player,
        player_external_id=_id_text(row.get("player_id")),
        position=_text(row.get("position")),
        status=status[0],
        status_raw=status[1],
        detail=detail[:DETAIL_LENGTH],
        reported_at=reported_at,
    )


def _summary_injuries(blocks: list[object], report: ParseReport[InjuryRecord]) -> list[InjuryRecord | None]:
    records: list[InjuryRecord | None] = []
    for index, block in enumerate(blocks):
        where = f"injuries[{index}]"
        team = block.get("team") if isinstance(block, dict) else None
        injuries = block.get("injuries") if isinstance(block, dict) else None
        if not isinstance(team, dict) or not isinstance(injuries, list):
            raise ParseError("a team's block should be {team: {...}, injuries: [...]}", path=where)
        name, abbreviation = _text(team.get("displayName")), _text(team.get("abbreviation"))
        if not name and not abbreviation:
            raise ParseError("team without a displayName or abbreviation", path=where)
        for number, item in enumerate(injuries):
            item_where = f"{where} ({abbreviation or name}), injuries[{number}]"
            records.append(_summary_injury(item, name or abbreviation, abbreviation, item_where, report))
    return records


def _summary_injury(
    item: object, team: str, abbreviation: str, where: str, report: ParseReport[InjuryRecord]
) -> InjuryRecord | None:
    athlete = item.get("athlete") if isinstance(item, dict) else None
    if not isinstance(item, dict) or not isinstance(athlete, dict):
        raise ParseError("an injury should be an object with an athlete", path=where)
    player = _required(athlete.get("displayName") or athlete.get("fullName"), where, "athlete.displayName")
    where = f"{where} ({short(player)})"
    if item.get("date") is None:
        report.skip("injury without a date", where)
        return None
    reported_at = utc_time(item["date"], where=where, field_name="date")
    kind = item.get("type")
    raw_status = _text(item.get("status")) or (_text(kind.get("description")) if isinstance(kind, dict) else "")
    status = _injury_status(raw_status, where, report)
    if status is None:
        return None
    position = athlete.get("position")
    return InjuryRecord(
        source=SOURCE,
        team=team,
        team_abbreviation=abbreviation,
        player_name=player,
        player_external_id=_id_text(athlete.get("id")),
        position=_text(position.get("abbreviation")) if isinstance(position, dict) else "",
        status=status[0],
        status_raw=status[1],
        detail=_summary_detail(item.get("details"))[:DETAIL_LENGTH],
        reported_at=reported_at,
    )


def _summary_detail(details: object) -> str:
    """``{side: Left, type: Leg, detail: Soreness, returnDate: 2025-10-01}``: ``Left Leg Soreness (return ...)``."""
    if not isinstance(details, dict):
        return ""
    words = [_text(details.get(key)) for key in ("side", "type", "detail")]
    text = " ".join(word for word in words if word and word.lower() != "not specified")
    returns = _text(details.get("returnDate"))
    return f"{text} (return {returns})".strip() if returns else text


def _injury_status(raw: str, where: str, report: ParseReport[InjuryRecord]) -> tuple[str, str] | None:
    """(normalised status, raw text), or None (counted) when there is no status at all."""
    if not raw:
        report.skip("injury without a status", where)
        return None
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", raw.lower()).split())
    status = INJURY_WORDS.get(words) or ("out" if INJURED_LIST.match(words) else None)
    if status is None:
        report.skip(f"unknown injury status {short(raw, 40)!r} (recorded as other)", where)
        status = "other"
    return status, raw


injury_status = _injury_status  # public: other injury sources (injuries_cbs) normalise statuses the same way


# Small readers -------------------------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _id_text(value: object) -> str:
    if _is_int(value):
        return str(value)
    return _text(value)


def _required(value: object, where: str, field_name: str) -> str:
    text = _text(value)
    if not text:
        raise ParseError(f"no {field_name} (got {type_name(value)})", path=where)
    return text
