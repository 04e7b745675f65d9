"""Fitting, continuing and scoring models per market. Pure: frames in, boosters out.

Every market is a binary question asked of a line, and every model starts from that line:

- ``h2h``: P(home wins). The baseline is a one-feature logistic regression fitted on the training
  games on the market's opening view: the de-vigged opening moneyline where the league's archives
  have one (MLB), else the opening spread (NBA); Elo's logit where a game has neither.
- ``spreads``: P(home covers the line L the bet would be at); ``totals``: P(over L). The baseline is
  the de-vigged price of that line where books priced it, else a coin (0.5): a model that knows
  nothing must say 50%.

Candidates learn only what the baseline does not already say: XGBoost with the baseline's logit as
``base_margin`` (an offset), either trees (``gbtree``) or a regularised logistic regression
(``gblinear`` on standardised features), and the baseline itself (no rounds). Hyperparameters and
the candidate are chosen by rolling-origin validation inside the training window (each fold trains
on the games before a later block and is scored on that block), the number of rounds by early
stopping on a time-ordered tail. The last block's out-of-sample forecasts calibrate the winner
(Platt, kept only when it helps) and fit its blend with the market. Nothing after the training
window is ever looked at.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb
from scipy import optimize, stats

from betting.predictions import metrics
from betting.predictions.features import FEATURES

Array = npt.NDArray[np.float64]
# XGBoost's parameters: names to numbers or names.
XGBParams = dict[str, str | int | float]
# A fitted model's ``params``: everything needed to use it (family, baseline, scaler, calibration,
# blend, validation...). Written to ``ModelVersion.params`` and read back from that JSONField by
# ``registry.load``, so it is JSON of the shape ``fit`` builds.
ModelParams = dict[str, Any]


class Coefficients(TypedDict):
    """``a + b * x``: a one-feature logistic fit (a baseline, its fallback, a calibration)."""

    a: float
    b: float


class Baseline(TypedDict):
    """The line baseline: ``price_or_coin`` reads the de-vigged price in ``column``; ``logistic``
    is ``a + b * x`` on ``column`` (its logit for a probability), Elo's fit (``fallback``) where it is empty."""

    kind: str
    column: str
    a: NotRequired[float]
    b: NotRequired[float]
    fallback: NotRequired[Coefficients]


class Scaler(TypedDict):
    """A linear model's standardisation: the training means and standard deviations per column."""

    mean: list[float]
    sd: list[float]


class ReliabilityRow(TypedDict):
    lower: float
    upper: float
    n: int
    mean_prob: float | None
    frequency: float | None


# Scores of the model, its line baseline, Elo and the market on the same games (each
# ``metrics.Scores.as_dict()``, None where there is no forecast); ``from``/``to``: the games' span.
Evaluation = TypedDict(
    "Evaluation",
    {
        "left_out_no_market_price": int,
        "n_games": int,
        "model": dict[str, float],
        "baseline": dict[str, float] | None,
        "elo": dict[str, float] | None,
        "market": dict[str, float] | None,
        "reliability": list[ReliabilityRow],
        "from": str,
        "to": str,
    },
    total=False,
)

