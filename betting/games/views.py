from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from betting.games.models import UnresolvedName
from betting.games.selectors import season_overview
from core import http
from core.breaker import BreakerError
from core.models import JobRun


def provider_rows() -> list[dict[str, Any]]:
    """Each provider's circuit breaker and remaining quota, as the shared state holds them."""
    rows = []
    for name in http.providers():
        breaker: str
        try:
            state = http.breaker_state(name)
            breaker, error = str(state.state), state.last_error
        except BreakerError as exc:
            breaker, error = "unknown", str(exc)
        quota = http.quota(name) or {}
        rows.append({"name": name, "breaker": breaker, "last_error": error, "remaining": quota.get("remaining")})
    return rows


def overview(request: HttpRequest) -> HttpResponse:
    """What data Sharpline holds: seasons per league, providers, unknown names, the latest job runs."""
    context = {
        "seasons": season_overview(),
        "providers": provider_rows(),
        "unresolved": UnresolvedName.objects.filter(ignore=False).select_related("league")[:20],
        "runs": JobRun.objects.all()[:10],
    }
    return render(request, "games/overview.html", context)
