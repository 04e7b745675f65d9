"""CBS Sports' NBA injury report page (``https://www.cbssports.com/nba/injuries/``) into ``InjuryRecord`` (pure).

No recorded page could be obtained, so this reads the page's long-standing documented structure, and checks
that structure before trusting a single row:

- one block per team with injuries: a ``div.TableBaseWrapper``/``div.TableBase`` holding a team header
  (``.TeamLogoNameLockup-name``, the name in its ``span.TeamName``: ``Atlanta``, ``L.A. Lakers``) and one
  ``table.TableBase-table``;
- the table's header row names its columns ``Player``, ``Position``, ``Updated``, ``Injury`` and
  ``Injury Status``: found by their text (any case, any order, extra columns ignored), never by position;
- each body row: the player (full name in ``span.CellPlayerName--long``, ``T. Young`` in ``--short``), the
  position, the date the status was updated (``Sat, Nov 22``: no year), the injury (``Knee``) and the status
  in words (``Out for the season``, ``Expected to be out until at least Nov 28``, ``Game Time Decision``).

``PageChanged`` (a ``ParseError``) is raised, naming what was expected and not found, when: the page has no
injury table at all (a Cloudflare or "Access denied" page, a consent wall, a redesign); a table stands
outside a team block, or its block has no team name, or several; a table has no header row or lacks one of
the five columns; or the page has injury rows and not one of them could be read (a renamed player-name
class, a new date format). An empty report is told from a changed page this way: team blocks whose tables
have the expected header and no rows parse to no records, while a page with no team block at all is
``PageChanged``. CBS lists only teams that have injuries and no NBA day is without them, so a page without
a single team table is far likelier a block page or a redesign than good news.

Rows are read, not trusted: one without a player name, with too few cells, with an ``Updated`` date that
cannot be read, or without a status is skipped and counted in the report; the same player twice in a team
on one date is kept once and counted. A row holding no ``td`` at all (a spacer or repeated header) is not
an injury row and is passed over.

Dates: ``Updated`` has no year, so it is read against ``fetched_at`` (as a date in US/Eastern, where CBS
writes its dates): the year is the one that puts the date latest but no later than the day after
``fetched_at`` (fetched 2026-01-03, ``Wed, Dec 31`` is 2025-12-31); the weekday is not used. The page gives
no time of day, so ``reported_at`` is that date at 12:00 US/Eastern, in UTC: a fixed instant, so pulling
the same report twice gives the same natural keys, and one that falls on the same calendar date in UTC
and in every US zone.

Statuses go through ESPN's normaliser (``espn.injury_status``) after CBS's own idioms are reduced to its
words: ``Out ...`` (``Out for the season``, ``Out indefinitely``) and ``Expected to be out ...`` are
``out``; ``Game Time Decision`` is ``questionable``; anything unknown is ``other`` and counted. The raw
text is kept in ``status_raw``. ``detail`` is ``<injury>: <status text>``; ``team`` is the name as CBS
writes it; the team and player links give ``team_abbreviation`` (``/nba/teams/ATL/...``) and
``player_external_id`` (``/nba/players/2893119/...``) when they have the usual shape, else "".
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from bs4 import BeautifulSoup, ParserRejectedMarkup, Tag

from betting.games.providers.espn import DETAIL_LENGTH, injury_status
from betting.games.providers.live_records import InjuryRecord, ParseReport, refuse_injury, short
from betting.games.providers.records import ParseError

SOURCE = "cbs"
EASTERN = zoneinfo.ZoneInfo("America/New_York")
NOON = dt.time(12)

TABLES = "table.TableBase-table"
BLOCK_CLASSES = ("TableBase", "TableBaseWrapper")
TEAM_NAME = ".TeamLogoNameLockup-name"
PLAYER_LONG = ".CellPlayerName--long"

PLAYER, POSITION, UPDATED, INJURY, STATUS = "Player", "Position", "Updated", "Injury", "Injury Status"
COLUMNS = (PLAYER, POSITION, UPDATED, INJURY, STATUS)

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")  # fmt: skip
# Sat, Nov 22 / Nov 22 / Sept. 3: an optional weekday, a month name or its abbreviation, a day.
DATE = re.compile(r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6}\.?,?\s+)?([a-z]{3,9})\.?\s+(\d{1,2})$")
CBS_OUT = re.compile(r"^(?:expected\s+to\s+be\s+)?out\b", re.IGNORECASE)
TEAM_LINK = re.compile(r"/teams/([A-Za-z]{2,4})/")
PLAYER_LINK = re.compile(r"/players/(\d+)/")


class PageChanged(ParseError):
    """The page does not have the structure this parser reads: the site changed, or this is not the page."""


@dataclass(frozen=True)
class _TeamTable:
    team: str
    abbreviation: str
    columns: dict[str, int]  # column name (one of COLUMNS) -> cell index
    rows: list[Tag]  # body rows holding at least one td


def parse(html: str | bytes, *, fetched_at: dt.datetime) -> ParseReport[InjuryRecord]:
    """Every injury on one CBS NBA injuries page, fetched at ``fetched_at`` (aware)."""
    if fetched_at.tzinfo is None or fetched_at.utcoffset() is None:
        raise ValueError("fetched_at must be timezone-aware")
    tables = [_team_table(number, table) for number, table in enumerate(_tables(html), start=1)]
    today = fetched_at.astimezone(EASTERN).date()
    report: ParseReport[InjuryRecord] = ParseReport()
    seen: set[tuple[str, str, dt.datetime]] = set()
    rows = 0
    for table in tables:
        for number, row in enumerate(table.rows, start=1):
            rows += 1
            record = _record(table, number, row, today, report)
            if record is None or refuse_injury(record, report):
                continue
            key = (record.team, record.player_name, record.reported_at)
            if key in seen:
                report.skip("the same player twice at one time", f"{record.team}, row {number} ({record.player_name})")
                continue
            seen.add(key)
            report.records.append(record)
    if rows and not report.records:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in report.skipped.items())
        raise PageChanged(f"none of the {rows} injury rows could be read ({reasons}): the row layout changed")
    return report


# Structure -----------------------------------------------------------------------------------------------


def _tables(html: str | bytes) -> list[Tag]:
    """The page's injury tables; PageChanged when it is not HTML or has none."""
    text = html if isinstance(html, str) else html.decode("utf-8", "replace")
    if "<" not in text:  # also spares Beautiful Soup's "this looks like a file name" warning
        raise PageChanged("not an HTML page (no tags at all)", value=short(text))
    try:
        soup = BeautifulSoup(text.replace("\x00", ""), "html.parser")  # PostgreSQL text holds no NUL
    except ParserRejectedMarkup as exc:
        raise PageChanged("the page is not readable HTML", value=short(exc)) from exc
    tables = soup.select(TABLES)
    if not tables:
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        titled = f" (page title {short(title)!r})" if title else ""
        raise PageChanged(
            f"no injury tables ({TABLES}) found: the page layout changed, or this is not the injuries page{titled}"
        )
    return tables


