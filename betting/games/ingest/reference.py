"""Reference data: the bundled leagues, teams and aliases (``games/reference/*.csv``) into the
database. Adds and corrects rows, never deletes (aliases added in the admin survive); a second run
changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from betting.games.ingest.common import apply_changes
from betting.games.models import League, Team, TeamAlias, normalize_name

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


@dataclass
class ReferenceSummary:
    leagues: int = 0
    teams_created: int = 0
    teams_updated: int = 0
    aliases_created: int = 0
    aliases_updated: int = 0


def _read_reference(name: str) -> list[dict[str, str]]:
    path = REFERENCE_DIR / name
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _optional_date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@transaction.atomic
def reference_sync(*, league_codes: Iterable[str] | None = None) -> ReferenceSummary:
    """Load the bundled leagues, teams and aliases (``games/reference/``). Adds and corrects
    rows; never deletes, so aliases added in the admin survive."""
    wanted = {c.upper() for c in league_codes} if league_codes else None
    summary = ReferenceSummary()
    for spec in _read_reference("leagues.csv"):
        code = spec["code"].upper()
        if wanted is not None and code not in wanted:
            continue
        league, _ = League.objects.get_or_create(
            code=code, defaults={"name": spec["name"], "sport_key": spec["sport_key"]}
        )
        apply_changes(
            league,
            {
                "name": spec["name"],
                "sport_key": spec["sport_key"],
                "time_zone": spec["time_zone"],
                "default_start_time": dt.time.fromisoformat(spec["default_start_time"]),
                "season_spans_years": spec["season_spans_years"].lower() == "true",
            },
        )
        summary.leagues += 1
        teams = _sync_teams(league, summary)
        _sync_aliases(league, teams, summary)
    return summary


def _sync_teams(league: League, summary: ReferenceSummary) -> dict[str, Team]:
    teams = {t.abbreviation: t for t in Team.objects.filter(league=league)}
    for row in _read_reference(f"{league.code.lower()}_teams.csv"):
        values = {
            "name": row["name"],
            "city": row["city"],
            "nickname": row["nickname"],
            "external_id": row["external_id"],
        }
        team = teams.get(row["abbreviation"])
        if team is None:
            teams[row["abbreviation"]] = Team.objects.create(league=league, abbreviation=row["abbreviation"], **values)
            summary.teams_created += 1
        elif apply_changes(team, values):
            summary.teams_updated += 1
    return teams


def _sync_aliases(league: League, teams: dict[str, Team], summary: ReferenceSummary) -> None:
    existing = {(a.normalized, a.source, a.team_id): a for a in TeamAlias.objects.filter(league=league)}
    for row in _read_reference(f"{league.code.lower()}_aliases.csv"):
        team = teams[row["team"]]
        values: dict[str, object] = {
            "name": row["alias"],
            "valid_from": _optional_date(row["valid_from"]),
            "valid_to": _optional_date(row["valid_to"]),
            "note": row["note"],
        }
        alias = existing.get((normalize_name(row["alias"]), row["source"], team.id))
        if alias is None:
            alias = TeamAlias.objects.create(league=league, team=team, source=row["source"], **values)
            existing[(alias.normalized, alias.source, team.id)] = alias
            summary.aliases_created += 1
        elif apply_changes(alias, values):
            summary.aliases_updated += 1


# --- Archive import ----------------------------------------------------------------------------
