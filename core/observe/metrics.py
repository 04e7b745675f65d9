"""Prometheus metrics (``PROMETHEUS_ENABLED``): request latency, task counts and durations,
provider errors, remaining provider quota. Served at ``/metrics`` to a bearer of ``METRICS_TOKEN``
or a staff user.

prometheus-client alone, not django-prometheus: four series need no database wrappers or model
mixins. Processes: with one process (runserver, one gunicorn worker) the counts are in memory.
With several gunicorn workers each holds its own, and a scrape reaches one at random; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (emptied at every start) and every process on the
host writes its counts there and a scrape adds them all up, Celery workers on the same host
included. Workers on other hosts or containers without that folder are not counted by this
endpoint. The quota gauge is read from the shared cache at scrape time, so it is exact anywhere.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse

from core.http import quota

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0)


def enabled() -> bool:
    return bool(settings.PROMETHEUS_ENABLED)


def _multiprocess_env() -> None:
    """prometheus-client reads the folder from the environment when it is first imported: set it
    before any import of it."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", settings.PROMETHEUS_MULTIPROC_DIR)


class _Metrics:
    def __init__(self) -> None:
        _multiprocess_env()
        from prometheus_client import Counter, Histogram  # only now: after _multiprocess_env()

        self.requests: Histogram = Histogram(
            "sharpline_http_request_duration_seconds",
            "Time to answer a request, by method, route and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
        )
        self.tasks: Counter = Counter(
            "sharpline_celery_tasks", "Celery tasks that finished, by task and state.", ["task", "state"]
        )
        self.task_seconds: Histogram = Histogram(
            "sharpline_celery_task_duration_seconds", "Time a Celery task ran, by task.", ["task"], buckets=TASK_BUCKETS
        )
        self.provider_errors: Counter = Counter(
            "sharpline_provider_errors", "Failed provider calls, by provider and kind.", ["provider", "kind"]
        )
        self.cache_errors: Counter = Counter(
            "sharpline_cache_errors",
            "Page cache operations answered as a miss (nothing stored) as the cache failed, by cache and operation.",
            ["cache", "operation"],
        )
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import REGISTRY  # after _multiprocess_env(), as above

            REGISTRY.register(QuotaCollector())


@lru_cache(maxsize=1)
def _metrics() -> _Metrics:
    return _Metrics()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    if enabled():
        _metrics().requests.labels(method, route, str(status)).observe(seconds)


def observe_task(task: str, state: str, seconds: float | None) -> None:
    if enabled():
        _metrics().tasks.labels(task, state).inc()
        if seconds is not None:
            _metrics().task_seconds.labels(task).observe(seconds)


def count_provider_error(provider: str, kind: str) -> None:
    if enabled():
        _metrics().provider_errors.labels(provider, kind).inc()


def count_cache_error(cache: str, operation: str) -> None:
    if enabled():
        _metrics().cache_errors.labels(cache, operation).inc()


class QuotaCollector:
    """``sharpline_provider_quota_remaining``, read from the shared cache when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily  # after _metrics() set the folder up

        family = GaugeMetricFamily(
            "sharpline_provider_quota_remaining", "Requests left in the provider's quota.", labels=["provider"]
        )
        for provider in quota.providers():
            try:
                entry = quota.quota(provider) or {}
            except (redis.RedisError, OSError):  # a scrape must not fail because the cache is down
                entry = {}
            remaining = entry.get("remaining")
            if isinstance(remaining, int | float):
                family.add_metric([provider], float(remaining))
        yield family


def registry() -> CollectorRegistry:
    """What a scrape sees: every process's counts (multiprocess) or this one's, plus the quota."""
    _metrics()  # first: it sets the multiprocess folder up before prometheus-client is imported
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    scrape = CollectorRegistry()
    multiprocess.MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
    scrape.register(QuotaCollector())
    return scrape


def authorized(request: HttpRequest) -> bool:
    """A bearer of ``METRICS_TOKEN`` or an active staff user: who may read /metrics and /ready's detail."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    _multiprocess_env()
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # after _multiprocess_env()

    if not enabled():
        return HttpResponseNotFound("metrics are off (PROMETHEUS_ENABLED)", content_type="text/plain")
    if not authorized(request):
        response = JsonResponse({"error": "a bearer token (METRICS_TOKEN) or a staff login is required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
