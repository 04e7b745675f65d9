"""The outbound HTTP client: retries, Retry-After, the breaker, the bucket, quota headers, no leaked keys."""

from __future__ import annotations

import email.utils
import logging
import random
import time
import traceback
import uuid

import pytest
import requests
import responses
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from core.http import client as http
from core.http.breaker import InProcessBreaker, RedisBreaker, State
from core.http.client import HttpClient, HttpConfig, ProviderError, ProviderHTTPError, ProviderUnavailable
from core.http.throttle import InProcessTokenBucket, Limit, RateLimited, RedisTokenBucket, redis_client
from tests.factories import FakeClock

URL = "https://api.example.test/v4/sports/basketball_nba/odds"
KEY = "0123456789abcdef0123456789abcdef"
UNREACHABLE = "redis://127.0.0.1:1/0"


class FakeTime(FakeClock):
    """One fake clock for the bucket and the breaker; backoff sleeps and bucket waits recorded apart."""

    def __init__(self) -> None:
        super().__init__()
        self.backoffs: list[float] = []
        self.waits: list[float] = []

    def backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.sleep(seconds)

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)


@pytest.fixture
def provider():
    """A provider of this test alone: its own session, breaker, bucket and quota keys."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with override_settings(HTTP_PROVIDERS={**settings.HTTP_PROVIDERS, name: {"rate": 1.0, "burst": 5}}):
        yield name
    cache.delete(f"quota:{name}")


@pytest.fixture
def fake():
    return FakeTime()


@pytest.fixture
def make_client(provider, fake):
    def make(*, max_retries=3, max_failures=3, rate=1.0, burst=5, throttle_timeout=30.0, throttle=None, breaker=None):
        config = HttpConfig(
            user_agent="Sharpline-test/1.0 (ops@example.test)",
            connect_timeout=2.0,
            read_timeout=7.0,
            max_retries=max_retries,
            backoff_base=1.0,
            backoff_cap=30.0,
            throttle_timeout=throttle_timeout,
        )
        throttle = throttle or InProcessTokenBucket({provider: Limit(rate, burst)}, sleep=fake.wait, clock=fake)
        breaker = breaker or InProcessBreaker(max_failures=max_failures, reset_timeout=60, clock=fake)
        return HttpClient(
            throttle=throttle, breaker=breaker, config=config, sleep=fake.backoff, jitter=lambda a, b: 1.0
        )

    return make


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


# --- Retries --------------------------------------------------------------------------------


def test_a_500_is_retried_with_backoff_and_the_answer_returned(provider, fake, make_client, mocked):
    client = make_client()
    mocked.get(URL, status=500)
    mocked.get(URL, status=502)
    mocked.get(URL, json=[{"id": "g1"}])
    response = client.get(provider, URL, params={"regions": "us"})
    assert response.json() == [{"id": "g1"}]
    assert fake.backoffs == [1.0, 2.0]
    assert len(mocked.calls) == 3
    sent = mocked.calls[0].request
    assert sent.headers["User-Agent"] == "Sharpline-test/1.0 (ops@example.test)"
    assert sent.req_kwargs["timeout"] == (2.0, 7.0)
    assert client.breaker.state(provider).failures == 0


def test_connection_errors_and_timeouts_are_retried(provider, fake, make_client, mocked):
    client = make_client()
    mocked.get(URL, body=requests.ConnectionError("connection reset"))
    mocked.get(URL, body=requests.ReadTimeout("read timed out"))
    mocked.get(URL, json={"ok": True})
    assert client.get(provider, URL).json() == {"ok": True}
    assert fake.backoffs == [1.0, 2.0]


def test_retry_after_on_a_429_is_waited_for_and_holds_the_other_workers(provider, fake, make_client, mocked):
    client = make_client()
    held = []

    def backoff(seconds):
        # Meanwhile another worker asks the same bucket: it is told to wait the Retry-After too.
        with pytest.raises(RateLimited) as caught:
            client.throttle.acquire(provider, timeout=0)
        held.append(caught.value.retry_after)
        fake.backoff(seconds)

    client._sleep = backoff
    mocked.get(URL, status=429, headers={"Retry-After": "7"})
    mocked.get(URL, json={"ok": True})
    assert client.get(provider, URL).json() == {"ok": True}
    assert fake.backoffs == [7.0]
    assert held == [pytest.approx(7.0)]
    assert len(mocked.calls) == 2


def test_retry_after_as_an_http_date_is_honoured(provider, fake, make_client, mocked):
    client = make_client()
    mocked.get(URL, status=503, headers={"Retry-After": email.utils.formatdate(time.time() + 10, usegmt=True)})
    mocked.get(URL, json={})
    client.get(provider, URL)
    assert 8.5 <= fake.backoffs[0] <= 10.5


def test_a_retry_after_beyond_the_cap_ends_the_call_with_it(provider, fake, make_client, mocked):
    client = make_client()
    mocked.get(URL, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ProviderUnavailable, match="beyond the cap") as caught:
        client.get(provider, URL)
    assert caught.value.retry_after == 3600 and caught.value.reason == "retries_exhausted"
    assert fake.backoffs == [] and len(mocked.calls) == 1
    assert client.breaker.state(provider).failures == 1


def test_exhausted_retries_raise_provider_unavailable_and_count_one_failure(provider, fake, make_client, mocked):
    client = make_client()
    mocked.get(URL, status=503)
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503 Service Unavailable after 4 attempt\(s\)") as caught:
        client.get(provider, URL)
    assert caught.value.reason == "retries_exhausted" and isinstance(caught.value, ProviderError)
    assert len(mocked.calls) == 4 and fake.backoffs == [1.0, 2.0, 4.0]
    state = client.breaker.state(provider)
    assert (state.state, state.failures, state.last_error) == (State.CLOSED, 1, "HTTP 503 Service Unavailable")


def test_a_4xx_is_not_retried_and_not_counted_as_a_failure(provider, fake, make_client, mocked):
    client = make_client()
    client.breaker.record_failure(provider, "ReadTimeout")
    client.breaker.record_failure(provider, "ReadTimeout")
    mocked.get(URL, status=404, json={"message": "Unknown sport"})
    with pytest.raises(ProviderHTTPError, match="HTTP 404 Not Found") as caught:
        client.get(provider, URL)
    assert caught.value.status_code == 404 and "Unknown sport" in str(caught.value)
    assert len(mocked.calls) == 1 and fake.backoffs == []
    state = client.breaker.state(provider)
    assert (state.state, state.failures) == (State.CLOSED, 0)  # the provider answered: the streak is broken


def test_backoff_is_exponential_with_25_percent_jitter_and_capped(make_client):
    client = make_client()
    client._jitter = random.Random(7).uniform
    for attempt in range(1, 9):
        for _ in range(50):
            delay = client.backoff(attempt)
            nominal = 2.0 ** (attempt - 1)
            assert min(30.0, 0.75 * nominal) <= delay <= min(30.0, 1.25 * nominal)
    assert client.backoff(10) == 30.0


# --- The breaker around calls ---------------------------------------------------------------


def test_the_breaker_opens_after_failed_calls_and_refuses_without_a_request(provider, make_client, mocked):
    client = make_client(max_retries=0, max_failures=3)
    mocked.get(URL, status=500)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable, match="after 1 attempt"):
            client.get(provider, URL)
    with pytest.raises(ProviderUnavailable, match="circuit open") as caught:
        client.get(provider, URL)
    assert caught.value.reason == "circuit_open" and caught.value.retry_after == pytest.approx(60.0)
    assert len(mocked.calls) == 3
    assert client.breaker.state(provider).state == State.OPEN


def test_half_open_sends_one_trial_attempt_and_its_result_decides(provider, fake, make_client, mocked):
    client = make_client(max_retries=3, max_failures=1)
    mocked.get(URL, status=500)
    with pytest.raises(ProviderUnavailable):
        client.get(provider, URL)
    calls = len(mocked.calls)
    fake.now += 61
    with pytest.raises(ProviderUnavailable, match="after 1 attempt"):  # the trial: no retries
        client.get(provider, URL)
    assert len(mocked.calls) == calls + 1 and client.breaker.state(provider).state == State.OPEN
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        client.get(provider, URL)
    fake.now += 61
    mocked.replace(responses.GET, URL, json={"ok": True})
    assert client.get(provider, URL).json() == {"ok": True}
    assert client.breaker.state(provider).state == State.CLOSED


# --- The bucket around calls ----------------------------------------------------------------


def test_every_attempt_takes_a_token(provider, fake, make_client, mocked):
    client = make_client(rate=0.1, burst=2)
    mocked.get(URL, status=500)
    mocked.get(URL, status=500)
    mocked.get(URL, json={})
    client.get(provider, URL)
    # Two tokens at once; the third comes 10 s after the first, 7 s after the backoffs (1 + 2 s).
    assert fake.backoffs == [1.0, 2.0] and fake.waits == [pytest.approx(7.0)]


def test_no_token_in_time_refuses_the_call_and_hands_the_trial_on(provider, fake, make_client, mocked):
    client = make_client(max_failures=1, rate=0.01, burst=1, throttle_timeout=5)
    mocked.get(URL, status=500)
    client.breaker.record_failure(provider, "HTTP 500")
    fake.now += 61
    client.throttle.acquire(provider, timeout=0)  # someone else took the only token
    with pytest.raises(ProviderUnavailable, match="no rate-limit token within 5s") as caught:
        client.get(provider, URL)
    assert caught.value.reason == "throttled" and caught.value.retry_after == pytest.approx(100.0)
    assert len(mocked.calls) == 0
    assert client.breaker.before_call(provider).trial is True  # the unused trial went to the next caller


def test_an_unreachable_redis_lets_no_request_out(provider, make_client, mocked):
    limits = {provider: Limit(1.0, 5)}
    client = make_client(throttle=RedisTokenBucket(limits, client=redis_client(UNREACHABLE)))
    mocked.get(URL, json={})
    with pytest.raises(ProviderUnavailable, match="call refused") as caught:
        client.get(provider, URL)
    assert caught.value.reason == "state_unavailable"
    client = make_client(breaker=RedisBreaker(max_failures=5, reset_timeout=60, client=redis_client(UNREACHABLE)))
    with pytest.raises(ProviderUnavailable, match="circuit breaker store unreachable"):
        client.get(provider, URL)
    assert len(mocked.calls) == 0


# --- Secrets, quota, sessions ---------------------------------------------------------------


def printed_chain(exc):
    """The messages of ``exc`` and of every exception a traceback (or Sentry) would print with it."""
    while exc is not None:
        yield from traceback.format_exception_only(type(exc), exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def test_api_keys_never_appear_in_errors_or_logs(provider, make_client, mocked, caplog):
    client = make_client(max_retries=1)
    # Nothing registered: responses raises a ConnectionError whose text holds the full URL, key included.
    with caplog.at_level(logging.WARNING, logger="core.http.client"), pytest.raises(ProviderUnavailable) as caught:
        client.get(provider, f"{URL}?apiKey={KEY}", params={"regions": "us", "api_key": "s3cr3t-token-value"})
    text = "\n".join(printed_chain(caught.value)) + caplog.text
    assert KEY not in text and "s3cr3t-token-value" not in text
    assert "apiKey=***" in str(caught.value) and "api_key=***" in str(caught.value)
    assert "ConnectionError" in client.breaker.state(provider).last_error
    assert KEY not in client.breaker.state(provider).last_error
    assert caplog.records, "the retry was logged"

    mocked.get(URL, status=401, json={"message": f"API key {KEY} is not valid"})
    with pytest.raises(ProviderHTTPError) as caught:
        client.get(provider, URL, params={"apiKey": KEY})
    assert KEY not in str(caught.value) and "is not valid" in str(caught.value)


def test_mask_hides_secret_parameters_but_not_ordinary_ones():
    text = "GET https://x.test/a?apiKey=abc123&regions=us&monkey=banana&access_token=t0k3n"
    assert http.mask(text) == "GET https://x.test/a?apiKey=***&regions=us&monkey=banana&access_token=***"


def test_quota_headers_are_recorded_per_provider(provider, make_client, mocked):
    client = make_client()
    assert http.quota(provider) is None
    mocked.get(URL, json={}, headers={"x-requests-remaining": "480", "x-requests-used": "20", "x-requests-last": "1"})
    client.get(provider, URL)
    entry = http.quota(provider)
    assert {k: entry[k] for k in ("remaining", "used", "last")} == {"remaining": 480, "used": 20, "last": 1}
    assert entry["at"].endswith("+00:00")
    mocked.replace(responses.GET, URL, json={})  # a response without the headers keeps the last known quota
    client.get(provider, URL)
    assert http.quota(provider)["remaining"] == 480


def test_one_pooled_session_per_provider_with_the_user_agent(provider):
    session = http.session_for(provider)
    assert session is http.session_for(provider)
    assert session is not http.session_for("espn")
    assert session.headers["User-Agent"] == settings.HTTP_USER_AGENT
    assert session.get_adapter("https://api.example.test/").max_retries.total == 0  # retries are ours, per token


def test_an_unknown_provider_is_refused(make_client):
    with pytest.raises(ValueError, match="unknown provider 'kalshi'"):
        make_client().get("kalshi", URL)


def test_get_uses_the_process_bucket_and_breaker(provider, mocked):
    """Through the factories: Redis when REDIS_URL is set, in memory otherwise."""
    mocked.get(URL, json={"ok": True})
    try:
        assert http.get(provider, URL).json() == {"ok": True}
        state = http.breaker_state(provider)
        assert (state.provider, state.state, state.failures) == (provider, State.CLOSED, 0)
    finally:
        if settings.REDIS_URL:
            redis_client(settings.REDIS_URL).delete(f"sharpline:throttle:{provider}", f"sharpline:breaker:{provider}")
