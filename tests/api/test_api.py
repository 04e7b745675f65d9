"""The JSON API (/api/v1/): tokens and scopes, rate limits, pagination, errors, and every endpoint
tried as another user (zero cross-user leaks)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from betting.api.models import ApiToken
from betting.api.tokens import token_create, token_hash
from betting.bets.models import Backtest, BankrollEntry, BankrollMember, Bet
from betting.games.models import Game, OddsQuote
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db
API = "/api/v1"


def game_orl_cle() -> Game:
    return Game.objects.get(home_team__abbreviation="ORL", game_date="2023-12-11")


def bet_body(bankroll_id: int, game: Game, **extra) -> dict[str, Any]:
    return {
        "bankroll": bankroll_id,
        "game": game.pk,
        "market": "h2h",
        "outcome": "home",
        "book": "draftkings",
        "price": "1.91",
        "stake": "25",
        **extra,
    }


def post_json(client: Client, path: str, body: dict[str, Any]):
    return client.post(f"{API}{path}", data=json.dumps(body), content_type="application/json")


# --- Tokens, scopes, rate limits --------------------------------------------------------------


def test_without_a_token_the_api_answers_401_json_with_a_reason(people):
    response = Client().get(f"{API}/bets")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "unauthorized" and "Bearer" in response.json()["reason"]
    assert bearer("shl_nothing_like_a_real_token").get(f"{API}/bets").status_code == 401


def test_a_token_is_stored_only_as_its_hash_and_opens_the_api(people):
    token, raw = token_create(user=people["alice"], scope="read")
    assert raw.startswith(f"shl_{token.prefix}_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == token_hash(raw) and raw not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.last_used_at is None
    assert bearer(raw).get(f"{API}/bankrolls").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_revoked_token_or_an_inactive_user_opens_nothing(people):
    from betting.api.tokens import token_revoke

    token, raw = token_create(user=people["alice"], scope="bet")
    client = bearer(raw)
    assert client.get(f"{API}/bankrolls").status_code == 200
    assert not token_revoke(user=people["bob"], token_id=token.pk)  # not bob's to revoke
    assert token_revoke(user=people["alice"], token_id=token.pk)
    assert client.get(f"{API}/bankrolls").status_code == 401
    _, other = token_create(user=people["alice"], scope="read")
    people["alice"].is_active = False
    people["alice"].save()
    assert bearer(other).get(f"{API}/bankrolls").status_code == 401


def test_a_read_token_cannot_write(people, clients, odds):
    alice_live = people["bankrolls"]["alice"]
    response = post_json(clients["alice_read"], "/bets", bet_body(alice_live.pk, game_orl_cle()))
    assert response.status_code == 403 and "scope" in response.json()["reason"]
    backtest = post_json(
        clients["alice_read"],
        "/backtests",
        {"league": "NBA", "market": "h2h", "date_from": "2023-12-01", "date_to": "2023-12-10"},
    )
    assert backtest.status_code == 403
    assert not Bet.objects.exists() and not Backtest.objects.exists()


def test_each_token_is_rate_limited_on_its_own(people, settings):
    settings.API_RATE_LIMIT = "3/m"
    first = bearer(token_create(user=people["alice"], scope="read")[1])
    second = bearer(token_create(user=people["alice"], scope="read")[1])
    assert [first.get(f"{API}/bankrolls").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get(f"{API}/bankrolls")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited" and "3/m" in limited.json()["reason"]
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert second.get(f"{API}/bankrolls").status_code == 200  # its own count


# --- Pagination, filters, errors --------------------------------------------------------------


def test_lists_page_with_limit_and_offset(clients, odds):
    whole = clients["alice"].get(f"{API}/games", {"limit": 200, "markets": "false"}).json()
    assert whole["count"] == 18 and len(whole["items"]) == 18
    ids = [g["id"] for g in whole["items"]]
    page = clients["alice"].get(f"{API}/games", {"limit": 5, "offset": 5, "markets": "false"}).json()
    assert page["count"] == 18 and page["limit"] == 5 and page["offset"] == 5
    assert [g["id"] for g in page["items"]] == ids[5:10]
    last = clients["alice"].get(f"{API}/games", {"limit": 5, "offset": 15}).json()
    assert [g["id"] for g in last["items"]] == ids[15:]
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}):
        response = clients["alice"].get(f"{API}/games", bad)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "bad_request" and response.json()["reason"]


def test_game_filters(clients, odds):
    def count(**query):
        return clients["alice"].get(f"{API}/games", {**query, "markets": "false"}).json()["count"]

    assert count(league="nba") == 18 and count(league="MLB") == 0
    days = sorted(set(Game.objects.values_list("game_date", flat=True)))
    assert sum(count(date=day.isoformat()) for day in days) == 18 and count(date="2023-12-01") == 0
    first = Game.objects.filter(game_date=days[0]).count()
    assert 0 < count(date=days[0].isoformat()) == first < 18
    assert count(date_to=days[0].isoformat()) == first and count(date_from=days[-1].isoformat()) == 18 - sum(
        Game.objects.filter(game_date=day).count() for day in days[:-1]
    )
    assert count(status="scheduled") == 18 and count(status="final") == 0
    assert clients["alice"].get(f"{API}/games", {"status": "won"}).status_code == 400


def test_a_game_carries_the_best_price_and_the_consensus_of_each_side(clients, odds):
    game = game_orl_cle()
    data = clients["alice"].get(f"{API}/games/{game.pk}").json()
    h2h = next(m for m in data["markets"] if m["market"] == "h2h")
    home = next(s for s in h2h["sides"] if s["outcome"] == "home")
    # Worked out here from the rows: each book's latest home moneyline before the start, the best of them.
    latest: dict[str, Decimal] = {}
    for quote in OddsQuote.objects.filter(game=game, market="h2h", outcome="home").order_by("captured_at", "id"):
        latest[quote.bookmaker.key] = quote.price
    best = max(latest.values())
    assert home["best_price"] == pytest.approx(float(best))
    assert latest[home["best_book"]] == best
    away = next(s for s in h2h["sides"] if s["outcome"] == "away")
    assert home["consensus_probability"] + away["consensus_probability"] == pytest.approx(1.0)
    assert 0.5 < home["consensus_probability"] < 1 and home["fair_price"] == pytest.approx(
        1 / home["consensus_probability"]
    )


def test_unknown_objects_and_paths_are_json_404s(clients, odds):
    for path in ("/games/999999", "/bets/999999", "/bankrolls/999999", "/backtests/999999", "/no-such-thing"):
        response = clients["alice"].get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found" and response.json()["reason"], path
    assert clients["alice"].get(f"{API}/games/0").status_code == 400  # ids start at 1


def test_a_server_error_is_json_and_never_shows_the_traceback(clients, monkeypatch):
    from betting.games import selectors

    def broken(**kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(selectors, "games_filtered", broken)
    response = clients["alice"].get(f"{API}/games")
    assert response.status_code == 500
    body = response.content.decode()
    assert response.json()["error"] == "server_error"
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_the_openapi_schema_is_served_and_names_every_endpoint(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/games", "/api/v1/predictions", "/api/v1/edges", "/api/v1/bankrolls", "/api/v1/bets"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/bets"]) and "post" in paths["/api/v1/bets/import"]
    assert "/api/v1/backtests/{backtest_id}/progress" in paths


def test_the_docs_page_loads_its_script_from_our_own_static_files(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower() and "https://" not in html


# --- Endpoints ----------------------------------------------------------------------------------


def test_predictions_list_filters_by_game_and_market(clients, odds):
    from betting.predictions.models import ModelVersion, Prediction

    game = game_orl_cle()
    version = ModelVersion.objects.create(
        league=game.league,
        market="h2h",
        version="20231210_000000",
        kind="full",
        is_active=True,
        status="active",
        feature_set_version="v1",
        features=[],
        feature_hash="x",
        params={},
        trained_until=dt.datetime(2023, 12, 10, tzinfo=dt.UTC),
        n_train=100,
        artifact="none.ubj",
    )
    for outcome, probability in (("home", "0.61"), ("away", "0.39")):
        Prediction.objects.create(
            game=game,
            model_version=version,
            market="h2h",
            outcome=outcome,
            probability=Decimal(probability),
            fair_odds=(1 / Decimal(probability)).quantize(Decimal("0.0001")),
        )
    data = clients["bob"].get(f"{API}/predictions", {"game": game.pk, "market": "h2h"}).json()
    assert data["count"] == 2
    assert {p["outcome"]: p["probability"] for p in data["items"]} == {"home": 0.61, "away": 0.39}
    assert all(p["model_active"] and p["model_version"] == "20231210_000000" for p in data["items"])
    assert clients["bob"].get(f"{API}/predictions", {"market": "totals"}).json()["count"] == 0


def test_edges_answer_what_the_scanner_finds(clients, odds):
    from betting.bets.edges import edges_scan

    at = dt.datetime(2023, 12, 11, 18, 0, tzinfo=dt.UTC)
    data = clients["alice"].get(f"{API}/edges", {"at": "2023-12-11T18:00:00Z", "min_ev": "0"}).json()
    found = edges_scan(at=at, min_ev=0.0)
    assert data["games"] == len(found.games) == 18 and data["quotes"] == found.quotes
    assert len(data["positive_ev"]) == len(found.result.positive_ev) > 0
    first = found.result.positive_ev[0]
    assert data["positive_ev"][0]["book"] == first.book and data["positive_ev"][0]["ev"] == pytest.approx(first.ev)
    assert clients["alice"].get(f"{API}/edges", {"at": "yesterday"}).status_code == 400
    naive = clients["alice"].get(f"{API}/edges", {"at": "2023-12-11T18:00:00", "min_ev": "0"}).json()
    assert naive["at"].startswith("2023-12-11T18:00:00") and len(naive["positive_ev"]) == len(data["positive_ev"])


def test_a_manual_live_bet_is_recorded_with_its_stake_in_the_ledger(people, clients, odds):
    alice_live = people["bankrolls"]["alice"]
    game = game_orl_cle()
    response = post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game))
    assert response.status_code == 201, response.content
    data = response.json()
    bet = Bet.objects.get(pk=data["id"])
    assert bet.bankroll == alice_live and bet.source == "manual" and bet.stake == Decimal("25.00")
    assert data["price"] == 1.91 and data["status"] == "open" and data["book"] == "draftkings"
    assert BankrollEntry.objects.get(bet=bet, kind="stake").amount == Decimal("-25.00")
    listed = clients["alice"].get(f"{API}/bets", {"bankroll": alice_live.pk, "source": "manual"}).json()
    assert [b["id"] for b in listed["items"]] == [bet.pk]
    assert clients["alice"].get(f"{API}/bets", {"source": "import"}).json()["count"] == 0


def test_a_bet_the_service_refuses_is_a_400_and_writes_nothing(people, clients, odds, settings):
    alice_live = people["bankrolls"]["alice"]
    game = game_orl_cle()
    spread_without_line = post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game, market="spreads"))
    assert spread_without_line.status_code == 400 and "line" in spread_without_line.json()["reason"]
    assert post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game, price="1.0")).status_code == 400
    assert post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game, book="nobook")).status_code == 400
    settings.ENABLE_LIVE_BETTING = False
    locked = post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game))
    assert locked.status_code == 400 and "ENABLE_LIVE_BETTING" in locked.json()["reason"]
    assert not Bet.objects.exists()


CSV_HEADER = "placed_at,book,league,home,away,market,side,point,price,stake,status\n"
ORL_ROW = "2023-12-11 12:00,DraftKings,NBA,Orlando Magic,Cleveland Cavaliers,moneyline,home,,-110,20,\n"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("bets.csv", text.encode(), content_type="text/csv")


def test_a_csv_import_goes_in_once_and_a_bad_file_not_at_all(people, clients, odds):
    alice_live = people["bankrolls"]["alice"]
    client = clients["alice"]
    first = client.post(f"{API}/bets/import", {"bankroll": alice_live.pk, "file": upload(CSV_HEADER + ORL_ROW)})
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 1 and first.json()["ok"]
    again = client.post(f"{API}/bets/import", {"bankroll": alice_live.pk, "file": upload(CSV_HEADER + ORL_ROW)})
    assert again.status_code == 200 and again.json()["created"] == 0 and len(again.json()["duplicates"]) == 1
    unknown = ORL_ROW.replace("Orlando Magic", "Gotham Knights").replace("20,", "30,")
    bad = client.post(
        f"{API}/bets/import",
        {"bankroll": alice_live.pk, "file": upload(CSV_HEADER + ORL_ROW.replace("20,", "40,") + unknown)},
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "bad_request" and [p["line"] for p in bad.json()["result"]["unmatched"]] == [3]
    assert Bet.objects.filter(bankroll=alice_live).count() == 1  # nothing of the bad file
    # a row with more cells than the header, and wrong: its problem comes back whole (extra cells under "")
    ragged_row = unknown.strip() + ",x,y\n"
    ragged = client.post(f"{API}/bets/import", {"bankroll": alice_live.pk, "file": upload(CSV_HEADER + ragged_row)})
    assert ragged.status_code == 400 and ragged.json()["result"]["unmatched"][0]["row"][""] == ["x", "y"]


# --- Zero cross-user leaks --------------------------------------------------------------------


@pytest.fixture
def alices_things(people, clients, odds):
    """alice's bet (through the API), her backtest, and a bet of hers imported."""
    alice_live = people["bankrolls"]["alice"]
    bet = post_json(clients["alice"], "/bets", bet_body(alice_live.pk, game_orl_cle())).json()
    backtest = Backtest.objects.create(
        name="alice's",
        league=game_orl_cle().league,
        market="h2h",
        date_from=dt.date(2023, 12, 1),
        date_to=dt.date(2023, 12, 10),
        starting_bankroll=Decimal(1000),
        created_by=people["alice"],
    )
    return {"bankroll": alice_live.pk, "bet": bet["id"], "backtest": backtest.pk}