COMMON_PARAMS: XGBParams = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    # One thread: a worker or test process beside another would oversubscribe the cores (OpenMP
    # spin-waits made a 0.3 s fit take 50 s); these models are small enough that one is plenty.
    "nthread": 1,
    "seed": 17,
}
# The candidates searched: strongly regularised, because a season holds ~1,300 games and the line
# already explains most of what can be explained. Chosen on seasons up to 2016-17 only.
CANDIDATES: dict[str, XGBParams] = {
    "line": {},
    "trees": {
        "booster": "gbtree",
        "max_depth": 2,
        "eta": 0.03,
        "min_child_weight": 200,
        "lambda": 20.0,
        "subsample": 0.7,
        "colsample_bytree": 0.7,
    },
    "linear": {"booster": "gblinear", "eta": 0.3, "lambda": 0.05, "alpha": 0.0, "updater": "coord_descent"},
    "linear_strong": {"booster": "gblinear", "eta": 0.3, "lambda": 0.5, "alpha": 0.0, "updater": "coord_descent"},
}
MAX_ROUNDS = 400
EARLY_STOPPING_ROUNDS = 40
TAIL_FRACTION = 0.15  # the time-ordered tail early stopping watches
FOLDS = 3  # rolling origins inside the training window
FOLD_FRACTION = 0.1  # each validation block, as a share of the training games
MIN_GAIN = 0.0005  # log loss a candidate must gain over its baseline on average across the folds
MIN_TRAIN_GAMES = 50
MIN_BLEND_GAMES = 300  # fewer priced games than this on the tail: no weights are trusted
# A warm start sees a night's games (often fewer than ten): a few gentle rounds on them.
WARM_PARAMS: dict[str, XGBParams] = {
    "gbtree": {"max_depth": 1, "eta": 0.005, "min_child_weight": 1},
    "gblinear": {"eta": 0.02},
}
WARM_ROUNDS = 10
# Likelihood-ratio bar (chi-square, 1 degree of freedom, 5%) a blend weight or a calibration must
# clear on the out-of-sample tail to be used: below it, the extra parameter is noise.
LR_TEST_CHI2 = float(stats.chi2.ppf(0.95, 1))
# For Elo's view of a spread: 538's rule of thumb, 28 Elo points a point of margin, and the
# spread of NBA margins around the line (about 12 points).
ELO_POINTS_PER_MARGIN = {"NBA": 28.0, "MLB": 100.0}
MARGIN_SIGMA = {"NBA": 12.0, "MLB": 4.2}
# Which opening view each league's h2h baseline reads, in order of preference.
H2H_LINE_COLUMNS = ("open_home_prob", "open_spread_home")


@dataclass(frozen=True)
class MarketSpec:
    market: str
    target: str  # what is being predicted
    outcome_sides: tuple[str, str]  # the side the probability is for, and its complement
    line_column: str | None  # the closing line in the frame (spreads and totals)
    market_prob_column: str  # the de-vigged closing price of the side, where books priced it


MARKETS = {
    "h2h": MarketSpec("h2h", "home_win", ("home", "away"), None, "home_prob"),
    "spreads": MarketSpec("spreads", "home_cover", ("home", "away"), "spread_home", "spread_home_prob"),
    "totals": MarketSpec("totals", "over", ("over", "under"), "total", "over_prob"),
}


def feature_hash(features: list[str]) -> str:
    return hashlib.sha256(json.dumps(features).encode()).hexdigest()[:16]


def logit(p: npt.ArrayLike) -> Array:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)), dtype=float)


def sigmoid(z: npt.ArrayLike) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float))), dtype=float)


# --- Design: the columns a market's model sees ---------------------------------------------------


def elo_margin(frame: pd.DataFrame, points_per_margin: float) -> Array:
    """Elo's expected home margin: its win probability (home advantage included) inverted to Elo
    points, then to points of margin."""
    p = np.clip(frame["elo_prob"].to_numpy(dtype=float), 1e-6, 1 - 1e-6)
    return np.asarray(-400 * np.log10(1 / p - 1) / points_per_margin, dtype=float)


def design(frame: pd.DataFrame, market: str, line: Array | None) -> pd.DataFrame:
    """The model's input columns for ``frame`` at ``line`` (spreads: the home point; totals: the
    total). ``line_vs_elo``: Elo's expected home margin plus the home point (positive: Elo likes the
    home side against this line); ``line_move``: how far the line moved from the opening one."""
    x = frame[list(FEATURES)].astype(float).copy()
    if market == "h2h":
        return x
    values = np.asarray(line, dtype=float) if line is not None else np.full(len(frame), np.nan)
    x["line"] = values
    if market == "spreads":
        # On the NBA scale whatever the league: spreads are modelled for the NBA only.
        x["line_vs_elo"] = elo_margin(frame, ELO_POINTS_PER_MARGIN["NBA"]) + values
        x["line_move"] = values - frame["open_spread_home"].to_numpy(dtype=float)
    else:
        x["line_move"] = values - frame["open_total"].to_numpy(dtype=float)
    return x


