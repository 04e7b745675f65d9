"""Log records that say which request or task they came from.

``request_id`` and ``task_id`` live in context variables: the request-id middleware sets the first
for every request, the Celery signals (``core.observe.signals``) set both for every task, the request
id travelling from the request that queued the task in a message header. ``ContextFilter`` copies
them onto each record, so a formatter (plain or JSON) can print them.

No Django import here: the settings call ``logging_config()`` while they load.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
task_id_var: ContextVar[str] = ContextVar("task_id", default="")

# What an incoming X-Request-ID may look like to be reused: a proxy's UUID or similar token,
# nothing that could forge log lines or smuggle markup (newlines, quotes, spaces).
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

LOG_FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s task=%(task_id)s] %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "task_id", "process"]


def request_id_from(header: str | None) -> str:
    """The caller's request id when it looks sane, else a fresh one."""
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``task_id`` ("-" when there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs a 4xx/5xx after the middleware has returned, with the request attached.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None) or "-"
        if not getattr(record, "task_id", None):
            record.task_id = task_id_var.get() or "-"
        return True


def logging_config(*, log_format: str, level: str) -> dict[str, object]:
    """The ``LOGGING`` dict: one console handler, plain text or one JSON object per line."""
    if log_format not in LOG_FORMATS:
        from django.core.exceptions import ImproperlyConfigured  # here only: the module stays free of Django

        raise ImproperlyConfigured(f"Environment variable LOG_FORMAT is malformed: json or plain, got {log_format!r}")
    formatters: dict[str, dict[str, object]] = {
        "plain": {"format": PLAIN_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "core.observe.log.ContextFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
