"""Users and their bankrolls: a user never sees or bets on another's bankroll, on any page; staff
see everything; a shared bankroll with view or bet permission; every change to limits audited.
Each check asks for the other user's data by its id: a leak fails it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from betting.bets import selectors
from betting.bets.models import Backtest, Bankroll, BankrollMember, Bet, RiskLimitChange
from betting.bets.services import (
    BetError,
    bankroll_limits_update,
    bet_record_manual,
    risk_limits,
)
from betting.bets.strategies import recommend_upcoming
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(reference, django_user_model, settings):
    settings.ENABLE_LIVE_BETTING = True
    settings.PUBLIC_PAGES = True
    users = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-123")
        for name in ("alice", "bob", "carol", "dave")
    }
    users["staff"] = django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True)
    nba = factories.league("NBA")
    game = factories.game(nba, start=timezone.now() + dt.timedelta(hours=5), season=2025)
    book = factories.bookmaker("testbook", "Testbook")
    alice = factories.bankroll("alice-secret", "500", mode=Bankroll.Mode.LIVE, owner=users["alice"])
    bob = factories.bankroll("bob-roll", "300", owner=users["bob"])
    system = factories.bankroll(settings.PAPER_BANKROLL, "10000")
    bets = {}
    for roll, stake in ((alice, "77.00"), (bob, "33.00"), (system, "11.00")):
        bets[roll.name] = factories.bet(
            roll,
            game,
            book=book,
            outcome="away",
            price="2.2",
            stake=stake,
            probability=0.5,
            decision_run="t",
            manual=True,
        )
    BankrollMember.objects.create(bankroll=alice, user=users["carol"], permission="view")
    BankrollMember.objects.create(bankroll=alice, user=users["dave"], permission="bet")
    secret_bt = Backtest.objects.create(
        name="alice-backtest",
        league=nba,
        market="h2h",
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 2, 1),
        starting_bankroll=Decimal("1000"),
        created_by=users["alice"],
    )
    return {
        "users": users,
        "game": game,
        "book": book,
        "alice": alice,
        "bob": bob,
        "system": system,
        "bets": bets,
        "backtest": secret_bt,
    }


def _as(client, user):
    client.force_login(user)
    return client


def _manual_bet(world, user):
    """``user`` records a 10.00 bet on the home side at 1.9 on alice's bankroll."""
    return bet_record_manual(
        user=user,
        bankroll=world["alice"],
        game=world["game"],
        market="h2h",
        outcome="home",
        bookmaker=world["book"],
        price=Decimal("1.9"),
        stake=Decimal("10"),
    )


def test_selectors_keep_each_user_to_their_own(world):
    u, alice, bob, system = world["users"], world["alice"], world["bob"], world["system"]
    assert set(selectors.bankrolls_for(u["bob"])) == {bob, system}  # the house's record is public (PUBLIC_PAGES)
    assert set(selectors.bankrolls_for(u["bob"], perm="bet")) == {bob}
    assert set(selectors.bets_for(u["bob"]).values_list("bankroll__name", flat=True)) == {"bob-roll", system.name}
    assert set(selectors.bankrolls_for(u["staff"])) == {alice, bob, system}
    assert selectors.can_bet(u["staff"], system) and not selectors.can_bet(u["alice"], system)
    assert selectors.can_bet(u["alice"], alice) and not selectors.can_bet(u["bob"], alice)


def test_a_user_never_sees_anothers_bankroll_on_any_page(world, client):
    u, alice = world["users"], world["alice"]
    c = _as(client, u["bob"])
    for url in ("/bets", "/bets?status=open", "/", "/bets/import", "/backtests", "/bets.csv"):
        response = c.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, url
        assert b"alice-secret" not in body and b"77.00" not in body, url
    # asking for it by id is refused, not served
    assert c.get(f"/bets?bankroll={alice.pk}").status_code == 400
    assert c.get(f"/bets.csv?bankroll={alice.pk}").status_code == 400
    # another user's backtest is not there either
    bt = world["backtest"]
    assert b"alice-backtest" not in c.get("/backtests").content
    for url in (f"/backtests/{bt.pk}", f"/backtests/{bt.pk}/progress", f"/backtests/{bt.pk}/bets.csv"):
        assert c.get(url).status_code == 404, url
    # the Today page sizes and shows bob's own bankroll, not alice's
    today = c.get("/")
    slate = today.context.get("slate") if today.context else None
    if slate is not None and slate.bankroll is not None:
        assert slate.bankroll.pk == world["bob"].pk


def test_a_user_never_bets_on_anothers_bankroll(world, client):
    u, alice = world["users"], world["alice"]
    with pytest.raises(BetError):
        _manual_bet(world, u["bob"])
    upload = io.BytesIO(b"placed_at,book,league,home,away,market,side,price,stake\n")
    upload.name = "x.csv"
    response = _as(client, u["bob"]).post(
        "/bets/import", {"bankroll": str(alice.pk), "layout": "generic", "file": upload}
    )
    assert response.status_code == 400
    assert alice.bets.count() == 1