def targets(frame: pd.DataFrame, market: str, line: Array | None) -> Array:
    """1/0 outcome per row; NaN for a push or an unknown result (such rows never train)."""
    if market == "h2h":
        y = frame["home_win"].to_numpy(dtype=float).copy()
        y[frame["margin"].to_numpy(dtype=float) == 0] = np.nan
        return y
    values = np.asarray(line, dtype=float)
    actual = frame["margin" if market == "spreads" else "total_points"].to_numpy(dtype=float)
    edge = actual + values if market == "spreads" else actual - values
    return np.where(np.isnan(edge) | (edge == 0), np.nan, (edge > 0).astype(float))


def training_line(frame: pd.DataFrame, market: str) -> Array | None:
    spec = MARKETS[market]
    if spec.line_column is None:
        return None
    if spec.line_column not in frame:
        return np.full(len(frame), np.nan)
    return frame[spec.line_column].to_numpy(dtype=float)


# --- Logistic fits with scipy (tiny: one to three coefficients) ---------------------------------


def fit_logistic(x: Array, y: Array, *, offset: Array | None = None, l2: float = 1e-6) -> tuple[Array, float]:
    """Coefficients (intercept first) of ``P(y) = sigmoid(offset + [1, x] @ b)`` and the negative
    log-likelihood at the optimum. ``x``: (n, k)."""
    design_x = np.column_stack([np.ones(len(y)), x])
    base = np.zeros(len(y)) if offset is None else offset

    def loss(b: Array) -> tuple[float, Array]:
        z = base + design_x @ b
        p = sigmoid(z)
        eps = 1e-12
        nll = -float(np.sum(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) + l2 * float(b[1:] @ b[1:])
        grad = design_x.T @ (p - y)
        grad[1:] += 2 * l2 * b[1:]
        return nll, grad

    result = optimize.minimize(loss, np.zeros(design_x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, dtype=float), float(result.fun)


def _nll(p: Array, y: Array) -> float:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -float(np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)))


# --- The baseline --------------------------------------------------------------------------------


def fit_baseline(rows: pd.DataFrame, market: str) -> Baseline:
    """The line baseline, fitted on the training games only (h2h) or read from the prices."""
    spec = MARKETS[market]
    if market != "h2h":
        return {"kind": "price_or_coin", "column": spec.market_prob_column}
    y = targets(rows, market, None)
    known = ~np.isnan(y)
    fallback = _fit_one(logit(rows["elo_prob"].to_numpy(dtype=float)), y, known)
    for column in H2H_LINE_COLUMNS:
        if column not in rows:
            continue
        values = _transform(rows[column].to_numpy(dtype=float), column)
        covered = known & ~np.isnan(values)
        if covered.sum() >= max(MIN_TRAIN_GAMES, 0.5 * known.sum()):
            return {"kind": "logistic", "column": column, **_fit_one(values, y, covered), "fallback": fallback}
    return {"kind": "logistic", "column": "elo_prob", **fallback, "fallback": fallback}


def _transform(values: Array, column: str) -> Array:
    return logit(values) if column.endswith("_prob") else values


def _fit_one(x: Array, y: Array, rows: npt.NDArray[np.bool_]) -> Coefficients:
    b, _ = fit_logistic(x[rows][:, None], y[rows])
    return {"a": float(b[0]), "b": float(b[1])}


def baseline_logit(frame: pd.DataFrame, market: str, baseline: Baseline) -> Array:
    """The baseline's log-odds for each row."""
    if baseline["kind"] == "price_or_coin":
        column = baseline["column"]
        prob = frame[column].to_numpy(dtype=float) if column in frame else np.full(len(frame), np.nan)
        return np.where(np.isnan(prob), 0.0, logit(prob))
    column = baseline["column"]
    values = _transform(frame[column].to_numpy(dtype=float), column) if column in frame else np.full(len(frame), np.nan)
    main = baseline["a"] + baseline["b"] * values
    fb = baseline["fallback"]
    elo = fb["a"] + fb["b"] * logit(frame["elo_prob"].to_numpy(dtype=float))
    return np.asarray(np.where(np.isnan(main), elo, main), dtype=float)


# --- The fitted model ----------------------------------------------------------------------------


