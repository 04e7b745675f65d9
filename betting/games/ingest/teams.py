"""The one team-resolution step of every pipeline: a team as a source spells it becomes a team id
through ``TeamAlias`` (``selectors.TeamResolver``), never by a guess.

The live pulls (odds, scores, injuries) collect every name no alias explains, record each under
``UnresolvedName`` (outside the pull's transaction, so the admin shows them) and fail the whole pull
(``IngestFailed``); names marked ignored there skip their events. An archive import stops at its
first unknown name with the row and column (``archive``), since a file is imported whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from functools import cached_property

from django.db.models import F
from django.utils import timezone

from betting.games.ingest.common import IngestFailed
from betting.games.models import League, UnresolvedName
from betting.games.selectors import TeamResolver, UnknownTeam


class TeamNames:
    """The team names of one pull from one source: one resolver (one alias query) per league,
    the ignored names read once, and the unknown names gathered for ``fail_on_unknown``."""

    def __init__(self, source: str, *, unknown_teams: list[str] | None = None) -> None:
        self.source = source
        # Every unknown name as met (a summary's ``unknown_teams``), and per league one example each.
        self.unknown_teams: list[str] = unknown_teams if unknown_teams is not None else []
        self.unknown: dict[League, dict[str, str]] = {}
        self._resolvers: dict[int, TeamResolver] = {}

    def resolver(self, league: League) -> TeamResolver:
        if league.pk not in self._resolvers:
            self._resolvers[league.pk] = TeamResolver(league)
        return self._resolvers[league.pk]

    @cached_property
    def _ignored(self) -> dict[int, set[str]]:
        ignored: dict[int, set[str]] = {}
        rows = UnresolvedName.objects.filter(source=self.source, ignore=True).values_list("league_id", "name")
        for league_id, name in rows:
            ignored.setdefault(league_id, set()).add(name)
        return ignored

    def ignored(self, league: League, *names: str) -> bool:
        """Whether one of ``names`` is marked ignored for ``league`` (not a team of it)."""
        return bool(set(names) & self._ignored.get(league.pk, set()))

    def pair(self, league: League, home: str, away: str, *, on: dt.date, where: str) -> tuple[int, int] | None:
        """Home and away team ids of an event, or None with every unknown name noted."""
        ids = []
        for name in (home, away):
            try:
                ids.append(self.resolver(league).resolve(name, source=self.source, on=on))
            except UnknownTeam:
                self._note(league, name, where)
        return (ids[0], ids[1]) if len(ids) == 2 else None

    def event(
        self, league: League, home: str, away: str, *, start: dt.datetime, event_id: str
    ) -> tuple[int, int, dt.date] | None:
        """Home and away team ids of an event and the league's local date of its start, or None with
        every unknown name noted."""
        day = start.astimezone(zoneinfo.ZoneInfo(league.time_zone)).date()
        ids = self.pair(league, home, away, on=day, where=f"event {event_id} on {day}")
        return None if ids is None else (*ids, day)

    def first_of(self, league: League, names: Sequence[str], *, on: dt.date, where: str) -> int | None:
        """The team the first resolvable of ``names`` (one team's abbreviation, then its name) means,
        or None with the first name noted."""
        for name in names:
            try:
                return self.resolver(league).resolve(name, source=self.source, on=on)
            except UnknownTeam:
                continue
        self._note(league, names[0] if names else "", where)
        return None

    def _note(self, league: League, name: str, where: str) -> None:
        self.unknown_teams.append(name)
        self.unknown.setdefault(league, {})[name] = where

    def fail_on_unknown(self) -> None:
        """Record every unknown name (outside the pull's transaction, so they stay visible), then fail."""
        if not self.unknown:
            return
        names = []
        for league, unknown in self.unknown.items():
            for name, example in unknown.items():
                unresolved_name_record(league=league, source=self.source, name=name, example=example)
                names.append(f"{league.code} {name!r} ({example})")
        raise IngestFailed(
            f"unknown team name(s) from {self.source}: {', '.join(sorted(names))}; nothing from this pull was "
            "written. Add a TeamAlias (admin, Team aliases), or mark the name ignored under Unresolved names if "
            "it is not a team of the league (an exhibition opponent), then replay the pull."
        )


def unresolved_name_record(*, league: League, source: str, name: str, example: str) -> None:
    """Keep an unknown team name visible in the admin (never guessed, never silently dropped)."""
    now = timezone.now()
    updated = UnresolvedName.objects.filter(league=league, source=source, name=name).update(
        occurrences=F("occurrences") + 1, last_seen=now, example=example[:300]
    )
    if not updated:
        UnresolvedName.objects.create(league=league, source=source, name=name, last_seen=now, example=example[:300])
