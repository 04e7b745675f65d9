"""Data freshness checks for ``core.health.checks`` (named in ``settings.HEALTH_CHECKS``).

Per active league, each a warning:
- ``odds:<league>``: with games still to start in the next 24 hours, the last successful odds
  pull must be younger than ``READY_ODDS_MAX_AGE_MINUTES``;
- ``scores:<league>``: with games on now (started in the last 5 hours, not final), the last
  successful scoreboard pull must be younger than ``READY_SCORES_MAX_AGE_MINUTES``;
- ``injuries:<league>``: for a league whose injury reports are pulled at all and that plays in the
  next 24 hours, the last successful pull must be younger than ``READY_INJURIES_MAX_AGE_MINUTES``.

Four queries whatever the number of leagues and games.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from betting.games.models import Game, League
from betting.games.pulls import leagues_with_games
from core.health.checks import CheckResult, health_check
from core.models import JobRun

PULL_HISTORY_DAYS = 7


class _Pulls(TypedDict):
    last: dt.datetime | None  # the newest successful run in the window
    runs: int  # the runs in the window, whatever their outcome


NO_PULLS: _Pulls = {"last": None, "runs": 0}


def _last_pulls(now: dt.datetime) -> dict[tuple[str, str], _Pulls]:
    """``{(job, league): {"last": newest success or None, "runs": runs in the window}}``."""
    rows = (
        JobRun.objects.filter(
            job__in=["fetch_odds", "fetch_scores", "fetch_injuries"],
            started_at__gte=now - dt.timedelta(days=PULL_HISTORY_DAYS),
        )
        .values("job", "params__league")
        .annotate(last=Max("started_at", filter=Q(status=JobRun.Status.SUCCESS)), runs=Count("id"))
    )
    return {(row["job"], str(row["params__league"])): {"last": row["last"], "runs": row["runs"]} for row in rows}


def _age_result(name: str, what: str, last: dt.datetime | None, now: dt.datetime, limit: int) -> CheckResult:
    if last is None:
        return CheckResult(name, False, f"{what}, and no successful pull in {PULL_HISTORY_DAYS} days")
    minutes = (now - last).total_seconds() / 60
    data = {"last_success": last.isoformat(), "age_minutes": round(minutes, 1), "limit_minutes": limit}
    if minutes > limit:
        return CheckResult(name, False, f"{what}; the last good pull is {minutes:.0f} min old (limit {limit})", data)
    return CheckResult(name, True, f"{what}; last good pull {minutes:.0f} min ago", data)


# (job, check name, the setting of its age limit, what makes it due, what is said when it is not)
_CHECKS = (
    (
        "fetch_odds",
        "odds",
        "READY_ODDS_MAX_AGE_MINUTES",
        "games to start today",
        "no game to start in the next 24 hours",
    ),
    ("fetch_scores", "scores", "READY_SCORES_MAX_AGE_MINUTES", "games on now", "no game on now"),
    (
        "fetch_injuries",
        "injuries",
        "READY_INJURIES_MAX_AGE_MINUTES",
        "games to start today",
        "no game to start in the next 24 hours",
    ),
)


@health_check(name="freshness", critical=False, needs_db=True)
def check_freshness() -> list[CheckResult]:
    now = timezone.now()
    leagues = list(League.objects.filter(active=True).order_by("code").values_list("code", flat=True))
    upcoming = set(leagues_with_games(start=now, end=now + dt.timedelta(hours=24), statuses=[Game.Status.SCHEDULED]))
    playing = set(
        leagues_with_games(
            start=now - dt.timedelta(hours=5), end=now, statuses=[Game.Status.SCHEDULED, Game.Status.IN_PROGRESS]
        )
    )
    due = {"odds": upcoming, "scores": playing, "injuries": upcoming}
    pulls = _last_pulls(now)
    results = []
    for code in leagues:
        for job, kind, setting, what, idle in _CHECKS:
            name, pull = f"{kind}:{code}", pulls.get((job, code), NO_PULLS)
            if kind == "injuries" and not pull["runs"]:
                results.append(CheckResult(name, True, "injury reports are not pulled for this league"))
            elif code in due[kind]:
                results.append(_age_result(name, what, pull["last"], now, int(getattr(settings, setting))))
            else:
                results.append(CheckResult(name, True, idle))
    return results
