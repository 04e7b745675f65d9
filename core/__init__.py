"""The Django project and the infrastructure every app shares. Knows nothing about sports."""

from __future__ import annotations

from core.celery import app as celery_app

__all__ = ["celery_app"]