@dataclass
class Fitted:
    """A model of one market: its booster (no rounds for the baseline family) and, in ``params``,
    everything needed to use it: the family and its settings, the baseline, the scaler of a linear
    model, the calibration, the blend with the market and the validation that chose it."""

    booster: xgb.Booster
    market: str
    n_train: int
    params: ModelParams = field(default_factory=dict)

    @property
    def family(self) -> str:
        return str(self.params.get("family", "line"))

    def baseline_probability(self, frame: pd.DataFrame, line: Array | None = None) -> Array:
        return sigmoid(baseline_logit(frame, self.market, self.params["baseline"]))

    def _dmatrix(self, frame: pd.DataFrame, line: Array | None) -> xgb.DMatrix:
        x = design(frame, self.market, line)
        return xgb.DMatrix(
            _scaled(x, self.params.get("scaler")),
            base_margin=baseline_logit(frame, self.market, self.params["baseline"]),
            feature_names=list(x.columns),
        )

    def raw_logit(self, frame: pd.DataFrame, line: Array | None = None) -> Array:
        """Log-odds before calibration: the baseline's plus what the model adds."""
        return np.asarray(self.booster.predict(self._dmatrix(frame, line), output_margin=True), dtype=float)

    def probability(self, frame: pd.DataFrame, line: Array | None = None) -> Array:
        """P(home win), P(home covers ``line``) or P(over ``line``), one per row of ``frame``."""
        if self.market != "h2h" and line is None:
            raise ValueError(f"{self.market} probabilities need the line the bet would be at")
        z = self.raw_logit(frame, line)
        cal = self.params.get("calibration")
        if cal:
            z = cal["a"] + cal["b"] * z
        return sigmoid(z)

    def contributions(self, frame: pd.DataFrame, line: Array | None = None) -> Array:
        """Per-column contributions in log-odds (XGBoost ``pred_contribs``); the last column is
        the baseline (and bias)."""
        return np.asarray(self.booster.predict(self._dmatrix(frame, line), pred_contribs=True), dtype=float)


def _scaled(x: pd.DataFrame, scaler: Scaler | None) -> pd.DataFrame:
    """A linear model's inputs: standardised with the training means and sds, unknown = the mean."""
    if not scaler:
        return x
    mean = np.asarray(scaler["mean"], dtype=float)
    sd = np.asarray(scaler["sd"], dtype=float)
    z = (x.to_numpy(dtype=float) - mean) / sd
    return pd.DataFrame(np.nan_to_num(z, nan=0.0), columns=x.columns, index=x.index)


def _scaler(x: pd.DataFrame) -> Scaler:
    mean = x.mean().fillna(0.0).to_numpy(dtype=float)
    sd = x.std(ddof=0).to_numpy(dtype=float)
    sd = np.where(np.isnan(sd) | (sd < 1e-9), 1.0, sd)
    return {"mean": [float(v) for v in mean], "sd": [float(v) for v in sd]}


@dataclass
class _Set:
    """Rows a model can train or be scored on: inputs, outcome, baseline log-odds, market price."""

    x: pd.DataFrame
    y: Array
    base: Array
    market_prob: Array
    frame: pd.DataFrame

    def part(self, mask: npt.NDArray[np.bool_]) -> _Set:
        return _Set(self.x[mask], self.y[mask], self.base[mask], self.market_prob[mask], self.frame[mask])


def _labelled(frame: pd.DataFrame, market: str, baseline: Baseline) -> _Set:
    rows = frame[frame["final"]] if "final" in frame else frame
    line = training_line(rows, market)
    y = targets(rows, market, line)
    keep = ~np.isnan(y)
    rows = rows[keep]
    line = line[keep] if line is not None else None
    spec = MARKETS[market]
    prob = rows[spec.market_prob_column].to_numpy(dtype=float) if spec.market_prob_column in rows else None
    return _Set(
        design(rows, market, line),
        y[keep],
        baseline_logit(rows, market, baseline),
        np.full(len(rows), np.nan) if prob is None else prob,
        rows,
    )


