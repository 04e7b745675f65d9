"""Login and operator rate limits that hold without Redis (issue 14, item 3): with the shared store
up, down or full, the sixth wrong password in a minute gets the friendly 429; while the store
fails each process counts on its own, and the operator endpoints keep working within the limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from redis.exceptions import ResponseError

from core.models import OpsAudit
from core.ops import endpoints as ops
from tests.core.test_ops import KILL, TOKEN, fresh_address, post
from tests.faults.conftest import free_port

pytestmark = pytest.mark.django_db
WRONG = {"username": "admin", "password": "wrong", "next": "/admin/"}


@pytest.fixture(autouse=True)
def frozen(time_machine):
    # One rate-limit window for every call of a test.
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False)


@pytest.fixture(params=["up", "down", "full"])
def store(request, settings, monkeypatch):
    """The rate limiter's store (the strict ``default`` cache): working, refusing connections, or
    refusing writes as a Redis at ``maxmemory`` with ``noeviction`` does."""
    if request.param == "down":
        url = f"redis://127.0.0.1:{free_port()}/0"
        settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                                           "LOCATION": url}}  # fmt: skip
    elif request.param == "full":

        def oom(*args: object, **kwargs: object) -> bool:
            raise ResponseError("OOM command not allowed when used memory > 'maxmemory'.")

        if settings.REDIS_URL:
            monkeypatch.setattr("django.core.cache.backends.redis.RedisCacheClient.add", oom)
        else:
            monkeypatch.setattr(LocMemCache, "add", oom)
    return request.param


def test_the_sixth_wrong_password_is_refused_whether_the_store_is_up_down_or_full(settings, store, admin_user):
    settings.ADMIN_LOGIN_RATE_LIMIT = "5/m"
    client = Client(REMOTE_ADDR=fresh_address())
    answers = [client.post("/admin/login/", WRONG).status_code for _ in range(5)]
    assert answers == [200] * 5  # before: 200 for ever when the store was down or full
    limited = client.post("/admin/login/", {**WRONG, "password": "password"})
    assert limited.status_code == 429 and "Too many login attempts" in limited.content.decode()
    assert "_auth_user_id" not in client.session  # not even the right password
    assert client.post("/accounts/login/", WRONG).status_code == 429  # one count for both forms
    assert Client(REMOTE_ADDR=fresh_address()).post("/admin/login/", WRONG).status_code == 200


def test_the_operator_endpoints_work_within_the_limit_and_refuse_past_it_without_the_store(settings, store):
    settings.OPS_TOKEN, settings.OPS_RATE_LIMIT, settings.BETTING_KILL_SWITCH = TOKEN, "3/m", False
    client = Client(REMOTE_ADDR=fresh_address())
    assert [post(client, KILL, {"action": "stop"}).status_code for _ in range(3)] == [200] * 3
    assert post(client, KILL, {"action": "stop"}).status_code == 429
    details = list(OpsAudit.objects.order_by("id").values_list("detail", flat=True))
    counted_here = [ops.FALLBACK_NOTE in d for d in details]
    assert counted_here == [store != "up"] * 4  # the audit says when the count was this process's


def test_the_process_count_starts_again_with_the_next_window(time_machine):
    limiter = ops.ProcessLimiter()
    assert [limiter.hit("login", "10.0.0.1", "2/m") for _ in range(3)] == [False, False, True]
    assert limiter.hit("login", "10.0.0.2", "2/m") is False  # per address
    assert limiter.hit("ops", "10.0.0.1", "2/m") is False  # per group
    time_machine.shift(dt.timedelta(seconds=60))
    assert limiter.hit("login", "10.0.0.1", "2/m") is False


def test_a_flood_from_more_addresses_than_it_counts_is_refused_not_forgotten():
    limiter = ops.ProcessLimiter(max_keys=3)
    assert [limiter.hit("login", f"10.0.0.{n}", "5/m") for n in range(3)] == [False] * 3
    assert limiter.hit("login", "10.0.0.99", "5/m") is True  # a new address while full: refused
    assert limiter.hit("login", "10.0.0.1", "5/m") is False  # those counted keep their count


@pytest.mark.parametrize(("rate", "split"), [("5/m", (5, 60)), ("10/30s", (10, 30)), ("100/h", (100, 3600))])
def test_rates_read_as_django_ratelimit_reads_them(rate, split):
    assert ops._split_rate(rate) == split
