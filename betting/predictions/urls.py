from __future__ import annotations

from django.urls import path

from betting.predictions import views

app_name = "predictions"

urlpatterns = [
    path("games/<int:pk>", views.game_detail, name="game"),
    path("models", views.models_page, name="models"),
    path("models/<str:league>/<str:market>/rollback", views.rollback, name="rollback"),
]
