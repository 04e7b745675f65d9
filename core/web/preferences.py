"""The viewer's odds format (American or decimal): ``ODDS_FORMAT`` by default, a choice remembered per
browser in a cookie, set by a plain link to ``/odds-format`` (no script: the CSP forbids inline ones).

The choice reaches every price on the page, including the fragments a view renders with
``render_to_string`` and no request (Today, the game page), through a context variable the middleware
sets for the request: the ``odds`` template filter reads it. A view that caches rendered HTML puts
``odds_format()`` in its cache key. Commands run outside a request and get ``ODDS_FORMAT``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.web.formatting import ODDS_FORMATS

COOKIE = "odds_format"
COOKIE_MAX_AGE = 365 * 24 * 3600
_chosen: ContextVar[str | None] = ContextVar("odds_format", default=None)


def odds_format() -> str:
    """The odds format of the request being served, else ``ODDS_FORMAT``."""
    return _chosen.get() or settings.ODDS_FORMAT


def requested_format(request: HttpRequest) -> str:
    """The browser's remembered choice when it is a known one, else ``ODDS_FORMAT``."""
    chosen = request.COOKIES.get(COOKIE, "")
    return chosen if chosen in ODDS_FORMATS else settings.ODDS_FORMAT


class OddsFormatMiddleware:
    """Serves each request in its browser's odds format; the response varies on the cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _chosen.set(requested_format(request))
        try:
            response = self.get_response(request)
        finally:
            _chosen.reset(token)
        patch_vary_headers(response, ("Cookie",))
        return response


def odds_context(request: HttpRequest) -> dict[str, object]:
    """``odds_format`` and the choices, for the toggle in the page header."""
    return {"odds_format": odds_format(), "odds_formats": ODDS_FORMATS}


@require_GET
@never_cache
def set_odds_format(request: HttpRequest) -> HttpResponse:
    """``/odds-format?odds=decimal&next=/bets``: remember the choice, go back. A GET, so the link works on
    every page, cached ones included (they carry no CSRF token); it changes nothing but this cookie."""
    chosen = request.GET.get("odds", "")
    if chosen not in ODDS_FORMATS:
        return HttpResponseBadRequest(
            f"odds must be one of {', '.join(ODDS_FORMATS)}", content_type="text/plain; charset=utf-8"
        )
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        COOKIE,
        chosen,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
