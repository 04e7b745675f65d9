"""The Odds API v4 odds responses, parsed with no database: real recorded payloads, real quirks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from betting.games.providers import odds_api
from betting.games.providers.records import ParseError, american_to_decimal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NBA_ODDS = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB_ODDS = FIXTURES / "mlb_odds_2024-05-24_us_eu_h2h_american.json"
CHA_MIA = "837bd47f179cf27d9fceb17c23a32580"  # events[0]: Miami Heat @ Charlotte Hornets
DAL_PHX = "96d0c38f9eae8242f2e363bdedd90c53"  # events[17]: Dallas Mavericks @ Phoenix Suns, 3 bookmakers
UTC = dt.UTC


def nba() -> list[Any]:
    return json.loads(NBA_ODDS.read_text())


def mlb() -> list[Any]:
    return json.loads(MLB_ODDS.read_text())


def by_key(report):
    """(event id, bookmaker, market, outcome) -> record; asserts the natural key is unique."""
    keyed = {(r.event_external_id, r.bookmaker_key, r.market, r.outcome): r for r in report.records}
    assert len(keyed) == len(report.records)
    return keyed


def bookmaker(event: dict[str, Any], key: str) -> dict[str, Any]:
    return next(b for b in event["bookmakers"] if b["key"] == key)


def market(event: dict[str, Any], book: str, key: str) -> dict[str, Any]:
    return next(m for m in bookmaker(event, book)["markets"] if m["key"] == key)


# The real samples ------------------------------------------------------------------------------------------


def test_nba_sample_gives_both_sides_of_every_market_of_18_events_and_15_bookmakers():
    report = odds_api.parse(NBA_ODDS.read_bytes())
    # 13 events quoted by 15 bookmakers and 5 (Christmas games) by 3; h2h and spreads; two sides each.
    assert len(report.records) == (13 * 15 + 5 * 3) * 2 * 2 == 840
    assert report.skipped == {}
    assert len({r.event_external_id for r in report.records}) == 18
    assert len({r.bookmaker_key for r in report.records}) == 15
    assert Counter((r.market, r.outcome) for r in report.records) == {
        ("h2h", "home"): 210,
        ("h2h", "away"): 210,
        ("spreads", "home"): 210,
        ("spreads", "away"): 210,
    }
    assert {r.sport_key for r in report.records} == {"basketball_nba"}
    assert {r.source for r in report.records} == {"odds_api"}


def test_nba_prices_and_points_are_the_ones_in_the_json():
    quotes = by_key(odds_api.parse(NBA_ODDS.read_bytes()))
    # events[0], draftkings: h2h Charlotte Hornets 2.4 / Miami Heat 1.6; spreads CHA +4.0 @ 1.89, MIA -4.0 @ 1.93
    home_ml = quotes[(CHA_MIA, "draftkings", "h2h", "home")]
    assert (home_ml.home, home_ml.away) == ("Charlotte Hornets", "Miami Heat")
    assert (home_ml.price, home_ml.point) == (Decimal("2.4000"), None)
    assert quotes[(CHA_MIA, "draftkings", "h2h", "away")].price == Decimal("1.6000")
    home_spread = quotes[(CHA_MIA, "draftkings", "spreads", "home")]
    assert (home_spread.price, home_spread.point) == (Decimal("1.8900"), Decimal("4.0"))
    away_spread = quotes[(CHA_MIA, "draftkings", "spreads", "away")]
    assert (away_spread.price, away_spread.point) == (Decimal("1.9300"), Decimal("-4.0"))
    assert home_ml.bookmaker_title == "DraftKings"
    assert home_ml.start_time == dt.datetime(2023, 12, 12, 0, 10, tzinfo=UTC)
    assert home_ml.captured_at == dt.datetime(2023, 12, 11, 16, 57, 44, tzinfo=UTC)
    # events[17], betrivers: Dallas Mavericks 2.6 @ Phoenix Suns 1.5; spreads DAL +5.0 / PHX -5.0, both 1.91
    assert quotes[(DAL_PHX, "betrivers", "h2h", "away")].price == Decimal("2.6000")
    assert quotes[(DAL_PHX, "betrivers", "h2h", "home")].price == Decimal("1.5000")
    phx = quotes[(DAL_PHX, "betrivers", "spreads", "home")]
    assert (phx.home, phx.price, phx.point) == ("Phoenix Suns", Decimal("1.9100"), Decimal("-5.0"))
    assert quotes[(DAL_PHX, "betrivers", "spreads", "away")].point == Decimal("5.0")
    assert phx.captured_at == dt.datetime(2023, 12, 11, 16, 57, 38, tzinfo=UTC)


def test_every_nba_record_agrees_with_its_outcome_in_the_json():
    quotes = by_key(odds_api.parse(NBA_ODDS.read_bytes()))
    checked = 0
    for event in nba():
        side = {event["home_team"]: "home", event["away_team"]: "away"}
        for book in event["bookmakers"]:
            for mkt in book["markets"]:
                for outcome in mkt["outcomes"]:
                    record = quotes[(event["id"], book["key"], mkt["key"], side[outcome["name"]])]
                    assert record.price == Decimal(str(outcome["price"]))
                    assert record.point == (Decimal(str(outcome["point"])) if mkt["key"] == "spreads" else None)
                    checked += 1
    assert checked == 840


def test_mlb_american_odds_become_decimal_odds():
    report = odds_api.parse(MLB_ODDS.read_text(), odds_format="american")
    assert report.skipped == {}
    # 8 events quoted by 13 bookmakers, 1 by 10; h2h only
    assert len(report.records) == (8 * 13 + 10) * 2 == 228
    assert len({r.event_external_id for r in report.records}) == 9
    assert len({r.bookmaker_key for r in report.records}) == 13
    quotes = by_key(report)
    # events[0], fanduel: Atlanta Braves -164 (away), Pittsburgh Pirates +138 (home)
    braves = quotes[("8c2b639e6aa80a53f165c03dab273d8c", "fanduel", "h2h", "away")]
    assert (braves.away, braves.price) == ("Atlanta Braves", Decimal("1.6098"))  # 1 + 100/164
    assert quotes[("8c2b639e6aa80a53f165c03dab273d8c", "fanduel", "h2h", "home")].price == Decimal("2.3800")
    # events[3], betonlineag: both sides favourites, Kansas City Royals -109 and Tampa Bay Rays -101
    assert quotes[("7de32dccaaa763ef3ae2ef771f6f6112", "betonlineag", "h2h", "away")].price == Decimal("1.9174")
    assert quotes[("7de32dccaaa763ef3ae2ef771f6f6112", "betonlineag", "h2h", "home")].price == Decimal("1.9901")
    for event in mlb():
        side = {event["home_team"]: "home", event["away_team"]: "away"}
        for book in event["bookmakers"]:
            for outcome in book["markets"][0]["outcomes"]:
                record = quotes[(event["id"], book["key"], "h2h", side[outcome["name"]])]
                assert record.price == american_to_decimal(outcome["price"]) > 1


def test_bytes_text_and_decoded_payloads_parse_alike():
    as_list = odds_api.parse(nba())
    assert odds_api.parse(NBA_ODDS.read_bytes()).records == as_list.records
    assert odds_api.parse(NBA_ODDS.read_text()).records == as_list.records


def test_reading_the_same_response_twice_gives_the_same_records():
    assert odds_api.parse(nba()).records == odds_api.parse(nba()).records


# Sides and markets ------------------------------------------------------------------------------------------


def test_totals_and_three_way_moneylines_map_to_over_under_and_draw():
    payload = nba()
    book = bookmaker(payload[0], "draftkings")
    book["markets"][0]["outcomes"].append({"name": "Draw", "price": 21.0})
    book["markets"].append(
        {
            "key": "totals",
            "last_update": "2023-12-11T16:58:00Z",
            "outcomes": [
                {"name": "Over", "price": 1.91, "point": 214.5},
                {"name": "Under", "price": 1.91, "point": 214.5},
            ],
        }
    )
    quotes = by_key(odds_api.parse(payload))
    assert quotes[(CHA_MIA, "draftkings", "h2h", "draw")].price == Decimal("21.0000")
    over = quotes[(CHA_MIA, "draftkings", "totals", "over")]
    assert (over.price, over.point) == (Decimal("1.9100"), Decimal("214.5"))
    assert over.captured_at == dt.datetime(2023, 12, 11, 16, 58, tzinfo=UTC)  # the market's own last_update
    assert quotes[(CHA_MIA, "draftkings", "totals", "under")].point == Decimal("214.5")


def test_unknown_markets_are_skipped_and_counted():
    payload = nba()
    event = payload[0]
    for key in ("draftkings", "fanduel", "betmgm"):
        lay = copy.deepcopy(market(event, key, "h2h"))
        lay["key"] = "h2h_lay"
        bookmaker(event, key)["markets"].append(lay)
    bookmaker(event, "bovada")["markets"].append({"key": "outrights", "outcomes": "not even a list"})
    report = odds_api.parse(payload)
    assert report.skipped == {"unknown market h2h_lay": 3, "unknown market outrights": 1}
    assert len(report.records) == 840
    assert f"events[0] (id {CHA_MIA}), bookmaker draftkings, market h2h_lay: unknown market h2h_lay" in report.notes


def mutate_outcome(change):
    """The NBA sample with events[0] draftkings' h2h outcomes changed by ``change``; parsed."""
    payload = nba()
    change(market(payload[0], "draftkings", "h2h")["outcomes"], market(payload[0], "draftkings", "spreads")["outcomes"])
    return odds_api.parse(payload)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h2h, _: h2h[0].pop("price"), "h2h market dropped: outcome without a usable price"),
        (lambda h2h, _: h2h[0].update(price="2.4"), "h2h market dropped: outcome without a usable price"),
        (lambda h2h, _: h2h[0].update(price=None), "h2h market dropped: outcome without a usable price"),
        (lambda h2h, _: h2h[0].update(price=1.0), "h2h market dropped: decimal price not above 1"),
        (lambda h2h, _: h2h[0].update(price=0.5), "h2h market dropped: decimal price not above 1"),
        (lambda h2h, _: h2h[0].update(name="Foo"), "h2h market dropped: outcome names neither team"),
        (lambda h2h, _: h2h[0].update(name=None), "h2h market dropped: outcome names neither team"),
        (lambda h2h, _: h2h.append(dict(h2h[0])), "h2h market dropped: two outcomes for one side"),
        (lambda h2h, _: h2h.pop(), "h2h market dropped: a side is missing"),
        (lambda h2h, _: h2h.clear(), "h2h market dropped: a side is missing"),
    ],
)
def test_a_bad_outcome_drops_its_whole_market_and_is_counted(change, reason):
    report = mutate_outcome(change)
    assert report.skipped == {reason: 1}
    assert len(report.records) == 838
    kept = {
        (r.market, r.outcome)
        for r in report.records
        if (r.event_external_id, r.bookmaker_key) == (CHA_MIA, "draftkings")
    }
    assert kept == {("spreads", "home"), ("spreads", "away")}  # the bookmaker's other market stays whole


