"""A circuit breaker per provider, its state shared by every worker.

closed: calls pass; ``max_failures`` consecutive failed calls open it.
open: calls are refused with ``CircuitOpen`` (and its ``retry_after``) until ``reset_timeout`` passes.
half_open: after the cool-down exactly one caller gets a trial permit; its success closes the breaker,
its failure opens it again for another cool-down. A trial whose worker died without reporting
expires after ``reset_timeout``, so the breaker cannot stay stuck half-open.

With ``REDIS_URL`` the state is a hash at ``<prefix>:breaker:<provider>`` changed only by Lua scripts
(atomic, on the server's clock); without it, the same rules run in memory under a lock.
pybreaker was considered: its Redis storage reads and writes the state in separate commands (several
workers can each take "the" half-open trial), uses each client's clock, and falls back to closed when
Redis fails; the rules here are small enough to keep exact.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import cast

import redis
from django.conf import settings

from core.errors import SharplineError
from core.http.throttle import DEFAULT_PREFIX, redis_client

Clock = Callable[[], float]

LAST_ERROR_MAX = 500


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerState:
    """What the health page and the admin show for one provider."""

    provider: str
    state: State
    failures: int
    opened_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class Permit:
    """Leave to make a call; ``trial`` when it is the single half-open probe."""

    provider: str
    trial: bool = False


class BreakerError(SharplineError):
    """Base of the breaker's errors."""


class CircuitOpen(BreakerError):
    def __init__(self, provider: str, retry_after: float) -> None:
        self.provider = provider
        self.retry_after = retry_after
        super().__init__(f"{provider}: circuit open, next trial in {retry_after:.1f}s")


class BreakerUnavailable(BreakerError):
    """The shared state could not be reached."""


class CircuitBreaker(ABC):
    def __init__(self, *, max_failures: int, reset_timeout: float) -> None:
        if max_failures < 1 or reset_timeout <= 0:
            raise ValueError("a circuit breaker needs max_failures >= 1 and reset_timeout > 0")
        self.max_failures = max_failures
        self.reset_timeout = reset_timeout

    @abstractmethod
    def before_call(self, provider: str) -> Permit:
        """Return a permit, or raise ``CircuitOpen`` while the breaker is open (or a trial is out)."""

    @abstractmethod
    def record_success(self, provider: str) -> None:
        """A call got an answer: close the breaker and forget the failures (ignored while open)."""

    @abstractmethod
    def record_failure(self, provider: str, error: str) -> None:
        """A call failed: count it; open at ``max_failures``, or at once when it was the trial."""

    @abstractmethod
    def release_trial(self, provider: str) -> None:
        """The trial permit was not used (e.g. no rate-limit token): let the next caller take it."""

    @abstractmethod
    def state(self, provider: str) -> BreakerState: ...

    @abstractmethod
    def reset(self, provider: str) -> None:
        """Close the breaker and forget everything (an operator's override)."""


def _when(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


# --- In process -----------------------------------------------------------------------------


@dataclass
class _Record:
    state: State = State.CLOSED
    failures: int = 0
    opened_at: float | None = None
    trial_at: float = 0.0
    last_error: str = ""


class MemoryBreakers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, _Record] = {}


_PROCESS_BREAKERS = MemoryBreakers()