def _train(data: _Set, family: str, *, rounds: int | None = None) -> tuple[xgb.Booster, int, Scaler | None]:
    """One candidate on ``data``: early-stopped on its time-ordered tail unless ``rounds`` is given.
    Returns the booster, its rounds and its scaler."""
    settings_ = CANDIDATES[family]
    scaler = _scaler(data.x) if settings_.get("booster") == "gblinear" else None
    params = {**COMMON_PARAMS, **settings_}
    matrix = xgb.DMatrix(
        _scaled(data.x, scaler), label=data.y, base_margin=data.base, feature_names=list(data.x.columns)
    )
    if family == "line":
        return xgb.train(params, matrix, num_boost_round=0), 0, None
    if rounds is None:
        n = len(data.y)
        cut = int(n * (1 - TAIL_FRACTION))
        if cut < MIN_TRAIN_GAMES or n - cut < 20:
            rounds = 50
        else:
            head, tail = data.part(np.arange(n) < cut), data.part(np.arange(n) >= cut)
            head_scaler = _scaler(head.x) if scaler else None
            dhead = xgb.DMatrix(_scaled(head.x, head_scaler), label=head.y, base_margin=head.base)
            dtail = xgb.DMatrix(_scaled(tail.x, head_scaler), label=tail.y, base_margin=tail.base)
            probe = xgb.train(
                params,
                dhead,
                num_boost_round=MAX_ROUNDS,
                evals=[(dtail, "tail")],
                early_stopping_rounds=EARLY_STOPPING_ROUNDS,
                verbose_eval=False,
            )
            rounds = int(probe.best_iteration) + 1
    return xgb.train(params, matrix, num_boost_round=rounds), rounds, scaler


def _predict_logit(booster: xgb.Booster, data: _Set, scaler: Scaler | None) -> Array:
    matrix = xgb.DMatrix(_scaled(data.x, scaler), base_margin=data.base, feature_names=list(data.x.columns))
    return np.asarray(booster.predict(matrix, output_margin=True), dtype=float)


def _folds(n: int) -> list[int]:
    """Start rows of the rolling-origin validation blocks (each block runs to the next start)."""
    block = max(int(n * FOLD_FRACTION), 1)
    starts = [n - block * k for k in range(FOLDS, 0, -1)]
    return [s for s in starts if s >= MIN_TRAIN_GAMES]


def fit(
    frame: pd.DataFrame,
    market: str,
    *,
    family: str | None = None,
    families: tuple[str, ...] | None = None,
    validate: bool = True,
) -> Fitted:
    """A model fitted on the finished games of ``frame`` (everything in it is training data).

    With ``family`` the search is skipped (a scheduled refit keeps the family chosen before);
    otherwise each of ``families`` (default: all CANDIDATES) is scored by rolling-origin validation
    and the best is kept. The last block's out-of-sample forecasts calibrate it and fit the blend.

    ``validate=False`` (the ``line`` family only) skips the validation blocks: the line is never
    calibrated and never blended (it cannot beat itself), so its forecasts are the same without
    them; a walk-forward's weekly line refits only need its coefficients."""
    if not validate and family != "line":
        raise ValueError("only the line family may skip its validation blocks")
    rows = frame[frame["final"]] if "final" in frame else frame
    if len(rows) < MIN_TRAIN_GAMES:
        raise ValueError(f"only {len(rows)} finished games to train on; at least {MIN_TRAIN_GAMES} are needed")
    baseline = fit_baseline(rows, market)
    data = _labelled(rows, market, baseline)
    if len(data.y) < MIN_TRAIN_GAMES:
        raise ValueError(f"only {len(data.y)} {market} games with a result against a line; at least {MIN_TRAIN_GAMES}")
    n = len(data.y)
    starts = _folds(n) if validate else []
    names = (family,) if family else (families or tuple(CANDIDATES))
    scores: dict[str, list[float]] = {name: [] for name in names}
    tails: dict[str, tuple[Array, _Set]] = {}
    index = np.arange(n)
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else n
        train_part, block = data.part(index < start), data.part((index >= start) & (index < end))
        for name in names:
            booster, _, scaler = _train(train_part, name)
            z = _predict_logit(booster, block, scaler)
            scores[name].append(_nll(sigmoid(z), block.y) / len(block.y))
            if k == len(starts) - 1:
                tails[name] = (z, block)
    chosen = _choose(names, scores) if family is None and starts else names[0]
    booster, rounds, scaler = _train(data, chosen)
    params: ModelParams = {
        "family": chosen,
        "settings": CANDIDATES[chosen],
        "rounds": rounds,
        "baseline": baseline,
        "scaler": scaler,
        "columns": list(data.x.columns),
        "validation": {name: round(float(np.mean(v)), 6) for name, v in scores.items() if v},
    }
    if chosen in tails:
        z, block = tails[chosen]
        # The baseline family is a logistic fit already: calibrating it again only adds noise.
        params["calibration"] = _calibration(z, block.y) if chosen != "line" else None
        cal = params["calibration"]
        z_cal = cal["a"] + cal["b"] * z if cal else z
        params["tail"] = {
            "n": len(block.y),
            "model": round(_nll(sigmoid(z_cal), block.y) / len(block.y), 6),
            "baseline": round(_nll(sigmoid(block.base), block.y) / len(block.y), 6),
            "from": str(block.frame["start_time"].min()),
        }
        params["blend"] = fit_blend(sigmoid(z_cal), block.market_prob, block.y)
    fitted = Fitted(booster, market, n, params)
    ok, reason = beats_baseline(fitted)
    if not ok:
        # A model that adds nothing to its line gets no say beside the market either.
        params["blend"] = {**(params.get("blend") or {}), **NO_BLEND, "added": False}
        if "log_loss_market" in params["blend"]:
            params["blend"]["log_loss_blend"] = params["blend"]["log_loss_market"]
    params["beats_baseline"] = ok
    params["why"] = f"{_why(params)}; {reason}"
    return fitted


