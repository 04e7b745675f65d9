from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, cache or broker."""
    return JsonResponse({"status": "ok"})


def provider_status() -> list[dict[str, object]]:
    """Each outbound provider's circuit breaker, rate limit and remaining quota."""
    from django.conf import settings

    from core import http
    from core.breaker import BreakerError

    rows: list[dict[str, object]] = []
    for name in http.providers():
        limits = settings.HTTP_PROVIDERS.get(name, {})
        row: dict[str, object] = {"name": name, "rate": limits.get("rate"), "burst": limits.get("burst")}
        try:
            state = http.breaker_state(name)
            row.update(
                breaker=str(state.state),
                failures=state.failures,
                opened_at=state.opened_at,
                last_error=state.last_error,
            )
        except BreakerError as exc:
            row.update(breaker="unknown", failures=None, opened_at=None, last_error=str(exc))
        row["quota"] = http.quota(name) or {}
        rows.append(row)
    return rows


def admin_providers(request: HttpRequest) -> HttpResponse:
    """Admin page: breakers, limits and quotas of the providers; staff may close a breaker."""
    from django.contrib import admin, messages
    from django.shortcuts import redirect, render

    from core import http
    from core.breaker import get_breaker

    if request.method == "POST":
        provider = request.POST.get("reset", "")
        if provider not in http.providers():
            messages.error(request, f"Unknown provider {provider!r}.")
        else:
            get_breaker().reset(provider)
            messages.success(request, f"The {provider} circuit breaker is closed again.")
        return redirect(request.path)
    context = {**admin.site.each_context(request), "title": "Providers", "providers": provider_status()}
    return render(request, "admin/providers.html", context)
