"""Two users with their own bankrolls and tokens, on the real recorded NBA odds pull of 2023-12-11."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA_ODDS = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """Rate-limit counts live in the cache, keyed by token id: ids are reused between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_run_here(monkeypatch):
    """A queued backtest runs in this process, as in the embedded run: the real-stack run has no worker
    consuming this test database's tasks (tests/core/test_celery_worker.py proves the worker path)."""
    from core.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", False)


@pytest.fixture
def odds(reference):
    """18 NBA games of 2023-12-11 and 840 quotes from 15 US books (The Odds API, recorded)."""
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA_ODDS), stdout=StringIO())


@pytest.fixture
def people(db, settings):
    """alice and bob (plain users) each own a LIVE bankroll; staff carol owns none."""
    from django.contrib.auth.models import User

    from betting.bets.services import bankroll_open

    settings.ENABLE_LIVE_BETTING = True
    alice = User.objects.create_user("alice", password="pw-alice-123")
    bob = User.objects.create_user("bob", password="pw-bob-123")
    carol = User.objects.create_user("carol", password="pw-carol-123", is_staff=True)
    live = {
        user.username: bankroll_open(name=f"{user.username}-live", deposit=Decimal(1000), mode="LIVE", owner=user)
        for user in (alice, bob)
    }
    return {"alice": alice, "bob": bob, "carol": carol, "bankrolls": live}


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def clients(people):
    """A test client per user and scope: clients["alice"] writes (scope bet), clients["alice_read"] reads."""
    from betting.api.tokens import token_create

    made = {}
    for name in ("alice", "bob", "carol"):
        made[name] = bearer(token_create(user=people[name], scope="bet", name="tests")[1])
        made[f"{name}_read"] = bearer(token_create(user=people[name], scope="read", name="tests")[1])
    return made