def _choose(names: tuple[str, ...], scores: dict[str, list[float]]) -> str:
    """The candidate with the lowest mean validation log loss among those that beat the line
    baseline on every fold and by at least MIN_GAIN on average; the baseline when none does (a
    gain smaller than that is within what chance gives on a season of games)."""
    line = scores.get("line")
    eligible = [
        name
        for name in names
        if line is None
        or name == "line"
        or (
            all(s < b for s, b in zip(scores[name], line, strict=True))
            and float(np.mean(line)) - float(np.mean(scores[name])) >= MIN_GAIN
        )
    ]
    return min(eligible or ["line"], key=lambda name: float(np.mean(scores[name])))


def _calibration(z: Array, y: Array) -> Coefficients | None:
    """Platt scaling on the out-of-sample tail, kept only if it clears the likelihood-ratio bar."""
    if len(y) < 100:
        return None
    b, nll = fit_logistic(z[:, None], y)
    if 2 * (_nll(sigmoid(z), y) - nll) < LR_TEST_CHI2:
        return None
    return {"a": float(b[0]), "b": float(b[1])}


def fit_blend(model_prob: Array, market_prob: Array, y: Array) -> dict[str, float] | None:
    """Logistic stacking weights on logit(market) and logit(model), fitted on out-of-sample
    forecasts. The model keeps a weight only if it adds to the market beyond the likelihood-ratio
    bar; otherwise the blend is the market itself (``NO_BLEND``). None when the market never priced
    these games: there is nothing to blend with."""
    known = ~np.isnan(market_prob)
    if known.sum() < MIN_BLEND_GAMES:
        return None
    m, p, yy = logit(market_prob[known]), logit(model_prob[known]), y[known]
    b_full, nll_full = fit_logistic(np.column_stack([m, p]), yy)
    _, nll_market = fit_logistic(m[:, None], yy)
    n = int(known.sum())
    scores = {
        "log_loss_market": round(_nll(market_prob[known], yy) / n, 6),
        "log_loss_model": round(_nll(model_prob[known], yy) / n, 6),
    }
    if 2 * (nll_market - nll_full) < LR_TEST_CHI2 or b_full[2] <= 0:
        return {**NO_BLEND, "n": n, "added": False, **scores, "log_loss_blend": scores["log_loss_market"]}
    return {
        "intercept": float(b_full[0]),
        "w_market": float(b_full[1]),
        "w_model": float(b_full[2]),
        "n": n,
        "added": True,
        **scores,
        "log_loss_blend": round(nll_full / n, 6),
    }


def _why(params: ModelParams) -> str:
    val = params.get("validation", {})
    if not val:
        return f"{params['family']}: no validation (too few games)"
    ranked = ", ".join(f"{name} {loss:.4f}" for name, loss in sorted(val.items(), key=lambda kv: kv[1]))
    return f"kept {params['family']} on rolling-origin validation log loss ({ranked})"


