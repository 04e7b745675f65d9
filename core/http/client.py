"""The one outbound HTTP client: ``core.http.client.get("odds_api", url, params=...)``.

Every provider call goes through here and gets, in order:
1. the provider's circuit breaker (``core.http.breaker``): refused at once while it is open;
2. a token from the provider's bucket (``core.http.throttle``), for every attempt, retries included;
3. a pooled ``requests.Session`` per provider with the configured User-Agent and (connect, read)
   timeouts always;
4. retries on connection errors, timeouts, 429 and 5xx: up to ``HTTP_MAX_RETRIES`` after the first
   attempt, waiting ``HTTP_BACKOFF_BASE * 2**(n-1)`` seconds ±25% jitter, capped at
   ``HTTP_BACKOFF_CAP``; a ``Retry-After`` is waited for as given and also pauses the shared bucket,
   so no other worker calls before it either; one longer than the cap ends the call at once with it
   as ``retry_after`` (a worker should not sleep through minutes; the task can be retried later);
5. the quota headers of every response recorded per provider (``quota(provider)``, kept in
   ``core.http.quota`` and named here too).

The retries are a loop here rather than urllib3's ``Retry`` inside the adapter (which is set to
``total=0``): urllib3 would resend without asking the bucket, letting retries exceed the limit,
and without the breaker seeing them. urllib3's Retry-After parser is reused.

The breaker counts a call, not an attempt: one failure when the call ends in a connection error,
timeout, 5xx or 429 after its retries. Any other answer, a 4xx included, shows the provider is up and
counts as a success; the 4xx itself raises ``ProviderHTTPError`` and is never retried. The half-open
trial is a single attempt.

Errors: ``ProviderUnavailable`` (breaker open, rate limiter unreachable or out of time, retries
exhausted; ``retry_after`` when known) and ``ProviderHTTPError`` (a 4xx), both ``ProviderError``.
Messages and logs never carry secrets: ``apiKey``, ``api_key``, ``token``... are masked in URLs and
error texts, and the value of such a parameter is blotted wherever it appears.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from core.errors import SharplineError
from core.http.breaker import (
    BreakerError,
    BreakerState,
    BreakerUnavailable,
    CircuitBreaker,
    CircuitOpen,
    Permit,
    get_breaker,
)
from core.http.quota import QUOTA_HEADERS as QUOTA_HEADERS
from core.http.quota import providers as providers
from core.http.quota import quota as quota
from core.http.quota import record_quota as record_quota
from core.http.throttle import RateLimited, ThrottleUnavailable, TokenBucket, get_throttle
from core.observe import metrics

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures of the provider (or the way to it) worth another attempt; anything else is our mistake.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
JITTER = 0.25
# A query parameter's value as requests encodes it (a sequence repeats the name).
ParamValue = str | bytes | int | float | Iterable[str | bytes | int | float] | None
Params = Mapping[str, ParamValue]
MASKED_PARAMS = r"api[_-]?key|access_token|token|secret|password|signature|key"
_SECRET_PARAM = re.compile(rf"(?i)(?<![A-Za-z0-9_])({MASKED_PARAMS})=([^&#\s'\"<>]+)")
_SECRET_NAME = re.compile(rf"(?i)^({MASKED_PARAMS})$")

Reason = Literal["circuit_open", "throttled", "state_unavailable", "retries_exhausted"]


# --- Errors ---------------------------------------------------------------------------------


class ProviderError(SharplineError):
    """A provider call failed. ``str()`` names the provider, what happened and the masked URL."""

    def __init__(self, provider: str, url: str, message: str) -> None:
        self.provider = provider
        self.url = url
        super().__init__(f"{provider}: {message} ({url})")


class ProviderUnavailable(ProviderError):
    """Nothing usable came back and trying again later may help (``retry_after`` seconds when known)."""

    def __init__(
        self, provider: str, url: str, message: str, *, reason: Reason, retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(provider, url, message)


class ProviderHTTPError(ProviderError):
    """The provider answered 4xx (other than 429): the request itself is wrong; retrying will not help."""

    def __init__(self, provider: str, url: str, message: str, *, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(provider, url, message)


# --- Masking --------------------------------------------------------------------------------


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secret query parameters shown as ``apiKey=***`` and known secret values blotted."""
    for secret in secrets:
        if len(secret) >= 4:  # blotting "1" everywhere would garble the message, not protect anything
            text = text.replace(secret, "***")
    return _SECRET_PARAM.sub(r"\1=***", text)


