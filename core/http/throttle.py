"""A token bucket per provider, shared by every worker and process that calls it.

With ``REDIS_URL`` the bucket lives in Redis and one Lua script refills and takes a token atomically,
on the Redis server's clock (``TIME``), so the limit holds across processes and hosts whose clocks
disagree. Celery's own ``rate_limit`` is per worker and is no substitute. Without Redis (embedded
defaults: one process) the same algorithm runs in memory under a lock.

The limiter fails closed: when Redis cannot be reached, ``acquire`` raises ``ThrottleUnavailable``
and no request goes out. Letting calls through unthrottled would burst the provider's limit exactly
when the rest of the system is in trouble.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.retry import Retry as RedisRetry

from core.errors import SharplineError

Clock = Callable[[], float]
Sleep = Callable[[float], None]

DEFAULT_PREFIX = "sharpline"


class ThrottleError(SharplineError):
    """Base of the limiter's errors."""


class RateLimited(ThrottleError):
    """No token became available within the caller's timeout."""

    def __init__(self, provider: str, retry_after: float) -> None:
        self.provider = provider
        self.retry_after = retry_after
        super().__init__(f"{provider}: rate limit reached, next token in {retry_after:.2f}s")


class ThrottleUnavailable(ThrottleError):
    """The shared bucket could not be reached; the call is refused (fail closed)."""


@dataclass(frozen=True)
class Limit:
    """``rate`` tokens per second, at most ``burst`` at once."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)) or self.burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1, got rate={self.rate} burst={self.burst}")


def limits_from_settings() -> dict[str, Limit]:
    """``settings.HTTP_PROVIDERS`` as limits: ``{"odds_api": Limit(rate=1.0, burst=5), ...}``."""
    providers: Mapping[str, Mapping[str, float]] = settings.HTTP_PROVIDERS
    return {name: Limit(rate=float(conf["rate"]), burst=int(conf["burst"])) for name, conf in providers.items()}


class TokenBucket(ABC):
    """``acquire(provider, timeout=...)`` blocks until the provider's bucket gives a token."""

    def __init__(self, limits: Mapping[str, Limit], *, sleep: Sleep = time.sleep, clock: Clock = time.monotonic):
        self.limits = dict(limits)
        self._sleep = sleep
        self._clock = clock

    def limit(self, provider: str) -> Limit:
        try:
            return self.limits[provider]
        except KeyError:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(sorted(self.limits))}") from None

    def acquire(self, provider: str, *, timeout: float) -> float:
        """Take one token, sleeping while the bucket is empty; return the seconds waited.

        Raises ``RateLimited`` (without sleeping in vain) when the next token is further away than
        what is left of ``timeout``, and ``ThrottleUnavailable`` when the shared store is down.
        """
        limit = self.limit(provider)
        started = self._clock()
        deadline = started + timeout
        while True:
            wait = self._take(provider, limit)
            if wait <= 0:
                return self._clock() - started
            # Another worker may take the token we waited for: loop and ask the bucket again.
            if wait > deadline - self._clock():
                raise RateLimited(provider, wait)
            self._sleep(wait)

    def pause(self, provider: str, seconds: float) -> None:
        """Hold every caller of this provider for ``seconds`` (a ``Retry-After``), then allow one call."""
        if seconds > 0:
            self._pause(provider, self.limit(provider), seconds)

    @abstractmethod
    def _take(self, provider: str, limit: Limit) -> float:
        """Take a token if one is there and return 0, else return the seconds until one will be."""

    @abstractmethod
    def _pause(self, provider: str, limit: Limit, seconds: float) -> None: ...


# --- In process -----------------------------------------------------------------------------


