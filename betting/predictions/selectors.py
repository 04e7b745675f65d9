"""Reads for the predictions app: the inputs of the feature frame and the market's view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
from django.db import connections
from django.db.models import F, Model, QuerySet

from betting.games import market
from betting.games.models import Game, Injury, League, OddsQuote
from betting.games.providers.records import pitcher_key
from betting.games.selectors import of_games
from betting.predictions.features import GAME_COLUMNS, Inputs
from betting.predictions.models import Prediction

PLAYED_OR_PENDING = [Game.Status.SCHEDULED, Game.Status.IN_PROGRESS, Game.Status.FINAL]


def _frame(
    rows: QuerySet[Model, tuple[object, ...]], columns: list[str], times: tuple[str, ...] = ("captured_at",)
) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a frame, read with the queryset's own SQL but without
    the ORM's per-value converters (hundreds of thousands of quotes: the converters were most of a
    walk-forward's set-up); ``times`` become UTC timestamps, numbers stay as the database gives them."""
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    for name in times:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def feature_inputs(league: League) -> Inputs:
    """Four queries, whatever the number of games."""
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


# An opening price is one seen at least this long before the start. The archives store a closing
# moneyline five minutes before the start (and NBA archives no opening one): without this rule the
# "opening" moneyline of an NBA archive game would be its closing price, information a bettor
# predicting in the morning does not have.
OPENING_MIN_LEAD = dt.timedelta(minutes=60)


def _opening_lines(league: League) -> pd.DataFrame:
    """The earliest spread (home side) and total seen before each game, the median across the
    books quoting at that first moment; and the opening de-vigged home win probability (market
    ``h2h``, ``point`` holding the probability) from the earliest two-way moneyline pairs quoted at
    least OPENING_MIN_LEAD before the start."""
    rows = OddsQuote.objects.filter(
        game__league=league,
        captured_at__lt=F("game__start_time"),
        point__isnull=False,
        market__in=[OddsQuote.Market.SPREADS, OddsQuote.Market.TOTALS],
        outcome__in=[OddsQuote.Outcome.HOME, OddsQuote.Outcome.OVER],
    ).values_list("game_id", "market", "point", "captured_at")
    quotes = _frame(rows, ["game_id", "market", "point", "captured_at"])
    parts = []
    if not quotes.empty:
        quotes["point"] = quotes["point"].astype(float)
        first = quotes.groupby(["game_id", "market"])["captured_at"].transform("min")
        earliest = quotes[quotes["captured_at"] == first]
        parts.append(earliest.groupby(["game_id", "market"])["point"].median().reset_index())
    opening_h2h = _opening_moneyline(league)
    if len(opening_h2h):
        parts.append(opening_h2h)
    if not parts:
        return pd.DataFrame(columns=["game_id", "market", "point"])
    return pd.concat(parts, ignore_index=True)


def _opening_moneyline(league: League) -> pd.DataFrame:
    rows = OddsQuote.objects.filter(
        game__league=league,
        market=OddsQuote.Market.H2H,
        captured_at__lte=F("game__start_time") - OPENING_MIN_LEAD,
    ).values_list("game_id", "bookmaker_id", "outcome", "price", "captured_at")
    quotes = _frame(rows, ["game_id", "book", "outcome", "price", "captured_at"])
    if quotes.empty:
        return pd.DataFrame(columns=["game_id", "market", "point"])
    quotes["price"] = pd.to_numeric(quotes["price"], errors="coerce").astype(float)
    wide = quotes.pivot_table(index=["game_id", "book", "captured_at"], columns="outcome", values="price")
    if "home" not in wide or "away" not in wide:
        return pd.DataFrame(columns=["game_id", "market", "point"])
    # games.market: the sane pairs de-vigged by DEVIG_METHOD (corrupt pairs say nothing)
    wide["point"] = market.pair_probabilities("h2h", wide["home"], wide["away"])
    wide = wide.dropna(subset=["point"]).reset_index()
    if wide.empty:
        return pd.DataFrame(columns=["game_id", "market", "point"])
    wide = wide[wide["captured_at"] == wide.groupby("game_id")["captured_at"].transform("min")]
    opening = wide.groupby("game_id")["point"].mean().reset_index()
    opening["market"] = "h2h"
    return opening[["game_id", "market", "point"]]


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
    quotes = _frame(rows, ["game_id", "book", "market", "outcome", "price", "point", "captured_at"])
    result = pd.DataFrame(columns=["home_prob", "spread_home", "spread_home_prob", "total", "over_prob"])
    if quotes.empty:
        return result
    quotes["price"] = pd.to_numeric(quotes["price"], errors="coerce").astype(float)
    quotes["point"] = pd.to_numeric(quotes["point"], errors="coerce").astype(float)
    quotes = market.latest_rows(quotes, ["game_id", "book", "market", "outcome"])
    wide = quotes.pivot_table(index=["game_id", "book", "market"], columns="outcome", values=["price", "point"])
    out = {}
    for name, (side_a, side_b), point_side, prob_name, line_name in (
        ("h2h", ("home", "away"), None, "home_prob", None),
        ("spreads", ("home", "away"), "home", "spread_home_prob", "spread_home"),
        ("totals", ("over", "under"), "over", "over_prob", "total"),
    ):
        try:
            part = wide.xs(name, level="market")
        except KeyError:
            continue
        prices = part["price"] if "price" in part else pd.DataFrame(index=part.index)
        if side_a in prices and side_b in prices:
            # games.market: sane pairs on one line (a spread's two sides at +x/-x), de-vigged by DEVIG_METHOD
            points = part["point"] if "point" in part else pd.DataFrame(index=part.index)
            line_a, line_b = points.get(side_a, np.nan), points.get(side_b, np.nan)
            probs = market.pair_probabilities(name, prices[side_a], prices[side_b], line_a, line_b)
            out[prob_name] = pd.Series(probs, index=part.index).groupby(level="game_id").mean()
        if line_name and point_side and "point" in part and point_side in part["point"]:
            out[line_name] = part["point"][point_side].groupby(level="game_id").median()
    for name, series in out.items():
        result = result.reindex(result.index.union(series.index))
        result[name] = series
    result.index.name = "game_id"
    return result.astype(float).replace([np.inf, -np.inf], np.nan)


