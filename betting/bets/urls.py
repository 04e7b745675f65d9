from __future__ import annotations

from django.urls import path

from betting.bets import views

app_name = "bets"

urlpatterns = [
    path("", views.today, name="today"),
    path("bets", views.bets, name="bets"),
    path("edges", views.edges, name="edges"),
    path("edges.csv", views.edges_csv, name="edges_csv"),
    path("backtests", views.backtest_list, name="backtests"),
    path("backtests/new", views.backtest_new, name="backtest_new"),
    path("backtests/<int:pk>", views.backtest_detail, name="backtest"),
    path("backtests/<int:pk>/progress", views.backtest_progress, name="backtest_progress"),
]
