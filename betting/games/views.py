from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from betting.games.selectors import season_overview
from core.models import JobRun


def overview(request: HttpRequest) -> HttpResponse:
    """What data Sharpline holds: seasons per league and the latest job runs."""
    context = {
        "seasons": season_overview(),
        "runs": JobRun.objects.all()[:10],
    }
    return render(request, "games/overview.html", context)
