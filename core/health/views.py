from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from core.health.checks import ready_report
from core.http import client as http
from core.http.breaker import BreakerError, get_breaker
from core.models import HealthEvent, JobRun
from core.observe.metrics import authorized
from core.web.cache import mark_degraded
from core.web.pages import public_page

P = ParamSpec("P")


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, cache or broker."""
    return JsonResponse({"status": "ok"})


def provider_status(*, quotas: bool = True) -> list[dict[str, object]]:
    """Each outbound provider's circuit breaker, rate limit and remaining quota (``quotas=False``:
    without the quota, one Redis read less per provider for pages that only show the breakers)."""
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
        row["quota"] = _quota(name) if quotas else {}
        rows.append(row)
    return rows


def _quota(provider: str) -> dict[str, object]:
    """The provider's last known quota, or nothing when the cache cannot be read: the pages that
    show it (/status, /data) must render while Redis is down."""
    try:
        return dict(http.quota(provider) or {})
    except (RedisError, OSError):
        mark_degraded()
        return {}


def admin_providers(request: HttpRequest) -> HttpResponse:
    """Admin page: breakers, limits and quotas of the providers; staff may close a breaker."""
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


# --- Readiness and the status page (core/health/checks.py) ------------------------------------------


@require_GET
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 (status "ok" or "degraded") or 503 (a critical check failed), as JSON. Needs
    nothing but the checks themselves; any of them failing is reported, never raised. Anyone gets
    the status and each check's name and state; what the checks saw (worker host names, raw
    connection errors) only a bearer of METRICS_TOKEN or a staff user, as for /metrics."""
    report = ready_report()
    return JsonResponse(report.as_dict(detail=_may_see_detail(request)), status=report.http_status)


def _may_see_detail(request: HttpRequest) -> bool:
    """The token needs nothing; a staff login needs the session, which cannot be read with the
    database down: then only the token shows the detail."""
    try:
        return authorized(request)
    except DatabaseError:
        return False


def _tolerate_database_down(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """The status page is read when things are broken: with the database down, a signed-in
    visitor's session cannot be loaded, so they see the page as an anonymous visitor would."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            _ = request.user.is_authenticated
        except DatabaseError:
            request.user = AnonymousUser()
        return view(request, *args, **kwargs)

    return wrapper


def _status(request: HttpRequest) -> HttpResponse:
    """The readiness checks for people: infrastructure, providers, freshness, models, job runs,
    recent changes. A bounded number of queries, whatever the number of games or jobs."""
    report = ready_report()
    by_name = {r.name: r for r in report.results}
    infrastructure = [by_name[n] for n in ("database", "cache", "broker", "workers", "beat") if n in by_name]
    freshness = [r for r in report.results if r.name.split(":", 1)[0] in {"odds", "scores", "injuries"}]
    models = [r for r in report.results if r.name.startswith("model:")]
    shown = {r.name for r in (*infrastructure, *freshness, *models)}
    providers = []
    for row in provider_status():
        name = str(row["name"])
        breaker, quota = by_name.get(f"breaker:{name}"), by_name.get(f"quota:{name}")
        shown |= {f"breaker:{name}", f"quota:{name}"}
        entry = row.get("quota")
        remaining = entry.get("remaining") if isinstance(entry, dict) else None
        providers.append({**row, "breaker_check": breaker, "quota_check": quota, "remaining": remaining})
    other = [r for r in report.results if r.name not in shown]
    jobs: list[JobRun] = []
    events: list[HealthEvent] = []
    results: list[object] = []
    database_error = ""
    try:
        latest = JobRun.objects.values("job").annotate(last=Max("pk")).values("last")
        jobs = list(JobRun.objects.filter(pk__in=latest).order_by("job"))
        events = list(HealthEvent.objects.all()[:20])
        if settings.RESULTS_SUMMARY:  # each league's last final result and the gaps (a dotted path)
            results = list(import_string(settings.RESULTS_SUMMARY)())
    except DatabaseError as exc:
        database_error = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    context = {
        "report": report,
        "infrastructure": infrastructure,
        "providers": providers,
        "freshness": freshness,
        "models": models,
        "other": other,
        "workers": (by_name["workers"].data.get("workers", []) if "workers" in by_name else []),
        "jobs": jobs,
        "events": events,
        "results": results,
        "database_error": database_error,
        # Host names, raw connection errors and provider errors: for staff or the metrics token only,
        # as on /ready (the page is public while PUBLIC_PAGES is on).
        "show_detail": _may_see_detail(request),
    }
    return render(request, "core/status.html", context, status=200)


status_page = require_GET(never_cache(_tolerate_database_down(public_page(_status))))
