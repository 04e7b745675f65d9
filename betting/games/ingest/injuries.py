"""Injury reports: one pull (ESPN, CBS; ``live_records.InjuryRecord``) in one transaction.

A status is a row per (team, player, source, reported_at); the same report twice changes nothing.
Team names go through the shared resolution step (``teams``): the source's abbreviation first,
then its name; an unknown team fails the pull.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from betting.games.ingest.common import LiveIngestSummary, apply_changes
from betting.games.ingest.teams import TeamNames
from betting.games.models import Injury, League
from betting.games.providers.live_records import InjuryRecord


@dataclass(frozen=True)
class _InjuryPlan:
    team_id: int
    record: InjuryRecord


def injuries_ingest(
    *, records: Iterable[InjuryRecord], league_code: str = "NBA", source: str = "espn"
) -> LiveIngestSummary:
    """Write one injury report pull (``live_records.InjuryRecord``) in one transaction. A status
    is a row per (team, player, source, reported_at); the same report twice changes nothing.
    Unknown team names fail the pull (see ``odds_ingest``)."""
    summary = LiveIngestSummary()
    league = League.objects.get(code=league_code.upper())
    names = TeamNames(source, unknown_teams=summary.unknown_teams)
    plan: list[_InjuryPlan] = []
    for record in records:
        summary.records += 1
        spellings = [n for n in (record.team_abbreviation, record.team) if n]
        if names.ignored(league, *spellings):
            summary.skipped += 1
            continue
        team_id = names.first_of(
            league, spellings, on=record.reported_at.date(), where=f"injury report of {record.player_name}"
        )
        if team_id is not None:
            plan.append(_InjuryPlan(team_id, record))
    names.fail_on_unknown()
    with transaction.atomic():
        for item in plan:
            record = item.record
            values = {
                "player_external_id": record.player_external_id,
                "position": record.position[:10],
                "status": record.status,
                "status_raw": record.status_raw[:50],
                "detail": record.detail[:300],
            }
            injury, created = Injury.objects.get_or_create(
                team_id=item.team_id,
                player_name=record.player_name,
                source=source,
                reported_at=record.reported_at,
                defaults=values,
            )
            if created:
                summary.created += 1
            elif apply_changes(injury, values):
                summary.updated += 1
            else:
                summary.unchanged += 1
    return summary
