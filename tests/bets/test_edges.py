"""The scanner over recorded The Odds API pulls: `manage.py scan`, the service, `/edges` and its CSV.

The MLB pull of 2024-05-24 holds one real arbitrage between US books (Blue Jays at Tigers: the Tigers
+119 at LowVig and BetOnline, the Blue Jays -118 at WynnBET, 0.21%); the NBA pull of 2023-12-11 holds
none at any line. Each test checks the scanner against a brute force over every pair of books."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from itertools import product
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from betting.bets.edges import edges_scan
from betting.games.ingest.odds import odds_ingest
from betting.games.models import Game, OddsQuote
from betting.games.providers import odds_api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB = FIXTURES / "mlb_odds_2024-05-24_us_eu_h2h_american.json"
NBA_AT = dt.datetime(2023, 12, 11, 17, 0, tzinfo=dt.UTC)
MLB_AT = dt.datetime(2024, 5, 24, 20, 0, tzinfo=dt.UTC)
SIDES = {"h2h": ("home", "away"), "spreads": ("home", "away"), "totals": ("over", "under")}


def load(path: Path, league: str) -> None:
    extra = ["--odds-format", "american"] if "american" in path.name else []
    call_command("fetch_odds", "--league", league, "--from-file", str(path), *extra, stdout=StringIO())


def brute_force_arbitrages(at: dt.datetime) -> set[tuple[int, str, float | None]]:
    """Every (game, market, line) where some book's price on one side and some book's price on the
    other imply less than 1, from each book's latest quote at ``at``; a book's quote counts only when
    its own two sides on that line are a sane pair (the QUOTE_*_MARGIN bounds)."""
    latest: dict[tuple[int, str, str, str], OddsQuote] = {}
    rows = OddsQuote.objects.filter(captured_at__lte=at, game__start_time__gt=at, price__isnull=False)
    for quote in rows.select_related("bookmaker").order_by("captured_at"):
        latest[(quote.game_id, quote.bookmaker.key, quote.market, quote.outcome)] = quote
    books: dict[tuple[int, str, float | None], dict[str, dict[str, float]]] = {}
    for (game, book, market, outcome), quote in latest.items():
        point = None if quote.point is None else float(quote.point)
        line = None if market == "h2h" else (-point if market == "spreads" and outcome == "away" else point)  # type: ignore[operator]
        books.setdefault((game, market, line), {}).setdefault(book, {})[outcome] = float(quote.price)  # type: ignore[arg-type]
    found = set()
    lo, hi = settings.QUOTE_MIN_MARGIN, settings.QUOTE_MAX_MARGIN
    for key, by_book in books.items():
        a, b = SIDES[key[1]]
        sane = {k: v for k, v in by_book.items() if a in v and b in v and lo <= 1 / v[a] + 1 / v[b] - 1 <= hi}
        for one, two in product(sane, repeat=2):
            if 1 / sane[one][a] + 1 / sane[two][b] < 1:
                found.add(key)
    return found


def listed(at: dt.datetime, league: str) -> set[tuple[int, str, float | None]]:
    result = edges_scan(at=at, league=league).result
    for arb in result.arbitrage:  # an arbitrage by its own prices
        assert sum(1 / leg.price for leg in arb.legs) < 1
        assert arb.margin == pytest.approx(1 - sum(1 / leg.price for leg in arb.legs))
        assert sum(leg.stake for leg in arb.legs) == pytest.approx(100, abs=0.011)
    return {(a.game_id, a.market, a.point) for a in result.arbitrage}


@pytest.mark.django_db
def test_the_real_mlb_arbitrage_is_listed_and_nothing_else(reference):
    load(MLB, "MLB")
    found = listed(MLB_AT, "MLB")
    tigers = Game.objects.get(home_team__name="Detroit Tigers")
    assert found == {(tigers.pk, "h2h", None)} == brute_force_arbitrages(MLB_AT)
    (arb,) = edges_scan(at=MLB_AT, league="MLB").result.arbitrage
    legs = {(leg.side, leg.book, leg.price) for leg in arb.legs}
    assert legs == {("home", "betonlineag", 2.19), ("away", "wynnbet", 1.8475)}
    assert arb.margin == pytest.approx(0.0021, abs=0.0001)


@pytest.mark.django_db
def test_the_nba_pull_holds_no_arbitrage_and_none_is_invented(reference):
    load(NBA, "NBA")
    assert listed(NBA_AT, "NBA") == set() == brute_force_arbitrages(NBA_AT)


@pytest.mark.django_db
def test_a_price_that_opens_an_arbitrage_is_not_missed(reference):
    payload = json.loads(NBA.read_text())
    odds_ingest(records=odds_api.parse(payload).records)
    event = payload[5]
    book = next(b for b in event["bookmakers"] if b["key"] == "fanduel")
    spreads = next(m for m in book["markets"] if m["key"] == "spreads")
    later = "2023-12-11T16:59:30Z"
    book["last_update"] = spreads["last_update"] = later
    for outcome in spreads["outcomes"]:
        outcome["price"] = 2.02  # both sides: a sane pair (margin -1%), above every other book's price
    odds_ingest(records=odds_api.parse([event]).records)
    at = NBA_AT
    found = listed(at, "NBA")
    assert found == brute_force_arbitrages(at) and len(found) == 1
    ((game_id, market, _point),) = found
    assert market == "spreads" and Game.objects.get(pk=game_id).home_team.name == event["home_team"]


@pytest.mark.django_db
def test_a_started_game_is_not_scanned(reference):
    load(MLB, "MLB")
    tigers = Game.objects.get(home_team__name="Detroit Tigers")
    before = edges_scan(at=tigers.start_time - dt.timedelta(minutes=1), league="MLB")
    assert tigers.pk in before.games and before.result.arbitrage
    after = edges_scan(at=tigers.start_time + dt.timedelta(minutes=1), league="MLB")
    assert tigers.pk not in after.games
    items = [*after.result.positive_ev, *after.result.arbitrage, *after.result.middles, *after.result.steam]
    started = {g.pk for g in Game.objects.filter(start_time__lte=tigers.start_time + dt.timedelta(minutes=1))}
    assert not {item.game_id for item in items} & started


@pytest.mark.django_db
def test_scan_json_has_the_four_lists_with_the_issues_keys(reference):
    load(MLB, "MLB")
    out = StringIO()
    call_command("scan", "--league", "MLB", "--at", "2024-05-24T20:00Z", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert list(data) == ["positive_ev", "arbitrage", "middles", "steam"]
    assert data["positive_ev"], "the WynnBET Blue Jays price beats the sharp books"
    for item in data["positive_ev"]:
        assert set(item) == {
            "game_id", "home", "away", "market", "side", "point", "book", "price", "fair_prob", "ev", "hold",
        }  # fmt: skip
        assert item["ev"] >= settings.MIN_SCAN_EV and item["hold"] <= settings.MAX_HOLD
        assert item["ev"] == pytest.approx(item["fair_prob"] * item["price"] - 1, abs=1e-5)
    (arb,) = data["arbitrage"]
    assert set(arb) == {"game_id", "home", "away", "market", "point", "legs", "margin"}
    assert all(set(leg) == {"side", "book", "price", "stake"} for leg in arb["legs"])
    assert (arb["home"], arb["away"]) == ("Detroit Tigers", "Toronto Blue Jays")


@pytest.mark.django_db
def test_scan_csv_and_a_bad_league(reference):
    load(MLB, "MLB")
    out = StringIO()
    call_command("scan", "--league", "MLB", "--at", "2024-05-24T20:00Z", "--csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("kind,game_id,home,away,market,side,point,book,price")
    assert any(line.startswith("arbitrage,") and "betonlineag" in line for line in lines)
    with pytest.raises(CommandError, match="unknown league"):
        call_command("scan", "--league", "XFL", stdout=StringIO())


@pytest.mark.django_db
def test_edges_page_lists_links_filters_and_refreshes(reference, client):
    load(MLB, "MLB")
    tigers = Game.objects.get(home_team__name="Detroit Tigers")
    with time_machine.travel(MLB_AT, tick=False):
        page = client.get("/edges", {"league": "MLB", "min_ev": "0.01", "sort": "start"})
        text = page.content.decode()
        assert page.status_code == 200
        assert f'href="/games/{tigers.pk}"' in text and "betonlineag" in text and "wynnbet" in text
        assert 'data-refresh-seconds="' in text and "js/auto-refresh.js" in text
        assert "<script>" not in text  # no inline script (CSP)
        assert 'href="/edges" aria-current="page"' in text  # in the nav
        spreads_only = client.get("/edges", {"market": "spreads"}).content.decode()
        assert "betonlineag 2.19" not in spreads_only and "No arbitrage" in spreads_only
        csv = client.get("/edges.csv", {"league": "MLB"})
        assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
        assert b"arbitrage," in csv.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, reason",
    [
        ({"min_ev": "lots"}, "Enter a number"),
        ({"min_ev": "50"}, "less than or equal to 10"),
        ({"market": "corners"}, "Select a valid choice"),
        ({"league": "XFL"}, "Select a valid choice"),
        ({"at": "yesterday"}, "Enter a valid date/time"),
        ({"at": "20233-01-01T00:00"}, "Enter a valid date/time"),
    ],
)
def test_bad_filters_are_a_400_with_the_reason(reference, client, query, reason):
    page = client.get("/edges", query)
    assert page.status_code == 400 and reason in page.content.decode()
    assert "Traceback" not in page.content.decode()
    csv = client.get("/edges.csv", query)
    assert csv.status_code == 400 and reason in csv.content.decode()


@pytest.mark.django_db
def test_edges_page_replays_a_past_moment(reference, client):
    load(MLB, "MLB")
    page = client.get("/edges", {"league": "MLB", "at": "2024-05-24T20:00"})
    assert page.status_code == 200 and "betonlineag +119" in page.content.decode()  # 2.19, in American odds
    client.cookies["odds_format"] = "decimal"
    assert "betonlineag 2.19" in client.get("/edges", {"league": "MLB", "at": "2024-05-24T20:00"}).content.decode()
    client.cookies.pop("odds_format")
    assert "data-refresh-seconds" not in page.content.decode()  # a replay does not reload
    assert "No arbitrage" in client.get("/edges", {"league": "MLB"}).content.decode()  # now: all started
