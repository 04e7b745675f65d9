from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path

from betting.api import views
from betting.api.api import api
from betting.api.errors import error_response


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja answers a method a path does not take with a plain-text 405: make it our JSON error."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            answer = error_response(405, f"{request.method} is not allowed here; allowed: {allowed}")
            answer["Allow"] = allowed
            return answer
        return response

    return wrapped


api_patterns, api_app, api_namespace = api.urls
for pattern in api_patterns:
    if isinstance(pattern, URLPattern):
        pattern.callback = _json_405(pattern.callback)

urlpatterns = [
    path("api/v1/", (api_patterns, api_app, api_namespace)),
    # Anything else under /api/ is a JSON 404, not the HTML page.
    re_path(r"^api/", views.api_not_found),
    path("account/tokens", views.tokens_page, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke_view, name="api-token-revoke"),
]