def test_a_spread_without_its_point_drops_the_spread_market():
    report = mutate_outcome(lambda _, spreads: spreads[1].pop("point"))
    assert report.skipped == {"spreads market dropped: outcome without a usable point": 1}
    assert len(report.records) == 838


def test_a_skipped_outcome_says_where_it_was():
    report = mutate_outcome(lambda h2h, _: h2h[0].update(name="Foo"))
    assert report.notes == [
        f"events[0] (id {CHA_MIA}), bookmaker draftkings, market h2h: outcome 'Foo': "
        "h2h market dropped: outcome names neither team"
    ]


def test_captured_at_falls_back_to_the_bookmakers_last_update():
    payload = nba()
    book = bookmaker(payload[0], "fanduel")
    book["last_update"] = "2023-12-11T17:00:00Z"
    del book["markets"][0]["last_update"]
    quotes = by_key(odds_api.parse(payload))
    assert quotes[(CHA_MIA, "fanduel", "h2h", "home")].captured_at == dt.datetime(2023, 12, 11, 17, 0, tzinfo=UTC)
    # the spreads market still has its own time: 2023-12-11T16:57:19Z
    assert quotes[(CHA_MIA, "fanduel", "spreads", "home")].captured_at == dt.datetime(
        2023, 12, 11, 16, 57, 19, tzinfo=UTC
    )


