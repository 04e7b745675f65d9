"""The shared token bucket and circuit breaker: in memory on a fake clock, and on the real Redis."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from core.http.breaker import (
    BreakerUnavailable,
    CircuitOpen,
    InProcessBreaker,
    MemoryBreakers,
    RedisBreaker,
    State,
    get_breaker,
)
from core.http.throttle import (
    InProcessTokenBucket,
    Limit,
    MemoryBuckets,
    RateLimited,
    RedisTokenBucket,
    ThrottleUnavailable,
    get_throttle,
    limits_from_settings,
    redis_client,
)
from tests.factories import FakeClock

UNREACHABLE = "redis://127.0.0.1:1/0"
needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (the real-stack run sets it)")


def all_at_once(caller, count: int) -> None:
    """``caller(0)`` ... ``caller(count - 1)``, each on a thread of its own; returns when all have ended."""
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test alone, so parallel runs on one Redis never share a bucket."""
    prefix = f"sharpline-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis_client(settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


# --- Settings and the factories -------------------------------------------------------------


def test_default_limits_are_the_documented_ones():
    assert limits_from_settings() == {
        "odds_api": Limit(rate=1.0, burst=5),
        "espn": Limit(rate=2.0, burst=10),
        "injuries": Limit(rate=0.5, burst=3),
    }
    assert settings.CIRCUIT_BREAKER_MAX_FAILURES == 5 and settings.CIRCUIT_BREAKER_RESET_TIMEOUT == 60


def test_redis_is_used_exactly_when_redis_url_is_set():
    assert isinstance(get_throttle(), RedisTokenBucket) == bool(settings.REDIS_URL)
    assert isinstance(get_breaker(), RedisBreaker) == bool(settings.REDIS_URL)
    with override_settings(REDIS_URL=""):
        assert isinstance(get_throttle(), InProcessTokenBucket)
        assert isinstance(get_breaker(), InProcessBreaker)
        assert get_throttle() is get_throttle() and get_breaker() is get_breaker()  # one per process


def test_a_limit_needs_a_positive_rate_and_a_burst():
    with pytest.raises(ValueError, match="rate > 0"):
        Limit(rate=0, burst=5)
    with pytest.raises(ValueError, match="burst >= 1"):
        Limit(rate=1, burst=0)


# --- Token bucket in memory -----------------------------------------------------------------


def test_a_full_bucket_gives_its_burst_at_once_then_tokens_at_the_rate():
    clock = FakeClock()
    bucket = InProcessTokenBucket({"espn": Limit(rate=2.0, burst=5)}, sleep=clock.sleep, clock=clock)
    start = clock.now
    granted = []
    for _ in range(15):
        bucket.acquire("espn", timeout=10)
        granted.append(clock.now - start)
    assert granted[:5] == [0.0] * 5
    assert granted[5:] == pytest.approx([0.5 * n for n in range(1, 11)])
    for count, at in enumerate(granted, start=1):
        assert count <= 5 + 2.0 * at + 1e-9


def test_an_idle_bucket_refills_only_up_to_its_burst():
    clock = FakeClock()
    bucket = InProcessTokenBucket({"odds_api": Limit(rate=1.0, burst=5)}, sleep=clock.sleep, clock=clock)
    for _ in range(5):
        bucket.acquire("odds_api", timeout=0)
    clock.now += 3600
    for _ in range(5):
        bucket.acquire("odds_api", timeout=0)
    with pytest.raises(RateLimited) as caught:
        bucket.acquire("odds_api", timeout=0)
    assert caught.value.retry_after == pytest.approx(1.0)
    assert clock.sleeps == []


def test_no_token_within_the_timeout_raises_without_sleeping_in_vain():
    clock = FakeClock()
    bucket = InProcessTokenBucket({"injuries": Limit(rate=0.5, burst=1)}, sleep=clock.sleep, clock=clock)
    bucket.acquire("injuries", timeout=0)
    with pytest.raises(RateLimited, match=r"next token in 2\.00s") as caught:
        bucket.acquire("injuries", timeout=1.5)
    assert caught.value.retry_after == pytest.approx(2.0) and clock.sleeps == []
    assert bucket.acquire("injuries", timeout=2.5) == pytest.approx(2.0)


def test_providers_have_separate_buckets():
    clock = FakeClock()
    limits = {"odds_api": Limit(1.0, 2), "espn": Limit(1.0, 2)}
    bucket = InProcessTokenBucket(limits, sleep=clock.sleep, clock=clock)
    bucket.acquire("odds_api", timeout=0)
    bucket.acquire("odds_api", timeout=0)
    bucket.acquire("espn", timeout=0)
    with pytest.raises(RateLimited):
        bucket.acquire("odds_api", timeout=0)
    with pytest.raises(ValueError, match="unknown provider 'kalshi'"):
        bucket.acquire("kalshi", timeout=0)


