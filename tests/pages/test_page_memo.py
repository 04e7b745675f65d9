"""The per-process memo behind the cached pages (``PAGE_FINGERPRINT_SECONDS``): a today page
served whole from the cache makes no query under load, and a change still shows once the memo
has expired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test.utils import override_settings

from core.web import pages


@pytest.fixture
def memo_on() -> Iterator[None]:
    pages._RECENT.clear()
    pages._FINGERPRINTS.clear()
    with override_settings(PAGE_FINGERPRINT_SECONDS=1.0):
        yield
    pages._RECENT.clear()
    pages._FINGERPRINTS.clear()


def test_fingerprint_clock_rounds_down_only_while_the_memo_is_on(memo_on):
    now = dt.datetime(2023, 12, 11, 18, 30, 15, 734000, tzinfo=dt.UTC)
    assert pages.fingerprint_clock(now) == dt.datetime(2023, 12, 11, 18, 30, 15, tzinfo=dt.UTC)
    with override_settings(PAGE_FINGERPRINT_SECONDS=0.0):
        assert pages.fingerprint_clock(now) == now


def test_recent_reuses_a_value_for_the_memo_time_then_rebuilds(memo_on, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(pages.time, "monotonic", lambda: clock[0])
    built: list[int] = []

    def build() -> int:
        built.append(1)
        return len(built)

    assert pages.recent("k", build) == 1
    clock[0] += 0.5
    assert pages.recent("k", build) == 1
    clock[0] += 0.6
    assert pages.recent("k", build) == 2
    with override_settings(PAGE_FINGERPRINT_SECONDS=0.0):
        assert pages.recent("k", build) == 3


@pytest.mark.django_db
def test_a_cached_today_page_makes_no_query_and_shows_a_new_league_after_the_memo(
    memo_on, client, django_assert_num_queries, monkeypatch, request
):
    from betting.games.models import League

    # The memo's clock and the wall clock stand still until the test moves them: on a loaded
    # machine a real second can pass between two requests, and the memo would rightly expire (or
    # the fingerprint's rounded clock, part of its memo key, would tick over).
    start = pages.time.monotonic()
    monkeypatch.setattr(pages.time, "monotonic", lambda: start)
    traveller = time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, 0, 250000, tzinfo=dt.UTC), tick=False)
    traveller.start()
    request.addfinalizer(traveller.stop)
    first = client.get("/?date=2023-12-11")
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get("/?date=2023-12-11")
    assert again.content == first.content

    League.objects.create(code="ZZL", name="Zed League", sport_key="basketball_zzl")
    assert "Zed League" not in client.get("/?date=2023-12-11").content.decode()  # within the memo time
    later = start + 1.5
    monkeypatch.setattr(pages.time, "monotonic", lambda: later)
    assert "Zed League" in client.get("/?date=2023-12-11").content.decode()