def beats_baseline(fitted: Fitted) -> tuple[bool, str]:
    """Whether the model did better than its baseline on the out-of-sample tail of its training
    window. A model that does not is never made active and never used for a bet."""
    tail = fitted.params.get("tail")
    if fitted.family == "line":
        return False, "the line baseline itself won the validation: the model adds nothing to the market's line"
    if not tail:
        return False, "too few games to check the model against its baseline"
    if tail["model"] < tail["baseline"]:
        return True, f"beats its baseline on the validation tail ({tail['model']:.4f} vs {tail['baseline']:.4f})"
    return False, (
        f"does not beat its baseline on the validation tail ({tail['model']:.4f} vs {tail['baseline']:.4f}, "
        f"{tail['n']} games)"
    )


def continue_fit(base: Fitted, frame: pd.DataFrame, *, rounds: int = WARM_ROUNDS) -> Fitted:
    """Warm start: a few gentle rounds grown on the new finished games only, from the same
    baseline and scaler. The baseline family has nothing to continue: it is returned as it is."""
    data = _labelled(frame, base.market, base.params["baseline"])
    if len(data.y) == 0:
        raise ValueError("no new finished games to continue training on")
    if base.family == "line":
        return Fitted(base.booster.copy(), base.market, len(data.y), {**base.params, "warm": "nothing to continue"})
    settings_ = CANDIDATES[base.family]
    kind = str(settings_.get("booster", "gbtree"))
    params = {**COMMON_PARAMS, **settings_, **WARM_PARAMS[kind]}
    matrix = xgb.DMatrix(
        _scaled(data.x, base.params.get("scaler")),
        label=data.y,
        base_margin=data.base,
        feature_names=list(data.x.columns),
    )
    booster = xgb.train(params, matrix, num_boost_round=rounds, xgb_model=base.booster.copy())
    return Fitted(booster, base.market, len(data.y), {**base.params, "warm": {**WARM_PARAMS[kind], "rounds": rounds}})


def load(path: str, market: str, params: ModelParams) -> Fitted:
    booster = xgb.Booster()
    booster.load_model(path)
    return Fitted(booster, market, 0, params)


@dataclass
class Outcomes:
    """What happened in the scored games, from the side the probabilities are for."""

    frame: pd.DataFrame  # the rows scored
    line: Array | None
    outcome: Array
    market_prob: Array


def outcomes(frame: pd.DataFrame, market: str) -> Outcomes:
    """The finished games a market can be scored on, with the market's closing line and view.

    Spreads and totals are scored against the closing line; pushes are left out. Where the books
    recorded no prices for the line (the archives), the de-vigged market view of it is 50%."""
    rows = frame[frame["final"]]
    if market == "h2h":
        rows = rows[rows["home_win"].notna() & (rows["margin"] != 0)]
        return Outcomes(
            rows,
            None,
            rows["home_win"].to_numpy(dtype=float),
            np.asarray(rows.get("home_prob", pd.Series(np.nan, index=rows.index)).to_numpy(dtype=float), dtype=float),
        )
    line_col, prob_col, actual = (
        ("spread_home", "spread_home_prob", rows.get("margin"))
        if market == "spreads"
        else ("total", "over_prob", rows.get("total_points"))
    )
    if line_col not in rows:
        empty = rows.iloc[0:0]
        return Outcomes(empty, np.array([]), np.array([]), np.array([]))
    line = rows[line_col].to_numpy(dtype=float)
    value = actual.to_numpy(dtype=float) if actual is not None else np.full(len(rows), np.nan)
    edge = value + line if market == "spreads" else value - line
    keep = ~np.isnan(edge) & (edge != 0)
    rows = rows[keep]
    prob = rows[prob_col].to_numpy(dtype=float) if prob_col in rows else np.full(len(rows), np.nan)
    prob = np.where(np.isnan(prob), 0.5, prob)
    return Outcomes(rows, line[keep], (edge[keep] > 0).astype(float), prob)


