"""The global rate limiter (``core.http.throttle.RedisTokenBucket``) on the real Redis: how long a
decision takes, and the highest rate several processes hammering one bucket actually get against
the configured one. Run by ``python -m bench`` with ``REDIS_URL`` set; prints a JSON line last.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
django.setup()

from django.conf import settings

from bench.stack import QUICK
from core.http.throttle import Limit, RedisTokenBucket, redis_client

DECISIONS = 5000
RATE, BURST = 50.0, 5  # the bucket the processes share
PROCESSES = 4
SECONDS = 3.0 if QUICK else 6.0  # make bench-quick: the same processes on one bucket, for half as long


def _bucket(prefix: str, limit: Limit) -> RedisTokenBucket:
    return RedisTokenBucket({"bench": limit}, client=redis_client(settings.REDIS_URL), prefix=prefix)


def _grab(prefix: str) -> list[float]:
    """One process: take tokens as fast as the bucket gives them for SECONDS; the times it got one."""
    bucket = _bucket(prefix, Limit(RATE, BURST))
    got = []
    stop = time.time() + SECONDS
    while time.time() < stop:
        bucket.acquire("bench", timeout=SECONDS)
        got.append(time.time())
    return got


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure() -> dict[str, Any]:
    if not settings.REDIS_URL:
        raise SystemExit("the rate limiter benchmark needs Redis (REDIS_URL)")
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    # Decision latency: a bucket that always has a token, so each acquire is one Lua round trip.
    open_bucket = _bucket(prefix, Limit(rate=1e9, burst=10**9))
    latencies = []
    for _ in range(DECISIONS):
        started = time.perf_counter()
        open_bucket.acquire("bench", timeout=1)
        latencies.append(time.perf_counter() - started)
    ping = []
    client = redis_client(settings.REDIS_URL)
    for _ in range(1000):
        started = time.perf_counter()
        client.ping()
        ping.append(time.perf_counter() - started)
    client.delete(open_bucket.key("bench"))

    # Observed rate: PROCESSES processes on one bucket.
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        grants = sorted(t for times in pool.map(_grab, [prefix] * PROCESSES) for t in times)
    client.delete(f"{prefix}:throttle:bench")
    first, last = grants[0], grants[-1]
    # The most tokens granted in any one-second window, and the rate after the initial burst.
    window_max = max(sum(1 for t in grants[i:] if t - start <= 1.0) for i, start in enumerate(grants))
    sustained = (len(grants) - BURST) / (last - first)
    return {
        "decisions": DECISIONS,
        "decision_p50_ms": round(_percentile(latencies, 50) * 1000, 3),
        "decision_p99_ms": round(_percentile(latencies, 99) * 1000, 3),
        "decision_mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "ping_p50_ms": round(_percentile(ping, 50) * 1000, 3),
        "configured_rate": RATE,
        "burst": BURST,
        "processes": PROCESSES,
        "seconds": SECONDS,
        "granted": len(grants),
        "sustained_rate": round(sustained, 2),
        "max_in_1s": window_max,
        "allowed_in_1s": RATE + BURST,
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
    sys.exit(0)
