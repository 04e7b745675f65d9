"""The providers' request quota, as their last responses reported it: ``quota("odds_api")``.

``core.http.client`` records the headers of every response here and ``core.observe.metrics`` reads them for the
``sharpline_provider_quota_remaining`` gauge; this module imports neither, so the two need not
import each other (the import graph stays without cycles, tests/test_architecture.py).
"""

from __future__ import annotations

import logging
from typing import TypedDict

import redis
import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

QUOTA_HEADERS = {"remaining": "x-requests-remaining", "used": "x-requests-used", "last": "x-requests-last"}


class Quota(TypedDict, total=False):
    """A provider's quota headers as numbers (None: not sent or not a number) and when they were seen;
    ``record_quota`` writes every key, a reader takes ``quota(...) or {}``."""

    remaining: int | float | None
    used: int | float | None
    last: int | float | None
    at: str  # ISO 8601


def providers() -> list[str]:
    """The configured providers (``HTTP_PROVIDERS``), sorted."""
    return sorted(settings.HTTP_PROVIDERS)


def _number(value: str | None) -> int | float | None:
    if value is None:
        return None
    for cast in (int, float):
        try:
            return cast(value.strip())
        except ValueError:
            continue
    return None


def record_quota(provider: str, response: requests.Response) -> None:
    """Keep the provider's quota headers (The Odds API sends them) with the time they were seen."""
    if not any(header in response.headers for header in QUOTA_HEADERS.values()):
        return
    numbers = {name: _number(response.headers.get(header)) for name, header in QUOTA_HEADERS.items()}
    entry = Quota(
        remaining=numbers["remaining"], used=numbers["used"], last=numbers["last"], at=timezone.now().isoformat()
    )
    try:
        cache.set(f"quota:{provider}", entry, timeout=None)
    except (redis.RedisError, OSError) as exc:
        logger.warning("%s: quota headers not recorded: %s", provider, exc)


def quota(provider: str) -> Quota | None:
    """``{"remaining": 480, "used": 20, "last": 1, "at": "2026-...+00:00"}``, or None before any header."""
    entry: Quota | None = cache.get(f"quota:{provider}")
    return entry