class InProcessBreaker(CircuitBreaker):
    """The embedded-defaults breaker: the same rules as the Lua scripts, on ``clock`` (epoch seconds)."""

    def __init__(
        self,
        *,
        max_failures: int,
        reset_timeout: float,
        store: MemoryBreakers | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(max_failures=max_failures, reset_timeout=reset_timeout)
        self.store = store if store is not None else MemoryBreakers()
        self._clock = clock

    def _record(self, provider: str) -> _Record:
        return self.store.records.setdefault(provider, _Record())

    def before_call(self, provider: str) -> Permit:
        with self.store.lock:
            record, now = self._record(provider), self._clock()
            if record.state is State.CLOSED:
                return Permit(provider)
            since = (record.opened_at or 0.0) if record.state is State.OPEN else record.trial_at
            left = since + self.reset_timeout - now
            if left > 0:
                raise CircuitOpen(provider, left)
            record.state, record.trial_at = State.HALF_OPEN, now
            return Permit(provider, trial=True)

    def record_success(self, provider: str) -> None:
        with self.store.lock:
            record = self._record(provider)
            if record.state is not State.OPEN:
                record.state, record.failures, record.opened_at, record.trial_at = State.CLOSED, 0, None, 0.0

    def record_failure(self, provider: str, error: str) -> None:
        with self.store.lock:
            record = self._record(provider)
            record.failures += 1
            record.last_error = error[:LAST_ERROR_MAX]
            if record.state is State.HALF_OPEN or (
                record.state is State.CLOSED and record.failures >= self.max_failures
            ):
                record.state, record.opened_at = State.OPEN, self._clock()

    def release_trial(self, provider: str) -> None:
        with self.store.lock:
            record = self._record(provider)
            if record.state is State.HALF_OPEN:
                record.trial_at = 0.0

    def state(self, provider: str) -> BreakerState:
        with self.store.lock:
            r = self.store.records.get(provider, _Record())
            return BreakerState(provider, r.state, r.failures, _when(r.opened_at), r.last_error)

    def reset(self, provider: str) -> None:
        with self.store.lock:
            self.store.records.pop(provider, None)


# --- Redis ----------------------------------------------------------------------------------

# KEYS[1]: the breaker hash {state, failures, opened_at, trial_at, last_error}. ARGV[1]: reset_timeout.
# Returns {0, "0"}: pass (closed); {1, "0"}: pass as the one half-open trial; {2, "<s>"}: refused.
BEFORE_CALL_LUA = """
local reset = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', KEYS[1], 'state', 'opened_at', 'trial_at')
local state = s[1] or 'closed'
if state == 'closed' then
  return {0, '0'}
end
local since = tonumber(s[3]) or 0
if state == 'open' then
  since = tonumber(s[2]) or 0
end
local left = since + reset - now
if left > 0 then
  return {2, string.format('%.6f', left)}
end
redis.call('HSET', KEYS[1], 'state', 'half_open', 'trial_at', string.format('%.6f', now))
return {1, '0'}
"""

# ARGV[1]: max_failures, ARGV[2]: the error. Opens after max_failures, or at once from half_open.
RECORD_FAILURE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_error', ARGV[2])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'half_open' or (state == 'closed' and failures >= tonumber(ARGV[1])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', string.format('%.6f', now))
end
return failures
"""

# A success closes (from closed or half_open); while open it is a call begun before the breaker
# opened, and the cool-down and its trial decide instead.
RECORD_SUCCESS_LUA = """
if redis.call('HGET', KEYS[1], 'state') == 'open' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', '0')
redis.call('HDEL', KEYS[1], 'opened_at', 'trial_at')
return 1
"""

RELEASE_TRIAL_LUA = """
if redis.call('HGET', KEYS[1], 'state') == 'half_open' then
  redis.call('HSET', KEYS[1], 'trial_at', '0')
end
return 1
"""


class RedisBreaker(CircuitBreaker):
    def __init__(
        self,
        *,
        max_failures: int,
        reset_timeout: float,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        super().__init__(max_failures=max_failures, reset_timeout=reset_timeout)
        self.client = client
        self.prefix = prefix
        self._before_call = client.register_script(BEFORE_CALL_LUA)
        self._failure = client.register_script(RECORD_FAILURE_LUA)
        self._success = client.register_script(RECORD_SUCCESS_LUA)
        self._release = client.register_script(RELEASE_TRIAL_LUA)

    def key(self, provider: str) -> str:
        return f"{self.prefix}:breaker:{provider}"

    def _unavailable(self, provider: str, exc: redis.RedisError) -> BreakerUnavailable:
        return BreakerUnavailable(f"{provider}: circuit breaker store unreachable ({exc})")

    def before_call(self, provider: str) -> Permit:
        try:
            code, left = self._before_call(keys=[self.key(provider)], args=[self.reset_timeout])
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc
        if int(code) == 2:
            raise CircuitOpen(provider, float(left))
        return Permit(provider, trial=int(code) == 1)

    def record_success(self, provider: str) -> None:
        try:
            self._success(keys=[self.key(provider)])
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc

    def record_failure(self, provider: str, error: str) -> None:
        try:
            self._failure(keys=[self.key(provider)], args=[self.max_failures, error[:LAST_ERROR_MAX]])
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc

    def release_trial(self, provider: str) -> None:
        try:
            self._release(keys=[self.key(provider)])
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc

    def state(self, provider: str) -> BreakerState:
        try:
            raw = cast(dict[bytes, bytes], self.client.hgetall(self.key(provider)))
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        return BreakerState(
            provider=provider,
            state=State(fields.get("state", "closed")),
            failures=int(fields.get("failures", 0)),
            opened_at=_when(float(fields["opened_at"])) if "opened_at" in fields else None,
            last_error=fields.get("last_error", ""),
        )

    def reset(self, provider: str) -> None:
        try:
            self.client.delete(self.key(provider))
        except redis.RedisError as exc:
            raise self._unavailable(provider, exc) from exc


def get_breaker() -> CircuitBreaker:
    """The process's breaker: Redis when ``settings.REDIS_URL`` is set, else in memory."""
    return _breaker(
        settings.REDIS_URL or "",
        int(settings.CIRCUIT_BREAKER_MAX_FAILURES),
        float(settings.CIRCUIT_BREAKER_RESET_TIMEOUT),
    )


@lru_cache(maxsize=8)
def _breaker(url: str, max_failures: int, reset_timeout: float) -> CircuitBreaker:
    if url:
        return RedisBreaker(max_failures=max_failures, reset_timeout=reset_timeout, client=redis_client(url))
    return InProcessBreaker(max_failures=max_failures, reset_timeout=reset_timeout, store=_PROCESS_BREAKERS)