def _team_table(number: int, table: Tag) -> _TeamTable:
    team, abbreviation = _team(number, table)
    where = f"team {team!r}"
    header, body = _split_rows(table)
    if header is None:
        raise PageChanged("the table has no header row (expected one naming its columns)", path=where)
    names = [_words(cell) for cell in _cells(header, "th", "td")]
    columns: dict[str, int] = {}
    for column in COLUMNS:
        matches = [index for index, name in enumerate(names) if name.casefold() == column.casefold()]
        if not matches:
            found = ", ".join(name or "(blank)" for name in names) or "none"
            raise PageChanged(f"the table has no {column!r} column (columns: {found})", path=where)
        columns[column] = matches[0]
    return _TeamTable(team, abbreviation, columns, body)


def _team(number: int, table: Tag) -> tuple[str, str]:
    """(team name, abbreviation) from the team block around the table."""
    where = f"injury table {number}"
    blocks = [parent for parent in table.parents if any(name in _classes(parent) for name in BLOCK_CLASSES)]
    if not blocks:
        raise PageChanged(f"the table is not inside a team block (div.{' or div.'.join(BLOCK_CLASSES)})", path=where)
    for block in blocks:  # nearest first: the first block holding a team header is the team's
        headers = block.select(TEAM_NAME)
        if not headers:
            continue
        tables = len(block.select(TABLES))
        if len(headers) > 1 or tables > 1:
            raise PageChanged(
                f"its team block holds {len(headers)} team headers and {tables} tables (expected one of each)",
                path=where,
            )
        named = headers[0].select_one(".TeamName") or headers[0]
        team = _words(named)
        if not team:
            raise PageChanged(f"the team header ({TEAM_NAME}) is empty", path=where)
        link = headers[0].select_one("a[href]")
        found = TEAM_LINK.search(str(link["href"])) if link is not None else None
        return team, found.group(1).upper() if found else ""
    raise PageChanged(f"no team header ({TEAM_NAME}) in the table's team block", path=where)


