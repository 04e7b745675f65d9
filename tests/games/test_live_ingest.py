"""Recorded ESPN scoreboards and injury reports into the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from betting.games.ingest.common import IngestFailed
from betting.games.ingest.injuries import injuries_ingest
from betting.games.ingest.scores import scores_ingest
from betting.games.models import Game, Injury, UnresolvedName
from betting.games.providers import espn
from betting.games.providers.live_records import EventRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def board(name: str) -> list[EventRecord]:
    return espn.parse_scoreboard(json.loads((FIXTURES / name).read_text())).records


@pytest.mark.django_db
def test_mlb_scoreboard_writes_games_and_scores_once(reference):
    records = board("mlb_scoreboard_2025.json")
    first = scores_ingest(records=records)
    assert (first.created, first.unknown_teams) == (14, [])
    assert Game.objects.filter(status="final").count() == 13
    final = Game.objects.filter(status="final").first()
    assert final.home_score == sum(p or 0 for p in final.period_scores["home"])
    again = scores_ingest(records=records)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 14)


@pytest.mark.django_db
def test_a_live_game_becomes_final_and_another_source_score_is_flagged_not_overwritten(reference):
    records = board("nba_scoreboard_2026-05-02_playoffs_live.json")
    scores_ingest(records=records)
    game = Game.objects.get()
    assert game.status == "in_progress" and game.season_type == "post"
    game.status, game.score_source, game.home_score, game.away_score = "final", "sbr", 100, 99
    game.save()
    summary = scores_ingest(records=records)
    game.refresh_from_db()
    assert (game.home_score, game.away_score) == (100, 99)  # the live 92-87 did not overwrite a final
    assert summary.unchanged == 1 and not game.needs_review  # a live score is not a disagreement


def scheduled_mlb_board(home_probable: str | None = None) -> list[EventRecord]:
    """The real MLB board with its first game (LAD @ PIT) set back to before the first pitch."""
    data = json.loads((FIXTURES / "mlb_scoreboard_2025.json").read_text())
    competition = data["events"][0]["competitions"][0]
    competition["status"]["type"].update(name="STATUS_SCHEDULED", state="pre", completed=False)
    if home_probable is not None:
        home = next(c for c in competition["competitors"] if c["homeAway"] == "home")
        home["probables"][0]["athlete"]["displayName"] = home_probable
    return espn.parse_scoreboard(data).records


@pytest.mark.django_db
def test_a_scheduled_game_takes_the_probable_starters_and_a_new_probable_replaces_the_old(reference):
    scores_ingest(records=scheduled_mlb_board())
    game = Game.objects.get(details__espn__event_id="401696980")
    assert (game.status, game.away_pitcher, game.home_pitcher) == ("scheduled", "Clayton Kershaw", "Carmen Mlodzinski")
    again = scores_ingest(records=scheduled_mlb_board())
    assert again.updated == 0
    changed = scores_ingest(records=scheduled_mlb_board(home_probable="Paul Skenes"))
    game.refresh_from_db()
    assert (changed.updated, game.home_pitcher) == (1, "Paul Skenes")


@pytest.mark.django_db
def test_a_started_game_keeps_the_archive_starter_and_only_fills_a_blank(reference):
    scores_ingest(records=scheduled_mlb_board())
    game = Game.objects.get(details__espn__event_id="401696980")
    game.home_pitcher, game.away_pitcher = "CMLODZINSKI-R", ""
    game.save()
    scores_ingest(records=board("mlb_scoreboard_2025.json"))  # now final
    game.refresh_from_db()
    assert (game.status, game.home_pitcher, game.away_pitcher) == ("final", "CMLODZINSKI-R", "Clayton Kershaw")


@pytest.mark.django_db
def test_an_exhibition_opponent_fails_the_pull_until_marked_ignored(reference):
    records = board("nba_scoreboard_2025-10-02_preseason.json")
    with pytest.raises(IngestFailed, match="NBA 'MEL'"):
        scores_ingest(records=records)
    assert Game.objects.count() == 0
    UnresolvedName.objects.filter(name="MEL", source="espn").update(ignore=True)
    summary = scores_ingest(records=records)
    assert (summary.created, summary.skipped) == (1, 1)


@pytest.mark.django_db
def test_injury_report_rows_once(reference):
    report = espn.parse_injuries(json.loads((FIXTURES / "espn_api_derived_injuries_2026-01-20.json").read_text()))
    first = injuries_ingest(records=report.records)
    assert first.created == Injury.objects.count() == 99 and first.unknown_teams == []
    assert Injury.objects.filter(status="out").count() == 77
    again = injuries_ingest(records=report.records)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 99)
