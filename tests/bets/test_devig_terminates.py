"""Every de-vig method returns (or refuses with a ValueError) quickly on every finite market: underround,
overround, long shots and absurd prices. `pricing._solve` used to loop forever on [4.0, 4.0]."""

from __future__ import annotations

import datetime as dt
import math
import signal
import time

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from betting.bets import pricing
from betting.bets.pricing import DEVIG_METHODS

SECONDS_PER_CALL = 0.5
# The deadline is hypothesis's own bound per example; the explicit clock below also catches a call
# that would never return under a runner that skips deadlines.
# No shrinking: a hanging example costs the alarm's time on every shrink step.
BOUNDED = settings(
    max_examples=150,
    deadline=dt.timedelta(seconds=SECONDS_PER_CALL),
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    report_multiple_bugs=False,
)

# Underround (sum of implied well below 1), overround, long shots and absurd prices, all finite and > 1.
absurd_price = st.one_of(
    st.floats(min_value=1.0, max_value=1.0 + 1e-9, exclude_min=True),
    st.floats(min_value=1.0, max_value=1e308, exclude_min=True, allow_infinity=False, allow_nan=False),
    st.floats(1e6, 1e300),
    st.sampled_from([4.0, 2.0, 1.01, 1.0000000000000002, 1e308, 1.7e308]),
)
ordinary_price = st.floats(1.01, 50.0)
markets = st.lists(st.one_of(absurd_price, ordinary_price), min_size=2, max_size=12)


def _interrupt(signum: int, frame: object) -> None:
    raise TimeoutError(f"de-vig still running after {SECONDS_PER_CALL * 2}s")


def _timed_devig(prices: list[float], method: str) -> tuple[list[float] | None, float]:
    """The result (None for a ValueError) and the seconds it took; a call that never returns is
    interrupted by an alarm (a hang fails the test instead of stalling the run)."""
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_CALL * 2)
    started = time.perf_counter()
    try:
        result: list[float] | None = pricing.devig(prices, method)  # type: ignore[arg-type]
    except ValueError:
        result = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return result, time.perf_counter() - started


@pytest.mark.parametrize("method", DEVIG_METHODS)
@pytest.mark.parametrize(
    "prices",
    [[4.0, 4.0], [10.0, 10.0, 10.0], [1e6, 1e6], [1.0000001, 1e300], [1.7e308, 1.0000000000000002]],
)
def test_underround_and_absurd_markets_return_fair_probabilities(method, prices):
    result, seconds = _timed_devig(prices, method)
    assert seconds < SECONDS_PER_CALL
    assert result is not None
    assert math.fsum(result) == pytest.approx(1.0, abs=1e-9)
    assert all(0.0 <= p <= 1.0 for p in result)


def test_an_underround_symmetric_market_is_a_coin_flip_for_power_and_shin():
    assert pricing.power_exponent([4.0, 4.0]) == pytest.approx(0.5)
    assert pricing.shin_z([4.0, 4.0]) == pytest.approx(-0.5)
    assert pricing.devig([4.0, 4.0], "power") == pytest.approx([0.5, 0.5])
    assert pricing.devig([4.0, 4.0], "shin") == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("method", DEVIG_METHODS)
@BOUNDED
@given(prices=markets)
def test_every_method_returns_or_refuses_quickly_on_any_finite_market(method, prices):
    result, seconds = _timed_devig(prices, method)
    assert seconds < SECONDS_PER_CALL, f"{method} took {seconds:.3f}s on {prices}"
    if result is not None:
        assert len(result) == len(prices)
        assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in result)
        assert math.fsum(result) == pytest.approx(1.0, abs=1e-9)
