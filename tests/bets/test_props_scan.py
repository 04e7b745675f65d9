"""Player props through the scanner and onto the game page.

The props payload is built by hand from The Odds API's documented per-event shape (tests/fixtures/SOURCES.md)
to hold exactly one arbitrage (Bam Adebayo points 19.5) and one middle (Terry Rozier points 21.5/23.5), and a
second player on Bam's line whose prices would make a false arbitrage if two players were ever mixed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from betting.bets import scanner
from betting.bets.edges import edges_scan
from betting.games.models import Game

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROPS = FIXTURES / "nba_props_event_2023-12-11_documented_shape.json"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
AT = dt.datetime(2023, 12, 11, 19, 0, tzinfo=dt.UTC)  # after every props update, before the 00:10 starts


@pytest.fixture
def props(reference):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA), stdout=StringIO())
    call_command("fetch_props", "--league", "NBA", "--from-file", str(PROPS), stdout=StringIO())


def brute_force_prop_arbitrages() -> set[tuple[str, str, float]]:
    """(market, player, line) where the best over and best under across books imply less than 1,
    straight from the payload (every book's pair here is sane)."""
    best: dict[tuple[str, str, float], dict[str, float]] = {}
    for event in json.loads(PROPS.read_text()):
        for book in event["bookmakers"]:
            for market in book["markets"]:
                for o in market["outcomes"]:
                    sides = best.setdefault((market["key"], o["description"], o["point"]), {})
                    sides[o["name"]] = max(sides.get(o["name"], 0.0), o["price"])
    return {key for key, s in best.items() if 1 / s["Over"] + 1 / s["Under"] < 1}


@pytest.mark.django_db
def test_scan_finds_the_built_prop_arbitrage_and_invents_none(props):
    found = edges_scan(at=AT, league="NBA").result
    prop_arbs = [a for a in found.arbitrage if a.player]
    assert {(a.market, a.player, a.point) for a in prop_arbs} == brute_force_prop_arbitrages()
    assert [(a.market, a.player, a.point) for a in prop_arbs] == [("player_points", "Bam Adebayo", 19.5)]
    (arb,) = prop_arbs
    assert {(leg.side, leg.book, leg.price) for leg in arb.legs} == {
        ("over", "betmgm", 2.10),
        ("under", "fanduel", 2.0),
    }
    assert arb.margin == pytest.approx(1 - (1 / 2.10 + 1 / 2.0))
    assert not any(a.player == "Miles Bridges" for a in found.arbitrage)  # never paired with Bam's under


@pytest.mark.django_db
def test_scan_finds_the_built_prop_middle_and_only_it(props):
    found = edges_scan(at=AT, league="NBA").result
    prop_middles = [m for m in found.middles if m.player]
    assert len(prop_middles) == 1
    (middle,) = prop_middles
    assert (middle.market, middle.player, middle.width) == ("player_points", "Terry Rozier", 2.0)
    assert [(leg.side, leg.point) for leg in middle.legs] == [("over", 21.5), ("under", 23.5)]
    assert middle.legs[0].book in {"draftkings", "betmgm"} and middle.legs[1].book in {"fanduel", "williamhill_us"}


@pytest.mark.django_db
def test_props_do_not_change_what_the_game_markets_scan_finds(reference):
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA), stdout=StringIO())
    before = edges_scan(at=AT, league="NBA").result
    call_command("fetch_props", "--league", "NBA", "--from-file", str(PROPS), stdout=StringIO())
    after = edges_scan(at=AT, league="NBA").result
    for kind in scanner.KINDS:
        assert [i for i in getattr(after, kind) if not getattr(i, "player", "")] == getattr(before, kind)


@pytest.mark.django_db
def test_a_started_games_props_are_not_scanned(props):
    game = Game.objects.get(home_team__abbreviation="CHA", game_date="2023-12-11")
    Game.objects.filter(pk=game.pk).update(start_time=AT - dt.timedelta(minutes=1))
    found = edges_scan(at=AT, league="NBA").result
    items = [*found.positive_ev, *found.arbitrage, *found.middles]
    assert not any(i.game_id == game.pk for i in items)
    assert not any(a.player for a in found.arbitrage) and not any(m.player for m in found.middles)


@pytest.mark.django_db
def test_scan_json_lists_props_with_their_player(props):
    out = StringIO()
    call_command("scan", "--league", "NBA", "--at", AT.isoformat(), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert any(a["player"] == "Bam Adebayo" and a["market"] == "player_points" for a in data["arbitrage"])


@pytest.mark.django_db
def test_the_game_page_shows_a_players_line(props, admin_client):
    game = Game.objects.get(home_team__abbreviation="CHA", game_date="2023-12-11")
    page = admin_client.get(f"/games/{game.pk}").content.decode()
    assert "Player props" in page
    row = page[page.index('<td>Terry Rozier</td><td>Player points</td><td class="num">21.5') :].split("</tr>")[0]
    assert '<td class="num">-110</td><td>DraftKings</td>' in row and "BetMGM" in row  # 1.91 in American odds
    assert '<td>Bam Adebayo</td><td>Player points</td><td class="num">19.5' in page


def test_two_players_on_the_same_line_are_two_alerts_and_game_market_keys_did_not_change():
    from betting.bets import alerts, scanner

    def edge(player: str) -> scanner.PositiveEV:
        fields = {f.name for f in dataclasses.fields(scanner.PositiveEV)}
        values: dict[str, object] = {
            "game_id": 1, "home": "MIA", "away": "CHA", "market": "player_points", "side": "over", "point": 19.5,
            "book": "fanduel", "price": 2.1, "fair_prob": 0.5, "ev": 0.05, "hold": 0.04, "player": player,
        }  # fmt: skip
        return scanner.PositiveEV(**{k: v for k, v in values.items() if k in fields})  # type: ignore[arg-type]

    result = scanner.ScanResult(positive_ev=[edge("Bam Adebayo"), edge("Miles Bridges")])
    found = alerts.alert_candidates(result, min_ev=0.01, min_arb_margin=0.0, kinds=["positive_ev"])
    assert len({c.key for c in found}) == 2
    assert alerts._key("positive_ev", 1, "h2h", "home", None, "fanduel") == alerts._key(
        "positive_ev", 1, "h2h", "home", None, "fanduel", player=""
    )
