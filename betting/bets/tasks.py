from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from betting.bets.services import bets_settle
from core.jobs import AlreadyRunning, job_run, single_flight


@shared_task(bind=True, name="bets.settle", serializer="json", soft_time_limit=300, time_limit=360, acks_late=True)
def settle(self: Task[Any, Any]) -> dict[str, Any]:
    """Settle finished games' bets (idempotent: a re-delivered run settles nothing twice)."""
    try:
        with single_flight("settle_bets"), job_run("settle_bets", {}, task_id=self.request.id or "") as run:
            summary = bets_settle()
            run.counts = {"settled": summary.settled, **summary.results}
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return {"settled": summary.settled, **summary.results}
