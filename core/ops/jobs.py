"""Recording jobs: ``with job_run("import_history", params) as run:`` leaves a ``JobRun`` row.

The row is written outside any transaction the job opens, so a failed job that rolled its
own writes back is still on record with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.core.cache import cache
from django.utils import timezone

from core.errors import SharplineError
from core.models import JobRun


@contextmanager
def job_run(job: str, params: Mapping[str, object] | None = None, *, task_id: str = "") -> Iterator[JobRun]:
    """Record a job. Set ``run.counts`` as it goes; set ``run.status``/``run.error`` to report
    a partial failure. An exception marks the run failed with its message, then propagates."""
    if task_id:
        # A run of this very task still "running" was cut off (its worker died) and the broker
        # delivered the task again: put the lost run on record as such.
        JobRun.objects.filter(job=job, task_id=task_id, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.FAILED,
            finished_at=timezone.now(),
            error="worker lost before the job finished; the task was re-delivered and ran again",
        )
    run = JobRun.objects.create(job=job, params=params or {}, task_id=task_id or "")
    try:
        yield run
    except BaseException as exc:
        run.finish(status=JobRun.Status.FAILED, counts=run.counts, error=f"{type(exc).__name__}: {exc}")
        raise
    status = run.status if run.status != JobRun.Status.RUNNING else JobRun.Status.SUCCESS
    run.finish(status=status, counts=run.counts, error=run.error)


class AlreadyRunning(SharplineError):
    """Another run of the same job holds its lock."""


@contextmanager
def single_flight(name: str, *, ttl: int = 900, owner: str = "") -> Iterator[None]:
    """Hold a lock so a periodic job never overlaps itself across workers (``cache.add`` is
    atomic in Redis and in-process). The lock expires after ``ttl`` seconds if a worker dies.

    ``owner`` (a Celery task id) lets the same task, delivered again after its worker died while
    holding the lock, take the lock over instead of being skipped as "already running" (which
    would lose the work until the lock expired)."""
    key = f"lock:{name}"
    token = owner or uuid.uuid4().hex
    if not cache.add(key, token, ttl):
        if not owner or cache.get(key) != owner:
            raise AlreadyRunning(f"{name} is already running")
        cache.set(key, token, ttl)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)
