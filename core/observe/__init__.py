"""Seeing what runs: request and task ids in logs (``log``), Prometheus metrics (``metrics``),
Sentry (``sentry``), the Celery signal handlers and worker heartbeat (``signals``) and the progress
of long commands (``progress``)."""
