"""Pages of the models: one game in depth (``/games/<id>``) and the registry (``/models``)."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from betting.games.models import Game, League, OddsQuote
from betting.predictions import page_data, registry
from betting.predictions.models import ModelVersion
from core.web.pages import anonymous_request, cached, deploy_digest, public_page, staff_action
from core.web.preferences import odds_format

PAGE_MODULES = (
    "betting.predictions.page_data",
    "betting.predictions.views",
    "core.templatetags.pages",
    "core.web.charts",
)


class Fragments(TypedDict):
    """The game page's cached parts: its title, its rendered content, whether it draws charts."""

    title: str
    content: str
    charts: bool


@require_GET
@public_page
def game_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One game in depth: each book's line over time, injuries before the start, the predictions
    and why. Cached, never stale: rendered once per ``page_data.game_fingerprint`` (one query summing
    every row the page reads); an anonymous visitor (no session, nothing pending) gets the whole
    page from the cache, so a view costs that query and one Redis read."""
    figures = page_data.game_fingerprint(pk)
    if figures is None:
        raise Http404("no such game")
    fingerprint = (deploy_digest(*PAGE_MODULES), pk, figures, settings.DISPLAY_TIME_ZONE, odds_format())

    def fragments() -> Fragments:
        game = get_object_or_404(Game.objects.select_related("league", "home_team", "away_team"), pk=pk)
        context = page_data.game_page(game)
        return {
            "title": f"{game.away_team.name} at {game.home_team.name} · Sharpline",
            "content": render_to_string("predictions/game_content.html", context),
            "charts": bool(context["movement"] or context["explanations"]),
        }

    def page() -> HttpResponse:
        parts = cached("game", fingerprint, fragments)
        shown = {**parts, "content": mark_safe(parts["content"])}  # noqa: S308 (our own HTML)  # nosec B308 B703
        return render(request, "predictions/game.html", {"parts": shown})

    # The page reads no parameter, but its shell echoes the address (the sign-in link's next=): only
    # the bare address is cached whole, so a query string cannot make new keys.
    if not anonymous_request(request) or request.META.get("QUERY_STRING"):
        return page()
    return HttpResponse(cached("game-page", fingerprint, lambda: page().content))


@require_GET
@public_page
def models_page(request: HttpRequest) -> HttpResponse:
    return render(request, "predictions/models.html", {"groups": page_data.registry_groups()})


@require_http_methods(["GET", "POST"])
@staff_action
def rollback(request: HttpRequest, league: str, market: str) -> HttpResponse:
    """Staff: make the previous (or a chosen) version active again, after a confirmation page."""
    league_row = League.objects.filter(code=league).first()
    if league_row is None or market not in OddsQuote.Market.values:
        raise Http404("no such league or market")
    versions = ModelVersion.objects.filter(league=league_row, market=market)
    current = versions.filter(is_active=True).first()
    wanted = (request.POST.get("version") or request.GET.get("version") or "").strip()
    if wanted:
        target = versions.filter(version=wanted).first()
    else:
        earlier = versions.filter(activated_at__isnull=False, is_active=False)
        if current is not None and current.activated_at is not None:
            earlier = earlier.filter(activated_at__lt=current.activated_at)
        target = earlier.order_by("-activated_at").first()
    if request.method == "POST":
        try:
            now, previous = registry.rollback(league_row, market, wanted or None)
        except registry.RegistryError as exc:
            messages.error(request, f"Rollback refused: {exc}.")
        else:
            messages.success(request, f"{league} {market}: {now.version} is active again (was {previous or 'none'}).")
        return redirect("predictions:models")
    context = {"league": league_row, "market": market, "current": current, "target": target, "wanted": wanted}
    return render(request, "predictions/rollback.html", context, status=200 if target else 404)
