from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from betting.games.models import UnresolvedName
from betting.games.selectors import results_by_league, season_overview
from core.health.views import provider_status
from core.models import JobRun
from core.web.pages import public_page


@require_GET
@public_page
def overview(request: HttpRequest) -> HttpResponse:
    """What data Sharpline holds (``/data``): seasons per league, providers, unknown names, the latest job runs."""
    context = {
        "seasons": season_overview(),
        "results": results_by_league(),
        "providers": provider_status(),
        "unresolved": UnresolvedName.objects.filter(ignore=False).select_related("league")[:20],
        "runs": JobRun.objects.all()[:10],
    }
    return render(request, "games/overview.html", context)
