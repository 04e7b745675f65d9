"""CBS Sports' NBA injuries page, parsed with no database and no network.

No real page could be recorded: ``cbs_injuries_nba_structure.html`` is hand-built on the page's documented
structure (see tests/fixtures/SOURCES.md), and the smaller pages below are built the same way in code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from betting.games.providers import injuries_cbs
from betting.games.providers.injuries_cbs import PageChanged
from betting.games.providers.live_records import INJURY_STATUSES, InjuryRecord, ParseReport
from betting.games.providers.records import ParseError

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "cbs_injuries_nba_structure.html"
UTC = dt.UTC
FETCHED = dt.datetime(2025, 11, 24, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
COLUMNS = ("Player", "Position", "Updated", "Injury", "Injury Status")


def parse(html: str | bytes, fetched_at: dt.datetime = FETCHED) -> ParseReport[InjuryRecord]:
    return injuries_cbs.parse(html, fetched_at=fetched_at)


def noon_eastern(year: int, month: int, day: int) -> dt.datetime:
    """12:00 in New York in autumn 2025, in UTC: 16:00 under EDT (until Nov 2), 17:00 under EST."""
    assert year == 2025 and month >= 9
    return dt.datetime(year, month, day, 16 if (month, day) < (11, 2) else 17, tzinfo=UTC)


# Pages built like CBS's -----------------------------------------------------------------------------------


def row(
    name: str = "Trae Young",
    *,
    position: str = "G",
    updated: str = "Sat, Nov 22",
    injury: str = "Knee",
    status: str = "Out",
    player_id: str = "2893119",
) -> dict[str, str]:
    """One body row's cells, keyed by column name."""
    link = f'<a href="/nba/players/{player_id}/x/">'
    short = name.split()[-1] if name else ""
    player = (
        f'<span class="CellPlayerName--short">{link}{short}</a></span>'
        f'<span class="CellPlayerName--long">{link}{name}</a></span>'
    )
    return {
        "Player": player,
        "Position": position,
        "Updated": f'<span class="CellGameDate">{updated}</span>',
        "Injury": injury,
        "Injury Status": status,
    }


