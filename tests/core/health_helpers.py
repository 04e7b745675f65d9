"""Shared by the health, status and observability tests: a cache of their own, and check stubs."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

from core.health.checks import CheckResult, health_check

ROOT = Path(__file__).resolve().parents[2]

# Check stubs whose outcome a test sets (HEALTH_CHECKS can name them).
STUB = {"critical_ok": True, "warning_ok": True}


@health_check(name="stub-critical", critical=True)
def stub_critical() -> CheckResult:
    return CheckResult("stub-critical", STUB["critical_ok"], "critical stub")


@health_check(name="stub-warning", critical=False)
def stub_warning() -> list[CheckResult]:
    return [CheckResult("stub-warning", STUB["warning_ok"], "warning stub", {"n": 1})]


@health_check(name="stub-broken", critical=False)
def stub_broken() -> CheckResult:
    raise ZeroDivisionError("division by zero in a check")


@health_check(name="database", critical=True)
def stub_database_down() -> CheckResult:
    return CheckResult("database", False, "OperationalError: connection refused")


@health_check(name="stub-needs-db", critical=False, needs_db=True)
def stub_needs_db() -> CheckResult:
    raise AssertionError("must not run while the database is down")


def isolate_cache(settings):
    """For a fixture (``yield from isolate_cache(settings)``): cache keys (and worker heartbeats) of
    this test only, in Redis or in memory; the /ready report cached in the process is dropped.
    Yields the key prefix."""
    import core.health.checks

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    redis_url = settings.REDIS_URL  # a test may point REDIS_URL at a dead port
    caches = copy.deepcopy(settings.CACHES)
    if settings.REDIS_URL:
        caches["default"]["KEY_PREFIX"] = prefix
    else:
        caches["default"]["LOCATION"] = prefix
    settings.CACHES = caches
    settings.READY_CACHE_SECONDS = 0
    core.health.checks._cached = None
    STUB.update(critical_ok=True, warning_ok=True)
    yield prefix
    core.health.checks._cached = None
    if redis_url:
        from core.http.throttle import redis_client

        client = redis_client(redis_url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def run_django(
    code: str, *, settings_module: str = "core.settings.test", **env: str
) -> subprocess.CompletedProcess[str]:
    """Python code in a fresh process with its own environment (no DATABASE_/REDIS_/CELERY_ from ours)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_"))}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=90, check=False
    )


def aware(**delta: float) -> dt.datetime:
    from django.utils import timezone

    return timezone.now() + dt.timedelta(**delta)