def elo_probability(frame: pd.DataFrame, market: str, line: Array | None, league: str) -> Array | None:
    """Elo's forecast for the market: its win probability, or its implied margin against the line.
    Elo has no view of totals: None."""
    if market == "h2h":
        return frame["elo_prob"].to_numpy(dtype=float)
    if market == "spreads" and line is not None:
        margin = elo_margin(frame, ELO_POINTS_PER_MARGIN.get(league, 28.0))
        return np.asarray(stats.norm.cdf((margin + line) / MARGIN_SIGMA.get(league, 12.0)), dtype=float)
    return None


def evaluate(fitted: Fitted, frame: pd.DataFrame, league: str) -> Evaluation:
    """Model, its line baseline, Elo and the market scored on exactly the same games."""
    scored = outcomes(frame, fitted.market)
    if len(scored.outcome) == 0:
        return {"n_games": 0}
    return compare(
        scored,
        fitted.probability(scored.frame, scored.line),
        fitted.market,
        league,
        baseline=fitted.baseline_probability(scored.frame, scored.line),
    )


def concat(parts: list[tuple[Outcomes, Array, Array]]) -> tuple[Outcomes, Array, Array]:
    """Outcomes, model and baseline probabilities gathered day by day, as one set."""
    lines = [o.line for o, _, _ in parts]
    return (
        Outcomes(
            pd.concat([o.frame for o, _, _ in parts]),
            None if any(line is None for line in lines) else np.concatenate(lines),  # type: ignore[arg-type]
            np.concatenate([o.outcome for o, _, _ in parts]),
            np.concatenate([o.market_prob for o, _, _ in parts]),
        ),
        np.concatenate([p for _, p, _ in parts]),
        np.concatenate([b for _, _, b in parts]),
    )


def compare(scored: Outcomes, prob: Array, market: str, league: str, *, baseline: Array | None = None) -> Evaluation:
    """Scores of the model's probabilities beside its line baseline's, Elo's and the de-vigged
    market's, on the same games."""
    known = ~np.isnan(scored.market_prob)
    result: Evaluation = {}
    if known.any() and not known.all():
        # Score all of them on the games the market priced, so the figures compare like with like.
        result["left_out_no_market_price"] = int((~known).sum())
        line = scored.line[known] if scored.line is not None else None
        scored = Outcomes(scored.frame[known], line, scored.outcome[known], scored.market_prob[known])
        prob = prob[known]
        baseline = baseline[known] if baseline is not None else None
    if len(scored.outcome) == 0:
        return {"n_games": 0}
    result["n_games"] = len(prob)
    result["model"] = metrics.score(prob, scored.outcome).as_dict()
    result["baseline"] = metrics.score(baseline, scored.outcome).as_dict() if baseline is not None else None
    elo_prob = elo_probability(scored.frame, market, scored.line, league)
    result["elo"] = metrics.score(elo_prob, scored.outcome).as_dict() if elo_prob is not None else None
    has_market = not np.isnan(scored.market_prob).any()
    result["market"] = metrics.score(scored.market_prob, scored.outcome).as_dict() if has_market else None
    result["reliability"] = [
        ReliabilityRow(
            lower=b.lower, upper=b.upper, n=b.n, mean_prob=_finite(b.mean_prob), frequency=_finite(b.frequency)
        )
        for b in metrics.reliability(prob, scored.outcome)
    ]
    result["from"] = str(scored.frame["start_time"].min())
    result["to"] = str(scored.frame["start_time"].max())
    return result


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else round(value, 6)


# --- Blending with the market ------------------------------------------------------------------


NO_BLEND: dict[str, float] = {"intercept": 0.0, "w_market": 1.0, "w_model": 0.0}


def blend(model_prob: npt.ArrayLike, market_prob: npt.ArrayLike, weights: dict[str, float] | None) -> Array:
    """The probability a stake is sized on: logistic stacking of the market at decision time and
    the model, ``sigmoid(a + w_market * logit(market) + w_model * logit(model))``.

    With no weights (or a model the fit found adds nothing) it is the market itself. Where the
    market has no price (NaN) the result is NaN: no market, no bet."""
    w = weights or NO_BLEND
    z = w["intercept"] + w["w_market"] * logit(market_prob) + w["w_model"] * logit(model_prob)
    out = sigmoid(z)
    return np.where(np.isnan(np.asarray(market_prob, dtype=float)), np.nan, out)
