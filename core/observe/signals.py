"""Celery signal handlers: ids in task logs, task metrics, and the worker heartbeat.

- ``before_task_publish`` puts the current request id (or, inside a task, the request id that task
  carries) into the message headers; ``task_prerun`` restores it and sets the task id, so every log
  line of a task names both; ``task_postrun`` clears them. In eager mode nothing is published: the
  task runs inside the request and keeps its request id.
- ``setup_logging``: the worker and beat use Django's ``LOGGING`` (JSON in production) instead of
  Celery's own format.
- The heartbeat: a daemon thread in each worker's main process writes ``{hostname: {at, queues,
  pid}}`` into a Redis hash every ``HEARTBEAT_SECONDS``; ``core.health.checks.check_workers`` reads it.
  A thread, not a timer in the consumer loop, so a worker busy with a long task (``--pool solo``,
  a 30-minute retrain) still counts as live.

Imported by ``core.celery`` while the settings load: no Django model or setting is touched at
import time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from logging.config import dictConfig
from typing import Any

import redis
from celery import Task, signals
from django.conf import settings

from core.http.throttle import redis_client
from core.observe import metrics
from core.observe.log import request_id_var, task_id_var

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
REQUEST_ID_HEADER = "request_id"
# Where a task's context tokens and start time wait on its request (Celery's Context has no slot of ours).
SAVED_ATTR = "_sharpline"


@signals.setup_logging.connect
def _use_django_logging(loglevel: int | str | None = None, **kwargs: object) -> None:
    """Django's handlers and formats; the level a worker or beat is started with (``--loglevel``)."""
    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@signals.before_task_publish.connect
def _send_request_id(headers: dict[str, object] | None = None, **kwargs: object) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def _task_started(task_id: str = "", task: Task[Any, Any] | None = None, **kwargs: object) -> None:
    if task is None:
        return
    request_id = getattr(task.request, REQUEST_ID_HEADER, None)
    if not request_id and getattr(task.request, "is_eager", False):
        request_id = request_id_var.get()  # eager: the caller's request, still in this context
    saved = (request_id_var.set(request_id or ""), task_id_var.set(task_id or ""), time.perf_counter())
    setattr(task.request, SAVED_ATTR, saved)


@signals.task_postrun.connect
def _task_finished(task: Task[Any, Any] | None = None, state: str | None = None, **kwargs: object) -> None:
    saved = getattr(getattr(task, "request", None), SAVED_ATTR, None)
    if task is None or saved is None:
        return
    request_token, task_token, started = saved
    setattr(task.request, SAVED_ATTR, None)
    task_id_var.reset(task_token)
    request_id_var.reset(request_token)
    metrics.observe_task(task.name, state or "UNKNOWN", time.perf_counter() - started)


# --- Worker heartbeat ---------------------------------------------------------------------------


def heartbeat_key() -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "sharpline"
    return f"{prefix}:health:workers"


class Heartbeat:
    """Writes this worker's heartbeat until stopped; Redis errors are logged, never raised."""

    def __init__(self, hostname: str, queues: list[str], *, interval: float = HEARTBEAT_SECONDS) -> None:
        self.hostname = hostname
        self.queues = queues
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sharpline-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def beat(self) -> None:
        value = json.dumps({"at": time.time(), "queues": self.queues, "pid": os.getpid()})
        try:
            redis_client(settings.REDIS_URL).hset(heartbeat_key(), self.hostname, value)
        except redis.RedisError as exc:
            logger.warning("worker heartbeat not written: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        try:
            redis_client(settings.REDIS_URL).hdel(heartbeat_key(), self.hostname)
        except redis.RedisError as exc:
            logger.warning("worker heartbeat not removed: %s", exc)


_heartbeat: Heartbeat | None = None


@signals.worker_ready.connect
def _start_heartbeat(sender: Any = None, **kwargs: object) -> None:  # noqa: ANN401 (Consumer is unstubbed)
    """``sender``: the worker's consumer (``celery.worker.consumer.Consumer``, which celery-types leaves
    unstubbed): its host name and the queues it consumes."""
    global _heartbeat
    if not settings.REDIS_URL or sender is None:
        return
    queues = sorted(sender.app.amqp.queues.consume_from or {})
    _heartbeat = Heartbeat(sender.hostname, queues)
    _heartbeat.start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**kwargs: object) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