def block(team: str | None, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    """One team's block; ``team=None`` leaves out the team header. Cells follow ``columns`` by name."""
    header = (
        ""
        if team is None
        else f'<div class="TeamLogoNameLockup-name"><span class="TeamName">'
        f'<a href="/nba/teams/ATL/atlanta-hawks/">{team}</a></span></div>'
    )
    head = "".join(f'<th class="TableBase-headTh">{column}</th>' for column in columns)
    body = "".join(
        '<tr class="TableBase-bodyTr">'
        + "".join(f'<td class="TableBase-bodyTd">{cells.get(column, "-")}</td>' for column in columns)
        + "</tr>"
        for cells in rows
    )
    return (
        f'<div class="TableBaseWrapper"><div class="TableBase"><h4 class="TableBase-title">{header}</h4>'
        f'<table class="TableBase-table"><thead><tr class="TableBase-headTr">{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></div>"
    )


def page(*blocks: str, title: str = "NBA Injury Report - CBSSports.com") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{''.join(blocks)}</body></html>"


def only(report: ParseReport[InjuryRecord]) -> InjuryRecord:
    assert len(report.records) == 1, report
    return report.records[0]


# The page as documented -----------------------------------------------------------------------------------


def test_the_page_parses_to_exactly_the_injuries_on_it():
    report = parse(FIXTURE.read_text())
    got = [
        (r.team, r.team_abbreviation, r.player_name, r.player_external_id, r.position, r.status, r.status_raw,
         r.detail, r.reported_at)
        for r in report.records
    ]  # fmt: skip
    out_nov_28 = "Expected to be out until at least Nov 28"
    out_dec_5 = "Expected to be out until at least Dec 5"
    assert got == [
        ("Atlanta", "ATL", "Darius Whitfield", "2893119", "G", "out", out_nov_28, f"Knee: {out_nov_28}",
         noon_eastern(2025, 11, 22)),
        ("Atlanta", "ATL", "Kofi Mensah-Reid", "3012456", "F", "questionable", "Game Time Decision",
         "Ankle: Game Time Decision", noon_eastern(2025, 11, 23)),
        ("Boston", "BOS", "Tyler Brannigan", "2760341", "C", "out", "Out for the season",
         "Achilles: Out for the season", noon_eastern(2025, 10, 21)),
        ("Boston", "BOS", "Jalen Orsborne", "3150872", "G", "day_to_day", "Day-To-Day", "Illness: Day-To-Day",
         noon_eastern(2025, 11, 24)),
        ("Golden State", "GS", "Andre Kimura", "2981507", "F", "questionable", "Questionable",
         "Hamstring: Questionable", noon_eastern(2025, 11, 21)),
        ("Golden State", "GS", "Lucas Ferreira", "3098214", "G", "doubtful", "Doubtful", "Back: Doubtful",
         noon_eastern(2025, 11, 23)),
        ("Golden State", "GS", "Malik Sutton", "2845660", "F", "out", "Out", "Personal: Out",
         noon_eastern(2025, 11, 19)),
        ("L.A. Lakers", "LAL", "Cameron Pike", "3204418", "G", "out", out_dec_5, f"Foot: {out_dec_5}",
         noon_eastern(2025, 11, 8)),
        ("L.A. Lakers", "LAL", "Noah Lindqvist", "2917733", "C", "probable", "Probable", "Wrist: Probable",
         noon_eastern(2025, 11, 23)),
        ("Phoenix", "PHO", "Isaiah Carrow", "3066129", "G", "out", "Out", "Calf: Out", noon_eastern(2025, 11, 20)),
    ]  # fmt: skip
    assert {r.source for r in report.records} == {"cbs"}
    assert report.skipped == {} and report.notes == []


def test_the_page_as_bytes_reads_the_same():
    html = FIXTURE.read_text()
    assert parse(html.encode()).records == parse(html).records


def test_reported_at_is_noon_in_new_york_on_the_updated_date():
    summer = only(parse(page(block("Atlanta", [row(updated="Tue, Oct 21")]))))
    winter = only(parse(page(block("Atlanta", [row(updated="Sat, Nov 22")]))))
    assert summer.reported_at == dt.datetime(2025, 10, 21, 16, 0, tzinfo=UTC)  # EDT
    assert winter.reported_at == dt.datetime(2025, 11, 22, 17, 0, tzinfo=UTC)  # EST


def test_pulling_the_same_page_twice_gives_the_same_records():
    html = FIXTURE.read_text()
    assert parse(html).records == parse(html, FETCHED + dt.timedelta(hours=5)).records


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Out", "out"),
        ("Out for the season", "out"),
        ("Out indefinitely", "out"),
        ("Expected to be out until at least Nov 28", "out"),
        ("expected to be OUT until at least Jan 3", "out"),
        ("Game Time Decision", "questionable"),
        ("Questionable", "questionable"),
        ("Doubtful", "doubtful"),
        ("Probable", "probable"),
        ("Day-To-Day", "day_to_day"),
    ],
)
def test_statuses_are_normalised_and_the_raw_text_kept(raw, status):
    record = only(parse(page(block("Atlanta", [row(status=raw, injury="Knee")]))))
    assert (record.status, record.status_raw, record.detail) == (status, raw, f"Knee: {raw}")


def test_an_unknown_status_is_other_and_counted():
    report = parse(page(block("Atlanta", [row(status="Outpatient rehab")])))
    assert only(report).status == "other"
    assert report.skipped == {"unknown injury status 'Outpatient rehab' (recorded as other)": 1}


def test_without_an_injury_the_detail_is_the_status_text():
    assert only(parse(page(block("Atlanta", [row(injury="", status="Out")])))).detail == "Out"


# Dates without a year --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched_at", "updated", "day"),
    [
        (dt.datetime(2026, 1, 3, 18, tzinfo=UTC), "Wed, Dec 31", dt.date(2025, 12, 31)),
        (dt.datetime(2026, 1, 3, 18, tzinfo=UTC), "Fri, Jan 2", dt.date(2026, 1, 2)),
        (dt.datetime(2026, 1, 3, 18, tzinfo=UTC), "Sun, Jan 4", dt.date(2026, 1, 4)),  # a day ahead: clocks
        (dt.datetime(2026, 1, 3, 18, tzinfo=UTC), "Mon, Jan 5", dt.date(2025, 1, 5)),  # two days ahead: last year
        # 03:00 UTC on New Year's Day is still Dec 31 in New York; Jan 1 is the next day, not a year ago.
        (dt.datetime(2026, 1, 1, 3, tzinfo=UTC), "Thu, Jan 1", dt.date(2026, 1, 1)),
        (dt.datetime(2028, 3, 2, 18, tzinfo=UTC), "Tue, Feb 29", dt.date(2028, 2, 29)),
        (dt.datetime(2029, 1, 10, 18, tzinfo=UTC), "Tue, Feb 29", dt.date(2028, 2, 29)),
        (FETCHED, "Nov 22", dt.date(2025, 11, 22)),
        (FETCHED, "Saturday, November 22", dt.date(2025, 11, 22)),
        (FETCHED, "Wed, Sept. 3", dt.date(2025, 9, 3)),
    ],
)
def test_updated_dates_take_the_latest_year_not_after_the_pull(fetched_at, updated, day):
    record = only(parse(page(block("Atlanta", [row(updated=updated)])), fetched_at))
    assert record.reported_at == dt.datetime.combine(day, dt.time(12), tzinfo=injuries_cbs.EASTERN).astimezone(UTC)


