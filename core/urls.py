from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.health import views
from core.observe import metrics
from core.ops import endpoints as ops
from core.web import preferences

admin.site.site_header = "Sharpline administration"
admin.site.site_title = "Sharpline admin"
admin.site.index_title = "Review and correct data"

urlpatterns = [
    path("health", views.health, name="health"),
    path("ready", views.ready, name="ready"),
    path("status", views.status_page, name="status"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("odds-format", preferences.set_odds_format, name="odds-format"),
    path(f"{settings.ADMIN_URL}providers/", admin.site.admin_view(views.admin_providers), name="admin-providers"),
    # Before the admin's own URLs: its login, rate limited (core/ops/endpoints.py).
    path(f"{settings.ADMIN_URL}login/", ops.admin_login, name="admin-login"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("ops/pipeline/run", ops.pipeline_run, name="ops-pipeline-run"),
    path("ops/kill-switch", ops.kill_switch, name="ops-kill-switch"),
    path(
        "accounts/login/",
        ops.login_rate_limited(auth_views.LoginView.as_view(), template="core/login_rate_limited.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("betting.games.urls")),
    path("", include("betting.predictions.urls")),
    path("", include("betting.bets.urls")),
    path("", include("betting.api.urls")),  # /api/v1/ and /account/tokens
]

# Pages: 404.html, 403.html, 400.html are rendered by Django's own handlers; the 500 page by one
# that needs no database (it may be what failed).
handler500 = "core.web.pages.server_error"