# One row per operation of the schema: who else tries it, and what they must get.
def _cross_user_cases(things, game_id):
    return {
        ("get", "/api/v1/bankrolls"): ("get", "/bankrolls", None),
        ("get", "/api/v1/bankrolls/{bankroll_id}"): ("get", f"/bankrolls/{things['bankroll']}", 404),
        ("get", "/api/v1/bets"): ("get", f"/bets?bankroll={things['bankroll']}", None),
        ("post", "/api/v1/bets"): ("post", "/bets", 404),
        ("get", "/api/v1/bets/{bet_id}"): ("get", f"/bets/{things['bet']}", 404),
        ("post", "/api/v1/bets/import"): ("import", "/bets/import", 404),
        ("get", "/api/v1/backtests"): ("get", "/backtests", None),
        ("get", "/api/v1/backtests/{backtest_id}"): ("get", f"/backtests/{things['backtest']}", 404),
        ("get", "/api/v1/backtests/{backtest_id}/progress"): ("get", f"/backtests/{things['backtest']}/progress", 404),
        ("post", "/api/v1/backtests"): ("post", "/backtests", None),
        # Shared market data: the same for everyone, nothing of alice's in it.
        ("get", "/api/v1/games"): ("get", "/games", None),
        ("get", "/api/v1/games/{game_id}"): ("get", f"/games/{game_id}", None),
        ("get", "/api/v1/predictions"): ("get", "/predictions", None),
        ("get", "/api/v1/edges"): ("get", "/edges", None),
    }


