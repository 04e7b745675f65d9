"""The page cache (the ``pages`` alias): Redis whose failures are misses, so pages degrade, never fail.

Rendered pages and their heavy aggregates are a convenience: when Redis is down, full or slow, a
page is built from the database instead. ``ResilientRedisCache`` answers every failed operation as
a miss (``get`` -> default, ``add``/``set`` -> not stored, ``incr`` -> missing key), then leaves
Redis alone for ``RETRY_AFTER`` seconds so a page does not wait on a dead server at each read. Each
degraded operation is counted (``sharpline_cache_errors``, core/observe/metrics.py); the error is logged at
most once per ``LOG_INTERVAL`` per cache and process, with the number since; and the request that
met one shows a small banner (``degraded_context``, a context processor).

The ``default`` cache stays strict (Django's ``RedisCache``): it holds the single-flight locks, the
login and operator rate-limit counts and the provider quotas, where a silent miss would be wrong (two
jobs at once, a limit that switches off); their callers handle its errors themselves.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.signals import request_started
from django.http import HttpRequest
from redis.client import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)  # a key as the caller gave it (Django formats it into the Redis key)
V = TypeVar("V")

LOG_INTERVAL = 60.0  # seconds between two log lines about the same cache in one process
RETRY_AFTER = 5.0  # default seconds a failed cache is skipped before Redis is tried again
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)

# Whether the current request met a cache failure; reset when a request starts.
_degraded: contextvars.ContextVar[bool] = contextvars.ContextVar("sharpline_cache_degraded", default=False)


def degraded() -> bool:
    """Whether a page cache operation of this request failed (the page was built without the cache)."""
    return _degraded.get()


def mark_degraded() -> None:
    """Say that this request met a cache failure (for a caller of the strict cache that handled one)."""
    _degraded.set(True)


def _reset(**kwargs: object) -> None:
    _degraded.set(False)


request_started.connect(_reset, dispatch_uid="core.web.cache.reset_degraded")


def degraded_context(request: HttpRequest) -> dict[str, bool]:
    """Context processor: ``cache_degraded`` for the banner of base.html."""
    return {"cache_degraded": degraded()}


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, but one ``redis.Redis`` per connection pool, built at the first
    use and kept: Django builds a new one at every operation (``get_client``), whose constructor
    (its table of response callbacks) cost a cached page more than the Redis read itself. A
    ``redis.Redis`` holds no connection of its own (each command borrows one from the pool), so one
    per pool serves every operation of the cache; a forked process gets new connections from the
    pool as before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # Django's own arguments, passed on unchanged
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key: str | bytes | memoryview | None = None, *, write: bool = False) -> Redis:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    """Django's ``RedisCache`` whose Redis errors are misses. ``OPTIONS`` may hold ``RETRY_AFTER``
    (seconds without trying Redis after a failure; 0: try at every operation) and ``NAME`` (of the
    logs and metrics); every other option goes to the connection pool as usual
    (``socket_connect_timeout``, ``socket_timeout``)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:  # a CACHES entry, as RedisCache takes it
        options = dict(params.get("OPTIONS", {}))
        self.retry_after = float(options.pop("RETRY_AFTER", RETRY_AFTER))
        self.alias = str(options.pop("NAME", "pages"))  # the metrics label and log name
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self._down_until = 0.0
        self._logged_at = -LOG_INTERVAL
        self._unlogged = 0

    def _guard(self, operation: str, call: Callable[[], T], miss: T) -> T:
        if time.monotonic() < self._down_until:
            self._degrade(operation, None)
            return miss
        try:
            return call()
        except CACHE_ERRORS as exc:
            self._down_until = time.monotonic() + self.retry_after
            self._degrade(operation, exc)
            return miss

    def _degrade(self, operation: str, exc: Exception | None) -> None:
        from core.observe import metrics

        _degraded.set(True)
        metrics.count_cache_error(self.alias, operation)
        self._unlogged += 1
        now = time.monotonic()
        if exc is not None and now - self._logged_at >= LOG_INTERVAL:
            logger.warning(
                "cache %r unavailable, pages are built from the database (%d degraded operations since the "
                "last report; Redis is retried every %.0fs): %s: %s",
                self.alias, self._unlogged, self.retry_after, type(exc).__name__, exc,
            )  # fmt: skip
            self._logged_at, self._unlogged = now, 0

    def get(self, key: object, default: object = None, version: int | None = None) -> object:
        return self._guard("get", lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Iterable[K], version: int | None = None) -> dict[K, object]:
        return self._guard("get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: object, version: int | None = None) -> bool:
        return self._guard("has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def set(
        self, key: object, value: object, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._guard("set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def add(
        self, key: object, value: object, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._guard("add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def set_many(
        self, data: dict[K, V], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[K]:
        call = lambda: super(ResilientRedisCache, self).set_many(data, timeout, version)  # noqa: E731
        return self._guard("set_many", call, list(data))

    def touch(self, key: object, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: object, version: int | None = None) -> bool:
        return self._guard("delete", lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Iterable[object], version: int | None = None) -> None:
        self._guard("delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: object, delta: int = 1, version: int | None = None) -> int:
        call = lambda: super(ResilientRedisCache, self).incr(key, delta, version)  # noqa: E731
        value: int | None = self._guard("incr", call, None)
        if value is None:  # as Django's caches say a key is missing
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return value

    def clear(self) -> None:
        self._guard("clear", lambda: super(ResilientRedisCache, self).clear(), None)
