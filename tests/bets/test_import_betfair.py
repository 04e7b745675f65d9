"""The Betfair layout of the bet import (betting/bets/imports.py): the Exchange API's
listClearedOrders response (ClearedOrderSummary records with their itemDescription), as JSON and as
its CSV flattening with dotted columns, matched to the recorded NBA games of 2023-12-11."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from betting.bets.imports import import_bets
from betting.bets.models import Bankroll, Bet
from betting.bets.services import bankroll_open
from betting.games.models import Game
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JSON_FILE = FIXTURES / "betfair_cleared_orders_2023-12-11_nba.json"
CSV_FILE = FIXTURES / "betfair_cleared_orders_2023-12-11_nba.csv"
BAD_FILE = FIXTURES / "betfair_cleared_orders_lay_and_other_sport.json"
# the final scores of the three games, from data/demo/nba/kaggle/nba_betting_2022-23_to_2024-25.csv
SCORES = {
    ("Charlotte Hornets", "Miami Heat"): (114, 116),
    ("Orlando Magic", "Cleveland Cavaliers"): (104, 94),
    ("New York Knicks", "Toronto Raptors"): (136, 130),
}


@pytest.fixture
def games(reference):
    recorded_nba_odds()
    found = {
        (g.home_team.name, g.away_team.name): g
        for g in Game.objects.filter(game_date=dt.date(2023, 12, 11)).select_related("home_team", "away_team")
    }
    assert set(SCORES) <= set(found)
    return {teams: found[teams] for teams in SCORES}


@pytest.fixture
def bettor(django_user_model, settings):
    settings.ENABLE_LIVE_BETTING = True
    user = django_user_model.objects.create_user("ana", password="pw-ana-123")
    bankroll = bankroll_open(name="exchange", deposit=Decimal("1000"), mode=Bankroll.Mode.LIVE, owner=user)
    return user, bankroll


def _import(path: Path, bettor) -> object:
    user, bankroll = bettor
    return import_bets(io.BytesIO(path.read_bytes()), user=user, bankroll=bankroll, layout="betfair")


def _check_the_three_bets(games, bankroll: Bankroll) -> None:
    bets = {b.game_id: b for b in Bet.objects.filter(bankroll=bankroll).select_related("bookmaker")}
    heat = bets[games[("Charlotte Hornets", "Miami Heat")].pk]
    magic = bets[games[("Orlando Magic", "Cleveland Cavaliers")].pk]
    knicks = bets[games[("New York Knicks", "Toronto Raptors")].pk]
    assert len(bets) == 3
    assert (heat.market, heat.outcome, heat.point, heat.price, heat.stake) == (
        "h2h",
        "away",
        None,
        Decimal("1.6"),
        Decimal("50"),
    )
    assert (magic.market, magic.outcome, magic.point, magic.price, magic.stake) == (
        "spreads",
        "home",
        Decimal("-1.5"),
        Decimal("1.89"),
        Decimal("40"),
    )
    assert (knicks.market, knicks.outcome, knicks.point, knicks.price) == (
        "totals",
        "over",
        Decimal("221.5"),
        Decimal("1.91"),
    )
    assert heat.placed_at == dt.datetime(2023, 12, 11, 14, 5, 12, tzinfo=dt.UTC)  # placedDate, UTC
    assert {b.bookmaker.title for b in bets.values()} == {"Betfair"}
    assert {b.reported_result for b in bets.values()} == {"win"}  # betOutcome WIN
    assert {b.source for b in bets.values()} == {"import"}


@pytest.mark.django_db
def test_json_response_imports_settles_and_gets_clv(games, bettor):
    _, bankroll = bettor
    for (home, away), (home_score, away_score) in SCORES.items():
        Game.objects.filter(pk=games[(home, away)].pk).update(
            status="final", home_score=home_score, away_score=away_score
        )
    result = _import(JSON_FILE, bettor)
    assert result.ok, (result.errors, result.unmatched)
    assert (result.rows, result.created, len(result.duplicates), result.settled) == (3, 3, 0, 3)
    _check_the_three_bets(games, bankroll)
    graded = Bet.objects.filter(bankroll=bankroll)
    assert {b.result for b in graded} == {"win"}  # graded from the final scores, as Betfair settled them
    moneyline = graded.get(market="h2h")
    assert moneyline.closing_price is not None and moneyline.clv is not None  # the recorded quotes after placedDate


@pytest.mark.django_db
def test_csv_flattening_imports_the_same_bets_and_the_json_then_duplicates(games, bettor):
    _, bankroll = bettor
    result = _import(CSV_FILE, bettor)
    assert result.ok, (result.errors, result.unmatched)
    assert result.created == 3
    _check_the_three_bets(games, bankroll)
    again = _import(JSON_FILE, bettor)  # the same bets in the other form
    assert again.ok and again.created == 0 and len(again.duplicates) == 3
    assert Bet.objects.filter(bankroll=bankroll).count() == 3


@pytest.mark.django_db
def test_the_same_file_twice_imports_nothing_the_second_time(games, bettor):
    _, bankroll = bettor
    assert _import(JSON_FILE, bettor).created == 3
    balance = bankroll.balance()
    second = _import(JSON_FILE, bettor)
    assert second.ok and second.created == 0 and [d.line for d in second.duplicates] == [1, 2, 3]
    assert Bet.objects.filter(bankroll=bankroll).count() == 3 and bankroll.balance() == balance
    # the betId is kept as the book's id of each bet, and the duplicates are found by it
    bet_ids = [order["betId"] for order in json.loads(JSON_FILE.read_text())["clearedOrders"]]
    assert sorted(Bet.objects.values_list("external_id", flat=True)) == sorted(bet_ids)
    assert {d.reason for d in second.duplicates} == {f"imported before (the book's bet id {i})" for i in bet_ids}


@pytest.mark.django_db
def test_a_lay_bet_and_another_sport_are_listed_and_nothing_is_imported(games, bettor):
    result = _import(BAD_FILE, bettor)
    assert not result.ok and result.created == 0
    reasons = {problem.line: problem.reason for problem in result.unmatched}
    assert set(reasons) == {2, 3}  # the first record (a good one) is not imported either
    assert reasons[2] == "lay bets are not imported"
    assert "Ice Hockey (7524)" in reasons[3] and "not NBA" in reasons[3]
    assert result.unmatched[0].row["betid"] == "322581901344"  # the record as in the file, for correcting
    assert Bet.objects.count() == 0


@pytest.mark.django_db
def test_a_basketball_event_that_is_not_away_at_home_and_a_missing_item_description(games, bettor):
    orders = json.loads(JSON_FILE.read_text())
    orders["clearedOrders"][0]["itemDescription"]["eventDesc"] = "Real Madrid v FC Barcelona"
    result = import_bets(io.BytesIO(json.dumps(orders).encode()), user=bettor[0], bankroll=bettor[1], layout="betfair")
    assert [p.line for p in result.unmatched] == [1] and "'Away @ Home'" in result.unmatched[0].reason
    for order in orders["clearedOrders"]:
        del order["itemDescription"]
    bare = import_bets(io.BytesIO(json.dumps(orders).encode()), user=bettor[0], bankroll=bettor[1], layout="betfair")
    assert bare.errors and "includeItemDescription=true" in bare.errors[0]
    assert Bet.objects.count() == 0


@pytest.mark.django_db
def test_command_takes_the_betfair_layout(games, bettor):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_bets",
        "--user",
        "ana",
        "--bankroll",
        "exchange",
        "--layout",
        "betfair",
        str(JSON_FILE),
        "--no-progress",
        stdout=out,
    )
    assert "3 bets imported" in out.getvalue()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command(
            "import_bets", "--user", "ana", "--bankroll", "exchange", "--layout", "betfair", str(BAD_FILE), stderr=err
        )
    assert "line 2: lay bets are not imported" in err.getvalue()


@pytest.mark.django_db
def test_upload_page_offers_and_imports_the_betfair_layout(games, bettor, client):
    user, bankroll = bettor
    client.force_login(user)
    page = client.get("/bets/import")
    assert page.status_code == 200 and b'value="betfair"' in page.content
    upload = io.BytesIO(JSON_FILE.read_bytes())
    upload.name = "cleared_orders.json"
    response = client.post("/bets/import", {"bankroll": str(bankroll.pk), "layout": "betfair", "file": upload})
    assert response.status_code == 200 and b"3 bets imported" in response.content
    bad = io.BytesIO(BAD_FILE.read_bytes())
    bad.name = "bad.json"
    response = client.post("/bets/import", {"bankroll": str(bankroll.pk), "layout": "betfair", "file": bad})
    assert response.status_code == 400 and b"lay bets are not imported" in response.content
    assert Bet.objects.count() == 3
