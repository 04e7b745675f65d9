"""The Pinnacle layout of the bet import (betting/bets/imports.py): the straightBets of the Pinnacle
API's GET /v3/bets response, read from the documentation's own examples (tests/fixtures/SOURCES.md),
unchanged: the accepted live bet of the FAQ, and its pending and not-accepted states.

The FAQ's bet is on a soccer match (sport 29, league 5595: Universitario v Club Petrolero, 2017-12-20),
which the import refuses as it is (NBA and MLB only). To follow it through to the ledger, the tests that
import it map league 5595 to a league of their own and build that match: the teams as Pinnacle names
them, a kickoff before the bet (the FAQ marks it live: isLive TRUE). The payload itself is never edited
on disk; a test that needs a different response changes a copy in memory."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from betting.bets import imports
from betting.bets.imports import import_bets
from betting.bets.models import Bankroll, Bet
from betting.bets.services import bankroll_open, bets_settle
from betting.games.models import Game, League, TeamAlias
from tests import factories

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACCEPTED = FIXTURES / "pinnacle_bets_v3_faq_accepted_live_bet.json"
PENDING = FIXTURES / "pinnacle_bets_v3_faq_pending_acceptance.json"
NOT_ACCEPTED = FIXTURES / "pinnacle_bets_v3_faq_not_accepted.json"
PLACED = dt.datetime(2017, 12, 20, 21, 57, 22, tzinfo=dt.UTC)  # the FAQ bet's placedAt
KICKOFF = PLACED - dt.timedelta(minutes=50)  # not documented: any time before a live bet will do


@pytest.fixture
def bettor(django_user_model, settings):
    settings.ENABLE_LIVE_BETTING = True
    user = django_user_model.objects.create_user("ana", password="pw-ana-123")
    bankroll = bankroll_open(name="sharp book", deposit=Decimal("20000"), mode=Bankroll.Mode.LIVE, owner=user)
    return user, bankroll


def _league_5595(monkeypatch) -> League:
    """A league standing for Pinnacle's league 5595, mapped to it, with its two teams as Pinnacle names them."""
    league = factories.league("P5595", name="Pinnacle league 5595", time_zone="UTC")
    monkeypatch.setitem(imports.PINNACLE_LEAGUES, "5595", league.code)
    for abbreviation, name in (("UNI", "Universitario"), ("PET", "Club Petrolero")):
        team = factories.team(league, abbreviation, name=name)
        TeamAlias.objects.create(league=league, team=team, name=name)
    return league


def _match(league: League, *, home: str, away: str) -> Game:
    return factories.game(league, home=home, away=away, start=KICKOFF)


def _import(path_or_bytes: Path | bytes, bettor) -> imports.ImportResult:
    user, bankroll = bettor
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return import_bets(io.BytesIO(data), user=user, bankroll=bankroll, layout="pinnacle")


@pytest.mark.django_db
def test_the_faq_bet_as_it_is_is_refused_with_its_league_named(bettor):
    result = _import(ACCEPTED, bettor)
    assert not result.ok and result.created == 0
    assert [(p.line, p.reason) for p in result.unmatched] == [
        (1, "league 5595 (sport 29) is not NBA (487) or MLB (246)")
    ]
    assert not Bet.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("home", "outcome"), [("UNI", "home"), ("PET", "away")])
def test_the_faq_bet_imports_whichever_team_was_at_home(bettor, monkeypatch, home, outcome):
    league = _league_5595(monkeypatch)
    game = _match(league, home=home, away="PET" if home == "UNI" else "UNI")
    result = _import(ACCEPTED, bettor)
    assert result.ok, result.unmatched
    assert (result.created, result.settled, result.duplicates, result.notes) == (1, 0, [], [])
    bet = Bet.objects.select_related("bookmaker").get()
    assert bet.game_id == game.pk and bet.market == "h2h" and bet.outcome == outcome  # teamName Universitario
    assert bet.external_id == "800110193"  # betId
    assert bet.bookmaker.title == "Pinnacle" and bet.source == "import"
    assert bet.price == Decimal("1.2101")  # -476 American: 1 + 100 / 476
    assert bet.stake == Decimal("11991.63")  # risk
    assert bet.placed_at == PLACED and bet.point is None
    assert bet.reported_result == "" and bet.status == "open"  # ACCEPTED: not settled yet
    _, bankroll = bettor
    assert bankroll.balance() == Decimal("20000") - Decimal("11991.63")