def test_a_market_with_no_time_at_all_is_skipped_and_counted():
    payload = nba()
    book = bookmaker(payload[0], "fanduel")
    del book["last_update"]
    del book["markets"][0]["last_update"]
    report = odds_api.parse(payload)
    assert report.skipped == {"h2h market dropped: no last_update": 1}
    assert len(report.records) == 838


def test_duplicate_events_bookmakers_and_markets_keep_the_first_and_are_counted():
    payload = nba()
    payload.append(copy.deepcopy(payload[0]))
    payload[1]["bookmakers"].append(copy.deepcopy(payload[1]["bookmakers"][0]))
    payload[2]["bookmakers"][0]["markets"].append(copy.deepcopy(payload[2]["bookmakers"][0]["markets"][0]))
    report = odds_api.parse(payload)
    assert report.skipped == {
        "duplicate event id": 1,
        "bookmaker listed twice for one event": 1,
        "h2h market listed twice for one bookmaker": 1,
    }
    assert len(report.records) == 840


def test_a_decimal_response_read_as_american_keeps_nothing_and_says_why():
    report = odds_api.parse(nba(), odds_format="american")
    assert report.records == []
    assert report.skipped == {
        "h2h market dropped: American price between -100 and +100, or not whole": 210,
        "spreads market dropped: American price between -100 and +100, or not whole": 210,
    }