def test_every_endpoint_tried_as_another_user_shows_and_changes_nothing_of_alices(people, clients, alices_things):
    game = game_orl_cle()
    schema = Client().get(f"{API}/openapi.json").json()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    cases = _cross_user_cases(alices_things, game.pk)
    assert operations == set(cases), "every API operation needs a cross-user case here"
    before = (Bet.objects.count(), BankrollEntry.objects.count(), Backtest.objects.count())
    bob = clients["bob"]
    alice_ids = {str(alices_things["bet"]), "alice-live", "alice's"}
    for (_, _), (kind, path, expected) in cases.items():
        if kind == "get":
            response = bob.get(f"{API}{path}")
        elif kind == "import":
            response = bob.post(
                f"{API}{path}", {"bankroll": alices_things["bankroll"], "file": upload(CSV_HEADER + ORL_ROW)}
            )
        elif path == "/bets":
            response = post_json(bob, path, bet_body(alices_things["bankroll"], game))
        else:  # a backtest of bob's own: it must not touch alice's
            response = post_json(
                bob, path, {"league": "NBA", "market": "h2h", "date_from": "2023-12-01", "date_to": "2023-12-02"}
            )
            before = (before[0], before[1], before[2] + 1)
        assert response.status_code == (expected or response.status_code) and response.status_code < 500, path
        if expected is None:
            assert response.status_code in (200, 202), (path, response.content)
        body = response.content.decode()
        if kind == "get" and expected is None and path.split("?")[0] in ("/bankrolls", "/bets", "/backtests"):
            items = response.json()["items"]
            assert all(str(item.get("id")) not in alice_ids or item.get("name") not in alice_ids for item in items)
            assert "alice" not in body, path
    assert (Bet.objects.count(), BankrollEntry.objects.count(), Backtest.objects.count()) == before
    assert Backtest.objects.filter(created_by=people["alice"]).count() == 1