def test_a_pull_time_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        injuries_cbs.parse(page(block("Atlanta", [row()])), fetched_at=dt.datetime(2025, 11, 24, 15))


# Rows that cannot be read ------------------------------------------------------------------------------------


def test_unreadable_rows_are_skipped_and_counted_and_the_rest_kept():
    rows = [
        row("Darius Whitfield"),
        row(""),  # the long-name span is there but empty
        {**row("No Long Name"), "Player": '<span class="CellPlayerName--short">N. Name</span>'},
        row("Bad Date", updated="TBD"),
        row("No Such Day", updated="Mon, Nov 31"),
        row("No Status", status=""),
        {"Player": row("Too Short")["Player"], "Position": "G"},
        row("Darius Whitfield", status="Questionable"),  # the same player again on the same date
    ]
    html = page(block("Atlanta", rows)).replace('<td class="TableBase-bodyTd">-</td>', "")
    report = parse(html)
    assert [r.player_name for r in report.records] == ["Darius Whitfield"]
    assert report.skipped == {
        "row without a player name (.CellPlayerName--long)": 2,
        "unreadable Updated date": 2,
        "injury without a status": 1,
        "row with too few cells": 1,
        "the same player twice at one time": 1,
    }
    assert "Atlanta, row 4 (Bad Date), Updated 'TBD': unreadable Updated date" in report.notes


def test_a_page_where_no_row_can_be_read_has_changed():
    html = page(block("Atlanta", [row(updated="2025-11-22"), row("Other Player", updated="2025-11-23")]))
    with pytest.raises(PageChanged, match=r"none of the 2 injury rows could be read \(unreadable Updated date x2\)"):
        parse(html)


def test_spacer_rows_without_cells_are_not_injuries():
    html = page(block("Atlanta", [row()])).replace("<tbody>", '<tbody><tr class="TableBase-bodyTr"></tr>')
    report = parse(html)
    assert len(report.records) == 1 and report.skipped == {}


# The structure is checked before anything is trusted ------------------------------------------------------------


def test_columns_are_found_by_header_text_in_any_order_and_case_with_extra_columns():
    columns = ("INJURY STATUS", "Est. Return", "player", "Updated", "Injury", "Position")
    cells = row(status="Doubtful", position="C")
    cells = {"INJURY STATUS": cells["Injury Status"], "player": cells["Player"], **cells}
    record = only(parse(page(block("Atlanta", [cells], columns))))
    assert (record.player_name, record.status, record.position, record.detail) == (
        "Trae Young",
        "doubtful",
        "C",
        "Knee: Doubtful",
    )


def test_teams_with_empty_tables_are_an_empty_report_not_a_changed_page():
    report = parse(page(block("Atlanta", []), block("Boston", [])))
    assert report.records == [] and report.skipped == {}


def test_an_access_denied_page_is_a_changed_page():
    html = page(
        "<h1>Access denied</h1><p>Error code 1020</p><p>You do not have access to www.cbssports.com.</p>",
        title="Access denied | www.cbssports.com used Cloudflare to restrict access",
    )
    with pytest.raises(PageChanged) as caught:
        parse(html)
    message = str(caught.value)
    assert "no injury tables (table.TableBase-table) found" in message
    assert "(page title 'Access denied | www.cbssports.com used Cloudflare to rest...')" in message


@pytest.mark.parametrize("html", ["", "Access denied", b"", b"\xff\xfe junk", "<html><body></body></html>"])
def test_empty_or_tagless_input_is_a_changed_page(html):
    with pytest.raises(PageChanged):
        parse(html)


