"""The report card: per league and market, the latest successful backtest read the way bettors judge a
model. Walk-forward forecast quality (log loss, Brier, calibration) of the model, the blend and the
market on the same games, and the bets' ROI, yield and CLV by edge bucket with bootstrap intervals and
bet counts. It reads Backtest rows (a bets model), so it lives in bets and shows on /backtests; /models,
in predictions, links to it (predictions may not import bets)."""

from __future__ import annotations

import math
from typing import Any, TypedDict

import numpy as np
from django.db.models import QuerySet

from betting.bets.backtest import bootstrap_ci
from betting.bets.models import Backtest
from core.web import charts

# [low, high) edge at the decision (blended probability minus the price's implied one)
EDGE_BUCKETS: tuple[tuple[float, float, str], ...] = (
    (-math.inf, 0.02, "under 2%"),
    (0.02, 0.04, "2% to 4%"),
    (0.04, 0.07, "4% to 7%"),
    (0.07, math.inf, "7% and more"),
)

Interval = tuple[float, float] | None  # a 95% bootstrap interval, None without enough bets
# One edge bucket's bets, money and CLV (``yield`` is a keyword: the functional form).
EdgeBucket = TypedDict(
    "EdgeBucket",
    {
        "label": str,
        "n": int,
        "wins": int,
        "staked": float,
        "profit": float,
        "roi": float | None,
        "roi_ci": Interval,
        "yield": float | None,
        "yield_ci": Interval,
        "clv": float | None,
        "clv_ci": Interval,
        "n_clv": int,
    },
)
# A backtest's stored bets and forecasts: JSON read back from Backtest.bets and Backtest.summary.
StoredJSON = dict[str, Any]


def edge_buckets(bets: list[StoredJSON], starting_bankroll: float) -> list[EdgeBucket]:
    """Per edge bucket: bets, staked, profit, ROI (profit / starting bankroll) and yield (profit /
    staked) with their 95% bootstrap intervals, and the mean CLV with its interval over the bets that
    have one. An empty bucket is listed with its zero count, so a reader sees where no bet fell."""
    rows: list[EdgeBucket] = []
    for low, high, label in EDGE_BUCKETS:
        chosen = [b for b in bets if low <= float(b.get("edge") or 0.0) < high]
        stakes = np.array([float(b.get("stake") or 0.0) for b in chosen], dtype=float)
        profits = np.array([float(b.get("profit") or 0.0) for b in chosen], dtype=float)
        clvs = np.array([float(b["clv"]) for b in chosen if b.get("clv") is not None], dtype=float)
        staked, profit = float(stakes.sum()), float(profits.sum())
        rows.append(
            {
                "label": label,
                "n": len(chosen),
                "wins": sum(1 for b in chosen if b.get("result") == "win"),
                "staked": round(staked, 2),
                "profit": round(profit, 2),
                "roi": round(profit / starting_bankroll, 6) if chosen and starting_bankroll else None,
                "roi_ci": bootstrap_ci(stakes, profits, starting_bankroll) if starting_bankroll else None,
                "yield": round(profit / staked, 6) if staked else None,
                "yield_ci": bootstrap_ci(stakes, profits),
                "clv": round(float(clvs.mean()), 6) if len(clvs) else None,
                "clv_ci": bootstrap_ci(np.ones(len(clvs)), clvs),
                "n_clv": len(clvs),
            }
        )
    return rows


def _calibration_figure(forecasts: StoredJSON) -> charts.Figure | None:
    """Forecast probability against observed frequency per bin, model, blend and market, beside the diagonal."""
    traces = [charts.line([0, 1], [0, 1], name="Perfect calibration", dash="dot")]
    for name, label in (("model", "Model"), ("blend", "Blend"), ("market", "Market")):
        bins = (forecasts.get(name) or {}).get("reliability") or []
        if bins:
            trace = charts.line(
                [b["mean_prob"] for b in bins], [b["frequency"] for b in bins], name=label, markers=True
            )
            trace["text"] = [f"{b['n']} games" for b in bins]
            trace["hovertemplate"] = f"{label}: forecast %{{x:.0%}}<br>happened %{{y:.0%}}<br>%{{text}}<extra></extra>"
            traces.append(trace)
    if len(traces) == 1:
        return None
    return charts.figure(
        traces,
        x_title="Forecast probability",
        y_title="Observed frequency",
        y_format=".0%",
        height=300,
        extra_layout={"xaxis": {"tickformat": ".0%", "range": [0, 1]}, "yaxis": {"range": [0, 1]}},
    )


def card(bt: Backtest) -> dict[str, object]:
    """One backtest's report card (a successful one: its summary and bets are complete), for the template."""
    forecasts = (bt.summary or {}).get("forecasts") if isinstance(bt.summary, dict) else None
    return {
        "backtest": bt,
        "league": bt.league.code,
        "market": bt.market,
        "market_label": bt.get_market_display(),
        "forecasts": forecasts,
        "scores": [
            {"name": label, **{k: v for k, v in forecasts[name].items() if k != "reliability"}}
            for name, label in (("model", "Model"), ("blend", "Blend"), ("market", "Market"))
            if forecasts and isinstance(forecasts.get(name), dict)
        ],
        "figure_id": f"card-{bt.league.code}-{bt.market}",
        "figure": _calibration_figure(forecasts) if forecasts else None,
        "buckets": edge_buckets(list(bt.bets or []), float(bt.starting_bankroll)),
        "n_bets": len(bt.bets or []),
    }


def report_cards(backtests: QuerySet[Backtest] | None = None) -> list[dict[str, object]]:
    """The report card of the latest successful backtest per league and market, among ``backtests``
    (a queryset: those the viewer may see; default all) (two queries: which rows, then those rows
    with their bets)."""
    latest: dict[tuple[int, str], int] = {}
    for pk, league_id, market in (
        (Backtest.objects.all() if backtests is None else backtests)
        .filter(status=Backtest.Status.SUCCESS)
        .order_by("-finished_at", "-id")
        .values_list("id", "league_id", "market")
    ):
        latest.setdefault((league_id, market), pk)
    rows = Backtest.objects.filter(pk__in=latest.values()).select_related("league")
    return [card(bt) for bt in sorted(rows, key=lambda b: (b.league.code, b.market))]
