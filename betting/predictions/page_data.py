"""Reads behind the game and models pages: odds movement, injuries before the start, predictions
with their explanations, and the registry with each version's scores beside Elo and the market."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db.models import Count, Max, Q

from betting.games import market as mkt
from betting.games.devig import Price
from betting.games.models import Game, Injury, League, OddsQuote, Team
from betting.games.selectors import PropLine, props_latest
from betting.predictions import selectors
from betting.predictions.features import INJURY_DAYS
from betting.predictions.models import ModelVersion, Prediction
from core.web import charts
from core.web.formatting import format_line
from core.web.pages import Aggregates, cached, scalars

FEATURE_LABELS = {
    "elo_diff": "Elo difference (home minus away, home advantage included)",
    "elo_prob": "Elo's home win probability",
    "home_rest": "home team's days of rest",
    "away_rest": "away team's days of rest",
    "home_b2b": "home team on a back-to-back",
    "away_b2b": "away team on a back-to-back",
    "away_road_streak": "away team's road trip length",
    "neutral": "neutral site",
    "season_progress": "share of the season played",
    "postseason": "postseason game",
    "home_out": "home players reported out",
    "away_out": "away players reported out",
    "open_spread_home": "opening spread (home)",
    "open_total": "opening total",
    "home_sp_rest": "home starter's days since his last start",
    "away_sp_rest": "away starter's days since his last start",
    "sp_quality_diff": "starters' runs allowed, away minus home (recent starts, shrunk to the league)",
    "sp_adj_diff": "starting-pitcher adjustment, home minus away (Elo points)",
}
for _w in (5, 10, 20):
    FEATURE_LABELS[f"form_margin_diff_{_w}"] = f"form: margin difference over the last {_w} games"
    FEATURE_LABELS[f"form_win_diff_{_w}"] = f"form: win-rate difference over the last {_w} games"

# What a contribution moves, per market (XGBoost pred_contribs: log-odds for h2h, points otherwise).
TARGET = {
    "h2h": ("the home team's win chance", "log-odds"),
    "spreads": ("the expected home margin", "points"),
    "totals": ("the expected total", "points"),
}
CHART_SIDE = {"h2h": "home", "spreads": "home", "totals": "over"}
Y_TITLE = {"h2h": "Home price (decimal)", "spreads": "Home spread (points)", "totals": "Total (points)"}


def feature_label(name: str) -> str:
    return FEATURE_LABELS.get(name, name.replace("_", " "))


def short_label(name: str) -> str:
    """A chart axis label: the words before any parenthesis."""
    return feature_label(name).split(" (")[0]


# --- Game -------------------------------------------------------------------------------------------


@dataclass
class Explanation:
    prediction: Prediction
    sentences: list[str]
    figure: charts.Figure | None

    @property
    def figure_id(self) -> str:
        return f"why-{self.prediction.market}-chart"


class OddsChart(TypedDict):
    """One market's chart: every book's line over time."""

    market: str
    id: str
    label: str
    books: int
    figure: charts.Figure


class BookLine(TypedDict):
    """One book's opening and closing quote of one market."""

    market: str  # its label
    book: str
    market_key: str
    opening: OddsQuote
    opened_at: dt.datetime
    closing: OddsQuote
    closed_at: dt.datetime
    moves: int


class CloseRow(TypedDict):
    """One side's last word before the start: the best price and the de-vigged consensus."""

    market: str  # its label
    side: str
    best_price: Price | None
    best_book: str
    fair_probability: float
    fair_price: float
    books: int


class GamePage(TypedDict):
    game: Game
    season_label: str
    movement: list[OddsChart]
    openings: list[BookLine]
    market_close: list[CloseRow]
    props: list[PropLine]
    injuries: list[Injury]
    injury_days: int
    predictions: list[Prediction]
    explanations: list[Explanation]
    starter_flag: str