def _split_rows(table: Tag) -> tuple[Tag | None, list[Tag]]:
    """(header row, body rows holding a td) of this table, leaving out rows of tables nested in it."""
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    header = next((row for row in rows if row.find_parent("thead") is not None), None)
    if header is None:
        header = next((row for row in rows if _cells(row, "th") and not _cells(row, "td")), None)
    body = [row for row in rows if row is not header and row.find_parent("thead") is None and _cells(row, "td")]
    return header, body


# Rows ----------------------------------------------------------------------------------------------------


def _record(
    table: _TeamTable, number: int, row: Tag, today: dt.date, report: ParseReport[InjuryRecord]
) -> InjuryRecord | None:
    where = f"{table.team}, row {number}"
    cells = _cells(row, "td")
    if len(cells) <= max(table.columns.values()):
        report.skip("row with too few cells", f"{where} ({len(cells)} cells)")
        return None
    cell = {column: cells[index] for column, index in table.columns.items()}
    long_name = cell[PLAYER].select_one(PLAYER_LONG)
    player = _words(long_name) if long_name is not None else ""
    if long_name is None or not player:
        report.skip(f"row without a player name ({PLAYER_LONG})", where)
        return None
    where = f"{where} ({player})"
    updated = _words(cell[UPDATED])
    day = _resolve_date(updated, today)
    if day is None:
        report.skip("unreadable Updated date", f"{where}, Updated {short(updated, 40)!r}")
        return None
    raw_status = _words(cell[STATUS])
    found = injury_status("Out" if CBS_OUT.match(raw_status) else raw_status, where, report)
    if found is None:
        return None
    injury = _words(cell[INJURY])
    link = long_name.select_one("a[href]")
    player_id = PLAYER_LINK.search(str(link["href"])) if link is not None else None
    return InjuryRecord(
        source=SOURCE,
        team=table.team,
        team_abbreviation=table.abbreviation,
        player_name=player,
        player_external_id=player_id.group(1) if player_id else "",
        position=_words(cell[POSITION]),
        status=found[0],
        status_raw=raw_status,
        detail=(f"{injury}: {raw_status}" if injury else raw_status)[:DETAIL_LENGTH],
        reported_at=dt.datetime.combine(day, NOON, tzinfo=EASTERN).astimezone(dt.UTC),
    )


def _resolve_date(text: str, today: dt.date) -> dt.date | None:
    """``Sat, Nov 22`` as the latest such date no later than the day after ``today``; None if unreadable."""
    found = DATE.match(text.casefold())
    if found is None:
        return None
    word, day = found.group(1), int(found.group(2))
    month = next((index for index, name in enumerate(MONTHS, start=1) if name.startswith(word)), None)
    if month is None:
        return None
    latest = today + dt.timedelta(days=1)
    for year in (today.year + 1, today.year, today.year - 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # Nov 31, or Feb 29 outside a leap year
            continue
        if candidate <= latest:
            return candidate
    return None


def _words(element: Tag) -> str:
    """The element's text with whitespace collapsed (cells are indented across lines)."""
    return " ".join(element.get_text(" ").split())


def _cells(row: Tag, *names: str) -> list[Tag]:
    """The row's own cells of those kinds (not those of a table nested in a cell)."""
    return [child for child in row.children if isinstance(child, Tag) and child.name in names]


def _classes(element: Tag) -> list[str]:
    value = element.get("class")
    if isinstance(value, str):
        return value.split()
    return list(value) if value else []
