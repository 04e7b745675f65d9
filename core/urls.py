from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import views

admin.site.site_header = "Sharpline administration"
admin.site.site_title = "Sharpline admin"
admin.site.index_title = "Review and correct data"

urlpatterns = [
    path("health", views.health, name="health"),
    path(f"{settings.ADMIN_URL}providers/", admin.site.admin_view(views.admin_providers), name="admin-providers"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("betting.games.urls")),
]
