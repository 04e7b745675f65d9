"""The rule every source's scores go through, archives and live boards alike: the source that gave
a game's final score (or any source, while the game is not final) writes it; another source's
different final score is flagged for review, not written over it."""

from __future__ import annotations

from betting.games.models import Game

PLAYING = (Game.Status.FINAL, Game.Status.IN_PROGRESS)


def merge_score(
    game: Game,
    *,
    source: str,
    status: str,
    home_score: int | None,
    away_score: int | None,
    periods: dict[str, list[int | None]] | None,
) -> str | None:
    """Bring ``source``'s status and score into ``game`` (unsaved). ``periods`` None: the source
    does not say, the game keeps its own. Returns the review note when this flagged a disagreement
    not flagged before, for the caller's report; None otherwise."""
    if not game.is_final or game.score_source in ("", source):
        if status in PLAYING:
            game.home_score, game.away_score = home_score, away_score
            if periods is not None:
                game.period_scores = periods
        game.status = status
        if status == Game.Status.FINAL:
            game.score_source = source
        return None
    if status == Game.Status.FINAL and (game.home_score, game.away_score) != (home_score, away_score):
        note = (
            f"{source} says final {away_score}-{home_score}; kept {game.away_score}-{game.home_score} "
            f"from {game.score_source}"
        )
        if game.flag_for_review(note):
            return note
    return None