def _secrets(url: str, params: Params | None) -> list[str]:
    pairs = [*parse_qsl(urlsplit(url).query), *((k, str(v)) for k, v in (params or {}).items())]
    return [value for name, value in pairs if _SECRET_NAME.match(name) and value]


# --- Configuration and sessions -------------------------------------------------------------


@dataclass(frozen=True)
class HttpConfig:
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_retries: int
    backoff_base: float
    backoff_cap: float
    throttle_timeout: float

    @classmethod
    def from_settings(cls) -> HttpConfig:
        return cls(
            user_agent=settings.HTTP_USER_AGENT,
            connect_timeout=float(settings.HTTP_CONNECT_TIMEOUT),
            read_timeout=float(settings.HTTP_READ_TIMEOUT),
            max_retries=int(settings.HTTP_MAX_RETRIES),
            backoff_base=float(settings.HTTP_BACKOFF_BASE),
            backoff_cap=float(settings.HTTP_BACKOFF_CAP),
            throttle_timeout=float(settings.HTTP_THROTTLE_TIMEOUT),
        )


_sessions: dict[tuple[str, str], requests.Session] = {}
_sessions_lock = threading.Lock()


def _forget_sessions() -> None:
    # A forked worker must not share the parent's sockets.
    global _sessions_lock
    _sessions.clear()
    _sessions_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_sessions)


def session_for(provider: str, user_agent: str | None = None) -> requests.Session:
    """The pooled session of ``provider`` in this process (one per provider and User-Agent)."""
    agent = user_agent if user_agent is not None else settings.HTTP_USER_AGENT
    with _sessions_lock:
        session = _sessions.get((provider, agent))
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = agent
            # total=0: the adapter never resends on its own; the loop below retries, token by token.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=Retry(total=0, read=False))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[(provider, agent)] = session
        return session


def breaker_state(provider: str) -> BreakerState:
    """The provider's breaker, for the health page and the admin (raises ``BreakerUnavailable``)."""
    return get_breaker().state(provider)


# --- The client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failed:
    problem: str
    attempts: int
    retry_after: float | None


