"""Request id on every request (logs and the ``X-Request-ID`` response header); request metrics.

Neither touches the database, the cache or the session: ``/health`` and ``/ready`` must answer
while those are down.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.observe.log import request_id_from, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Reuses a sane incoming ``X-Request-ID`` (from a proxy) or makes one; tasks queued while
    handling the request carry it on (``core.observe.signals``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class MetricsMiddleware:
    """Request latency by method, route and status (only installed when ``PROMETHEUS_ENABLED``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core.observe import metrics

        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # The route pattern, not the path: /games/123 and /games/456 are one series.
        route = match.route if match is not None else "<unmatched>"
        metrics.observe_request(request.method or "", route, response.status_code, time.perf_counter() - started)
        return response
