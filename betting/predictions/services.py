"""Training, retraining, evaluation and predictions: the work behind the commands and tasks."""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
import xgboost as xgb
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from betting.games.models import Game, Injury, League, OddsQuote
from betting.predictions import features, registry, selectors, training
from betting.predictions.models import ModelVersion, Prediction
from betting.predictions.staleness import AsOf, Limits, staleness

if TYPE_CHECKING:
    from pandas._libs.tslibs.nattype import NaTType

FRAME_CACHE_SECONDS = 24 * 3600


# --- The feature frame, cached per league and feature-set version ------------------------------


def inputs_fingerprint(league: League) -> str:
    """Changes whenever anything the features read changes: games, quotes or injuries."""
    games = Game.objects.filter(league=league).aggregate(n=Count("id"), last=Max("updated_at"))
    quotes = OddsQuote.objects.filter(game__league=league).aggregate(n=Count("id"), last=Max("id"))
    injuries = Injury.objects.filter(team__league=league).aggregate(n=Count("id"), last=Max("updated_at"))
    text = f"{games}|{quotes}|{injuries}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def league_frame(league: League) -> pd.DataFrame:
    """Features and targets of every game of the league, joined with the market's closing view.
    Served from the cache while the inputs are unchanged; hits and misses are counted."""
    key = f"features:v{features.FEATURE_SET_VERSION}:{league.code}:{inputs_fingerprint(league)}"
    frame = cache.get(key)
    if frame is not None:
        _count("features:hits")
        return frame  # type: ignore[no-any-return]
    _count("features:misses")
    frame = features.build(selectors.feature_inputs(league), league.code).join(selectors.closing_market(league))
    cache.set(key, frame, FRAME_CACHE_SECONDS)
    return frame


def _count(key: str) -> None:
    if not cache.add(key, 1, None):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)


def feature_cache_stats() -> dict[str, float]:
    hits = cache.get("features:hits", 0)
    misses = cache.get("features:misses", 0)
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_rate": round(hits / total, 3) if total else 0.0}


# --- Training and promotion --------------------------------------------------------------------


@dataclass
class TrainResult:
    version: ModelVersion | None
    promoted: bool
    note: str
    # What ModelVersion.metrics stores (JSON): "validation" and "selection", and the holdout evidence.
    metrics: dict[str, Any] = field(default_factory=dict)


# A candidate's rebuild without the held-out games: (earlier games, holdout start) -> candidate.
Refit = Callable[[pd.DataFrame, pd.Timestamp], training.Fitted]


class Evidence(TypedDict, total=False):
    """Both models scored on the games held out (empty when there was nothing to compare)."""

    candidate_on_holdout: training.Evaluation
    active_on_holdout: training.Evaluation


def _log_loss(result: training.Evaluation) -> float | None:
    model = result.get("model")
    return None if not model else float(model["log_loss"])


def gate(candidate_loss: float | None, active_loss: float | None, tolerance: float) -> tuple[bool, str]:
    """Promote unless the candidate is worse than the active model by more than ``tolerance``."""
    if active_loss is None:
        return True, "no active model to compare with"
    if candidate_loss is None:
        return False, "the candidate could not be scored on recent games"
    if candidate_loss <= active_loss + tolerance:
        return True, (
            f"log loss {candidate_loss:.4f} vs active {active_loss:.4f} on recent games (tolerance {tolerance})"
        )
    return False, (
        f"kept the active model: candidate log loss {candidate_loss:.4f} is worse than {active_loss:.4f} "
        f"by more than {tolerance} on recent games"
    )


MIN_GATE_GAMES = 20


def _beats_its_baseline(scored: training.Evaluation) -> bool:
    model, baseline = scored.get("model"), scored.get("baseline")
    return bool(model and baseline and float(model["log_loss"]) < float(baseline["log_loss"]))