def odds_movement(game: Game) -> tuple[list[OddsChart], list[BookLine]]:
    """Per market, a chart of every book's line over time, opening to closing (quotes before the
    start), and a table of each book's opening and closing quote."""
    charted = Q()
    for market, side in CHART_SIDE.items():  # only the charted side of each market is read
        charted |= Q(market=market, outcome=side)
    quotes = (
        OddsQuote.objects.filter(charted, game=game, captured_at__lt=game.start_time)
        .select_related("bookmaker")
        .order_by("captured_at", "id")
    )
    by_market: dict[str, dict[str, list[OddsQuote]]] = defaultdict(lambda: defaultdict(list))
    for quote in quotes:
        by_market[quote.market][quote.bookmaker.title].append(quote)
    chart_list: list[OddsChart] = []
    table: list[BookLine] = []
    for market, label in OddsQuote.Market.choices:
        books = by_market.get(market)
        if not books:
            continue
        traces = []
        for book, series in sorted(books.items()):
            values = [_chart_value(market, q) for q in series]
            if all(v is None for v in values):
                continue
            traces.append(
                charts.line([q.captured_at.isoformat() for q in series], values, name=book, step=True, markers=True)
            )
            table.append(
                BookLine(
                    market=label,
                    book=book,
                    market_key=market,
                    opening=series[0],
                    opened_at=series[0].captured_at,
                    closing=series[-1],
                    closed_at=series[-1].captured_at,
                    moves=len(series) - 1,
                )
            )
        if traces:
            chart_list.append(
                OddsChart(
                    market=market,
                    id=f"odds-{market}",
                    label=label,
                    books=len(traces),
                    figure=charts.figure(traces, y_title=Y_TITLE[market], x_type="date", height=340),
                )
            )
    return chart_list, table


def market_close(game: Game) -> list[CloseRow]:
    """The market's last word before the start, read by `games.market` as settlement and the features
    read it: per market and side, at the line most books quote two-way, the best price and its book
    and the de-vigged consensus (DEVIG_METHOD, sane pairs only) with the number of books behind it."""
    by_market: dict[str, list[mkt.Quote[dt.datetime, int, OddsQuote]]] = defaultdict(list)
    for quote in (
        OddsQuote.objects.filter(game=game, captured_at__lt=game.start_time)
        .select_related("bookmaker")
        .order_by("captured_at", "id")
    ):
        by_market[quote.market].append(
            mkt.Quote(quote.captured_at, quote.bookmaker_id, quote.outcome, quote.price, quote.point, quote)
        )
    teams = {"home": game.home_team.abbreviation, "away": game.away_team.abbreviation}
    rows: list[CloseRow] = []
    for market, label in OddsQuote.Market.choices:
        standing = mkt.standing(by_market.get(market, []), before=game.start_time)
        chosen: dict[str, tuple[Price | None, list[tuple[Price, Price]]]] = {}  # side -> (line, sane pairs)
        for outcome, point in dict.fromkeys((q.outcome, q.point) for q in standing.values()):
            pairs = mkt.sane_only(mkt.two_way_pairs(standing, market, outcome, point))
            if pairs and (outcome not in chosen or len(pairs) > len(chosen[outcome][1])):
                chosen[outcome] = (point, pairs)
        for outcome, (point, pairs) in chosen.items():
            best = mkt.best_price(standing, market, outcome, point)
            fair = mkt.consensus_probability(pairs)
            if best is None or fair is None:
                continue
            line = "" if market == "h2h" or point is None else f" {format_line(point, market)}"
            rows.append(
                CloseRow(
                    market=label,
                    side=f"{teams.get(outcome, outcome.capitalize())}{line}",
                    best_price=best.price,
                    best_book=best.ref.bookmaker.title,
                    fair_probability=fair,
                    fair_price=mkt.closing_price(fair),
                    books=len(pairs),
                )
            )
    return rows


def _chart_value(market: str, quote: OddsQuote) -> float | None:
    value = quote.price if market == "h2h" else quote.point
    return None if value is None else float(value)


def injuries_before(game: Game) -> list[Injury]:
    """Each player's latest report in the INJURY_DAYS before the start (what the features read), both teams."""
    since = game.start_time - dt.timedelta(days=INJURY_DAYS)
    reports = (
        Injury.objects.filter(
            team_id__in=[game.home_team_id, game.away_team_id],
            reported_at__gte=since,
            reported_at__lt=game.start_time,
        )
        .select_related("team")
        .order_by("-reported_at", "player_name")
    )
    seen: set[tuple[int, str]] = set()
    latest = []
    for report in reports:
        key = (report.team_id, report.player_name)
        if key not in seen:
            seen.add(key)
            latest.append(report)
    return sorted(latest, key=lambda r: (r.team.name, r.player_name))


def predictions_of(game: Game) -> tuple[list[Prediction], list[Explanation]]:
    """Every prediction made for the game (newest first) and, per market, the newest one's
    explanation in words and as a bar chart."""
    rows = list(
        Prediction.objects.filter(game=game).select_related("model_version").order_by("-created_at", "market", "id")
    )
    explanations = []
    done: set[str] = set()
    for prediction in rows:
        if prediction.market in done or prediction.outcome != CHART_SIDE.get(prediction.market):
            continue
        done.add(prediction.market)
        explanations.append(explain(game, prediction))
    order = {m: i for i, m in enumerate(CHART_SIDE)}
    explanations.sort(key=lambda e: order.get(e.prediction.market, 9))
    return rows, explanations


