from __future__ import annotations

from django.urls import path

from betting.games import views

app_name = "games"

urlpatterns = [
    path("data", views.overview, name="data"),
]