class HttpClient:
    """Throttle, breaker, sleep and jitter are injectable; ``get()`` below uses the process's own."""

    def __init__(
        self,
        *,
        throttle: TokenBucket | None = None,
        breaker: CircuitBreaker | None = None,
        config: HttpConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.throttle = throttle if throttle is not None else get_throttle()
        self.breaker = breaker if breaker is not None else get_breaker()
        self.config = config if config is not None else HttpConfig.from_settings()
        self._sleep = sleep
        self._jitter = jitter

    def get(
        self,
        provider: str,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if provider not in settings.HTTP_PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(providers())}")
        secrets = _secrets(url, params)
        shown = _shown_url(provider, url, params, secrets)
        permit = self._permit(provider, shown)
        try:
            outcome = self._attempts(provider, url, shown, secrets, params, headers, trial=permit.trial)
        except BaseException:
            if permit.trial:  # the trial was never decided: let the next caller make it
                self._tell_breaker(self.breaker.release_trial, provider)
            raise
        if isinstance(outcome, _Failed):
            self._tell_breaker(self.breaker.record_failure, provider, outcome.problem)
            raise ProviderUnavailable(
                provider,
                shown,
                f"{outcome.problem} after {outcome.attempts} attempt(s)",
                reason="retries_exhausted",
                retry_after=outcome.retry_after,
            )
        self._tell_breaker(self.breaker.record_success, provider)
        if outcome.status_code >= 400:
            body = mask(outcome.text[:200], secrets).strip()
            raise ProviderHTTPError(
                provider, shown, f"HTTP {outcome.status_code} {outcome.reason}: {body}", status_code=outcome.status_code
            )
        return outcome

    def _permit(self, provider: str, shown: str) -> Permit:
        try:
            return self.breaker.before_call(provider)
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                provider,
                shown,
                str(exc).removeprefix(f"{provider}: "),
                reason="circuit_open",
                retry_after=exc.retry_after,
            ) from exc
        except BreakerUnavailable as exc:
            raise ProviderUnavailable(provider, shown, f"call refused: {exc}", reason="state_unavailable") from exc

    def _attempts(
        self,
        provider: str,
        url: str,
        shown: str,
        secrets: list[str],
        params: Params | None,
        headers: Mapping[str, str] | None,
        *,
        trial: bool,
    ) -> requests.Response | _Failed:
        config = self.config
        session = session_for(provider, config.user_agent)
        attempts = 1 if trial else config.max_retries + 1
        for attempt in range(1, attempts + 1):
            self._token(provider, shown)
            retry_after: float | None = None
            try:
                response = session.get(
                    url,
                    params=params,
                    headers=headers,
                    timeout=(config.connect_timeout, config.read_timeout),
                )
            except TRANSIENT_ERRORS as exc:
                problem = mask(f"{type(exc).__name__}: {exc}", secrets)
            except requests.RequestException as exc:
                # Bad URL, too many redirects...: a mistake on our side, and the text may hold the URL.
                raise ProviderError(provider, shown, mask(f"{type(exc).__name__}: {exc}", secrets)) from None
            else:
                record_quota(provider, response)
                if response.status_code not in RETRY_STATUSES:
                    return response
                problem = f"HTTP {response.status_code} {response.reason}"
                retry_after = _retry_after(response)
            if attempt == attempts:
                return _Failed(problem, attempt, retry_after)
            delay = retry_after if retry_after is not None else self.backoff(attempt)
            if delay > config.backoff_cap:
                return _Failed(f"{problem}, Retry-After {delay:.0f}s is beyond the cap", attempt, retry_after)
            if retry_after is not None:
                self._pause(provider, retry_after)
            logger.warning(
                "%s: %s from %s; attempt %d of %d in %.1fs", provider, problem, shown, attempt + 1, attempts, delay
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def backoff(self, attempt: int) -> float:
        """Seconds before retry ``attempt`` (1-based): exponential, ±25% jitter, never above the cap."""
        raw = self.config.backoff_base * 2.0 ** (attempt - 1) * self._jitter(1 - JITTER, 1 + JITTER)
        return min(self.config.backoff_cap, raw)

    def _token(self, provider: str, shown: str) -> None:
        try:
            self.throttle.acquire(provider, timeout=self.config.throttle_timeout)
        except RateLimited as exc:
            raise ProviderUnavailable(
                provider,
                shown,
                f"no rate-limit token within {self.config.throttle_timeout:.0f}s",
                reason="throttled",
                retry_after=exc.retry_after,
            ) from exc
        except ThrottleUnavailable as exc:
            raise ProviderUnavailable(
                provider, shown, str(exc).removeprefix(f"{provider}: "), reason="state_unavailable"
            ) from exc

    def _pause(self, provider: str, seconds: float) -> None:
        try:
            self.throttle.pause(provider, seconds)
        except ThrottleUnavailable as exc:  # the next acquire refuses anyway
            logger.warning("%s: could not pause the shared bucket: %s", provider, exc)

    def _tell_breaker(self, method: Callable[..., None], *args: str) -> None:
        # The answer is already here; a lost count must not lose it. The next before_call fails closed.
        try:
            method(*args)
        except BreakerError as exc:
            logger.warning("%s: circuit breaker not updated: %s", args[0], exc)


def _shown_url(provider: str, url: str, params: Params | None, secrets: list[str]) -> str:
    """The URL as it will be sent, secrets masked, for messages and logs."""
    try:
        prepared = requests.Request("GET", url, params=params).prepare().url or url
    except requests.RequestException as exc:
        raise ProviderError(provider, mask(url, secrets), mask(f"{type(exc).__name__}: {exc}", secrets)) from None
    return mask(prepared, secrets)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return Retry().parse_retry_after(value)  # an HTTP date
    except InvalidHeader:
        return None


def get(
    provider: str,
    url: str,
    *,
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
) -> requests.Response:
    """GET ``url`` as ``provider`` (``odds_api``, ``espn``, ``injuries``): breaker, throttle, retries."""
    try:
        return HttpClient().get(provider, url, params=params, headers=headers)
    except ProviderError as exc:
        metrics.count_provider_error(provider, getattr(exc, "reason", None) or type(exc).__name__)
        raise