def test_a_renamed_column_is_a_changed_page_naming_the_team_and_the_columns():
    columns = ("Player", "Position", "Updated", "Injury", "Status")
    html = page(block("Atlanta", [row()]), block("Boston", [row()], columns))
    with pytest.raises(PageChanged) as caught:
        parse(html)
    assert str(caught.value) == (
        "team 'Boston': the table has no 'Injury Status' column (columns: Player, Position, Updated, Injury, Status)"
    )


def test_tables_without_team_headers_are_a_changed_page():
    with pytest.raises(PageChanged, match=r"injury table 1: no team header \(\.TeamLogoNameLockup-name\)"):
        parse(page(block(None, [row()]), block(None, [row()])))


def test_one_table_without_its_team_header_is_not_given_a_neighbours_name():
    with pytest.raises(PageChanged, match="injury table 2: no team header"):
        parse(page(block("Atlanta", [row()]), block(None, [row("Someone Else")])))


def test_an_empty_team_name_is_a_changed_page():
    with pytest.raises(PageChanged, match=r"injury table 1: the team header .* is empty"):
        parse(page(block(" ", [row()])))


def test_a_table_outside_any_team_block_is_a_changed_page():
    html = page(block("Atlanta", [row()])).replace("TableBaseWrapper", "Card").replace('"TableBase"', '"Card-body"')
    with pytest.raises(PageChanged, match=r"injury table 1: the table is not inside a team block"):
        parse(html)


def test_a_table_without_a_header_row_is_a_changed_page():
    html = page(block("Atlanta", [row()])).replace("<thead>", "").replace("</thead>", "")
    html = html.replace("<th ", "<td ").replace("</th>", "</td>")  # the column names become a body row
    with pytest.raises(PageChanged, match="team 'Atlanta': the table has no header row"):
        parse(html)


def test_two_teams_in_one_block_are_a_changed_page():
    html = page(block("Atlanta", [row()]) + block("Boston", [row()])).replace(
        '</div></div><div class="TableBaseWrapper"><div class="TableBase">', ""
    )
    with pytest.raises(PageChanged, match="2 team headers and 2 tables"):
        parse(html)


def test_page_changed_is_a_parse_error():
    assert issubclass(PageChanged, ParseError)


# Whatever arrives, the parser answers with a report or a ParseError -----------------------------------------------

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None)
# Two of the fixture's teams keep each example fast.
_PARTS = FIXTURE.read_text().split('      <div class="TableBaseWrapper">')
SMALL_PAGE = '      <div class="TableBaseWrapper">'.join(_PARTS[:3]) + "    </div>\n  </main>\n</body>\n</html>\n"
SNIPPETS = [
    '<table class="TableBase-table">',
    "</table>",
    "<thead>",
    "</thead>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th>Injury Status</th>",
    "<th>Player</th>",
    '<div class="TableBase">',
    '<div class="TeamLogoNameLockup-name">',
    "</div>",
    '<span class="CellPlayerName--long">',
    "</span>",
    "Tue, Feb 29",
    "Mon, Nov 31",
    "Out",
    "<!--",
    "<![CDATA[",
    "<!DOCTYPE",
    "<?xml",
    "<script>",
    "&#0;",
    "&#x110000;",
    "\x00",
    "<",
    ">",
]


@st.composite
def mutated_page(draw):
    html = SMALL_PAGE
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        start = draw(st.integers(min_value=0, max_value=len(html)))
        end = min(len(html), start + draw(st.integers(min_value=0, max_value=300)))
        insert = draw(st.sampled_from(SNIPPETS) | st.text(max_size=20)) if draw(st.booleans()) else ""
        html = html[:start] + insert + html[end:]
    return html.encode("utf-8", "surrogatepass") if draw(st.booleans()) else html


def answers_or_refuses(html: str | bytes) -> None:
    try:
        report = parse(html)
    except ParseError as exc:
        assert str(exc)
        return
    assert isinstance(report, ParseReport)
    for record in report.records:
        assert record.source == "cbs" and record.team and record.player_name
        assert record.status in INJURY_STATUSES
        assert record.reported_at.tzinfo is UTC
    assert all(isinstance(count, int) and count > 0 for count in report.skipped.values())


def test_the_fuzzing_page_is_a_good_one():
    assert len(parse(SMALL_PAGE).records) == 4


@FUZZ
@given(mutated_page())
def test_a_mutated_page_gives_a_report_or_a_parse_error(html):
    answers_or_refuses(html)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' !-abdehlnoprstuvxyzTB.0123\n")) | st.characters()) | st.binary())
def test_random_input_gives_a_report_or_a_parse_error(html):
    answers_or_refuses(html)
