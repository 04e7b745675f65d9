from __future__ import annotations

from django.apps import AppConfig

from core.celery import app


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Sharpline core"

    def ready(self) -> None:
        # Register every app's tasks now, so a task queued by name (an odds pull queues
        # "bets.recommend") resolves in any process. In eager mode an unregistered name would go
        # to the in-memory broker and silently never run.
        app.autodiscover_tasks(force=True)
