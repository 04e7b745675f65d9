"""The Celery application (configuration from Django settings, ``CELERY_*``) and the task options
the apps' tasks share: ``TaskOptions``, ``retrying`` and ``renamed_task``.

Imported while the settings load (``core/__init__.py``): no setting is read at import time."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Concatenate, Literal, ParamSpec, Required, TypedDict, TypeVar

from celery import Celery, Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")

app = Celery("sharpline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request and task ids in task logs, task metrics, the worker heartbeat (signal handlers).
import core.observe.signals  # noqa: E402, F401

P = ParamSpec("P")
R = TypeVar("R")


class RetryOptions(TypedDict):
    """What ``retrying`` returns, for a task to spread into ``shared_task`` beside its own name,
    limits and ``acks_late`` (a TypedDict, so mypy checks every option where it is spread)."""

    bind: Literal[True]
    serializer: str
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool | int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int


class TaskOptions(TypedDict, total=False):
    """A whole set of ``shared_task`` options but the name (every task here is bound)."""

    bind: Required[Literal[True]]
    serializer: str
    acks_late: bool
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool | int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int
    soft_time_limit: int
    time_limit: int


def retrying(*errors: type[BaseException], backoff: bool | int | None = None) -> RetryOptions:
    """Bound, JSON, and retried three times on ``errors`` (by default a database that is down or
    restarting) with exponential backoff from ``backoff`` seconds (TASK_RETRY_BACKOFF unless given;
    ``True`` is one second) up to 600 s, with full jitter."""
    return {
        "bind": True,
        "serializer": "json",
        "autoretry_for": errors or (OperationalError, InterfaceError),
        "retry_backoff": settings.TASK_RETRY_BACKOFF if backoff is None else backoff,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 3,
    }


def renamed_task(
    name: str, *, old: str, soft_time_limit: int, time_limit: int, acks_late: bool = False
) -> Callable[[Callable[Concatenate[Task[P, R], P], R]], Task[P, R]]:
    """A bound JSON task ``name`` that is registered under its ``old`` name too, for one release
    after a rename: messages already queued under the old name still run, as the same code with the
    same options (stored beat rows are renamed by a data migration)."""

    def register(fun: Callable[Concatenate[Task[P, R], P], R]) -> Task[P, R]:
        for each in (old, name):
            task = shared_task(
                name=each,
                bind=True,
                serializer="json",
                soft_time_limit=soft_time_limit,
                time_limit=time_limit,
                acks_late=acks_late,
            )(fun)
        return task

    return register
