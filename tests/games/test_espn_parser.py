"""ESPN scoreboards and injuries, parsed with no database: real recorded payloads, real quirks."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from betting.games.providers import espn
from betting.games.providers.records import ParseError
from tests.games.test_odds_api_parser import FUZZ, answers_or_refuses, mutated

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NBA_LIVE = FIXTURES / "nba_scoreboard_2026-05-02_playoffs_live.json"
NBA_PRESEASON = FIXTURES / "nba_scoreboard_2025-10-02_preseason.json"
MLB = FIXTURES / "mlb_scoreboard_2025.json"
SUMMARY = FIXTURES / "nba_game_summary.json"
INJURIES = FIXTURES / "espn_api_derived_injuries_2026-01-20.json"
UTC = dt.UTC


def load(path: Path):
    return json.loads(path.read_text())


def live() -> dict[str, Any]:
    return load(NBA_LIVE)


def only(report):
    assert len(report.records) == 1
    return report.records[0]


def set_status(payload: dict[str, Any], name: object, state: str, completed: bool) -> dict[str, Any]:
    for holder in (payload["events"][0], payload["events"][0]["competitions"][0]):
        holder["status"]["type"].update(name=name, state=state, completed=completed)
    return payload


# Scoreboards: the real samples ------------------------------------------------------------------------------


def test_live_playoff_game_has_its_score_quarters_and_postseason():
    game = only(espn.parse_scoreboard(NBA_LIVE.read_bytes()))
    assert (game.source, game.external_id, game.sport_key) == ("espn", "401869412", "basketball_nba")
    assert (game.away, game.home, game.away_name, game.home_name) == (
        "PHI",
        "BOS",
        "Philadelphia 76ers",
        "Boston Celtics",
    )
    assert game.start_time == dt.datetime(2026, 5, 2, 23, 30, tzinfo=UTC)
    assert (game.status, game.status_detail) == ("in_progress", "8:41 - 4th Quarter")
    assert (game.away_score, game.home_score) == (92, 87)
    assert game.period_scores == {"home": [19, 31, 25, 12], "away": [32, 23, 33, 4]}
    # ESPN calls 2025-26 season 2026; here, as in Game.season, a season is the year it starts.
    assert (game.season, game.season_type, game.neutral, game.start_time_exact) == (2025, "post", False, True)


def test_preseason_games_not_started_have_no_score_though_espn_writes_zero():
    report = espn.parse_scoreboard(load(NBA_PRESEASON))
    assert report.skipped == {}
    assert [(g.away, g.home) for g in report.records] == [("PHI", "NY"), ("MEL", "NO")]  # MEL: Melbourne United
    for game in report.records:
        assert (game.status, game.home_score, game.away_score, game.period_scores) == ("scheduled", None, None, {})
        assert (game.season, game.season_type, game.neutral) == (2025, "pre", True)  # Abu Dhabi, Melbourne
    assert report.records[1].start_time == dt.datetime(2025, 10, 3, 9, 30, tzinfo=UTC)


def test_mlb_scoreboard_has_13_finals_and_one_game_in_progress():
    report = espn.parse_scoreboard(MLB.read_text())
    assert report.skipped == {}
    assert len(report.records) == 14
    assert Counter(g.status for g in report.records) == {"final": 13, "in_progress": 1}
    assert {(g.sport_key, g.season, g.season_type, g.neutral) for g in report.records} == {
        ("baseball_mlb", 2025, "regular", False)
    }
    games = {g.external_id: g for g in report.records}
    pit = games["401696980"]  # LAD 7 @ PIT 9: Pittsburgh did not bat in the 9th
    assert (pit.away, pit.home, pit.away_score, pit.home_score, pit.status) == ("LAD", "PIT", 7, 9, "final")
    assert pit.period_scores == {"home": [4, 0, 0, 0, 0, 3, 1, 1, None], "away": [0, 1, 2, 1, 0, 0, 2, 0, 1]}
    sd = games["401696991"]  # BAL 6 @ SD 2, still being played
    assert (sd.status, sd.away_score, sd.home_score) == ("in_progress", 6, 2)
    for game in report.records:
        for side, score in (("home", game.home_score), ("away", game.away_score)):
            assert sum(p for p in game.period_scores[side] if p is not None) == score


def test_mlb_probable_starters_are_read_for_both_sides():
    report = espn.parse_scoreboard(MLB.read_text())
    games = {g.external_id: g for g in report.records}
    assert (games["401696980"].away_pitcher, games["401696980"].home_pitcher) == (
        "Clayton Kershaw",
        "Carmen Mlodzinski",
    )
    assert all(g.home_pitcher and g.away_pitcher for g in report.records)


def test_an_unreadable_probable_is_unknown_and_counted_and_nba_boards_have_none():
    data = json.loads(MLB.read_text())
    data["events"][0]["competitions"][0]["competitors"][0]["probables"] = [{"name": "probableStartingPitcher"}]
    report = espn.parse_scoreboard(data)
    assert report.records[0].home_pitcher == ""
    assert report.skipped == {"probable pitcher unreadable (recorded as unknown)": 1}
    nba = espn.parse_scoreboard(NBA_LIVE.read_text())
    assert {(g.home_pitcher, g.away_pitcher) for g in nba.records} == {("", "")}


def test_the_league_must_be_the_one_asked_for():
    assert only(espn.parse_scoreboard(live(), sport_key="basketball_nba")).sport_key == "basketball_nba"
    with pytest.raises(ParseError, match="this is the nba scoreboard, not baseball_mlb's"):
        espn.parse_scoreboard(live(), sport_key="baseball_mlb")


def test_without_the_league_block_the_caller_names_the_league_and_the_season_is_unknown():
    payload = live()
    del payload["leagues"]
    with pytest.raises(ParseError, match="cannot tell which league"):
        espn.parse_scoreboard(payload)
    report = espn.parse_scoreboard(payload, sport_key="basketball_nba")
    assert (report.records[0].season, report.records[0].season_type) == (None, "post")
    assert report.skipped == {"season start year unknown": 1}


# Scoreboards: statuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "state", "completed", "status", "scores"),
    [
        ("STATUS_FINAL", "post", True, "final", (87, 92)),
        ("STATUS_HALFTIME", "in", False, "in_progress", (87, 92)),
        ("STATUS_END_PERIOD", "in", False, "in_progress", (87, 92)),
        ("STATUS_SCHEDULED", "pre", False, "scheduled", (None, None)),
        ("STATUS_POSTPONED", "post", False, "postponed", (None, None)),
        ("STATUS_CANCELED", "post", False, "cancelled", (None, None)),
        ("STATUS_SUSPENDED", "in", False, "postponed", (None, None)),
        ("STATUS_DELAYED", "pre", False, "scheduled", (None, None)),
        ("STATUS_RAIN_DELAY", "in", False, "in_progress", (87, 92)),
    ],
)
def test_known_statuses_map_to_game_statuses(name, state, completed, status, scores):
    report = espn.parse_scoreboard(set_status(live(), name, state, completed))
    game = only(report)
    assert (game.status, game.home_score, game.away_score) == (status, *scores)
    assert report.skipped == {}


@pytest.mark.parametrize(
    ("state", "completed", "status"),
    [("pre", False, "scheduled"), ("in", False, "in_progress"), ("post", True, "final"), ("post", False, "postponed")],
)
def test_an_unknown_status_is_read_from_its_state_and_counted(state, completed, status):
    report = espn.parse_scoreboard(set_status(live(), "STATUS_SHOT_CLOCK_FIRE", state, completed))
    assert only(report).status == status
    assert report.skipped == {f"unknown status STATUS_SHOT_CLOCK_FIRE (read from its state as {status})": 1}


def test_a_status_name_that_is_not_text_is_read_from_its_state():
    report = espn.parse_scoreboard(set_status(live(), ["STATUS_FINAL"], "in", False))
    assert only(report).status == "in_progress"
    assert report.skipped == {"unknown status ['STATUS_FINAL'] (read from its state as in_progress)": 1}


def test_an_unknown_season_type_is_recorded_as_unknown_and_counted():
    payload = live()
    payload["events"][0]["season"]["type"] = 4
    report = espn.parse_scoreboard(payload)
    assert only(report).season_type == ""
    assert report.skipped == {"unknown season type 4 (recorded as unknown)": 1}


def test_a_time_to_be_decided_is_marked_inexact():
    payload = live()
    payload["events"][0]["competitions"][0]["timeValid"] = False
    assert only(espn.parse_scoreboard(payload)).start_time_exact is False


def test_a_duplicate_event_is_kept_once_and_counted():
    payload = load(NBA_PRESEASON)
    payload["events"].append(payload["events"][0])
    report = espn.parse_scoreboard(payload)
    assert len(report.records) == 2
    assert report.skipped == {"duplicate event id": 1}


# Scoreboards: malformed payloads -----------------------------------------------------------------------------


def competition(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["events"][0]["competitions"][0]


def broken(change) -> dict[str, Any]:
    payload = live()
    change(payload)
    return payload


WHERE = r"events\[0\] \(id 401869412\)"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "ESPN scoreboard is not JSON"),
        ([], "expected a scoreboard object, got a list"),
        (broken(lambda p: p.pop("events")), "events: no events list"),
        (broken(lambda p: p["events"][0].pop("id")), r"events\[0\]: event without an id"),
        (broken(lambda p: p["events"][0].update(competitions=[])), f"{WHERE}: no competitions"),
        (broken(lambda p: competition(p)["competitors"][1].pop("homeAway")), rf"{WHERE}, competitors\[1\]: homeAway"),
        (
            broken(lambda p: competition(p)["competitors"][1].update(homeAway="home")),
            rf"{WHERE}, competitors\[1\]: two home competitors",
        ),
        (broken(lambda p: competition(p)["competitors"].pop()), f"{WHERE}: competitors should be a list of two"),
        (
            broken(lambda p: competition(p)["competitors"][0]["team"].pop("abbreviation")),
            "competitor without a team abbreviation",
        ),
        (
            broken(lambda p: competition(p)["competitors"][0].update(score="8seven")),
            f"{WHERE}, home competitor: score should be a whole number of points, got the text '8seven'",
        ),
        (
            broken(lambda p: competition(p)["competitors"][1].update(score=None)),
            f"{WHERE}, away competitor: score should be a whole number",
        ),
        (
            broken(lambda p: competition(p)["competitors"][1]["linescores"][2].update(value="x")),
            rf"{WHERE}, away competitor: linescores\[2\] should be a whole number",
        ),
        (broken(lambda p: competition(p)["competitors"][1].update(score="-3")), "score should be a whole number"),
        (broken(lambda p: competition(p).update(date="2026-05-02T23:30")), f"{WHERE}: date has no time zone"),
        (
            broken(lambda p: [h.pop("status") for h in (p["events"][0], competition(p))]),
            f"{WHERE}: no status.type object",
        ),
        (
            broken(lambda p: set_status(p, "STATUS_WHO_KNOWS", "later", False)),
            "status has neither a known name nor a state",
        ),
    ],
)
def test_malformed_scoreboards_raise_parse_error_saying_where(payload, message):
    with pytest.raises(ParseError, match=message):
        espn.parse_scoreboard(payload)


def test_a_scheduled_game_is_not_judged_on_its_placeholder_score():
    payload = load(NBA_PRESEASON)
    payload["events"][0]["competitions"][0]["competitors"][0]["score"] = "TBD"
    assert espn.parse_scoreboard(payload).records[0].home_score is None


# Injuries -------------------------------------------------------------------------------------------------


def test_flattened_injuries_file_gives_99_players():
    report = espn.parse_injuries(INJURIES.read_bytes())
    assert report.skipped == {}
    assert len(report.records) == 99
    assert Counter(r.status for r in report.records) == {"out": 77, "day_to_day": 22}
    assert Counter(r.status_raw for r in report.records) == {"Out": 77, "Day-To-Day": 22}
    first = report.records[0]
    assert (first.source, first.team, first.team_abbreviation) == ("espn", "Atlanta Hawks", "ATL")
    assert (first.player_name, first.player_external_id, first.position) == ("N'Faly Dante", "4592401", "C")
    assert first.reported_at == dt.datetime(2025, 12, 23, 16, 23, tzinfo=UTC)  # its injury_date
    assert first.detail == ""  # the file has no injury details
    natural_keys = {(r.team, r.player_name, r.source, r.reported_at) for r in report.records}
    assert len(natural_keys) == 99


def test_game_summary_injuries_give_both_teams_lists():
    report = espn.parse_injuries(load(SUMMARY))
    assert report.skipped == {}
    assert Counter(r.team_abbreviation for r in report.records) == {"IND": 5, "BOS": 4}
    assert Counter(r.status for r in report.records) == {"day_to_day": 7, "out": 2}
    jackson = report.records[0]
    assert (jackson.team, jackson.player_name, jackson.player_external_id) == (
        "Indiana Pacers",
        "Quenton Jackson",
        "4592829",
    )
    assert (jackson.position, jackson.status, jackson.status_raw) == ("G", "day_to_day", "Day-To-Day")
    assert jackson.detail == "Left Leg Soreness (return 2025-10-01)"
    assert jackson.reported_at == dt.datetime(2025, 7, 19, 14, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Out", "out"),
        ("OUT", "out"),
        ("Day-To-Day", "day_to_day"),
        ("day to day", "day_to_day"),
        ("DTD", "day_to_day"),
        ("Doubtful", "doubtful"),
        ("Questionable", "questionable"),
        ("GTD", "questionable"),
        ("Game Time Decision", "questionable"),
        ("Probable", "probable"),
        ("10-Day IL", "out"),
        ("60-Day-IL", "out"),
        ("Injured Reserve", "out"),
        ("Out For Season", "out"),
        ("Suspension", "out"),
    ],
)
def test_injury_statuses_are_normalised_and_the_raw_text_kept(raw, status):
    rows = load(INJURIES)[:1]
    rows[0]["injury_status"] = raw
    record = only(espn.parse_injuries(rows))
    assert (record.status, record.status_raw) == (status, raw)


def test_an_unknown_injury_status_is_other_and_counted():
    rows = load(INJURIES)[:2]
    rows[1]["injury_status"] = "Personal Reasons"
    report = espn.parse_injuries(rows)
    assert [r.status for r in report.records] == ["out", "other"]
    assert report.skipped == {"unknown injury status 'Personal Reasons' (recorded as other)": 1}


def test_injuries_without_a_status_or_any_date_are_skipped_and_counted():
    rows = load(INJURIES)[:3]
    rows[0]["injury_status"] = ""
    rows[1]["injury_date"] = None
    rows[1]["last_updated"] = None
    report = espn.parse_injuries(rows)
    assert [r.player_name for r in report.records] == [rows[2]["player_name"]]
    assert report.skipped == {"injury without a status": 1, "injury without a date": 1}


def test_without_an_injury_date_the_scrape_time_stands_in_as_utc():
    rows = load(INJURIES)[:1]
    del rows[0]["injury_date"]  # last_updated: 2026-01-20T12:02:06.281564, written without a zone
    assert only(espn.parse_injuries(rows)).reported_at == dt.datetime(2026, 1, 20, 12, 2, 6, 281564, tzinfo=UTC)


def test_the_same_injury_twice_is_kept_once_and_counted():
    rows = load(INJURIES)[:2]
    rows.append(dict(rows[0]))
    report = espn.parse_injuries(rows)
    assert len(report.records) == 2
    assert report.skipped == {"the same player twice at one time": 1}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows.__setitem__(3, "Trae Young"), r"\[3\]: an injury row should be an object"),
        (lambda rows: rows[3].pop("player_name"), r"\[3\]: no player_name \(got null\)"),
        (
            lambda rows: rows[3].update(team_name=None, team_abbreviation=""),
            r"\[3\] \(.+\): no team_name or team_abbreviation",
        ),
        (lambda rows: rows[3].update(injury_date="last week"), "injury_date is not an ISO 8601 timestamp"),
    ],
)
def test_malformed_injury_rows_raise_parse_error_saying_where(change, message):
    rows = load(INJURIES)
    change(rows)
    with pytest.raises(ParseError, match=message):
        espn.parse_injuries(rows)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"boxscore": {}}, "expected a list of injuries or a summary with an injuries list"),
        ({"injuries": [{"team": "IND", "injuries": []}]}, r"injuries\[0\]: a team's block should be"),
        ({"injuries": [{"team": {"abbreviation": "IND"}, "injuries": [{"status": "Out"}]}]}, "with an athlete"),
    ],
)
def test_malformed_summary_injuries_raise_parse_error(payload, message):
    with pytest.raises(ParseError, match=message):
        espn.parse_injuries(payload)


# Whatever a broken payload looks like, the parser answers with a report or a ParseError ---------------------


def lean_scoreboard(path: Path, events: int) -> dict[str, Any]:
    """A real scoreboard cut to what the parser reads, so each mutation lands somewhere that matters."""
    payload = load(path)
    league = payload["leagues"][0]
    lean = {"leagues": [{"slug": league["slug"], "season": league["season"]}], "season": payload["season"]}
    lean["events"] = []
    for event in payload["events"][:events]:
        game = event["competitions"][0]
        competitors = [
            {key: c[key] for key in ("homeAway", "score", "linescores") if key in c}
            | {"team": {k: c["team"][k] for k in ("abbreviation", "displayName")}}
            for c in game["competitors"]
        ]
        keep = {k: game[k] for k in ("date", "timeValid", "neutralSite", "status")}
        lean["events"].append(
            {k: event[k] for k in ("id", "date", "season", "status")}
            | {"competitions": [keep | {"competitors": competitors}]}
        )
    return lean


@FUZZ
@given(mutated(lean_scoreboard(NBA_LIVE, 1) | {"events": lean_scoreboard(MLB, 2)["events"]}))
def test_a_mutated_scoreboard_gives_a_report_or_a_parse_error(payload):
    answers_or_refuses(espn.parse_scoreboard, payload)


@FUZZ
@given(mutated(load(INJURIES)[:4]))
def test_a_mutated_injuries_file_gives_a_report_or_a_parse_error(payload):
    answers_or_refuses(espn.parse_injuries, payload)


@FUZZ
@given(mutated({"injuries": [{**block, "injuries": block["injuries"][:2]} for block in load(SUMMARY)["injuries"]]}))
def test_a_mutated_summary_gives_a_report_or_a_parse_error(payload):
    answers_or_refuses(espn.parse_injuries, payload)