def explain(game: Game, prediction: Prediction) -> Explanation:
    items = [i for i in prediction.explanation or [] if isinstance(i, dict) and "feature" in i]
    target, unit = TARGET.get(prediction.market, ("the forecast", "units"))
    sentences = []
    for item in items:
        contribution = float(item.get("contribution") or 0)
        value = item.get("value")
        shown = "unknown" if value is None else f"{value:g}"
        verb = "raised" if contribution > 0 else "lowered" if contribution < 0 else "did not move"
        amount = f" by {abs(contribution):.3g} {unit}" if contribution else ""
        sentences.append(f"{feature_label(str(item['feature'])).capitalize()} ({shown}) {verb} {target}{amount}.")
    figure = None
    if items:
        ordered = list(reversed(items))  # largest at the top of a horizontal bar chart
        figure = charts.figure(
            [
                charts.bars(
                    [float(i.get("contribution") or 0) for i in ordered],
                    [short_label(str(i["feature"])) for i in ordered],
                    horizontal=True,
                    colors=["#0072B2" if float(i.get("contribution") or 0) >= 0 else "#D55E00" for i in ordered],
                )
            ],
            x_title=f"Contribution to {target} ({unit})",
            height=80 + 44 * len(items),
            extra_layout={"showlegend": False, "yaxis": {"automargin": True}},
        )
    return Explanation(prediction=prediction, sentences=sentences, figure=figure)


def game_fingerprint(pk: int) -> dict[str, str | None] | None:
    """A cheap summary of every row the game page reads, in one query (a handful of indexed
    aggregates in one round trip; None when there is no such game): the game as it stands (start,
    status, score, teams, last update), its quotes (only ever appended: count and sum of ids),
    its predictions (rewritten in place by update_or_create: probabilities weighted by id and
    lines summed too), the injury reports of both teams before the start, the active model
    versions (the "active" badges), and the teams and leagues (names on the page). A new odds
    pull, prediction, report or promotion changes it, so a cached page is never served stale."""
    game, quote, made = Game._meta.db_table, OddsQuote._meta.db_table, Prediction._meta.db_table
    # Table names from the models, every value a parameter.
    teams = f"SELECT home_team_id FROM {game} WHERE id = %s UNION SELECT away_team_id FROM {game} WHERE id = %s"  # noqa: S608  # nosec B608
    parts: list[Aggregates] = [
        (
            {
                "games": "COUNT(*)",
                "updated": "MAX(updated_at)",
                "start": "MAX(start_time)",
                "status": "MAX(status)",
                "home_score": "MAX(home_score)",
                "away_score": "MAX(away_score)",
                "teams": "MAX(home_team_id * 100000 + away_team_id)",
            },
            f"FROM {game} WHERE id = %s",
            [pk],
        ),
        ({"quotes": "COUNT(*)", "quote_ids": "SUM(id)"}, f"FROM {quote} WHERE game_id = %s", [pk]),
        (
            {
                "predictions": "COUNT(*)",
                "prediction_ids": "SUM(id)",
                "prediction_sum": "SUM(probability * id)",
                "prediction_points": "SUM(point)",
                "prediction_stale": "SUM(LENGTH(stale_reason) * id)",
            },
            f"FROM {made} WHERE game_id = %s",
            [pk],
        ),
        (
            {"injuries": "COUNT(*)", "injury_last": "MAX(id)", "injury_updated": "MAX(updated_at)"},
            f"FROM {Injury._meta.db_table} WHERE team_id IN ({teams}) "  # noqa: S608  # nosec B608
            f"AND reported_at < (SELECT start_time FROM {game} WHERE id = %s)",
            [pk, pk, pk],
        ),
        (
            {"active": "SUM(id)", "activated": "MAX(activated_at)"},
            f"FROM {ModelVersion._meta.db_table} WHERE is_active = %s",
            [True],
        ),
        ({"team_rows": "COUNT(*)", "team_updated": "MAX(updated_at)"}, f"FROM {Team._meta.db_table}", []),
        ({"league_rows": "COUNT(*)", "league_updated": "MAX(updated_at)"}, f"FROM {League._meta.db_table}", []),
    ]
    figures = scalars(parts)
    return figures if int(figures["games"] or 0) else None


def game_page(game: Game) -> GamePage:
    """Everything the game page shows, computed (the view caches it)."""
    movement, openings = odds_movement(game)
    predictions, explanations = predictions_of(game)
    return GamePage(
        game=game,
        season_label=game.league.season_label(game.season),
        movement=movement,
        openings=openings,
        market_close=market_close(game),
        props=props_latest(game=game),
        injuries=injuries_before(game),
        injury_days=INJURY_DAYS,
        predictions=predictions,
        explanations=explanations,
        starter_flag=selectors.starter_flag(game=game, inputs=predictions[0].inputs if predictions else None),
    )


