"""Beat jobs of core: the health check (every minute) and the nightly backup."""

from __future__ import annotations

import logging
import socket
from typing import Any

from celery import Task, shared_task

from core.health.checks import health_job
from core.observe.log import request_id_var, task_id_var
from core.ops.backup import backup_job
from core.ops.jobs import AlreadyRunning, single_flight

logger = logging.getLogger(__name__)


@shared_task(
    bind=True, name="core.health_check", serializer="json", ignore_result=True, soft_time_limit=40, time_limit=50
)
def health_check(self: Task[Any, Any]) -> dict[str, str | int]:
    """Run the readiness checks, record and alert on changes; the run itself is beat's tick.
    No JobRun: one a minute would drown the real jobs; HealthEvent keeps the changes."""
    try:
        with single_flight("health_check", ttl=55):
            return health_job()
    except AlreadyRunning:
        return {"status": "skipped", "note": "the previous health check is still running"}


@shared_task(bind=True, name="core.backup", serializer="json", soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def backup(self: Task[Any, Any], method: str = "auto") -> dict[str, str | list[str]]:
    """Nightly: dump the database and the model artifacts, keep the newest BACKUP_KEEP."""
    try:
        result = backup_job(method=method, task_id=self.request.id or "")
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return {"path": str(result.path), "method": result.method, "deleted": result.deleted}


@shared_task(bind=True, name="core.ping", serializer="json", soft_time_limit=10, time_limit=15)
def ping(self: Task[Any, Any]) -> dict[str, str]:
    """Diagnostics: which worker ran it and the ids its log lines carry (the task's own id, and the
    request id of the request that queued it)."""
    logger.info("ping")
    return {
        "task_id": task_id_var.get(),
        "request_id": request_id_var.get(),
        "hostname": self.request.hostname or socket.gethostname(),
    }