def test_an_american_response_read_as_decimal_is_refused():
    with pytest.raises(ParseError, match=r"events\[0\] .*bookmaker fanduel, market h2h.*odds_format='american'"):
        odds_api.parse(mlb())


def test_an_unknown_odds_format_is_a_programming_error():
    with pytest.raises(ValueError, match="odds_format"):
        odds_api.parse(nba(), odds_format="fractional")


# Malformed payloads -----------------------------------------------------------------------------------------


def broken(change):
    payload = nba()
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "The Odds API response is not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ({"message": "API key is not valid"}, "expected a list of events, got an object .*API key is not valid"),
        ([42], r"events\[0\]: an event should be an object, got the number 42"),
        (broken(lambda p: p[2].pop("id")), r"events\[2\]: event without an id \(got null\)"),
        (broken(lambda p: p[0].pop("home_team")), rf"events\[0\] \(id {CHA_MIA}\): home_team should be a non-empty"),
        (broken(lambda p: p[0].update(away_team="Charlotte Hornets")), "home_team and away_team are the same team"),
        (broken(lambda p: p[0].update(commence_time="tonight")), "commence_time is not an ISO 8601 timestamp"),
        (broken(lambda p: p[0].update(commence_time="2023-12-12T00:10:00")), "commence_time has no time zone"),
        (broken(lambda p: p[0].pop("commence_time")), "commence_time should be an ISO 8601 timestamp, got null"),
        (broken(lambda p: p[0].update(bookmakers={})), "bookmakers should be a list, got an object"),
        (broken(lambda p: p[0]["bookmakers"][1].pop("key")), r"bookmakers\[1\]: bookmaker without a key"),
        (broken(lambda p: p[0]["bookmakers"][1].pop("markets")), "bookmaker fanduel: markets should be a list"),
        (broken(lambda p: p[0]["bookmakers"][0]["markets"][1].pop("key")), r"markets\[1\]: market without a key"),
        (
            broken(lambda p: p[0]["bookmakers"][0]["markets"][1].update(outcomes=None)),
            "bookmaker draftkings, market spreads: outcomes should be a list, got null",
        ),
        (
            broken(lambda p: p[0]["bookmakers"][0]["markets"][0]["outcomes"].append("Draw 21.0")),
            r"market h2h, outcomes\[2\]: an outcome should be an object",
        ),
        (
            broken(lambda p: p[3]["bookmakers"][0]["markets"][0].update(last_update="yesterday")),
            r"events\[3\] \(id e5a5dd8ed5b44067e063cfbb2d230b7d\), bookmaker draftkings, market h2h: last_update",
        ),
    ],
)
def test_malformed_payloads_raise_parse_error_saying_where(payload, message):
    with pytest.raises(ParseError, match=message):
        odds_api.parse(payload)