def holdout_gate(
    *,
    base: training.Fitted | None,
    unseen: pd.DataFrame,
    refit: Refit | None,
    league_code: str,
    candidate: training.Fitted | None = None,
    tail: pd.DataFrame | None = None,
) -> tuple[bool, str, Evidence]:
    """Whether a candidate may replace the active model: it must beat its line baseline and be no
    worse than the active model (PROMOTION_TOLERANCE) on games it did not train on.

    ``unseen`` are the finished games the active model has not seen, in time order. The latest of
    them (half, at most ``PROMOTION_RECENT_GAMES``) are held out; ``refit(earlier_unseen,
    holdout_start)`` builds the candidate the same way without them; both are scored there. With
    too few unseen games, ``candidate`` and the active model are compared on ``tail``, the
    held-back end of the training window: never "promoted without comparison"."""
    if candidate is not None:
        ok, reason = training.beats_baseline(candidate)
        if not ok:
            return False, f"not used for bets: {reason}", {}
    if base is None:
        return True, "no active model to compare with", {}
    held = min(len(unseen) // 2, settings.PROMOTION_RECENT_GAMES)
    if held >= MIN_GATE_GAMES and refit is not None:  # (a refit is always given with an active model)
        holdout = unseen.iloc[-held:]
        shadow = refit(unseen.iloc[:-held], holdout["start_time"].min())
        where = f"the {held} latest games neither had trained on"
    elif candidate is not None and tail is not None and len(tail) >= MIN_GATE_GAMES:
        holdout, shadow = tail, candidate
        where = f"the last {len(tail)} games of the training window (only {len(unseen)} games were new)"
    else:
        return False, f"kept the active model: only {len(unseen)} new games, too few to compare", {}
    candidate_scored = training.evaluate(shadow, holdout, league_code)
    active_scored = training.evaluate(base, holdout, league_code)
    evidence = Evidence(candidate_on_holdout=candidate_scored, active_on_holdout=active_scored)
    if not _beats_its_baseline(candidate_scored):
        return False, f"not used for bets: does not beat its line baseline on {where}", evidence
    ok, reason = gate(_log_loss(candidate_scored), _log_loss(active_scored), settings.PROMOTION_TOLERANCE)
    return ok, f"{reason}; compared on {where}", evidence


def model_train(
    *,
    league: League,
    market: str,
    until: dt.datetime | None = None,
    warm: bool = False,
    window_days: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> TrainResult:
    """Train a candidate (from scratch with the family search, or continuing the active booster),
    score it on the most recent games beside its line baseline, Elo and the market, and promote it
    only if it beats its baseline and does no worse than the active model (see ``holdout_gate``).
    A version that does not beat its baseline is registered, rejected, and says why.
    ``progress(step, TRAIN_STEPS, the step starting)`` as it goes."""
    step = progress or (lambda done, total, note: None)
    cutoff = until or timezone.now()
    step(0, TRAIN_STEPS, "features")
    frame = league_frame(league)
    history = frame[frame["start_time"] < cutoff]
    finished = history[history["final"]]
    current = registry.active(league, market)
    try:
        base = registry.load(current) if current is not None else None
    except registry.RegistryError:
        base = None  # an active version of an earlier family or without its file: nothing to compare with
    unseen = finished[finished["start_time"] > current.trained_until] if current is not None else finished.iloc[0:0]
    recent = finished.iloc[-settings.PROMOTION_RECENT_GAMES :]
    if warm:
        if current is None or base is None:
            raise registry.RegistryError(
                f"no active {league.code} {market} model of the current family to warm-start; train one first"
            )
        if unseen.empty:
            return TrainResult(None, False, f"skipped: no games finished since {current.trained_until:%Y-%m-%d %H:%M}")
        step(1, TRAIN_STEPS, "warm start")
        candidate = training.continue_fit(base, unseen)
        # In-sample for the new games by construction; the gate below holds some out.
        scored = training.evaluate(candidate, recent, league.code)
        trained_from = unseen["start_time"].min()
        kind, parent = ModelVersion.Kind.WARM, current
        refit: Refit | None = _refit_like("warm", base, None, market)
    else:
        rows = training_window(history, cutoff, window_days)
        step(1, TRAIN_STEPS, "fit and family search")
        candidate = training.fit(rows, market)
        step(2, TRAIN_STEPS, "validation")
        # Time-ordered validation: the same family fitted on everything before the recent games.
        earlier = rows[rows["start_time"] < recent["start_time"].min()] if len(recent) else rows
        scored = training.evaluate(training.fit(earlier, market, family=candidate.family), recent, league.code)
        trained_from = rows["start_time"].min()
        kind, parent = ModelVersion.Kind.FULL, None
        refit = _refit_like("full", base, rows, market, candidate.family) if base is not None else None

    step(3, TRAIN_STEPS, "promotion gate")
    promote, reason, holdout = holdout_gate(
        base=base, unseen=unseen, refit=refit, league_code=league.code, candidate=candidate, tail=recent
    )
    step(4, TRAIN_STEPS, "save")
    metrics = {"validation": scored, "selection": candidate.params.get("validation", {}), **holdout}
    version = registry.save(
        league=league,
        fitted=candidate,
        kind=kind,
        parent=parent,
        trained_from=_py(trained_from),
        trained_until=_py(finished["start_time"].max()),
        metrics=_clean_dict(metrics),
    )
    if promote:
        registry.activate(version, f"promoted: {reason}")
    else:
        registry.reject(version, reason)
        if candidate.family == "line":
            # The market's line, fitted on the training games: shown as a forecast, never staked.
            registry.mark_forecast_only(version)
            reason = f"{reason}; kept as a forecast-only model (predictions shown, never staked)"
    registry.prune(league, market)
    step(TRAIN_STEPS, TRAIN_STEPS, "promoted" if promote else "not promoted")
    return TrainResult(version, promote, reason, metrics)


TRAIN_STEPS = 5  # features, fit, validation, promotion gate, save


# A rolling window after a gap in the data (an off-season, seasons missing from the archives) can
# hold a handful of games: it then reaches back to the latest MIN_WINDOW_GAMES finished games.
MIN_WINDOW_GAMES = 1000


def training_window(history: pd.DataFrame, cutoff: dt.datetime | pd.Timestamp, days: int | None) -> pd.DataFrame:
    """The games a scheduled full retrain fits on: the last ``days`` before ``cutoff``, or at
    least the latest MIN_WINDOW_GAMES finished games."""
    if not days:
        return history
    rows = history[history["start_time"] >= pd.Timestamp(cutoff) - pd.Timedelta(days=days)]
    finished = history[history["final"]]
    in_window = int(rows["final"].sum())
    if in_window < MIN_WINDOW_GAMES and len(finished) > in_window:
        rows = history[history["start_time"] >= finished["start_time"].iloc[-min(MIN_WINDOW_GAMES, len(finished))]]
    return rows


def _refit_like(kind: str, base: training.Fitted, rows: pd.DataFrame | None, market: str, family: str = "") -> Refit:
    """How the gate rebuilds a candidate without the held-out games."""
    if kind == "full" and rows is not None:
        return lambda _part, start: training.fit(rows[rows["start_time"] < start], market, family=family or None)
    return lambda part, _start: training.continue_fit(base, part) if len(part) else base


def _py(value: dt.datetime | pd.Timestamp) -> dt.datetime:
    return pd.Timestamp(value).to_pydatetime()


def _clean_dict(value: Mapping[str, object]) -> dict[str, object]:
    """`_clean` over a JSON object."""
    return {k: _clean(v) for k, v in value.items()}


def _clean(value: object) -> object:
    """JSON-safe: NaN and numpy scalars out (the same shape as ``value``)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- Scheduled retraining ---------------------------------------------------------------------


def plan_full_retrain(*, now: dt.datetime, last_full: dt.datetime | None, new_games: int) -> tuple[bool, str]:
    """The periodic full retrain runs when enough games arrived or enough time passed."""
    if last_full is None:
        return True, "no full training yet"
    days = (now - last_full).days
    if new_games >= settings.RETRAIN_MIN_NEW_GAMES:
        return True, f"{new_games} new games (>= {settings.RETRAIN_MIN_NEW_GAMES})"
    if days >= settings.RETRAIN_FREQUENCY_DAYS:
        return True, f"{days} days since the last full training (>= {settings.RETRAIN_FREQUENCY_DAYS})"
    return False, (
        f"skipped: {new_games} new games (< {settings.RETRAIN_MIN_NEW_GAMES}) and {days} days "
        f"(< {settings.RETRAIN_FREQUENCY_DAYS}) since the last full training"
    )


def retrain_full_if_due(*, league: League, market: str, now: dt.datetime | None = None) -> TrainResult:
    now = now or timezone.now()
    last_full = (
        ModelVersion.objects.filter(league=league, market=market, kind=ModelVersion.Kind.FULL)
        .order_by("-created_at")
        .first()
    )
    since = last_full.trained_until if last_full else None
    new_games = Game.objects.filter(league=league, status=Game.Status.FINAL, start_time__lt=now)
    if since is not None:
        new_games = new_games.filter(start_time__gt=since)
    due, reason = plan_full_retrain(
        now=now, last_full=last_full.created_at if last_full else None, new_games=new_games.count()
    )
    if not due:
        return TrainResult(None, False, reason)
    return model_train(league=league, market=market, until=now, window_days=settings.RETRAIN_WINDOW_DAYS)


# --- Evaluation over a window ------------------------------------------------------------------


# The nightly routine's day ends at 10:00 UTC (05:00/06:00 in New York): every North American game
# of the evening before has finished by then, so the night's update knows their results and no game
# of the coming day has started.
DAY_BOUNDARY = pd.Timedelta(hours=10)


def game_day(start_times: pd.Series) -> pd.Series:
    """The betting day a game belongs to: its UTC start moved back by the day boundary, floored."""
    return (start_times - DAY_BOUNDARY).dt.floor("D")


def one_thread() -> contextlib.AbstractContextManager[None]:
    """XGBoost on one thread for the block: a walk-forward builds thousands of small matrices (a
    day's games, a training window), where OpenMP's threads cost far more than they save (and
    spin against other processes on a busy machine: 200 ms a matrix instead of 10). The models
    train on one thread already (``nthread`` in their parameters); results are the same."""
    return xgb.config_context(nthread=1)


class _Finished:
    """The finished games of a feature frame, built once and sliced per day of a walk-forward: the
    same rows, in the same order, as masking the whole frame each day, without copying it each day.
    The frame is sorted by start time (``features.build``), so "started before ``cut``" is a prefix
    and "after ``since``" a suffix; a frame that is not sorted is masked as before."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.rows = frame[frame["final"]]
        self.times = pd.DatetimeIndex(self.rows["start_time"])
        self.sorted = bool(self.times.is_monotonic_increasing) and not self.times.hasnans

    def before(self, cut: pd.Timestamp) -> pd.DataFrame:
        """The finished games that started before ``cut``."""
        if not self.sorted:
            frame = self.frame
            return frame[(frame["start_time"] < cut) & frame["final"]]
        rows: pd.DataFrame = self.rows.iloc[: int(self.times.searchsorted(cut, side="left"))]
        return rows

    def between(self, since: pd.Timestamp | NaTType, cut: pd.Timestamp) -> pd.DataFrame:
        """The finished games that started after ``since`` (NaT: none before) and before ``cut``."""
        if not self.sorted or pd.isna(since):
            frame = self.frame
            masked: pd.DataFrame = frame[(frame["start_time"] > since) & (frame["start_time"] < cut) & frame["final"]]
            return masked
        low = int(self.times.searchsorted(since, side="right"))
        return self.rows.iloc[low : max(low, int(self.times.searchsorted(cut, side="left")))]


@dataclass
class WalkForward:
    """The nightly routine replayed day by day over ``start``..``end``.

    Iterating yields ``(day, games, model, trained_until)``: the day's finished games and the model
    as it stood before they started, trained only on games that started before ``trained_until``.
    After each day the model is updated as the nightly job would: a warm start on the games
    finished that day, or a full retrain on the rolling window when due, each candidate kept only
    if it passes the gate. ``updates`` counts what happened."""

    frame: pd.DataFrame
    market: str
    league_code: str
    start: dt.date
    end: dt.date
    update: bool = True
    updates: dict[str, int] = field(default_factory=lambda: {"warm": 0, "full": 0, "rejected": 0})

    @property
    def window(self) -> pd.DataFrame:
        begin, finish = self._bounds()
        frame = self.frame
        return frame[(frame["start_time"] >= begin) & (frame["start_time"] < finish) & frame["final"]]

    def _bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        begin = pd.Timestamp(dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC))
        finish = pd.Timestamp(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))
        return begin, finish

    def days(self) -> int:
        window = self.window
        return 0 if window.empty else int(game_day(window["start_time"]).nunique())

    def __iter__(self) -> Iterator[tuple[pd.Timestamp, pd.DataFrame, training.Fitted, pd.Timestamp]]:
        with one_thread():
            yield from self._walk()

    def _walk(self) -> Iterator[tuple[pd.Timestamp, pd.DataFrame, training.Fitted, pd.Timestamp]]:
        frame, market = self.frame, self.market
        begin, _ = self._bounds()
        window = self.window
        if window.empty:
            raise ValueError(f"no finished {self.league_code} games between {self.start} and {self.end}")
        # The family is searched once, on the games before the window; scheduled refits keep it.
        model = training.fit(frame[frame["start_time"] < begin], market)
        family = model.family
        trained_until = frame.loc[frame["start_time"] < begin, "start_time"].max()
        last_full = begin
        since_full = 0
        finished = _Finished(frame)
        for day, games in window.groupby(game_day(window["start_time"])):
            yield day, games, model, trained_until
            if not self.update:
                continue
            cut = day + pd.Timedelta(days=1) + DAY_BOUNDARY
            done = finished.between(trained_until, cut)
            if done.empty:
                continue
            history = finished.before(cut)
            since_full += len(done)
            due, _ = plan_full_retrain(
                now=day.to_pydatetime(), last_full=last_full.to_pydatetime(), new_games=since_full
            )
            current = model
            rows: pd.DataFrame | None = None
            if family == "line":
                # The line baseline is the model: it is refitted when a full retrain is due (its two
                # coefficients follow the market), and there is no booster to warm-start.
                if due:
                    model = training.fit(
                        training_window(history, day, settings.RETRAIN_WINDOW_DAYS),
                        market,
                        family=family,
                        validate=False,
                    )
                    last_full, since_full = day, 0
                    self.updates["baseline"] = self.updates.get("baseline", 0) + 1
                trained_until = done["start_time"].max()
                continue
            if due:
                rows = training_window(history, day, settings.RETRAIN_WINDOW_DAYS)
                candidate = training.fit(rows, market, family=family)
                last_full, since_full, kind = day, 0, "full"
            else:
                candidate = training.continue_fit(current, done)
                kind = "warm"
            ok, _, _ = holdout_gate(
                base=current,
                unseen=done,
                refit=_refit_like(kind, current, rows, market, family),
                league_code=self.league_code,
                candidate=candidate,
                tail=history.iloc[-settings.PROMOTION_RECENT_GAMES :],
            )
            if ok:
                model = candidate
                self.updates[kind] += 1
            else:
                self.updates["rejected"] += 1
            trained_until = done["start_time"].max()


def evaluate_window(
    *,
    league: League,
    market: str,
    start: dt.date,
    end: dt.date,
    walk_forward: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:  # JSON for the command (``manage.py evaluate``), keys read by name
    """Score the games from ``start`` to ``end`` with models trained only on earlier games.

    Without ``walk_forward``, one model trained on everything before ``start``. With it, the
    nightly routine replayed day by day (see ``WalkForward``). ``progress(days done, days, note)``
    after each day."""
    replay = WalkForward(league_frame(league), market, league.code, start, end, update=walk_forward)
    parts: list[tuple[training.Outcomes, np.ndarray, np.ndarray]] = []
    model: training.Fitted | None = None
    first: training.Fitted | None = None
    days = replay.days() if progress else 0
    # Each day's games are scored by the model of that day; consecutive days of one model (no update
    # passed the gate, the line family between refits) are asked together: the same probabilities
    # (each row is predicted on its own), one call instead of one a day.
    run: list[training.Outcomes] = []
    run_model: training.Fitted | None = None

    def flush() -> None:
        if run and run_model is not None:
            together = _joined(run)
            parts.append(
                (
                    together,
                    run_model.probability(together.frame, together.line),
                    run_model.baseline_probability(together.frame, together.line),
                )
            )
        run.clear()

    with one_thread():
        for done, (day, games, model, _) in enumerate(replay, start=1):
            if progress:
                progress(done, days, f"{day:%Y-%m-%d}")
            first = first or model
            scored = training.outcomes(games, market)
            if len(scored.outcome):
                if model is not run_model:
                    flush()
                    run_model = model
                run.append(scored)
        flush()
    if not parts or model is None or first is None:
        raise ValueError(f"no {market} games with a closing line between {start} and {end}")
    scored_all, prob, baseline = training.concat(parts)
    result = training.compare(scored_all, prob, market, league.code, baseline=baseline)
    updates = replay.updates if walk_forward else {}
    chosen = {
        "family": first.family,
        "why": first.params.get("why", ""),
        "beats_baseline": bool(first.params.get("beats_baseline")),
        "blend": first.params.get("blend"),
    }
    return _clean_dict({**result, "walk_forward": walk_forward, "updates": updates, "chosen": chosen})


def _joined(days: list[training.Outcomes]) -> training.Outcomes:
    """Consecutive days' outcomes as one set, rows in the same order."""
    if len(days) == 1:
        return days[0]
    lines = [o.line for o in days]
    return training.Outcomes(
        pd.concat([o.frame for o in days]),
        None if any(line is None for line in lines) else np.concatenate(lines),  # type: ignore[arg-type]
        np.concatenate([o.outcome for o in days]),
        np.concatenate([o.market_prob for o in days]),
    )


# --- Predictions -------------------------------------------------------------------------------

TOP_CONTRIBUTIONS = 5


@dataclass
class PredictResult:
    games: int = 0
    created: int = 0
    updated: int = 0
    stale: int = 0  # game x market priced from inputs too old to bet on
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _fair(probability: float) -> tuple[Decimal, Decimal]:
    p = Decimal(str(round(probability, 6)))
    return p, (Decimal(1) / p).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


class Contribution(TypedDict):
    """One line of a prediction's explanation: an input, its value and what it added in log-odds."""

    feature: str
    value: float | None
    contribution: float


def explain(fitted: training.Fitted, rows: pd.DataFrame, line: np.ndarray | None = None) -> list[list[Contribution]]:
    """The largest contributions per game, in log-odds, from XGBoost's ``pred_contribs``, with
    the input's value. The baseline (the market's line) is the first entry: what the model adds
    is measured from it."""
    contributions = fitted.contributions(rows, line)
    inputs = training.design(rows, fitted.market, line)
    names = list(inputs.columns)
    baseline = training.baseline_logit(rows, fitted.market, fitted.params["baseline"])
    out: list[list[Contribution]] = []
    for row_values, contrib, base in zip(inputs.to_numpy(dtype=float), contributions, baseline, strict=True):
        order = [i for i in np.argsort(-np.abs(contrib[:-1]))[:TOP_CONTRIBUTIONS] if contrib[i] != 0]
        out.append(
            [
                Contribution(feature="line baseline", value=None, contribution=round(float(base), 4)),
                *(
                    Contribution(
                        feature=names[i],
                        value=None if np.isnan(row_values[i]) else round(float(row_values[i]), 3),
                        contribution=round(float(contrib[i]), 4),
                    )
                    for i in order
                ),
            ]
        )
    return out


def staleness_limits(league: League) -> Limits:
    """MODEL_STALE_DAYS, FEATURE_STALE_DAYS and the league's OFFSEASON_DAYS, for ``staleness``."""
    offseason = settings.OFFSEASON_DAYS.get(league.code, settings.OFFSEASON_DAYS_DEFAULT)
    return Limits(
        model_days=settings.MODEL_STALE_DAYS, feature_days=settings.FEATURE_STALE_DAYS, offseason_days=offseason
    )


def model_as_of(version: ModelVersion) -> AsOf:
    """The local date and season of the last game the model trained on."""
    last = (
        Game.objects.filter(league_id=version.league_id, start_time__lte=version.trained_until)
        .order_by("-start_time")
        .values_list("game_date", "season")
        .first()
    )
    return AsOf(*last) if last else AsOf(date=version.trained_until.date(), season=None)


def teams_as_of(games: list[Game]) -> dict[tuple[int, int], AsOf]:
    """(game id, team id) -> the team's last final result before that game: date and season.
    One query for the whole slate."""
    if not games:
        return {}
    finals: dict[int, list[tuple[dt.datetime, dt.date, int]]] = {}
    rows = (
        Game.objects.filter(
            league_id=games[0].league_id, status=Game.Status.FINAL, start_time__lt=max(g.start_time for g in games)
        )
        .order_by("start_time")
        .values_list("home_team_id", "away_team_id", "start_time", "game_date", "season")
    )
    for home, away, start, day, season in rows:
        finals.setdefault(home, []).append((start, day, season))
        finals.setdefault(away, []).append((start, day, season))
    starts = {team_id: [start for start, _, _ in played] for team_id, played in finals.items()}
    out = {}
    for game in games:
        for team_id in (game.home_team_id, game.away_team_id):
            index = bisect.bisect_left(starts.get(team_id, []), game.start_time)
            out[(game.pk, team_id)] = AsOf(*finals[team_id][index - 1][1:]) if index else AsOf(date=None, season=None)
    return out


def game_staleness(
    *, game: Game, model: AsOf, teams: dict[tuple[int, int], AsOf], limits: Limits
) -> tuple[dict[str, object], str]:
    """The as-of facts and the stale reason (empty when fresh) of one game priced by one model."""
    return staleness(
        game_date=game.game_date,
        game_season=game.season,
        model=model,
        home=teams[(game.pk, game.home_team_id)],
        away=teams[(game.pk, game.away_team_id)],
        home_name=game.home_team.abbreviation,
        away_name=game.away_team.abbreviation,
        limits=limits,
        season_label=game.league.season_label,
    )


def predictions_make(
    *,
    league: League,
    day: dt.date | None = None,
    since: dt.date | None = None,
    now: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> PredictResult:
    """Predict every game without a final score (on ``day``, from ``since`` on, or from now on)
    with each active model (else the forecast-only one): probability per side, fair odds, the line
    priced, the explanation.

    ``as_of`` replays a past decision: the games starting after it, whatever their status now (their
    results came later), priced only by a model trained on games before each of them (a model
    that saw a game's result is skipped for it). The features are as of each game's start, as
    always; the replay is honest only for games whose first quote was seen before ``as_of``."""
    now = now or timezone.now()
    if as_of is not None:
        games = Game.objects.filter(league=league, start_time__gt=as_of).exclude(
            status__in=[Game.Status.POSTPONED, Game.Status.CANCELLED]
        )
    else:
        games = Game.objects.filter(league=league, status__in=[Game.Status.SCHEDULED, Game.Status.IN_PROGRESS])
    if day:
        games = games.filter(game_date=day)
    elif since:
        games = games.filter(game_date__gte=since)
    elif as_of is None:
        games = games.filter(start_time__gte=now - dt.timedelta(hours=6))
    ids = list(games.values_list("id", flat=True))
    result = PredictResult(games=len(ids))
    if not ids:
        return result
    frame = league_frame(league)
    rows = frame.loc[frame.index.intersection(ids)]
    slate = {g.pk: g for g in Game.objects.filter(pk__in=ids).select_related("league", "home_team", "away_team")}
    teams = teams_as_of(list(slate.values()))
    limits = staleness_limits(league)
    for step, market in enumerate(training.MARKETS):
        if progress:  # games x markets: one step per market
            progress(step * len(rows), len(rows) * len(training.MARKETS), market)
        version = registry.for_predictions(league, market)  # the active model, else the forecast-only one
        if version is None:
            result.skip(f"{market}: no active model (nor a forecast-only one)")
            continue
        try:
            fitted = registry.load(version)
        except registry.RegistryError as exc:
            result.skip(f"{market}: {exc}")
            continue
        model = model_as_of(version)
        market_rows = rows
        if as_of is not None:
            if market != "h2h":
                # The line a spread or total is priced at is the market's latest (the close of a
                # finished game): later than the replayed moment. Only h2h reads the opening view.
                result.skip(
                    f"{market}: not replayed (its line is the market's latest, not as of {as_of:%Y-%m-%d %H:%M})"
                )
                continue
            seen = rows["start_time"] <= pd.Timestamp(version.trained_until)
            if seen.any():
                result.skip(f"{market}: {int(seen.sum())} game(s) the model {version.version} trained on")
            market_rows = rows[~seen]
            if market_rows.empty:
                continue
        line = None
        if market != "h2h":
            column = "spread_home" if market == "spreads" else "total"
            lined = market_rows[market_rows[column].notna()] if column in market_rows else market_rows.iloc[0:0]
            if len(lined) < len(market_rows):
                result.skip(f"{market}: {len(market_rows) - len(lined)} game(s) without a line yet")
            market_rows = lined
            if market_rows.empty:
                continue
            line = market_rows[column].to_numpy(dtype=float)
        probability = fitted.probability(market_rows, line)
        reasons = explain(fitted, market_rows, line)
        side, other = training.MARKETS[market].outcome_sides
        with transaction.atomic():
            for index, game_id in enumerate(market_rows.index):
                point = None if line is None else Decimal(str(line[index]))
                inputs, stale_reason = game_staleness(game=slate[int(game_id)], model=model, teams=teams, limits=limits)
                inputs = {**inputs, **selectors.starters_assumed(slate[int(game_id)])}  # MLB: the starters priced
                if stale_reason:
                    result.stale += 1
                for outcome, p, pt in (
                    (side, float(probability[index]), point),
                    (
                        other,
                        1 - float(probability[index]),
                        -point if point is not None and market == "spreads" else point,
                    ),
                ):
                    prob, fair = _fair(min(max(p, 1e-6), 1 - 1e-6))
                    _, created = Prediction.objects.update_or_create(
                        game_id=int(game_id),
                        model_version=version,
                        market=market,
                        outcome=outcome,
                        defaults={
                            "probability": prob,
                            "fair_odds": fair,
                            "point": pt,
                            "explanation": reasons[index],
                            "inputs": inputs,
                            "stale_reason": stale_reason,
                        },
                    )
                    if created:
                        result.created += 1
                    else:
                        result.updated += 1
    if progress:
        progress(len(rows) * len(training.MARKETS), len(rows) * len(training.MARKETS), "done")
    return result