def test_staff_see_everything(world, client):
    c = _as(client, world["users"]["staff"])
    response = c.get(f"/bets?bankroll={world['alice'].pk}")
    assert response.status_code == 200 and b"alice-secret" in response.content and b"77.00" in response.content
    assert b"alice-backtest" in c.get("/backtests").content
    assert c.get(f"/backtests/{world['backtest'].pk}").status_code == 200


def test_shared_bankroll_view_versus_bet(world, client):
    u, alice = world["users"], world["alice"]
    viewer = _as(client, u["carol"])
    response = viewer.get(f"/bets?bankroll={alice.pk}")
    assert response.status_code == 200 and b"77.00" in response.content
    assert alice not in viewer.get("/bets/import").context["bankrolls"]
    assert alice in _as(client, u["dave"]).get("/bets/import").context["bankrolls"]
    viewer = _as(client, u["carol"])
    with pytest.raises(BetError):
        _manual_bet(world, u["carol"])
    bet = _manual_bet(world, u["dave"])
    assert bet.source == "manual" and bet.bankroll == alice and alice.bets.count() == 2


def test_anonymous_visitors_see_the_house_record_only_while_pages_are_public(world, client, settings):
    response = client.get("/bets")
    assert response.status_code == 200 and response.context["bankroll"] == world["system"]
    assert b"alice-secret" not in response.content and b"bob-roll" not in response.content
    assert client.get(f"/bets?bankroll={world['bob'].pk}").status_code == 400
    assert client.get("/bets/import").status_code == 302  # sign in first
    settings.PUBLIC_PAGES = False
    assert client.get("/bets").status_code == 302
    assert not selectors.bankrolls_for(world["users"]["bob"]).filter(pk=world["system"].pk).exists()


def test_registration_is_off(client):
    for url in ("/accounts/signup/", "/signup", "/register", "/accounts/register/"):
        assert client.get(url).status_code == 404


def test_limits_default_to_the_environment_and_every_change_is_audited(world, client, settings):
    u, bob = world["users"], world["bob"]
    assert risk_limits(bob).kelly_fraction == settings.RISK_LIMITS["kelly_fraction"]
    assert bankroll_limits_update(bob, user=u["bob"], values={"kelly_fraction": 0.1, "min_edge": 0.03})
    assert not bankroll_limits_update(bob, user=u["bob"], values={"kelly_fraction": 0.1})  # no change, no row
    change = RiskLimitChange.objects.get(bankroll=bob)
    assert (
        change.changed_by == u["bob"]
        and change.before == {}
        and change.after == {"kelly_fraction": 0.1, "min_edge": 0.03}
    )
    assert risk_limits(bob).kelly_fraction == 0.1 and risk_limits(world["alice"]).kelly_fraction != 0.1
    with pytest.raises(BetError):
        bankroll_limits_update(bob, user=u["bob"], values={"kelly_fraction": 7})
    # through the admin too (a superuser: staff without model permissions may not change bankrolls there)
    admin_user = type(u["staff"]).objects.create_superuser("root", password="pw-root-123")
    staff = _as(client, admin_user)
    url = reverse("admin:bets_bankroll_change", args=[bob.pk])
    form = {
        "name": bob.name,
        "owner": u["bob"].pk,
        "mode": "PAPER",
        "currency": "USD",
        "auto_paper": "on",
        "kelly_fraction": "0.2",
        "min_edge": "",
        "max_stake_absolute": "",
        "max_stake_fraction": "",
        "daily_exposure_fraction": "",
        "max_drawdown_fraction": "0.3",
        "consecutive_loss_limit": "4",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    response = staff.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    latest = RiskLimitChange.objects.filter(bankroll=bob).first()
    assert latest.changed_by == admin_user and latest.before == {"kelly_fraction": 0.1, "min_edge": 0.03}
    assert latest.after == {"kelly_fraction": 0.2, "max_drawdown_fraction": 0.3, "consecutive_loss_limit": 4}
    assert staff.get(reverse("admin:bets_risklimitchange_changelist")).status_code == 200


def test_the_automatic_run_bets_on_every_opted_in_paper_bankroll(world, settings):
    bob = world["bob"]
    Bankroll.objects.filter(pk=bob.pk).update(auto_paper=True)
    settings.BETTING_MODE = "PAPER"
    summary = recommend_upcoming(league_code="NBA")
    assert summary["bankroll"] == settings.PAPER_BANKROLL
    assert list(summary["opted_in"]) == [f"{bob.pk}:{bob.name}"]  # not alice's LIVE one, not the system's twice
    assert Bet.objects.filter(bankroll=world["alice"]).count() == 1
