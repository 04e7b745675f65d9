"""Sentry, only when ``SENTRY_DSN`` is set (the settings import this module and call ``sentry_init``
only then, so the SDK stays out of every other process).

The Django and Celery integrations are enabled explicitly; no personal data (user, IP, cookies)
is sent, and the request id and task id ride along as tags so an event can be found in the logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from core.observe.log import request_id_var, task_id_var

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint


def _tag_context(event: Event, hint: Hint) -> Event:
    tags = event.setdefault("tags", {})
    if request_id_var.get():
        tags.setdefault("request_id", request_id_var.get())
    if task_id_var.get():
        tags.setdefault("task_id", task_id_var.get())
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_tag_context,
    )