# --- Starting pitchers: what a prediction assumed, and whether it still holds ---------------------

PITCHER_LEAGUES = frozenset({"MLB"})


def starters_assumed(game: Game) -> dict[str, str]:
    """The starters a prediction of ``game`` is made with, for its ``inputs`` (MLB; {} elsewhere)."""
    if game.league.code not in PITCHER_LEAGUES:
        return {}
    return {"home_pitcher": game.home_pitcher, "away_pitcher": game.away_pitcher}


def starter_flag(*, game: Game, inputs: Mapping[str, object] | None) -> str:
    """Why the starters make a prediction of ``game`` doubtful, in words; "" when they are as assumed.

    Changed (the prediction's ``inputs`` name another starter, or none where one is now known; compared
    through ``pitcher_key`` so ``JLESTER-L`` and ``Jon Lester`` are one man):
    ``starter changed since the prediction: X -> Y``. Otherwise a side with no starter now: ``home starter
    unknown``. "" outside MLB, and for a prediction older than the starters in its inputs (nothing to compare)
    whose starters are known. A changed starter means no stake (``starter_changed``)."""
    if game.league.code not in PITCHER_LEAGUES:
        return ""
    changed = starter_changed(game=game, inputs=inputs)
    if changed:
        return changed
    unknown = [side for side in ("away", "home") if not getattr(game, f"{side}_pitcher")]
    if unknown:
        return " and ".join(unknown) + f" starter{'s' if len(unknown) > 1 else ''} unknown"
    return ""


def starter_changed(*, game: Game, inputs: Mapping[str, object] | None) -> str:
    """``starter changed since the prediction: X -> Y`` (both sides when both changed), or ""."""
    if game.league.code not in PITCHER_LEAGUES or not inputs:
        return ""
    changes = []
    for side in ("away", "home"):
        field = f"{side}_pitcher"
        if field not in inputs:
            continue
        before, now = str(inputs[field] or ""), getattr(game, field)
        if pitcher_key(before) != pitcher_key(now):
            changes.append(f"{before or 'unknown'} -> {now or 'unknown'}")
    return f"starter changed since the prediction: {'; '.join(changes)}" if changes else ""


def predictions_filtered(
    *,
    game_id: int | None = None,
    league: str | None = None,
    market: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    active_only: bool = False,
) -> QuerySet[Prediction]:
    """Predictions by game, league code, market and the game's local date; ``active_only`` keeps those
    of the active model versions. Newest first, with game, teams and model version loaded."""
    rows = of_games(
        Prediction.objects.select_related(
            "game__league", "game__home_team", "game__away_team", "model_version"
        ).order_by("-created_at", "-id"),
        game="game__",
        league=league,
        date_from=date_from,
        date_to=date_to,
    )
    if game_id is not None:
        rows = rows.filter(game_id=game_id)
    if market:
        rows = rows.filter(market=market)
    if active_only:
        rows = rows.filter(model_version__is_active=True)
    return rows
