"""Scores for probability forecasts of binary outcomes. Pure: numpy in, floats out."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from betting.games import market

EPS = 1e-12


@dataclass(frozen=True)
class Scores:
    n: int
    log_loss: float
    brier: float
    accuracy: float
    ece: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _arrays(prob: npt.ArrayLike, outcome: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    p = np.clip(np.asarray(prob, dtype=float), EPS, 1 - EPS)
    y = np.asarray(outcome, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"{p.shape[0]} probabilities for {y.shape[0]} outcomes")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return p, y


def log_loss(prob: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    p, y = _arrays(prob, outcome)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(prob: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    p, y = _arrays(prob, outcome)
    return float(np.mean((p - y) ** 2))


def accuracy(prob: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    """Share of games where the side given more than 50% won (a 50% call counts as wrong)."""
    p, y = _arrays(prob, outcome)
    return float(np.mean((p > 0.5) == (y == 1)))


@dataclass(frozen=True)
class Bin:
    lower: float
    upper: float
    n: int
    mean_prob: float
    frequency: float


def reliability(prob: npt.ArrayLike, outcome: npt.ArrayLike, bins: int = 10) -> list[Bin]:
    """Forecasts grouped into equal-width probability bins: how often the event happened in each."""
    p, y = _arrays(prob, outcome)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=True), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        table.append(
            Bin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                n=count,
                mean_prob=float(p[mask].mean()) if count else float("nan"),
                frequency=float(y[mask].mean()) if count else float("nan"),
            )
        )
    return table


def expected_calibration_error(prob: npt.ArrayLike, outcome: npt.ArrayLike, bins: int = 10) -> float:
    """Mean gap between forecast and frequency over the bins, weighted by how many forecasts each holds."""
    p, _ = _arrays(prob, outcome)
    total = len(p)
    gaps = [b.n / total * abs(b.mean_prob - b.frequency) for b in reliability(prob, outcome, bins) if b.n]
    return float(sum(gaps))


def score(prob: npt.ArrayLike, outcome: npt.ArrayLike) -> Scores:
    p, y = _arrays(prob, outcome)
    if len(p) == 0:
        raise ValueError("no games to score")
    return Scores(
        n=len(p),
        log_loss=log_loss(p, y),
        brier=brier(p, y),
        accuracy=accuracy(p, y),
        ece=expected_calibration_error(p, y),
    )


def devig_two_way(price_a: npt.ArrayLike, price_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Multiplicative de-vig of a two-way market from decimal prices: P(a) = (1/a) / (1/a + 1/b)
    (`games.market.devig_two_way`, the one implementation; no sanity rule)."""
    return market.devig_two_way(price_a, price_b, "multiplicative")