# Quota headers ----------------------------------------------------------------------------------------------


def test_quota_reads_the_request_headers_whatever_their_case():
    headers = {"X-Requests-Remaining": "487", "x-requests-used": "13", "X-REQUESTS-LAST": "2", "Content-Type": "json"}
    assert odds_api.quota(headers) == {"remaining": 487, "used": 13, "last": 2}


def test_quota_is_none_where_a_header_is_missing_or_unreadable():
    assert odds_api.quota({}) == {"remaining": None, "used": None, "last": None}
    assert odds_api.quota({"x-requests-remaining": "lots", "x-requests-used": "12.0", "x-requests-last": "NaN"}) == {
        "remaining": None,
        "used": 12,
        "last": None,
    }


# Whatever a broken response looks like, the parser answers with a report or a ParseError --------------------

# Values a field might wrongly hold: other JSON types, near-miss texts and numbers.
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        ["", "2023-12-12T00:10:00Z", "2023-12-12T00:10:00", "2023-13-45", "Over", "Draw", "h2h_lay", "-110", "home"]
    ),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["key", "name", "price", "id"]), st.integers(), max_size=2),
)


def paths(node, prefix=()):
    """Every place in a JSON document: a tuple of keys and indexes from the root."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def has(node, key) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


def container_at(document, path):
    """The object or list at ``path``, or None when an earlier change took it away."""
    node = document
    for key in path:
        if not has(node, key):
            return None
        node = node[key]
    return node if isinstance(node, dict | list) else None


@st.composite
def mutated(draw, original):
    """A deep copy of ``original`` with a few keys deleted or values replaced by wrong ones."""
    document = copy.deepcopy(original)
    places = paths(original)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(places))
        parent = container_at(document, path[:-1])
        if parent is None or not has(parent, path[-1]):
            continue  # the place is gone after an earlier change
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(WRONG_VALUES)
    return document


def answers_or_refuses(parse, payload):
    """The parser returns a report or raises ParseError, never anything else."""
    try:
        report = parse(payload)
    except ParseError as exc:
        assert str(exc)
        return
    assert isinstance(report.records, list) and all(isinstance(n, int) for n in report.skipped.values())


FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)
# Two real events: one quoted by 15 bookmakers, one by 3.
NBA_SLICE = [nba()[0], nba()[17]]


@FUZZ
@given(mutated(NBA_SLICE))
def test_a_mutated_decimal_response_gives_a_report_or_a_parse_error(payload):
    answers_or_refuses(odds_api.parse, payload)


@FUZZ
@given(mutated(mlb()[:2]))
def test_a_mutated_american_response_gives_a_report_or_a_parse_error(payload):
    answers_or_refuses(lambda p: odds_api.parse(p, odds_format="american"), payload)
