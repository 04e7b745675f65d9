"""Celery tasks of the games app: thin wrappers over the services and pulls, taking primitives
only and returning a small dict. Provider outages are retried with backoff and jitter; pulls are
idempotent, so a task re-delivered after a lost worker (acks_late) changes nothing twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypedDict

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from betting.games.backfill import BackfillRefused, backfill_run
from betting.games.ingest.archive import history_import_files
from betting.games.pulls import (
    PullError,
    PullResult,
    injuries_pull,
    odds_due,
    odds_pull,
    props_pull,
    reference_sync_job,
    schedule_due,
    scores_due,
    scores_pull,
)
from core.celery import TaskOptions, retrying
from core.http.client import ProviderUnavailable
from core.ops.jobs import AlreadyRunning

# A database that is down or restarting is an outage like a provider's: try again later.
PULL_OPTIONS: TaskOptions = {
    **retrying(ProviderUnavailable, OperationalError, InterfaceError),
    "acks_late": True,
    "soft_time_limit": 240,
    "time_limit": 300,
}


class PullReport(TypedDict, total=False):
    """What a pull task returns: its JobRun, or why it was skipped; ``then``, the task it queued."""

    job_run: int
    status: str
    note: str
    then: str


def _run(pull: Callable[..., PullResult], **kwargs: object) -> PullReport:
    """Run a pull; an overlapping run is skipped (the lock holder does the work)."""
    try:
        result = pull(**kwargs)
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return {"job_run": result.job_run_id, "status": result.status, "note": result.note}


def _day(day: str | None) -> dt.date | None:
    return dt.date.fromisoformat(day) if day else None


def _then(task: Task[Any, Any], result: PullReport, name: str, *args: str) -> PullReport:
    """After a pull that wrote something, queue the next step by task name (games does not import
    bets): recommend after odds, settlement after scores."""
    if result.get("status") in ("success", "partial"):
        task.app.signature(name, args=args).delay()
        result["then"] = name
    return result


@shared_task(name="games.fetch_odds", **PULL_OPTIONS)
def fetch_odds(self: Task[Any, Any], league_code: str, day: str | None = None) -> PullReport:
    result = _run(odds_pull, league_code=league_code, day=_day(day), task_id=self.request.id or "")
    result = _then(self, result, "bets.recommend", league_code)
    _then(self, result.copy(), "bets.alert_edges", league_code)  # a copy: "then" stays the recommendation
    return result


@shared_task(name="games.fetch_props", **PULL_OPTIONS)
def fetch_props(self: Task[Any, Any], league_code: str) -> PullReport:
    """Player props for a league's next games (PROPS_MARKETS, PROPS_MAX_EVENTS_PER_PULL, the quota reserve).
    Not on the beat schedule: each event costs credits, so it runs when asked (or scheduled in the admin)."""
    return _run(props_pull, league_code=league_code, task_id=self.request.id or "")


@shared_task(name="games.fetch_odds_all", bind=True, serializer="json", soft_time_limit=60, time_limit=90)
def fetch_odds_all(self: Task[Any, Any]) -> dict[str, list[str]]:
    """Beat: queue the odds pulls that are due (see ``pulls.odds_due``)."""
    leagues = odds_due(now=timezone.now())
    for code in leagues:
        fetch_odds.delay(code)
    return {"queued": leagues}


@shared_task(name="games.fetch_scores", **PULL_OPTIONS)
def fetch_scores(self: Task[Any, Any], league_code: str, day: str | None = None) -> PullReport:
    result = _run(scores_pull, league_code=league_code, day=_day(day), task_id=self.request.id or "")
    return _then(self, result, "bets.settle_bets")


@shared_task(name="games.fetch_scores_all", bind=True, serializer="json", soft_time_limit=60, time_limit=90)
def fetch_scores_all(self: Task[Any, Any]) -> dict[str, list[str]]:
    """Beat: scoreboards of the leagues with a game on now (see ``pulls.scores_due``)."""
    leagues = scores_due(now=timezone.now())
    for code in leagues:
        fetch_scores.delay(code, timezone.localdate().isoformat())
    return {"queued": leagues}


@shared_task(name="games.refresh_schedule", bind=True, serializer="json", soft_time_limit=60, time_limit=90)
def refresh_schedule(self: Task[Any, Any], days: int = 3) -> dict[str, list[str]]:
    """Beat, daily: today's and the next days' scoreboards for every active league (``pulls.schedule_due``)."""
    queued = []
    for code, day in schedule_due(today=timezone.localdate(), days=days):
        fetch_scores.delay(code, day.isoformat())
        queued.append(f"{code} {day.isoformat()}")
    return {"queued": queued}


@shared_task(name="games.fetch_injuries", **PULL_OPTIONS)
def fetch_injuries(self: Task[Any, Any], league_code: str = "NBA") -> PullReport:
    return _run(injuries_pull, league_code=league_code, task_id=self.request.id or "")


@shared_task(name="games.sync_reference", acks_late=True, soft_time_limit=120, time_limit=180, **retrying())
def sync_reference_task(self: Task[Any, Any], league_codes: list[str] | None = None) -> dict[str, int]:
    return vars(reference_sync_job(league_codes=league_codes, task_id=self.request.id or ""))


# acks_late: a file is imported whole or not at all, and a second import changes nothing.
@shared_task(name="games.import_history", acks_late=True, soft_time_limit=1800, time_limit=2000, **retrying())
def import_history_task(
    self: Task[Any, Any], league_code: str, fmt: str, paths: list[str], season: int | None = None
) -> dict[str, object]:
    result = history_import_files(
        league_code=league_code, fmt=fmt, paths=paths, season=season, task_id=self.request.id or ""
    )
    return {"job_run_id": result.job_run_id, "failures": result.failures, **result.totals()}


# Not acks_late: a backfill runs for hours, past the broker's visibility timeout, and would be
# delivered twice. A lost run is resumed by running it again (finished days are skipped).
@shared_task(name="games.backfill", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300, **retrying())
def backfill_task(
    self: Task[Any, Any],
    league_code: str,
    what: str,
    start: str,
    end: str,
    max_credits: int | None = None,
    dry_run: bool = False,
) -> dict[str, int | str | None]:
    """``manage.py backfill`` as a task: ``what`` is scores, odds or both; dates YYYY-MM-DD."""
    try:
        result = backfill_run(
            league_code=league_code,
            whats=["scores", "odds"] if what == "both" else [what],
            start=dt.date.fromisoformat(start),
            end=dt.date.fromisoformat(end),
            max_credits=max_credits,
            dry_run=dry_run,
            task_id=self.request.id or "",
        )
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    except (BackfillRefused, PullError) as exc:
        return {"status": "refused", "note": str(exc)}
    return {
        "job_run": result.job_run_id,
        "status": result.status,
        "note": result.refused or result.stopped,
        "days_done": result.done,
        "days_failed": len(result.failed),
        "days_left": result.left,
        "credits": result.credits,
        "credits_estimated": result.plan.credits,
    }
