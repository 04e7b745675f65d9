"""Reads for the predictions app: the inputs of the feature frame and the market's view."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import F

from betting.games.models import Game, Injury, League, OddsQuote
from betting.predictions.features import GAME_COLUMNS, Inputs
from betting.predictions.metrics import devig_two_way

PLAYED_OR_PENDING = [Game.Status.SCHEDULED, Game.Status.IN_PROGRESS, Game.Status.FINAL]


def feature_inputs(league: League) -> Inputs:
    """Three queries, whatever the number of games."""
    rows = (
        Game.objects.filter(league=league, status__in=PLAYED_OR_PENDING)
        .order_by("start_time", "id")
        .values_list(*GAME_COLUMNS)
    )
    games = pd.DataFrame.from_records(list(rows), columns=GAME_COLUMNS)
    games["home_score"] = pd.to_numeric(games["home_score"], errors="coerce").astype(float)
    games["away_score"] = pd.to_numeric(games["away_score"], errors="coerce").astype(float)
    games["start_time"] = pd.to_datetime(games["start_time"], utc=True)
    return Inputs(games=games, opening=_opening_lines(league), injuries=_injuries(league))


def _opening_lines(league: League) -> pd.DataFrame:
    """The earliest spread (home side) and total seen before each game, the median across the
    books quoting at that first moment."""
    rows = OddsQuote.objects.filter(
        game__league=league,
        captured_at__lt=F("game__start_time"),
        point__isnull=False,
        market__in=[OddsQuote.Market.SPREADS, OddsQuote.Market.TOTALS],
        outcome__in=[OddsQuote.Outcome.HOME, OddsQuote.Outcome.OVER],
    ).values_list("game_id", "market", "point", "captured_at")
    quotes = pd.DataFrame.from_records(list(rows), columns=["game_id", "market", "point", "captured_at"])
    if quotes.empty:
        return pd.DataFrame(columns=["game_id", "market", "point"])
    quotes["point"] = quotes["point"].astype(float)
    first = quotes.groupby(["game_id", "market"])["captured_at"].transform("min")
    earliest = quotes[quotes["captured_at"] == first]
    return earliest.groupby(["game_id", "market"])["point"].median().reset_index()


def _injuries(league: League) -> pd.DataFrame:
    rows = Injury.objects.filter(team__league=league).values_list("team_id", "player_name", "status", "reported_at")
    frame = pd.DataFrame.from_records(list(rows), columns=["team_id", "player_name", "status", "reported_at"])
    if not frame.empty:
        frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    return frame


def closing_market(league: League) -> pd.DataFrame:
    """The market's last word before each game: de-vigged home win probability (mean over books
    with both moneylines), and the median closing spread (home point) and total, with the
    de-vigged probabilities of the home cover and the over where the books priced them."""
    rows = OddsQuote.objects.filter(game__league=league, captured_at__lt=F("game__start_time")).values_list(
        "game_id", "bookmaker_id", "market", "outcome", "price", "point", "captured_at"
    )
    quotes = pd.DataFrame.from_records(
        list(rows), columns=["game_id", "book", "market", "outcome", "price", "point", "captured_at"]
    )
    result = pd.DataFrame(columns=["home_prob", "spread_home", "spread_home_prob", "total", "over_prob"])
    if quotes.empty:
        return result
    quotes["price"] = pd.to_numeric(quotes["price"], errors="coerce").astype(float)
    quotes["point"] = pd.to_numeric(quotes["point"], errors="coerce").astype(float)
    quotes = quotes.sort_values("captured_at").drop_duplicates(["game_id", "book", "market", "outcome"], keep="last")
    wide = quotes.pivot_table(index=["game_id", "book", "market"], columns="outcome", values=["price", "point"])
    out = {}
    for market, (side_a, side_b), point_side, prob_name, line_name in (
        ("h2h", ("home", "away"), None, "home_prob", None),
        ("spreads", ("home", "away"), "home", "spread_home_prob", "spread_home"),
        ("totals", ("over", "under"), "over", "over_prob", "total"),
    ):
        try:
            part = wide.xs(market, level="market")
        except KeyError:
            continue
        prices = part["price"] if "price" in part else pd.DataFrame(index=part.index)
        if side_a in prices and side_b in prices:
            prob = pd.Series(devig_two_way(prices[side_a], prices[side_b]), index=part.index)
            out[prob_name] = prob.groupby(level="game_id").mean()
        if line_name and point_side and "point" in part and point_side in part["point"]:
            out[line_name] = part["point"][point_side].groupby(level="game_id").median()
    for name, series in out.items():
        result = result.reindex(result.index.union(series.index))
        result[name] = series
    result.index.name = "game_id"
    return result.astype(float).replace([np.inf, -np.inf], np.nan)
