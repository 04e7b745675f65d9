"""How old a prediction's inputs are, and whether they are too old to bet on. Pure: no Django.

Two inputs age: the model (the last game it was trained on) and each team's last final result
(what Elo, form and rest are computed from). Each is measured in calendar days before the game and
judged against its limit:

- same season as the game: stale past ``limit`` days;
- an earlier season: stale past ``limit + offseason`` days, because the months without games are
  not missing data (the first games of a season are priced from last season's). Only one
  off-season is ever allowed, so inputs two or more seasons old are stale with any sane limits
  (2018 inputs pricing a 2023 game: 1,650 days against 14 + 190);
- nothing at all (a team with no final result on record): stale, there is nothing to price from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

REASON_MAX_LENGTH = 300


@dataclass(frozen=True)
class Limits:
    model_days: int
    feature_days: int
    offseason_days: int


@dataclass(frozen=True)
class AsOf:
    """The date an input was last brought up to (a game's local date) and that game's season."""

    date: dt.date | None
    season: int | None


def input_reason(
    *,
    what: str,
    as_of: AsOf,
    game_date: dt.date,
    game_season: int,
    limit: int,
    offseason: int,
    season_label: Callable[[int], str] = str,
    short: bool = False,
) -> str:
    """Why one input is too old for a game, in words; empty when it is fresh enough.

    ``what`` names the input as the start of a sentence ("model last trained on games up to",
    "BOS last result"); the date, the age and the limit follow (``short``: fewer words, so three
    reasons fit the 300 characters of ``Prediction.stale_reason``).
    """
    if as_of.date is None:
        return f"{what}: none on record"
    days = (game_date - as_of.date).days
    head = f"{what} {as_of.date:%Y-%m-%d}, {days:,} days" + ("" if short else " before this game")
    if as_of.season is None or as_of.season >= game_season:  # season unknown: no off-season allowance
        return "" if days <= limit else f"{head} (limit {limit})"
    allowed = limit + offseason  # one off-season at most, however many seasons lie between
    if days <= allowed:
        return ""
    skipped = as_of.season < game_season - 1
    label = season_label(as_of.season)
    season = (f", from {label}" if short else f", from the {label} season") if skipped else ""
    return f"{head} (limit {limit} + off-season {offseason}{season})"


def staleness(
    *,
    game_date: dt.date,
    game_season: int,
    model: AsOf,
    home: AsOf,
    away: AsOf,
    home_name: str,
    away_name: str,
    limits: Limits,
    season_label: Callable[[int], str] = str,
) -> tuple[dict[str, object], str]:
    """The as-of facts of one game's inputs (for ``Prediction.inputs``) and the stale reason
    (empty when every input is fresh enough; several reasons are joined with "; ")."""
    facts: dict[str, object] = {
        "model_trained_until": model.date.isoformat() if model.date else None,
        "model_age_days": _age(model, game_date),
        "home_last_result": home.date.isoformat() if home.date else None,
        "home_last_result_days": _age(home, game_date),
        "away_last_result": away.date.isoformat() if away.date else None,
        "away_last_result_days": _age(away, game_date),
    }

    def judge(what: str, as_of: AsOf, limit: int, short: bool = False) -> str:
        return input_reason(
            what=what,
            as_of=as_of,
            game_date=game_date,
            game_season=game_season,
            limit=limit,
            offseason=limits.offseason_days,
            season_label=season_label,
            short=short,
        )

    reasons = [
        judge("model last trained on games up to", model, limits.model_days),
        judge(f"{home_name} last result", home, limits.feature_days, short=True),
        judge(f"{away_name} last result", away, limits.feature_days, short=True),
    ]
    reason = "; ".join(r for r in reasons if r)
    if len(reason) > REASON_MAX_LENGTH:
        reason = reason[: REASON_MAX_LENGTH - 1] + "…"
    return facts, reason


def _age(as_of: AsOf, game_date: dt.date) -> int | None:
    return None if as_of.date is None else (game_date - as_of.date).days