# --- Models -------------------------------------------------------------------------------------------


def registry_fingerprint() -> dict[str, object]:
    return ModelVersion.objects.aggregate(
        n=Count("id"),
        last=Max("id"),
        activated=Max("activated_at"),
        active=Count("id", filter=Q(is_active=True)),
        rejected=Count("id", filter=Q(status=ModelVersion.Status.REJECTED)),
    )


# A registry group (league and market) and its version rows, for the template: model fields beside
# JSON read back from ModelVersion.metrics and .params.
Group = dict[str, Any]


def registry_groups() -> list[Group]:
    """Per league and market: the versions with their scores beside Elo and the market, the active
    one and why, whether a rollback is possible, and the active model's reliability chart. Cached;
    the key follows the registry rows (a training, promotion or rollback shows at once)."""
    return list(cached("models", registry_fingerprint(), _registry_groups))


def _score(block: object, name: str) -> dict[str, Any] | None:  # JSON read back from ModelVersion.metrics
    if not isinstance(block, dict):
        return None
    value = block.get(name)
    return value if isinstance(value, dict) else None


def _registry_groups() -> list[Group]:
    versions = list(
        ModelVersion.objects.select_related("league", "parent").order_by("league__code", "market", "-version")
    )
    groups: dict[tuple[str, str], Group] = {}
    for v in versions:
        key = (v.league.code, v.market)
        group = groups.setdefault(
            key,
            {
                "league": v.league.code,
                "market": v.market,
                "market_label": dict(OddsQuote.Market.choices).get(v.market, v.market),
                "versions": [],
                "active": None,
                "can_roll_back": False,
            },
        )
        validation = (v.metrics or {}).get("validation") if isinstance(v.metrics, dict) else None
        row = {
            "version": v.version,
            "kind": v.get_kind_display(),
            "status": v.status,
            "status_label": v.get_status_display(),
            "is_active": v.is_active,
            "forecast_only": bool((v.params or {}).get("forecast_only")) and not v.is_active,
            "created_at": v.created_at,
            "activated_at": v.activated_at,
            "trained_until": v.trained_until,
            "n_train": v.n_train,
            "parent": v.parent.version if v.parent else "",
            "note": v.note,
            "n_games": validation.get("n_games") if isinstance(validation, dict) else None,
            "model": _score(validation, "model"),
            "elo": _score(validation, "elo"),
            "baseline": _score(validation, "baseline"),
            "market_score": _score(validation, "market"),
            "family": (v.params or {}).get("family", ""),
            "why": (v.params or {}).get("why", ""),
            "blend": (v.params or {}).get("blend") if isinstance((v.params or {}).get("blend"), dict) else None,
            "holdout": _score((v.metrics or {}).get("candidate_on_holdout"), "model")
            if isinstance(v.metrics, dict)
            else None,
        }
        group["versions"].append(row)
        if row["forecast_only"] and "forecast" not in group:
            group["forecast"] = row  # the newest: the market's line, shown as a forecast, never staked
        if v.is_active:
            group["active"] = row
            group["reliability"] = _reliability_figure(validation)
    for group in groups.values():
        group["newest"] = group["versions"][0] if group["versions"] else None
        active = group["active"]
        earlier = [
            r
            for r in group["versions"]
            if r["activated_at"] is not None
            and not r["is_active"]
            and (active is None or active["activated_at"] is None or r["activated_at"] < active["activated_at"])
        ]
        group["can_roll_back"] = bool(earlier)
        group["rollback_target"] = max(earlier, key=lambda r: r["activated_at"])["version"] if earlier else ""
    return list(groups.values())


def _reliability_figure(validation: object) -> charts.Figure | None:
    """Forecast probability against observed frequency per bin, with the diagonal of perfect calibration."""
    bins = validation.get("reliability") if isinstance(validation, dict) else None
    if not isinstance(bins, list):
        return None
    points = [b for b in bins if isinstance(b, dict) and b.get("n") and b.get("mean_prob") is not None]
    if not points:
        return None
    model = charts.line(
        [b["mean_prob"] for b in points],
        [b["frequency"] for b in points],
        name="Model",
        markers=True,
    )
    model["text"] = [f"{b['n']} games" for b in points]
    model["hovertemplate"] = "forecast %{x:.0%}<br>happened %{y:.0%}<br>%{text}<extra></extra>"
    return charts.figure(
        [charts.line([0, 1], [0, 1], name="Perfect calibration", dash="dot"), model],
        x_title="Forecast probability",
        y_title="Observed frequency",
        y_format=".0%",
        height=320,
        extra_layout={"xaxis": {"tickformat": ".0%", "range": [0, 1]}, "yaxis": {"range": [0, 1]}},
    )
