"""Celery tasks of the games app: thin wrappers over the services, taking primitives only."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from betting.games.services import history_import_files, reference_sync
from core.jobs import job_run


@shared_task(bind=True, name="games.sync_reference", serializer="json", soft_time_limit=120, time_limit=180)
def sync_reference_task(self: Task[Any, Any], league_codes: list[str] | None = None) -> dict[str, int]:
    with job_run("sync_teams", {"leagues": league_codes or "all"}, task_id=self.request.id or "") as run:
        summary = reference_sync(league_codes=league_codes)
        run.counts = vars(summary)
    return vars(summary)


@shared_task(bind=True, name="games.import_history", serializer="json", soft_time_limit=1800, time_limit=2000)
def import_history_task(
    self: Task[Any, Any], league_code: str, fmt: str, paths: list[str], season: int | None = None
) -> dict[str, Any]:
    result = history_import_files(
        league_code=league_code, fmt=fmt, paths=paths, season=season, task_id=self.request.id or ""
    )
    return {"job_run_id": result.job_run_id, "failures": result.failures, **result.totals()}