def test_a_shared_bankroll_is_seen_but_bet_on_only_with_the_bet_permission(people, clients, alices_things):
    alice_live = people["bankrolls"]["alice"]
    member = BankrollMember.objects.create(bankroll=alice_live, user=people["bob"], permission="view")
    bob = clients["bob"]
    listed = {b["name"]: b for b in bob.get(f"{API}/bankrolls").json()["items"]}
    assert listed["alice-live"]["can_bet"] is False and listed["bob-live"]["can_bet"] is True
    assert bob.get(f"{API}/bets/{alices_things['bet']}").status_code == 200
    refused = post_json(bob, "/bets", bet_body(alice_live.pk, game_orl_cle()))
    assert refused.status_code == 403 and Bet.objects.filter(bankroll=alice_live).count() == 1
    member.permission = "bet"
    member.save()
    assert post_json(bob, "/bets", bet_body(alice_live.pk, game_orl_cle())).status_code == 201


def test_staff_see_every_bankroll_and_bet(people, clients, alices_things):
    names = {b["name"] for b in clients["carol"].get(f"{API}/bankrolls").json()["items"]}
    assert {"alice-live", "bob-live"} <= names
    assert clients["carol"].get(f"{API}/bets/{alices_things['bet']}").status_code == 200


def test_a_backtest_is_queued_and_its_progress_read(people, clients, odds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued after the commit
        response = post_json(
            clients["alice"],
            "/backtests",
            {
                "league": "NBA",
                "market": "h2h",
                "date_from": "2023-12-01",
                "date_to": "2023-12-10",
                "strategy": {"kelly_fraction": 0.1},
            },
        )
    assert response.status_code == 202, response.content
    backtest = Backtest.objects.get(pk=response.json()["id"])
    assert backtest.created_by == people["alice"] and backtest.params["kelly_fraction"] == 0.1
    progress = clients["alice"].get(f"{API}/backtests/{backtest.pk}/progress").json()
    assert progress["done"] and progress["status"] == backtest.status == "failed"  # it ran at once (eager mode)
    assert "games" in progress["error"] or progress["error"]  # no finished games in the window: it says so
    assert clients["alice"].get(f"{API}/backtests", {"status": backtest.status}).json()["count"] == 1
    backwards = post_json(
        clients["alice"],
        "/backtests",
        {"league": "NBA", "market": "h2h", "date_from": "2023-12-10", "date_to": "2023-12-01"},
    )
    assert backwards.status_code == 400 and "before" in backwards.json()["reason"]


# --- The tokens page and the command ----------------------------------------------------------


def test_the_tokens_page_shows_a_new_token_once_and_revokes_it(people):
    client = Client()
    client.force_login(people["alice"])
    page = client.post("/account/tokens", {"name": "laptop", "scope": "bet"})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = ApiToken.objects.get(user=people["alice"], name="laptop")
    html = page.content.decode()
    start = html.index("shl_" + token.prefix + "_")
    raw = html[start : html.index("<", start)]
    assert token.key_hash == token_hash(raw) and token.scope == "bet"
    assert raw not in client.get("/account/tokens").content.decode()  # shown once
    assert bearer(raw).get(f"{API}/bankrolls").status_code == 200
    other = Client()
    other.force_login(people["bob"])
    other.post(f"/account/tokens/{token.pk}/revoke")
    assert bearer(raw).get(f"{API}/bankrolls").status_code == 200  # not bob's to revoke
    client.post(f"/account/tokens/{token.pk}/revoke")
    assert bearer(raw).get(f"{API}/bankrolls").status_code == 401


def test_the_tokens_page_needs_a_signed_in_user(db):
    response = Client().get("/account/tokens")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_api_token_prints_a_working_token(people):
    out = StringIO()
    call_command("create_api_token", "--user", "bob", "--scope", "read", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    assert ApiToken.objects.get(user=people["bob"]).key_hash == token_hash(raw)
    assert bearer(raw).get(f"{API}/bankrolls").status_code == 200
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "--user", "nobody", stdout=StringIO(), stderr=StringIO())


def test_the_filters_choices_are_the_models_choices():
    from typing import get_args

    from betting.api import schemas

    assert set(get_args(schemas.BetStatus)) == set(Bet.Status.values)
    assert set(get_args(schemas.BetResult)) == set(Bet.Result.values) - {""}
    assert set(get_args(schemas.BetSource)) == set(Bet.Source.values)
    assert set(get_args(schemas.BacktestStatus)) == set(Backtest.Status.values)
    assert set(get_args(schemas.GameStatus)) == set(Game.Status.values)
    assert set(get_args(schemas.GameMarket)) == set(OddsQuote.Market.values)


def test_a_method_a_path_does_not_take_is_a_json_405(clients):
    response = clients["alice"].delete(f"{API}/bankrolls")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed" and "GET" in response["Allow"]


def test_a_script_posts_without_a_csrf_token(people, odds):
    # curl sends no cookie and no CSRF token: the bearer token is the credential
    raw = token_create(user=people["alice"], scope="bet")[1]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = post_json(client, "/bets", bet_body(people["bankrolls"]["alice"].pk, game_orl_cle()))
    assert response.status_code == 201, response.content
