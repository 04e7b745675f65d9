"""The page cache without Redis, and a cache visitors cannot fill (issue 14, items 1 and 2).

Without Redis every page answers from the database with a small banner, /status included; a failed
cache operation is a miss, counted and logged once per interval. The cache keys of a page hold only
what it reads, normalised: junk parameters, repeats and reordering make no new key, and the variants
visitors can ask for at will (empty days of any year) are bounded."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.core.cache import caches
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from core.web import cache as page_cache_module
from core.web.cache import ResilientRedisCache
from tests.faults.conftest import free_port
from tests.pages import conftest as page_data
from tests.pages.conftest import SLATE_DAY, SMALL_DAY

BANNER = b"data-cache-degraded"
pytestmark = pytest.mark.django_db
demo = page_data.demo  # real data for the pages, built once per module


def dead_redis() -> str:
    """A Redis URL nothing listens on: every connection is refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def cache_down(settings):
    """Both caches on a Redis that is down: ``default`` strict, ``pages`` resilient, as in production."""
    url = dead_redis()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
        "pages": {"BACKEND": "core.web.cache.ResilientRedisCache", "LOCATION": url, "OPTIONS": {"RETRY_AFTER": 0}},
    }
    return url


@pytest.fixture
def own_page_cache(settings):
    """An in-memory page cache of this test only, to count its keys."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }
    return lambda: len(caches["pages"]._cache)


def cache_errors(operation: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("sharpline_cache_errors_total", {"cache": "pages", "operation": operation}) or 0.0


# --- The resilient backend ---------------------------------------------------------------------


def test_every_operation_on_a_failed_cache_is_a_miss_counted_and_logged_once(settings, caplog, monkeypatch):
    from core.observe import metrics

    settings.PROMETHEUS_ENABLED = True
    metrics._metrics()
    cache = ResilientRedisCache(dead_redis(), {"OPTIONS": {"RETRY_AFTER": 0}})
    gets_before = cache_errors("get")
    with caplog.at_level(logging.WARNING, logger="core.web.cache"):
        assert cache.get("k") is None and cache.get("k", "fallback") == "fallback"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set("k", 1) is None and cache.add("k", 1) is False
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]  # the keys not stored
        assert cache.delete("k") is False and cache.has_key("k") is False and cache.touch("k") is False
        assert cache.get_or_set("k", lambda: "built") == "built"
        with pytest.raises(ValueError, match="not found"):  # as for a missing key
            cache.incr("n")
    assert cache_errors("get") - gets_before >= 3
    warnings = [r for r in caplog.records if r.name == "core.web.cache"]
    assert len(warnings) == 1, "one line per interval, not one per operation"
    assert "pages are built from the database" in warnings[0].getMessage()
    assert "ConnectionError" in warnings[0].getMessage()


def test_after_a_failure_redis_is_left_alone_for_a_while_then_tried_again(monkeypatch):
    cache = ResilientRedisCache(dead_redis(), {"OPTIONS": {"RETRY_AFTER": 5}})
    calls: list[str] = []

    class Client:
        def get(self, key: str, default: object) -> object:
            calls.append(key)
            raise RedisConnectionError("Connection refused")

    cache.__dict__["_cache"] = Client()  # the cached_property's slot
    clock = [1000.0]
    monkeypatch.setattr(page_cache_module.time, "monotonic", lambda: clock[0])
    assert cache.get("a") is None and len(calls) == 1
    clock[0] += 4.9
    assert cache.get("a") is None and len(calls) == 1  # a miss without waiting on Redis
    clock[0] += 0.2
    assert cache.get("a") is None and len(calls) == 2


def test_the_banner_flag_belongs_to_the_request_that_met_the_failure(client, cache_down, reference):
    assert BANNER in client.get("/models").content
    page_cache_module._degraded.set(False)
    assert not page_cache_module.degraded()


# --- Pages without the cache ---------------------------------------------------------------------


def page_urls(demo) -> list[str]:
    return [
        "/",
        f"/?date={SLATE_DAY}",
        f"/?date={SLATE_DAY}&league=NBA&market=spreads",
        f"/games/{demo['game'].pk}",
        "/bets",
        "/models",
        "/status",
        "/data",
    ]


@pytest.mark.slow
def test_every_page_answers_from_the_database_with_a_banner_when_redis_is_down(demo, cache_down, admin_user):
    anonymous = Client(raise_request_exception=True)
    staff = Client(raise_request_exception=True)
    staff.force_login(admin_user)
    for visitor in (anonymous, staff):
        for url in page_urls(demo):
            response = visitor.get(url)
            assert response.status_code == 200, url
            assert BANNER in response.content, url
            assert b"Traceback" not in response.content
    slate = anonymous.get(f"/?date={SLATE_DAY}").content.decode()
    assert "Games of Monday 11 December 2023" in slate and "Denver Nuggets" in slate


def test_with_redis_up_the_same_pages_show_no_banner(demo, own_page_cache, client):
    for url in page_urls(demo):
        response = client.get(url)
        assert response.status_code == 200 and BANNER not in response.content, url


# --- Keys only from what a page reads ------------------------------------------------------------


def test_junk_parameters_make_no_new_cache_keys(demo, own_page_cache, client):
    assert client.get(f"/?date={SLATE_DAY}").status_code == 200
    keys = own_page_cache()
    assert keys == 2  # the fragments and the whole page
    for n in range(300):
        assert client.get(f"/?date={SLATE_DAY}&utm_source=junk{n}").status_code == 200
    assert own_page_cache() == keys  # before: 599 keys, two per junk value


def test_every_spelling_of_a_query_is_one_variant_and_the_page_echoes_only_the_normalised_one(
    demo,
    own_page_cache,
    client,
):
    canonical = client.get(f"/?date={SLATE_DAY}&league=NBA&market=spreads")
    keys = own_page_cache()
    for spelling in (
        f"/?market=spreads&league=NBA&date={SLATE_DAY}",
        f"/?date={SLATE_DAY}&date={SLATE_DAY}&league=NBA&market=spreads",
        f"/?date=%20{SLATE_DAY}%20&league=NBA&market=spreads&junk=%3Cb%3E",
    ):
        response = client.get(spelling)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'value="{SLATE_DAY}"' in html and "junk" not in html.split("</header>")[1]
    assert own_page_cache() == keys
    # A bad value is still refused, whatever else comes with it.
    assert client.get(f"/?date={SLATE_DAY}&market=corners").status_code == 400
    assert canonical.status_code == 200


def test_the_sign_in_link_of_a_cached_page_never_carries_another_visitors_parameters(
    demo,
    own_page_cache,
    client,
):
    client.get(f"/?date={SLATE_DAY}&evil=%22%3E")
    clean = client.get(f"/?date={SLATE_DAY}").content.decode()
    assert "evil" not in clean


def test_empty_days_asked_for_at_will_are_cached_only_up_to_a_bound(demo, own_page_cache, client, monkeypatch):
    from core.web import pages

    monkeypatch.setattr("betting.bets.views.EMPTY_DAYS_CACHED", 5)
    pages._VARIANTS.clear()
    before = own_page_cache()
    for year in range(2030, 2060):
        assert client.get(f"/?date={year}-06-01").status_code == 200
    assert own_page_cache() - before == 5 * 2  # five empty days, each its fragments and its page
    assert client.get(f"/?date={SMALL_DAY}").status_code == 200  # a day with games is still cached
    assert own_page_cache() - before == 5 * 2 + 2
    pages._VARIANTS.clear()


def test_a_game_page_with_a_query_string_makes_no_new_key(demo, own_page_cache, client):
    url = f"/games/{demo['game'].pk}"
    client.get(url)
    keys = own_page_cache()
    for n in range(50):
        assert client.get(f"{url}?x={n}").status_code == 200
    assert own_page_cache() == keys


# --- Redis memory policies -----------------------------------------------------------------------


def test_compose_runs_an_evicting_cache_and_a_persistent_broker_that_never_evicts():
    import yaml

    from tests.faults.conftest import ROOT

    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    services = compose["services"]
    cache, broker = " ".join(services["redis"]["command"]), " ".join(services["broker"]["command"])
    assert "--maxmemory-policy allkeys-lru" in cache and "--maxmemory " in cache and "--appendonly no" in cache
    assert "--maxmemory-policy noeviction" in broker and "--appendonly yes" in broker
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["CELERY_BROKER_URL"].startswith("redis://broker:")
        assert env["CELERY_RESULT_BACKEND"].startswith("redis://broker:")
        assert services[name]["depends_on"]["broker"]["condition"] == "service_healthy"