def test_a_pause_holds_every_caller_then_lets_one_through():
    clock = FakeClock()
    bucket = InProcessTokenBucket({"odds_api": Limit(rate=1.0, burst=5)}, sleep=clock.sleep, clock=clock)
    bucket.pause("odds_api", 7.0)
    assert bucket.acquire("odds_api", timeout=10) == pytest.approx(7.0)
    assert bucket.acquire("odds_api", timeout=10) == pytest.approx(1.0)  # no burst right after a 429


# --- Token bucket and breaker on both stores ------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """(make_bucket, make_breaker, advance): in memory on a fake clock, or on the real Redis in real time."""
    if request.param == "memory":
        clock = FakeClock()
        buckets, breakers = MemoryBuckets(), MemoryBreakers()

        def bucket(limits):
            return InProcessTokenBucket(limits, store=buckets, sleep=clock.sleep, clock=clock)

        def breaker(**kwargs):
            return InProcessBreaker(store=breakers, clock=clock, **kwargs)

        yield bucket, breaker, clock.sleep
        return
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the real-stack run sets it)")
    prefix = f"sharpline-test-{uuid.uuid4().hex}"

    def bucket(limits):  # a client of its own: as another worker would have
        return RedisTokenBucket(limits, client=redis.Redis.from_url(settings.REDIS_URL), prefix=prefix)

    def breaker(**kwargs):
        return RedisBreaker(client=redis.Redis.from_url(settings.REDIS_URL), prefix=prefix, **kwargs)

    yield bucket, breaker, time.sleep
    client = redis_client(settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_concurrent_callers_never_take_more_than_the_burst(store):
    make_bucket, _, _ = store
    limits = {"odds_api": Limit(rate=0.001, burst=5)}
    buckets = [make_bucket(limits) for _ in range(4)]
    start = threading.Barrier(16)
    taken, refused = [], []

    def caller(n):
        start.wait()
        for _ in range(3):
            try:
                buckets[n % 4].acquire("odds_api", timeout=0)
                taken.append(n)
            except RateLimited:
                refused.append(n)

    all_at_once(caller, 16)
    assert len(taken) == 5 and len(refused) == 43


RESET = 0.3


def test_breaker_opens_after_consecutive_failures_and_refuses_calls(store):
    _, make_breaker, _ = store
    breaker = make_breaker(max_failures=3, reset_timeout=RESET)
    breaker.record_failure("espn", "HTTP 503 Service Unavailable")
    breaker.record_failure("espn", "HTTP 503 Service Unavailable")
    breaker.record_success("espn")  # the streak is broken
    assert breaker.state("espn").failures == 0
    for _ in range(2):
        breaker.record_failure("espn", "ReadTimeout")
        assert breaker.before_call("espn").trial is False
    breaker.record_failure("espn", "ConnectionError: refused")
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call("espn")
    assert 0 < caught.value.retry_after <= RESET
    state = breaker.state("espn")
    assert (state.state, state.failures, state.last_error) == (State.OPEN, 3, "ConnectionError: refused")
    assert state.opened_at is not None and state.opened_at.tzinfo is not None
    assert breaker.state("odds_api").state == State.CLOSED  # one breaker per provider


def test_half_open_lets_one_trial_through_and_its_success_closes(store):
    _, make_breaker, advance = store
    breaker, other_worker = (
        make_breaker(max_failures=1, reset_timeout=RESET),
        make_breaker(max_failures=1, reset_timeout=RESET),
    )
    breaker.record_failure("espn", "HTTP 502 Bad Gateway")
    advance(RESET + 0.05)
    assert breaker.before_call("espn").trial is True
    assert breaker.state("espn").state == State.HALF_OPEN
    with pytest.raises(CircuitOpen):
        other_worker.before_call("espn")
    breaker.record_success("espn")
    state = other_worker.state("espn")
    assert (state.state, state.failures, state.opened_at) == (State.CLOSED, 0, None)
    assert other_worker.before_call("espn").trial is False


def test_a_failed_trial_opens_the_breaker_for_another_cool_down(store):
    _, make_breaker, advance = store
    breaker = make_breaker(max_failures=2, reset_timeout=RESET)
    breaker.record_failure("espn", "x")
    breaker.record_failure("espn", "x")
    first_opened = breaker.state("espn").opened_at
    advance(RESET + 0.05)
    assert breaker.before_call("espn").trial is True
    breaker.record_failure("espn", "HTTP 500 trial failed")
    state = breaker.state("espn")
    assert state.state == State.OPEN and state.opened_at > first_opened and state.last_error == "HTTP 500 trial failed"
    with pytest.raises(CircuitOpen):
        breaker.before_call("espn")
    advance(RESET + 0.05)
    assert breaker.before_call("espn").trial is True


def test_an_unused_or_abandoned_trial_goes_to_the_next_caller(store):
    _, make_breaker, advance = store
    breaker = make_breaker(max_failures=1, reset_timeout=RESET)
    breaker.record_failure("espn", "x")
    advance(RESET + 0.05)
    assert breaker.before_call("espn").trial is True
    breaker.release_trial("espn")  # e.g. no rate-limit token: the trial never ran
    assert breaker.before_call("espn").trial is True
    advance(RESET + 0.05)  # that worker died without reporting: the trial expires
    assert breaker.before_call("espn").trial is True


def test_a_late_success_does_not_close_an_open_breaker(store):
    _, make_breaker, _ = store
    breaker = make_breaker(max_failures=1, reset_timeout=RESET)
    breaker.record_failure("espn", "x")
    breaker.record_success("espn")  # a call that began before the breaker opened
    assert breaker.state("espn").state == State.OPEN
    breaker.reset("espn")
    assert breaker.state("espn").state == State.CLOSED


def test_exactly_one_of_many_concurrent_callers_gets_the_trial(store):
    _, make_breaker, advance = store
    breakers = [make_breaker(max_failures=1, reset_timeout=RESET) for _ in range(4)]
    breakers[0].record_failure("espn", "x")
    advance(RESET + 0.05)
    start = threading.Barrier(16)
    trials, refused = [], []

    def caller(n):
        start.wait()
        try:
            trials.append(breakers[n % 4].before_call("espn").trial)
        except CircuitOpen:
            refused.append(n)

    all_at_once(caller, 16)
    assert trials == [True] and len(refused) == 15


# --- Redis: shared across processes, fail closed --------------------------------------------


def _take_for(url: str, prefix: str, limit: Limit, seconds: float, out) -> None:
    bucket = RedisTokenBucket({"odds_api": limit}, client=redis.Redis.from_url(url), prefix=prefix)
    stamps: list[float] = []
    lock = threading.Lock()
    deadline = time.time() + seconds

    def run():
        while time.time() < deadline:
            bucket.acquire("odds_api", timeout=5)
            with lock:
                stamps.append(time.time())

    all_at_once(lambda _: run(), 2)
    out.put(stamps)


@needs_redis
def test_two_processes_share_one_bucket_and_never_exceed_burst_plus_rate(redis_prefix):
    limit, seconds = Limit(rate=10.0, burst=5), 1.0
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [
        context.Process(target=_take_for, args=(settings.REDIS_URL, redis_prefix, limit, seconds, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    per_process = [out.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    stamps = sorted(s for got in per_process for s in got)
    assert all(per_process), "both processes got tokens"
    # Two separate buckets would hand out about 2 * (5 + 10 * 1.0) = 30; one shared bucket about 15.
    assert len(stamps) <= limit.burst + limit.rate * (stamps[-1] - stamps[0]) + 1
    assert len(stamps) >= limit.burst + limit.rate * seconds * 0.7
    for i in range(len(stamps)):  # every window [t_i, t_j]: at most burst + rate * (t_j - t_i), +1 for clock skew
        for j in range(i, len(stamps)):
            assert j - i + 1 <= limit.burst + limit.rate * (stamps[j] - stamps[i]) + 1


@needs_redis
def test_a_pause_in_redis_holds_another_worker(redis_prefix):
    limits = {"odds_api": Limit(rate=100.0, burst=5)}
    waits: list[float] = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    this = RedisTokenBucket(limits, client=redis.Redis.from_url(settings.REDIS_URL), prefix=redis_prefix)
    other = RedisTokenBucket(limits, client=redis.Redis.from_url(settings.REDIS_URL), prefix=redis_prefix, sleep=sleep)
    this.pause("odds_api", 0.3)
    started = time.monotonic()
    other.acquire("odds_api", timeout=5)
    assert 0.25 <= time.monotonic() - started < 1.0
    assert 0.2 < waits[0] <= 0.3
    assert redis_client(settings.REDIS_URL).ttl(this.key("odds_api")) > 0  # buckets expire when idle


def test_an_unreachable_redis_refuses_every_call_fast():
    client = redis_client(UNREACHABLE)
    bucket = RedisTokenBucket({"odds_api": Limit(1.0, 5)}, client=client, prefix="sharpline-test")
    breaker = RedisBreaker(max_failures=5, reset_timeout=60, client=client, prefix="sharpline-test")
    started = time.monotonic()
    with pytest.raises(ThrottleUnavailable, match="call refused"):
        bucket.acquire("odds_api", timeout=30)
    with pytest.raises(ThrottleUnavailable):
        bucket.pause("odds_api", 5)
    with pytest.raises(BreakerUnavailable):
        breaker.before_call("odds_api")
    with pytest.raises(BreakerUnavailable):
        breaker.record_failure("odds_api", "x")
    with pytest.raises(BreakerUnavailable):
        breaker.state("odds_api")
    assert time.monotonic() - started < 3
