"""The one final-score rule both the archive import and the live scoreboard go through
(``betting/games/ingest/_merge.py``): the score's own source writes, another source's different
final score is flagged, not written."""

from __future__ import annotations

from betting.games.ingest import archive, scores
from betting.games.ingest._merge import merge_score
from betting.games.models import Game


def final(source: str, home: int, away: int) -> Game:
    return Game(status="final", score_source=source, home_score=home, away_score=away, period_scores={})


def test_another_source_final_score_is_flagged_not_written():
    game = final("sbr", 100, 99)
    note = merge_score(game, source="espn", status="final", home_score=101, away_score=99, periods={"home": [1]})
    assert (game.home_score, game.away_score, game.score_source, game.period_scores) == (100, 99, "sbr", {})
    assert note == "espn says final 99-101; kept 99-100 from sbr" and game.needs_review
    # the same disagreement twice is one note
    assert merge_score(game, source="espn", status="final", home_score=101, away_score=99, periods=None) is None
    assert game.review_note == note


def test_the_own_source_corrects_and_a_game_not_final_takes_any_source():
    game = final("sbr", 100, 99)
    assert merge_score(game, source="sbr", status="final", home_score=101, away_score=99, periods=None) is None
    assert (game.home_score, game.score_source, game.needs_review) == (101, "sbr", False)
    live = Game(status="in_progress", score_source="", home_score=50, away_score=48, period_scores={})
    merge_score(live, source="espn", status="final", home_score=90, away_score=88, periods={"home": [90]})
    assert (live.status, live.home_score, live.score_source, live.period_scores) == (
        "final",
        90,
        "espn",
        {"home": [90]},
    )


def test_a_live_score_is_no_disagreement_with_a_final_one():
    game = final("sbr", 100, 99)
    assert merge_score(game, source="espn", status="in_progress", home_score=92, away_score=87, periods={}) is None
    assert (game.status, game.home_score, game.needs_review) == ("final", 100, False)


def test_both_pipelines_use_it():
    assert archive.merge_score is merge_score and scores.merge_score is merge_score
