"""The scanner's math on plain quotes: +EV against the sharp consensus, arbitrage with stakes and
exchange commission, middles, steam. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from betting.bets import scanner
from betting.bets.pricing import devig
from betting.bets.scanner import Matchup, Quote, ScanConfig

T0 = dt.datetime(2024, 1, 5, 17, 0, tzinfo=dt.UTC)
GAMES = {1: Matchup("Home Team", "Away Team")}
CONFIG = ScanConfig(min_ev=0.0, max_hold=0.10, exchange_commission=0.0, margin_bounds=(-0.05, 0.25))


def q(book: str, market: str, side: str, price: float, point: float | None = None, minutes: float = 0) -> Quote:
    return Quote(1, book, market, side, price, point, T0 + dt.timedelta(minutes=minutes))


def h2h(book: str, home: float, away: float, minutes: float = 0) -> list[Quote]:
    return [q(book, "h2h", "home", home, minutes=minutes), q(book, "h2h", "away", away, minutes=minutes)]


def spread(book: str, home_point: float, home: float, away: float) -> list[Quote]:
    return [q(book, "spreads", "home", home, home_point), q(book, "spreads", "away", away, -home_point)]


def total(book: str, point: float, over: float, under: float) -> list[Quote]:
    return [q(book, "totals", "over", over, point), q(book, "totals", "under", under, point)]


def run(latest: list[Quote], config: ScanConfig = CONFIG, history: list[Quote] | None = None) -> scanner.ScanResult:
    return scanner.scan(latest=latest, history=history or [], games=GAMES, config=config)


def test_fair_probability_comes_from_the_sharp_books_when_present():
    latest = [*h2h("pinnacle", 1.80, 2.10), *h2h("lowvig", 1.82, 2.08), *h2h("softbook", 1.70, 2.35)]
    found = run(latest).positive_ev
    fair_away = (devig([2.10, 1.80])[0] + devig([2.08, 1.82])[0]) / 2
    (item,) = [e for e in found if e.book == "softbook"]
    assert item.side == "away" and item.price == 2.35
    assert item.fair_prob == pytest.approx(fair_away)
    assert item.ev == pytest.approx(fair_away * 2.35 - 1)
    assert item.hold == pytest.approx(1 / 1.70 + 1 / 2.35 - 1)


def test_without_a_sharp_book_the_consensus_of_every_book_is_used():
    latest = [*h2h("bookA", 1.80, 2.10), *h2h("bookB", 1.70, 2.35)]
    found = [e for e in run(latest).positive_ev if e.side == "away"]
    fair_away = (devig([2.10, 1.80])[0] + devig([2.35, 1.70])[0]) / 2
    (item,) = found
    assert (item.book, item.side) == ("bookB", "away") and item.fair_prob == pytest.approx(fair_away)


def test_min_ev_and_max_hold_filter_the_prices():
    latest = [*h2h("pinnacle", 1.90, 1.95), *h2h("greedy", 1.60, 2.20), *h2h("soft", 1.85, 2.10)]
    assert {e.book for e in run(latest).positive_ev} == {"greedy", "soft"}  # greedy holds 8.0%, soft 1.7%
    found = run(latest, ScanConfig(min_ev=0.0, max_hold=0.05, exchange_commission=0.0)).positive_ev
    assert {e.book for e in found} == {"soft"}
    assert run(latest, ScanConfig(min_ev=0.5, exchange_commission=0.0)).positive_ev == []


def test_an_arbitrage_is_found_with_stakes_that_return_the_same_either_way():
    latest = [*h2h("bookA", 2.10, 1.80), *h2h("bookB", 1.85, 2.05)]
    (arb,) = run(latest).arbitrage
    assert [(leg.side, leg.book, leg.price) for leg in arb.legs] == [("home", "bookA", 2.10), ("away", "bookB", 2.05)]
    assert arb.margin == pytest.approx(1 - (1 / 2.10 + 1 / 2.05))
    assert sum(leg.stake for leg in arb.legs) == pytest.approx(100, abs=0.011)
    returns = [leg.stake * leg.price for leg in arb.legs]
    assert returns[0] == pytest.approx(returns[1], abs=0.05) and min(returns) > 100


def test_exchange_commission_can_remove_an_arbitrage():
    latest = [*h2h("betfair_ex_uk", 2.10, 1.80), *h2h("bookB", 1.85, 1.92)]
    assert len(run(latest).arbitrage) == 1
    charged = ScanConfig(min_ev=0.0, exchange_commission=0.05, margin_bounds=(-0.05, 0.25))
    assert charged.net_price("betfair_ex_uk", 2.10) == pytest.approx(2.045)
    assert charged.net_price("bookB", 2.10) == 2.10
    assert run(latest, charged).arbitrage == []


def test_spread_arbitrage_needs_opposite_points_of_the_same_size():
    latest = [*spread("bookA", -4.5, 2.10, 1.80), *spread("bookB", -4.5, 1.85, 2.05), *spread("bookC", -5.5, 1.5, 2.6)]
    (arb,) = run(latest).arbitrage
    assert arb.point == -4.5 and {leg.book for leg in arb.legs} == {"bookA", "bookB"}


def test_a_corrupt_pair_prices_nothing():
    latest = [*h2h("bookA", 1.90, 1.90), *h2h("broken", 1.04, 1.04), *h2h("onesided", 5.0, 1.9)[:1]]
    result = run(latest, ScanConfig(min_ev=-1.0, exchange_commission=0.0, margin_bounds=(-0.05, 0.25)))
    assert {e.book for e in result.positive_ev} <= {"bookA"} and result.arbitrage == []


def test_middles_need_a_whole_score_where_both_bets_win():
    assert scanner.middle_window("spreads", 5.5, -4.5) == 1.0  # home +5.5, away -4.5: home loses by 5
    assert scanner.middle_window("spreads", 5.0, -4.0) is None  # two pushes, no win-win score
    assert scanner.middle_window("spreads", 4.5, -4.0) is None
    assert scanner.middle_window("totals", 220.5, 222.5) == 2.0
    assert scanner.middle_window("totals", 221.0, 222.0) is None
    latest = [*spread("bookA", 5.5, 1.91, 1.91), *spread("bookB", 4.5, 1.91, 1.91), *total("bookA", 220.5, 1.9, 1.9)]
    latest += total("bookB", 222.5, 1.9, 1.9)
    found = {(m.market, tuple((leg.side, leg.point, leg.book) for leg in m.legs)) for m in run(latest).middles}
    assert found == {
        ("spreads", (("home", 5.5, "bookA"), ("away", -4.5, "bookB"))),
        ("totals", (("over", 220.5, "bookA"), ("under", 222.5, "bookB"))),
    }


def test_steam_needs_enough_books_moving_one_way_inside_the_window():
    opening = [q(book, "h2h", "home", 2.00, minutes=-60) for book in ("b1", "b2", "b3", "b4")]
    moved = [
        q("b2", "h2h", "home", 1.90, minutes=1),
        q("b1", "h2h", "home", 1.91, minutes=0),
        q("b3", "h2h", "home", 1.88, minutes=6),
        q("b4", "h2h", "home", 2.05, minutes=7),  # the other way
    ]
    config = ScanConfig(steam_min_books=3, steam_window=dt.timedelta(minutes=10))
    (move,) = scanner.steam(opening + moved, GAMES, config)
    assert (move.side, move.first_book, move.books) == ("home", "b1", ["b1", "b2", "b3"])
    assert move.first_at == T0 and move.last_at == T0 + dt.timedelta(minutes=6)
    narrow = ScanConfig(steam_min_books=3, steam_window=dt.timedelta(minutes=5))
    assert scanner.steam(opening + moved, GAMES, narrow) == []


def test_a_spread_moving_towards_a_side_is_steam_on_that_side():
    history = []
    for i, book in enumerate(("b1", "b2", "b3")):
        history += [
            q(book, "spreads", "home", 1.91, -3.0, minutes=-30),
            q(book, "spreads", "home", 1.91, -4.0, minutes=i),
        ]
    (move,) = scanner.steam(history, GAMES, ScanConfig(steam_min_books=3))
    assert move.side == "home" and move.market == "spreads"


def test_json_has_the_four_lists_with_the_issues_keys():
    latest = [*h2h("pinnacle", 1.80, 2.10), *h2h("bookA", 2.30, 1.70), *h2h("bookB", 1.75, 2.40)]
    data = run(latest).as_json()
    assert list(data) == ["positive_ev", "arbitrage", "middles", "steam"]
    assert set(data["positive_ev"][0]) == {
        "game_id", "home", "away", "market", "side", "point", "book", "price", "fair_prob", "ev", "hold",
    }  # fmt: skip
    assert set(data["arbitrage"][0]) == {"game_id", "home", "away", "market", "point", "legs", "margin"}
    assert set(data["arbitrage"][0]["legs"][0]) == {"side", "book", "price", "stake"}


def test_csv_has_one_row_per_item():
    latest = [*h2h("pinnacle", 1.80, 2.10), *h2h("bookA", 2.30, 1.70), *h2h("bookB", 1.75, 2.40)]
    result = run(latest)
    lines = scanner.to_csv(result).splitlines()
    assert lines[0].startswith("kind,game_id,home,away,market")
    assert len(lines) == 1 + len(result.positive_ev) + len(result.arbitrage) + len(result.middles) + len(result.steam)
