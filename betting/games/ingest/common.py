"""What the ingest pipelines share besides team names: their errors, the progress protocol, the
season a date belongs to, the batched game lookup and small comparison helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, TypeVar

from django.db import models

from betting.games.models import Game, League
from core.errors import SharplineError

T = TypeVar("T")

# A game's natural key without its doubleheader number: league id, local date, home and away team ids.
GameKey = tuple[int, dt.date, int, int]


class IngestFailed(SharplineError):
    """A pull that cannot be written whole; nothing from it was written."""


class ImportFailed(SharplineError):
    """A file that cannot be imported; nothing from it was written."""


class Progress(Protocol):
    """A progress bar: tqdm fits."""

    def reset(self, total: int | None = None) -> None: ...
    def update(self, n: float | None = 1) -> bool | None: ...
    def close(self) -> None: ...


class PullCounts:
    """``as_counts`` of a pull's summary dataclass, for its JobRun: the counts in the fields' order,
    then the unknown team names (once each, sorted), then at most 100 ``flagged`` lines if it has them."""

    unknown_teams: list[str]

    def as_counts(self) -> dict[str, object]:
        fields = vars(self)
        counts = {k: v for k, v in fields.items() if k not in ("unknown_teams", "flagged")}
        counts["unknown_teams"] = sorted(set(self.unknown_teams))
        if isinstance(flagged := fields.get("flagged"), list):
            counts["flagged"] = flagged[:100]
        return counts


@dataclass
class LiveIngestSummary(PullCounts):
    """What a scoreboard or injury report pull did."""

    records: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown_teams: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)


@dataclass
class EventPlan:
    """One event of a pull, its teams resolved: the key of its game."""

    league: League
    home_id: int
    away_id: int
    day: dt.date  # the league's local date of the start

    @property
    def key(self) -> GameKey:
        return (self.league.pk, self.day, self.home_id, self.away_id)


def leagues_by_sport() -> dict[str, League]:
    """Every league by its sport key, the key a live source names it by."""
    return {league.sport_key: league for league in League.objects.all()}


def state_of(obj: models.Model, fields: tuple[str, ...]) -> tuple[object, ...]:
    """The values of ``fields`` on ``obj``: compared before and after a merge, whether it changed."""
    return tuple(getattr(obj, name) for name in fields)


def season_of(league: League, day: dt.date) -> int:
    """The season a date belongs to: NBA games from August on open the next season."""
    if league.season_spans_years:
        return day.year if day.month >= 8 else day.year - 1
    return day.year


def games_by_key(keys: Iterable[GameKey]) -> dict[GameKey, Game]:
    """The existing game of each key (the lowest game number of a doubleheader): one query for a
    whole pull, however many events it holds."""
    keys = set(keys)
    found: dict[GameKey, Game] = {}
    if not keys:
        return found
    candidates = Game.objects.filter(
        league_id__in={key[0] for key in keys},
        game_date__in={key[1] for key in keys},
        home_team_id__in={key[2] for key in keys},
    ).order_by("-game_number")
    for game in candidates:
        key = (game.league_id, game.game_date, game.home_team_id, game.away_team_id)
        if key in keys:
            found[key] = game  # the lowest number comes last and stays
    return found


def apply_changes(obj: models.Model, values: Mapping[str, object]) -> bool:
    """Set the fields that differ and save once; whether anything changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save()
    return bool(changed)


def same_number(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(a) == Decimal(b)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
