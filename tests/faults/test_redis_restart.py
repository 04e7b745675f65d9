"""Redis killed and restarted under a running worker: the worker reconnects and runs a task queued
after the restart within a stated bound, and while Redis is down the shared rate limiter refuses
every call (fails closed): not one request reaches the provider.

The Redis here is the test's own ``redis-server`` on a free port, never the shared one.
"""

from __future__ import annotations

import time
import uuid

import pytest

from core.http.breaker import InProcessBreaker, RedisBreaker
from core.http.client import HttpClient, HttpConfig, ProviderUnavailable
from core.http.throttle import Limit, RedisTokenBucket, redis_client
from tests.faults.conftest import FIXTURES, celery_app, real_stack

pytestmark = [pytest.mark.faults, pytest.mark.realstack]

DOWN_FOR = 3.0  # seconds Redis stays down
# From Redis back up to a task queued after the restart having run: the worker's reconnect
# backoff (kombu retries every 2 s, then 4 s, ...) plus the task, with room for a busy machine.
RECONNECT_BOUND = 20.0
LIMIT = Limit(rate=5.0, burst=3)
CONFIG = HttpConfig(
    user_agent="faults",
    connect_timeout=1.0,
    read_timeout=1.0,
    max_retries=0,
    backoff_base=0.01,
    backoff_cap=0.1,
    throttle_timeout=2.0,
)


def _client(redis_url: str, *, redis_breaker: bool) -> HttpClient:
    client = redis_client(redis_url)
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    throttle = RedisTokenBucket({"espn": LIMIT}, client=client, prefix=prefix)
    breaker = (
        RedisBreaker(max_failures=5, reset_timeout=60, client=client, prefix=prefix)
        if redis_breaker
        else InProcessBreaker(max_failures=1000, reset_timeout=60)
    )
    return HttpClient(throttle=throttle, breaker=breaker, config=CONFIG)


def test_workers_reconnect_after_a_redis_restart_and_the_limiter_fails_closed_meanwhile(
    reference, transactional_db, private_redis, workers, provider, record_property
):
    real_stack()
    espn = provider((FIXTURES / "mlb_scoreboard_2025.json").read_bytes())
    url = f"{espn.url}/basketball/nba/scoreboard"
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    worker = workers(redis_url=private_redis.url(), queue=queue)
    worker.wait_ready()
    app = celery_app(private_redis.url())
    assert app.send_task("games.sync_reference", queue=queue).get(timeout=30)["leagues"] >= 1

    limiter_only = _client(private_redis.url(1), redis_breaker=False)
    full = _client(private_redis.url(1), redis_breaker=True)
    assert limiter_only.get("espn", url).status_code == 200  # Redis up: calls pass
    before = len(espn.hits)

    private_redis.kill()
    down_at = time.monotonic()
    refusals: list[float] = []
    attempts = 0
    while time.monotonic() - down_at < DOWN_FOR:
        for client in (limiter_only, full):
            attempts += 1
            started = time.monotonic()
            with pytest.raises(ProviderUnavailable) as refused:
                client.get("espn", url)
            refusals.append(time.monotonic() - started)
            assert refused.value.reason == "state_unavailable"
        time.sleep(0.005)  # a tight loop, not a spin: other tests share the cores
    assert len(espn.hits) == before, "a request went out while the rate limiter's Redis was down"
    assert attempts >= 4

    private_redis.start()
    up_at = time.monotonic()
    result = app.send_task("games.sync_reference", queue=queue)
    assert result.get(timeout=RECONNECT_BOUND)["leagues"] >= 1
    resumed_in = time.monotonic() - up_at
    record_property(
        "figure",
        f"Redis down {DOWN_FOR:.0f}s: {attempts} calls refused (slowest refusal {max(refusals):.2f}s), "
        f"0 requests out; worker ran a task queued after the restart in {resumed_in:.1f}s",
    )
    assert resumed_in < RECONNECT_BOUND

    # Back up, the limiter limits again: a burst of 10 gets the burst, then the rate.
    burst_start = time.monotonic()
    for _ in range(6):
        limiter_only.get("espn", url)
    elapsed = time.monotonic() - burst_start
    assert elapsed >= (6 - LIMIT.burst) / LIMIT.rate * 0.8
    assert len(espn.hits) == before + 6
