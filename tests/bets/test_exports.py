"""CSV exports: the ledger (``/bets.csv``) holds exactly the rows the page lists for the same filters,
every page of them; a backtest's simulated bets are paginated on its page and downloadable whole."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import pytest

from betting.bets.backtest import SimBet
from betting.bets.models import Backtest, Bet
from betting.bets.services import backtest_create, bankroll_open, bet_place, bets_settle
from betting.games.models import Game, League, OddsQuote
from core.web.formatting import format_line, format_odds
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def ledger(reference, settings):
    """Paper bets on the recorded 2023-12-11 slate at each book's real prices: every game's best
    moneyline and spread on both sides (over 50, so the page has two pages), two games settled."""
    settings.PUBLIC_PAGES = True
    recorded_nba_odds()
    bankroll = bankroll_open(name=settings.PAPER_BANKROLL, deposit=Decimal("100000"))
    games = list(Game.objects.filter(game_date=dt.date(2023, 12, 11)).order_by("start_time", "pk"))
    stake = Decimal("1234.56")
    for game in games:
        for market in ("h2h", "spreads"):
            for outcome in ("home", "away"):
                quote = (
                    OddsQuote.objects.filter(game=game, market=market, outcome=outcome)
                    .select_related("bookmaker")
                    .order_by("-price", "pk")
                    .first()
                )
                if quote is None:
                    continue
                bet_place(
                    bankroll=bankroll,
                    game=game,
                    market=market,
                    outcome=outcome,
                    bookmaker=quote.bookmaker,
                    price=quote.price,
                    point=quote.point,
                    stake=stake,
                    probability=0.5,
                    decision_run=f"export-{quote.pk}",
                )
    for number, game in enumerate(games[:2]):
        Game.objects.filter(pk=game.pk).update(status=Game.Status.FINAL, home_score=110 + number * 10, away_score=105)
    bets_settle(now=dt.datetime(2023, 12, 12, 8, 0, tzinfo=dt.UTC))
    return bankroll


def page_ids(client, query: str) -> list[int]:
    """The bet ids the ledger page lists for ``query``, every page followed."""
    ids: list[int] = []
    number = 1
    while True:
        response = client.get(f"/bets?{query}&page={number}" if query else f"/bets?page={number}")
        assert response.status_code == 200
        page = response.context["page"]
        ids += [b.pk for b in page.object_list]
        if not page.has_next():
            return ids
        number += 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["", "market=spreads", "status=settled", "market=h2h&status=open", "league=NBA&date_from=2023-12-12"]
)
def test_the_ledger_csv_holds_the_pages_rows_for_the_same_filters(client, ledger, query):
    expected = page_ids(client, query)
    rows = read_csv(client.get(f"/bets.csv?{query}"))
    assert [int(r["bet_id"]) for r in rows] == expected  # same bets, same order, not just the first page
    if query == "":
        assert len(expected) > 50 and len(expected) == Bet.objects.filter(bankroll=ledger).count()
    if "market=spreads" in query:
        assert rows and {r["market"] for r in rows} == {"spreads"}


@pytest.mark.django_db
def test_the_ledger_csv_rows_say_what_the_bet_was(client, ledger):
    rows = {int(r["bet_id"]): r for r in read_csv(client.get("/bets.csv"))}
    for bet in Bet.objects.filter(bankroll=ledger).select_related("game__home_team", "game__away_team"):
        row = rows[bet.pk]
        assert Decimal(row["price_decimal"]) == bet.price
        assert row["price_american"] == format_odds(bet.price, "american")
        assert row["stake"] == "1234.56"  # plain to the cent: a spreadsheet reads it as a number
        assert row["line"] == format_line(bet.point, bet.market)
        assert row["status"] == bet.status and row["result"] == bet.result
        assert row["game"] == f"{bet.game.away_team.abbreviation} @ {bet.game.home_team.abbreviation}"
        if bet.status == Bet.Status.SETTLED:
            assert Decimal(row["profit"]) == bet.profit.quantize(Decimal("0.01"))
    spreads = [r for r in rows.values() if r["market"] == "spreads"]
    assert any(r["line"].startswith("+") for r in spreads) and any(r["line"].startswith("-") for r in spreads)


@pytest.mark.django_db
def test_the_ledger_page_links_its_csv_with_its_filters_and_a_bad_filter_is_a_400(client, ledger):
    html = client.get("/bets?market=spreads").content.decode()
    assert 'href="/bets.csv?market=spreads"' in html
    response = client.get("/bets.csv?date_from=12/11/2023")
    assert response.status_code == 400 and "date_from" in response.content.decode()


def sim_bet(number: int) -> dict[str, object]:
    return asdict(
        SimBet(
            game_id=1000 + number,
            label=f"G{number:03d} @ H{number:03d}",
            start_time=f"2016-03-{1 + number % 20:02d}T00:00:00+00:00",
            decided_at=f"2016-03-{1 + number % 20:02d}T23:55:00+00:00",
            quote_at=f"2016-03-{1 + number % 20:02d}T23:50:00+00:00",
            model_trained_until="2016-02-28",
            outcome="home" if number % 2 else "away",
            point=(number % 7) - 3.5 if number % 3 else 0.0,
            book="SBR",
            price=1.5 + number / 100,
            probability=0.55,
            edge=0.02,
            stake=1000.5 + number,
            result="win" if number % 2 else "loss",
            profit=(0.5 + number / 100) * (1000.5 + number) if number % 2 else -(1000.5 + number),
        )
    )


@pytest.fixture
def backtest(reference):
    bt = backtest_create(
        league=League.objects.get(code="NBA"),
        market="spreads",
        date_from=dt.date(2016, 3, 1),
        date_to=dt.date(2016, 3, 20),
        params={"kelly_fraction": 0.25, "min_edge": 0.0, "starting_bankroll": "10000"},
        name="paged",
    )
    Backtest.objects.filter(pk=bt.pk).update(
        status=Backtest.Status.SUCCESS, n_bets=120, bets=[sim_bet(n) for n in range(120)], progress=1.0
    )
    return Backtest.objects.get(pk=bt.pk)


@pytest.mark.django_db
def test_a_backtest_lists_its_bets_fifty_a_page_and_downloads_them_all(client, backtest, settings):
    settings.PUBLIC_PAGES = True
    settings.ODDS_FORMAT = "american"
    rows = read_csv(client.get(f"/backtests/{backtest.pk}/bets.csv"))
    assert [int(r["game_id"]) for r in rows] == [1000 + n for n in range(120)]
    seen: list[str] = []
    for number, size in ((1, 50), (2, 50), (3, 20)):
        response = client.get(f"/backtests/{backtest.pk}?page={number}")
        page = response.context["sim_page"]
        assert len(page.object_list) == size and page.paginator.num_pages == 3
        seen += [b["label"] for b in page.object_list]
        html = response.content.decode()
        assert f"Bets {page.start_index()} to {page.end_index()} of 120" in html
    assert seen == [r["game"] for r in rows]  # the page's rows, in the CSV's order
    first = rows[0]
    bet = sim_bet(0)
    assert first["line"] == "PK" and first["price_american"] == format_odds(bet["price"], "american") == "-200"
    assert first["stake"] == "1000.50" and first["profit"] == "-1000.50"
    html = client.get(f"/backtests/{backtest.pk}").content.decode()
    assert f'href="/backtests/{backtest.pk}/bets.csv"' in html
    assert "1,000.50" in html and "-200" in html and "PK" in html  # grouped money, American odds, a pick'em
    assert client.get(f"/backtests/{backtest.pk}?page=99").context["sim_page"].number == 3  # past the end: the last
