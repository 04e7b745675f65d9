"""Live scores and schedules: one scoreboard pull (ESPN, ``live_records.EventRecord``) in one
transaction: new games, live status, final scores and MLB probable starters.

Games are found by league, local date and teams in one query for the whole pull (the lowest game
number of a doubleheader) and new ones written in one insert. A final score that differs from
another source's is flagged for review, not written over it (``_merge.merge_score``, the archive's
rule too); team names go through the shared resolution step (``teams``). Idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from betting.games.ingest._merge import PLAYING, merge_score
from betting.games.ingest.common import (
    EventPlan,
    LiveIngestSummary,
    games_by_key,
    leagues_by_sport,
    season_of,
    state_of,
)
from betting.games.ingest.teams import TeamNames
from betting.games.models import Game
from betting.games.providers.live_records import EventRecord
from betting.games.providers.records import pitcher_key


@dataclass
class _EventPlan(EventPlan):
    """One event of the board, its teams resolved."""

    record: EventRecord


def scores_ingest(*, records: Iterable[EventRecord], source: str = "espn") -> LiveIngestSummary:
    """Write one scoreboard pull (``live_records.EventRecord``) in one transaction: schedules,
    live status and final scores. A final score that differs from another source's is flagged for
    review, not written over it. Unknown team names fail the pull (see ``odds_ingest``). Idempotent."""
    summary = LiveIngestSummary()
    leagues = leagues_by_sport()
    names = TeamNames(source, unknown_teams=summary.unknown_teams)
    plan: list[_EventPlan] = []
    for record in records:
        summary.records += 1
        league = leagues.get(record.sport_key)
        if league is None or names.ignored(league, record.home, record.away):
            summary.skipped += 1
            continue
        found = names.event(league, record.home, record.away, start=record.start_time, event_id=record.external_id)
        if found is not None:
            plan.append(_EventPlan(league, *found, record))
    names.fail_on_unknown()
    with transaction.atomic():
        games = games_by_key(event.key for event in plan)
        new: list[Game] = []
        for event in plan:
            record = event.record
            status = record.status if record.status in Game.Status.values else Game.Status.SCHEDULED
            game = games.get(event.key)
            if game is None:
                games[event.key] = game = _new_game(event, status, source)
                new.append(game)
                summary.created += 1
            elif _merge_live(game, record, status, source, summary):
                if game.pk is not None:  # one created by this pull (a second event of it) is inserted below
                    game.save()
                summary.updated += 1
            else:
                summary.unchanged += 1
        Game.objects.bulk_create(new, batch_size=500)
    return summary


def _new_game(event: _EventPlan, status: str, source: str) -> Game:
    record, league, day = event.record, event.league, event.day
    playing = status in PLAYING
    return Game(
        league=league,
        season=record.season if record.season is not None else season_of(league, day),
        season_type=record.season_type,
        game_date=day,
        start_time=record.start_time,
        start_time_exact=record.start_time_exact,
        home_team_id=event.home_id,
        away_team_id=event.away_id,
        neutral_site=bool(record.neutral),
        status=status,
        home_score=record.home_score if playing else None,
        away_score=record.away_score if playing else None,
        period_scores=record.period_scores if playing else {},
        score_source=source if status == "final" else "",
        details={source: {"event_id": record.external_id}},
        home_pitcher=record.home_pitcher,
        away_pitcher=record.away_pitcher,
    )


def _merge_live(game: Game, record: EventRecord, status: str, source: str, summary: LiveIngestSummary) -> bool:
    """Bring the board's view of an event into its game; whether anything changed."""
    before = state_of(game, BOARD_FIELDS)
    note = merge_score(
        game,
        source=source,
        status=status,
        home_score=record.home_score,
        away_score=record.away_score,
        periods=record.period_scores,
    )
    if note is not None:
        summary.flagged.append(f"{game}: {note}")
    if record.start_time_exact and not game.is_final:
        game.start_time, game.start_time_exact = record.start_time, True
    if record.season_type and not game.season_type:
        game.season_type = record.season_type
    if game.details.get(source, {}).get("event_id") != record.external_id:
        game.details = {**game.details, source: {**game.details.get(source, {}), "event_id": record.external_id}}
    _merge_probables(game, record, status)
    return state_of(game, BOARD_FIELDS) != before


# What a board may change of a game.
BOARD_FIELDS = (
    "status",
    "home_score",
    "away_score",
    "period_scores",
    "start_time",
    "start_time_exact",
    "season_type",
    "review_note",
    "details",
    "home_pitcher",
    "away_pitcher",
)


def _merge_probables(game: Game, record: EventRecord, status: str) -> None:
    """Before the first pitch the source's probable starter is the game's starter (a change replaces
    it); once the game has started a known starter (an archive's) is kept and only a blank is filled."""
    for side in ("home", "away"):
        probable = record.home_pitcher if side == "home" else record.away_pitcher
        current = getattr(game, f"{side}_pitcher")
        if not probable:
            continue
        if (status == Game.Status.SCHEDULED and pitcher_key(probable) != pitcher_key(current)) or not current:
            setattr(game, f"{side}_pitcher", probable)
