"""``core.urls`` plus the benchmark's trivial view (bench.settings only)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from core.urls import handler500
from core.urls import urlpatterns as site

__all__ = ["handler500", "urlpatterns"]


def trivial(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do: through the same middleware, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/trivial", trivial),
    *cast(list[URLPattern | URLResolver], site),
]