class MemoryBuckets:
    """Bucket states of one process: ``{provider: (tokens, stamp)}``. A stamp in the future is a pause."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.states: dict[str, tuple[float, float]] = {}


_PROCESS_BUCKETS = MemoryBuckets()


class InProcessTokenBucket(TokenBucket):
    """The embedded-defaults bucket: the same algorithm as the Lua script, on ``clock``, under a lock."""

    def __init__(
        self,
        limits: Mapping[str, Limit],
        *,
        store: MemoryBuckets | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(limits, sleep=sleep, clock=clock)
        self.store = store if store is not None else MemoryBuckets()

    def _take(self, provider: str, limit: Limit) -> float:
        with self.store.lock:
            now = self._clock()
            tokens, stamp = self.store.states.get(provider, (float(limit.burst), now))
            if now < stamp:
                return stamp - now
            tokens = min(float(limit.burst), tokens + (now - stamp) * limit.rate)
            if tokens >= 1:
                self.store.states[provider] = (tokens - 1, now)
                return 0.0
            return (1 - tokens) / limit.rate

    def _pause(self, provider: str, limit: Limit, seconds: float) -> None:
        with self.store.lock:
            until = self._clock() + seconds
            _, stamp = self.store.states.get(provider, (0.0, 0.0))
            if stamp < until:
                self.store.states[provider] = (1.0, until)


# --- Redis ----------------------------------------------------------------------------------

# KEYS[1]: the bucket, a hash {tokens, ts}. ARGV: rate (tokens/s), burst.
# Refill by the time elapsed since ts, capped at burst; take one token if there is one.
# A ts in the future is a pause (Retry-After): nothing is taken before it.
# Returns {1, "0"} when a token was taken, else {0, "<seconds until one will be>"} (floats travel as
# strings: Redis truncates Lua numbers to integers). Time is the server's, so clients may disagree.
TAKE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(s[1]) or burst
local ts = tonumber(s[2]) or now
if now < ts then
  return {0, string.format('%.6f', ts - now)}
end
tokens = math.min(burst, tokens + (now - ts) * rate)
if tokens < 1 then
  return {0, string.format('%.6f', (1 - tokens) / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens - 1), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {1, '0'}
"""

# KEYS[1]: the bucket. ARGV: seconds, rate, burst. Holds the bucket until now + seconds, then one token.
PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local untl = now + tonumber(ARGV[1])
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts'))
if ts == nil or ts < untl then
  redis.call('HSET', KEYS[1], 'tokens', '1', 'ts', string.format('%.6f', untl))
  redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[1]) + tonumber(ARGV[3]) / tonumber(ARGV[2])) * 1000) + 1000)
end
return 1
"""


@lru_cache(maxsize=8)
def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process; redis-py resets the pool after a fork.

    Short socket timeouts and a single quick retry: a dead Redis must refuse calls within about a
    second, not hang a worker through redis-py's default multi-second backoff.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=1.0,
        retry=RedisRetry(ExponentialBackoff(cap=0.1, base=0.02), 1),
        health_check_interval=30,
    )


class RedisTokenBucket(TokenBucket):
    """Buckets at ``<prefix>:throttle:<provider>``, shared by every process using the same Redis."""

    def __init__(
        self,
        limits: Mapping[str, Limit],
        *,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(limits, sleep=sleep, clock=clock)
        self.client = client
        self.prefix = prefix
        # register_script sends EVALSHA and falls back to EVAL once when the server lacks the script.
        self._take_script = client.register_script(TAKE_LUA)
        self._pause_script = client.register_script(PAUSE_LUA)

    def key(self, provider: str) -> str:
        return f"{self.prefix}:throttle:{provider}"

    def _take(self, provider: str, limit: Limit) -> float:
        try:
            taken, wait = self._take_script(keys=[self.key(provider)], args=[limit.rate, limit.burst])
        except redis.RedisError as exc:
            raise ThrottleUnavailable(f"{provider}: rate limiter store unreachable ({exc}); call refused") from exc
        return 0.0 if int(taken) == 1 else float(wait)

    def _pause(self, provider: str, limit: Limit, seconds: float) -> None:
        try:
            self._pause_script(keys=[self.key(provider)], args=[seconds, limit.rate, limit.burst])
        except redis.RedisError as exc:
            raise ThrottleUnavailable(f"{provider}: rate limiter store unreachable ({exc})") from exc


def get_throttle() -> TokenBucket:
    """The process's bucket: Redis when ``settings.REDIS_URL`` is set, else in memory."""
    limits = tuple(sorted(limits_from_settings().items()))
    return _throttle(settings.REDIS_URL or "", limits)


@lru_cache(maxsize=8)
def _throttle(url: str, limits: tuple[tuple[str, Limit], ...]) -> TokenBucket:
    if url:
        return RedisTokenBucket(dict(limits), client=redis_client(url))
    return InProcessTokenBucket(dict(limits), store=_PROCESS_BUCKETS)
