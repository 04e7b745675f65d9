"""The cache's Redis killed, full, or flooded with junk (issue 14, items 1-3), on the real stack.

The Redis here is the test's own ``redis-server`` on a free port (REDIS_URL and both cache aliases
point at it; the broker stays where it is), never the shared one:

- killed: every page answers 200 from PostgreSQL with the banner, /status says the cache is down,
  and once Redis is back the pages use it again, without a restart;
- full (``maxmemory`` with ``noeviction``, as an unconfigured Redis fills up): pages still answer,
  and the login limit still refuses the sixth wrong password;
- 300 anonymous requests with a junk parameter add no key to it (before: 599);
- killed: the login limit still refuses the sixth wrong password.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.test import Client

from core.web import pages
from tests.faults.conftest import real_stack, wait_for
from tests.pages import conftest as page_data
from tests.pages.conftest import SLATE_DAY

pytestmark = [pytest.mark.faults, pytest.mark.realstack, pytest.mark.django_db]
demo = page_data.demo  # real data for the pages, built once per module

BANNER = b"data-cache-degraded"
WRONG = {"username": "admin", "password": "wrong", "next": "/admin/"}


@pytest.fixture
def cache_on(settings, private_redis):
    """REDIS_URL and both caches on the private Redis, as production has them on the cache Redis."""
    real_stack()
    url = private_redis.url()
    settings.REDIS_URL = url
    settings.READY_CACHE_SECONDS = 0
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "t"},
        "pages": {
            "BACKEND": "core.web.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "t",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 2.0, "RETRY_AFTER": 0.5},
        },
    }
    pages._VARIANTS.clear()
    return redis.Redis.from_url(url)


def urls(demo) -> list[str]:
    return ["/", f"/?date={SLATE_DAY}", f"/games/{demo['game'].pk}", "/bets", "/models", "/status", "/data"]


def visit(client: Client, demo, record: dict[str, float] | None = None) -> list[bytes]:
    bodies = []
    for url in urls(demo):
        started = time.monotonic()
        response = client.get(url)
        if record is not None:
            record[url] = max(record.get(url, 0.0), time.monotonic() - started)
        assert response.status_code == 200, (url, response.status_code)
        bodies.append(response.content)
    return bodies


def test_pages_answer_from_the_database_while_the_cache_redis_is_down_and_use_it_again_after(
    demo,
    cache_on,
    private_redis,
    admin_user,
    record_property,
):
    anonymous, staff = Client(), Client()
    staff.force_login(admin_user)
    for client in (anonymous, staff):
        assert not any(BANNER in body for body in visit(client, demo))
    assert cache_on.dbsize() > 0

    private_redis.kill()
    slowest: dict[str, float] = {}
    for client in (anonymous, staff):
        bodies = visit(client, demo, slowest)  # before: 500 (redis ConnectionError)
        assert all(BANNER in body for body in bodies)
    status = staff.get("/status").content.decode()  # the raw error is staff-only detail
    assert "Redis unreachable" in status

    private_redis.start()
    time.sleep(0.6)  # RETRY_AFTER
    assert not any(BANNER in body for body in visit(anonymous, demo))
    wait_for(lambda: cache_on.dbsize() > 0, 5, "pages cached again")
    record_property(
        "figure",
        f"cache Redis down: slowest page {max(slowest.values()):.2f}s ({max(slowest, key=lambda url: slowest[url])})",
    )
    assert max(slowest.values()) < 10


def test_a_full_cache_redis_neither_fails_pages_nor_lifts_the_login_limit(
    demo,
    cache_on,
    settings,
    admin_user,
):
    cache_on.config_set("maxmemory-policy", "noeviction")
    used = int(cache_on.info("memory")["used_memory"])
    cache_on.config_set("maxmemory", used + 64 * 1024)
    filler = b"x" * 16 * 1024
    with pytest.raises(redis.ResponseError, match="maxmemory"):
        for n in range(1000):
            cache_on.set(f"filler:{n}", filler)
    for body in visit(Client(), demo):
        assert b"Traceback" not in body  # before: 500 once the page had to be stored
    settings.ADMIN_LOGIN_RATE_LIMIT = "5/m"
    client = Client(REMOTE_ADDR="10.250.0.1")
    answers = [client.post("/admin/login/", WRONG).status_code for _ in range(6)]
    assert answers[:5] == [200] * 5 and answers[5] == 429  # before: 200 every time


def test_a_flood_of_junk_parameters_adds_no_key_to_redis(demo, cache_on):
    client = Client()
    assert client.get(f"/?date={SLATE_DAY}").status_code == 200
    keys = cache_on.dbsize()
    for n in range(300):
        assert client.get(f"/?date={SLATE_DAY}&junk={n}").status_code == 200
    assert cache_on.dbsize() == keys  # before: 599 keys more (about 21 MB)


def test_the_login_limit_holds_while_the_cache_redis_is_down(cache_on, private_redis, settings, admin_user):
    settings.ADMIN_LOGIN_RATE_LIMIT = "5/m"
    up = Client(REMOTE_ADDR="10.250.0.2")
    assert [up.post("/admin/login/", WRONG).status_code for _ in range(6)] == [200] * 5 + [429]
    assert any(b"rl:" in key for key in cache_on.scan_iter())  # counted in Redis
    private_redis.kill()
    down = Client(REMOTE_ADDR="10.250.0.3")
    answers = [down.post("/admin/login/", WRONG).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]  # before: 200 every time
    assert down.post("/accounts/login/", WRONG).status_code == 429
