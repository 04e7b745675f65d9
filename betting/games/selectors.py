"""Reads for the games app: team-name resolution and the queries pages and jobs share."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from betting.games.models import League, TeamAlias, normalize_name


class UnknownTeam(LookupError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(reason)


@dataclass(frozen=True)
class _Alias:
    team_id: int
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class TeamResolver:
    """Resolves a team as a source spells it, on a date, through ``TeamAlias``. Never guesses:
    a name nobody registered, or one that fits two teams, raises ``UnknownTeam``."""

    def __init__(self, league: League) -> None:
        self.league = league
        self._aliases: dict[str, list[_Alias]] = defaultdict(list)
        rows = TeamAlias.objects.filter(league=league).values_list(
            "normalized", "team_id", "source", "valid_from", "valid_to"
        )
        for normalized, team_id, source, valid_from, valid_to in rows:
            self._aliases[normalized].append(_Alias(team_id, source, valid_from, valid_to))

    def resolve(self, name: str, *, source: str, on: dt.date) -> int:
        """The id of the team ``name`` meant on ``on`` for ``source``."""
        candidates = [a for a in self._aliases.get(normalize_name(name), []) if a.covers(on)]
        if not candidates:
            raise UnknownTeam(name, f"unknown {self.league.code} team name {name!r} on {on:%Y-%m-%d}")
        own = [a for a in candidates if a.source == source]
        pool = own or [a for a in candidates if a.source == ""]
        teams = {a.team_id for a in pool}
        if len(teams) != 1:
            reason = "is not registered for any source" if not teams else "fits more than one team"
            raise UnknownTeam(
                name, f"{self.league.code} team name {name!r} {reason} on {on:%Y-%m-%d} (source {source})"
            )
        return teams.pop()


@dataclass(frozen=True)
class SeasonRow:
    league: str
    season_label: str
    games: int
    first: dt.date
    last: dt.date
    neutral: int


def season_overview() -> list[SeasonRow]:
    """Games per league and season, newest first: one aggregate query."""
    from django.db.models import Count, Max, Min, Q

    from betting.games.models import Game

    rows = (
        Game.objects.values("league__code", "league__season_spans_years", "season")
        .annotate(
            games=Count("id"),
            first=Min("game_date"),
            last=Max("game_date"),
            neutral=Count("id", filter=Q(neutral_site=True)),
        )
        .order_by("league__code", "-season")
    )
    result = []
    for row in rows:
        spans = row["league__season_spans_years"]
        season = row["season"]
        label = f"{season}-{(season + 1) % 100:02d}" if spans else str(season)
        result.append(SeasonRow(row["league__code"], label, row["games"], row["first"], row["last"], row["neutral"]))
    return result