@pytest.mark.django_db
def test_the_faq_bet_settles_on_the_final_score(bettor, monkeypatch):
    league = _league_5595(monkeypatch)
    game = _match(league, home="UNI", away="PET")
    assert _import(ACCEPTED, bettor).created == 1
    Game.objects.filter(pk=game.pk).update(status="final", home_score=2, away_score=0)
    assert bets_settle().settled == 1
    bet = Bet.objects.get()
    assert bet.result == "win" and bet.payout == (bet.stake * bet.price).quantize(Decimal("0.01"))
    # Pinnacle's own win amount, 2519.25, is the same bet to within the price's four decimals
    assert abs(bet.payout - bet.stake - Decimal("2519.25")) < Decimal("0.25")


@pytest.mark.django_db
def test_the_same_response_twice_is_refused_by_the_bet_id(bettor, monkeypatch):
    league = _league_5595(monkeypatch)
    _match(league, home="UNI", away="PET")
    assert _import(ACCEPTED, bettor).created == 1
    again = _import(ACCEPTED, bettor)
    assert again.ok and again.created == 0
    assert [(d.line, d.reason) for d in again.duplicates] == [(1, "imported before (the book's bet id 800110193)")]
    # the book's id is a constraint, not only a check in the code: the same id at the same book once
    bet = Bet.objects.get()
    bet.pk, bet.decision_run, bet.stake = None, "another-run", Decimal("5")
    with pytest.raises(IntegrityError), transaction.atomic():
        bet.save()


@pytest.mark.django_db
def test_pending_and_not_accepted_bets_are_listed_not_imported(bettor):
    for path, reason in ((PENDING, "still pending acceptance"), (NOT_ACCEPTED, "was not accepted")):
        result = _import(path, bettor)
        assert not result.ok and [p.line for p in result.unmatched] == [1]
        assert reason in result.unmatched[0].reason
        assert "86a90ab9-fca1-4703-a11c-ce329a85584e" in result.unmatched[0].reason  # named by its uniqueRequestId
    assert not Bet.objects.exists()


@pytest.mark.django_db
def test_a_response_with_only_parlays_or_no_json_says_why(bettor):
    response = json.loads(ACCEPTED.read_text())
    parlays_only = {"parlayBets": response["straightBets"]}  # a copy in memory, moved under another list
    result = _import(json.dumps(parlays_only).encode(), bettor)
    assert result.errors == ["the response holds no straight bets: 1 parlay bet not imported (straight bets only)"]
    result = _import(b"betId,placedAt\n1,2017-12-20\n", bettor)
    assert not result.ok and "not the JSON of Pinnacle's GET /v3/bets" in result.errors[0]


@pytest.mark.django_db
def test_command_takes_the_pinnacle_layout(bettor, monkeypatch):
    league = _league_5595(monkeypatch)
    _match(league, home="PET", away="UNI")
    out = io.StringIO()
    call_command(
        "import_bets", "--user", "ana", "--bankroll", "sharp book", "--layout", "pinnacle", str(ACCEPTED), stdout=out
    )
    assert "1 bets imported onto sharp book" in out.getvalue()
    assert Bet.objects.get().external_id == "800110193"


@pytest.mark.django_db
def test_the_admin_finds_the_bet_by_pinnacles_bet_id(bettor, monkeypatch, admin_client):
    league = _league_5595(monkeypatch)
    _match(league, home="UNI", away="PET")
    assert _import(ACCEPTED, bettor).created == 1
    bet = Bet.objects.get()
    found = admin_client.get("/admin/bets/bet/", {"q": "800110193"})
    assert found.status_code == 200 and list(found.context["cl"].result_list) == [bet]
    assert list(admin_client.get("/admin/bets/bet/", {"q": "800110194"}).context["cl"].result_list) == []
    assert b"800110193" in admin_client.get(f"/admin/bets/bet/{bet.pk}/change/").content


@pytest.mark.django_db
def test_upload_page_offers_the_pinnacle_layout_and_says_where_the_settlement_went(bettor, monkeypatch, client):
    user, bankroll = bettor
    league = _league_5595(monkeypatch)
    _match(league, home="UNI", away="PET")
    monkeypatch.setattr(imports, "SETTLE_INLINE", 0)
    client.force_login(user)
    assert b'value="pinnacle"' in client.get("/bets/import").content
    upload = io.BytesIO(ACCEPTED.read_bytes())
    upload.name = "bets.json"
    response = client.post("/bets/import", {"bankroll": str(bankroll.pk), "layout": "pinnacle", "file": upload})
    assert response.status_code == 200 and b"1 bet imported" in response.content
    assert b"the other 1 go to the settlement task, queued when the import commits" in response.content
