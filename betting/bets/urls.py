from __future__ import annotations

from django.urls import path

from betting.bets import views

app_name = "bets"

urlpatterns = [
    path("", views.today, name="today"),
    path("bets", views.bets, name="bets"),
    path("bets/import", views.bets_import, name="import"),
    path("bets.csv", views.bets_csv, name="bets_csv"),
    path("edges", views.edges, name="edges"),
    path("edges.csv", views.edges_csv, name="edges_csv"),
    path("backtests", views.backtest_list, name="backtests"),
    path("backtests/new", views.backtest_new, name="backtest_new"),
    path("backtests/<int:pk>", views.backtest_detail, name="backtest"),
    path("backtests/<int:pk>/bets.csv", views.backtest_bets_csv, name="backtest_bets_csv"),
    path("backtests/<int:pk>/progress", views.backtest_progress, name="backtest_progress"),
]
