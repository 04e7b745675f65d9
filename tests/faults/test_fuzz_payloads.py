"""Malformed and mutated provider payloads through the real pulls (parse + ingest + JobRun).

The corpus is derived from the real recorded samples (The Odds API, ESPN scoreboards and injuries,
the CBS-layout injury page) by a seeded, deterministic mutator: dropped keys, wrong types, truncated
JSON, swapped teams, NaN / negative / zero / huge prices, huge scores, broken dates, unicode junk,
duplicated elements, flipped bytes, removed HTML elements and attributes. Every payload must end in
one of two ways:

- success: the rows the pull reports having created are exactly the rows that appeared;
- a documented failure (``ParseError``, its ``PageChanged``, ``IngestFailed``): no game, quote or
  injury row changed (all or nothing), and a failed ``JobRun`` with the reason is on record.

Anything else (a crash with another exception, a partial write, an unrecorded failure) fails the
test with the case named, so it can be replayed with ``case_payload(name)``. A hypothesis property
test feeds arbitrary JSON straight to the pure parsers as well.

Runs on the embedded defaults (SQLite) and on the real stack (PostgreSQL), under 30 s.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from betting.games.ingest.common import IngestFailed
from betting.games.models import Bookmaker, Game, Injury, OddsQuote
from betting.games.providers import espn, injuries_cbs, odds_api
from betting.games.providers.records import ParseError
from betting.games.pulls import injuries_pull, odds_pull, scores_pull
from core.models import JobRun

pytestmark = [pytest.mark.faults]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOCUMENTED = (ParseError, IngestFailed)
SEED = 20260501
CASES_PER_SEED = {
    "odds_nba": 120,
    "odds_mlb": 70,
    "scores_mlb": 60,
    "scores_nba_live": 45,
    "scores_nba_pre": 45,
    "injuries_json": 85,
    "injuries_html": 110,
}

JUNK_STRINGS = [
    "",
    " ",
    "\x00",
    "\u202eevil",
    "💥" * 40,
    "é" * 2000,
    "Ｂｏｓｔｏｎ Ｃｅｌｔｉｃｓ",
    "<script>alert(1)</script>",
    "Boston Celtics\u200b",
    "'; DROP TABLE games_game; --",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "NaN",
    "null",
]
WRONG_VALUES: list[Any] = [None, 0, -1, 1.5, "", "x", [], {}, True, [1, 2], {"a": 1}]
BAD_PRICES: list[Any] = [math.nan, math.inf, -math.inf, -2.5, 0, 1, 1.0, 1.00001, 1e12, 1e308, -110, 99, "2.10", None]
BAD_NUMBERS: list[Any] = [10**20, -5, 2**63, 1e308, math.nan, "12", 32768, 65536]
BAD_DATES = ["", "yesterday", "2023-13-45T99:99:99Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2023-12-11"]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # odds | scores | injuries
    league: str
    suffix: str  # .json | .html
    payload: bytes
    odds_format: str = "decimal"
    day: dt.date | None = None


# --- Seeds: the real samples, trimmed so 500+ pulls fit the time budget -----------------------


def _odds_seed(name: str, events: int = 3, books: int = 4) -> list[Any]:
    data = json.loads((FIXTURES / name).read_text())[:events]
    for event in data:
        event["bookmakers"] = event["bookmakers"][:books]
    return data


def _seeds() -> list[tuple[str, str, str, str, Any, str, dt.date | None]]:
    """(seed name, kind, league, suffix, parsed payload or html text, odds format, day)."""
    injuries = json.loads((FIXTURES / "espn_api_derived_injuries_2026-01-20.json").read_text())[:30]
    mlb = json.loads((FIXTURES / "mlb_scoreboard_2025.json").read_text())
    mlb["events"] = mlb["events"][:2]  # 800 kB for 14 games: two keep every shape, at a fraction of the time
    return [
        ("odds_nba", "odds", "NBA", ".json", _odds_seed("nba_odds_2023-12-11_us_h2h_spreads_decimal.json"),
         "decimal", None),
        ("odds_mlb", "odds", "MLB", ".json", _odds_seed("mlb_odds_2024-05-24_us_eu_h2h_american.json"),
         "american", None),
        ("scores_mlb", "scores", "MLB", ".json", mlb, "", dt.date(2025, 9, 2)),
        ("scores_nba_live", "scores", "NBA", ".json",
         json.loads((FIXTURES / "nba_scoreboard_2026-05-02_playoffs_live.json").read_text()), "", dt.date(2026, 5, 2)),
        ("scores_nba_pre", "scores", "NBA", ".json",
         json.loads((FIXTURES / "nba_scoreboard_2025-10-02_preseason.json").read_text()), "", dt.date(2025, 10, 2)),
        ("injuries_json", "injuries", "NBA", ".json", injuries, "", None),
        ("injuries_html", "injuries", "NBA", ".html", (FIXTURES / "cbs_injuries_nba_structure.html").read_text(),
         "", None),
    ]  # fmt: skip


# --- The mutator ---------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _paths(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _set(root: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return root


def _pick(rng: random.Random, root: Any, accept: Callable[[Path_, Any], bool]) -> Path_ | None:
    found = [p for p, v in _paths(root) if accept(p, v)]
    return rng.choice(found) if found else None


def _mutate_json(rng: random.Random, data: Any) -> tuple[str, Any]:
    """One structural mutation of a parsed JSON document (changed in place); returns (what, document)."""
    what = rng.choice(
        ["drop_key", "wrong_type", "swap_teams", "price", "junk_string", "number", "duplicate", "date", "empty_list"]
    )
    if what == "drop_key":
        path = _pick(rng, data, lambda p, v: isinstance(v, dict) and bool(v))
        if path is not None:
            node = data if not path else _get(data, path)
            del node[rng.choice(list(node))]
    elif what == "wrong_type":
        path = _pick(rng, data, lambda p, v: bool(p))
        if path is not None:
            data = _set(data, path, copy.deepcopy(rng.choice(WRONG_VALUES)))
    elif what == "swap_teams":
        path = _pick(rng, data, lambda p, v: isinstance(v, dict) and "home_team" in v and "away_team" in v)
        if path is not None:
            node = _get(data, path)
            node["home_team"], node["away_team"] = node["away_team"], node["home_team"]
        else:
            path = _pick(rng, data, lambda p, v: isinstance(v, dict) and v.get("homeAway") in ("home", "away"))
            if path is not None:
                node = _get(data, path)
                node["homeAway"] = "away" if node["homeAway"] == "home" else "home"
    elif what == "price":
        path = _pick(rng, data, lambda p, v: bool(p) and p[-1] in ("price", "point", "score"))
        if path is not None:
            data = _set(data, path, rng.choice(BAD_PRICES))
    elif what == "junk_string":
        path = _pick(rng, data, lambda p, v: bool(p) and isinstance(v, str))
        if path is not None:
            data = _set(data, path, rng.choice(JUNK_STRINGS))
    elif what == "number":
        path = _pick(rng, data, lambda p, v: bool(p) and isinstance(v, (int, float)) and not isinstance(v, bool))
        if path is not None:
            data = _set(data, path, rng.choice(BAD_NUMBERS))
    elif what == "duplicate":
        path = _pick(rng, data, lambda p, v: isinstance(v, list) and bool(v))
        if path is not None:
            node = data if not path else _get(data, path)
            node.insert(rng.randrange(len(node) + 1), copy.deepcopy(rng.choice(node)))
    elif what == "date":
        path = _pick(rng, data, lambda p, v: isinstance(v, str) and len(v) >= 10 and v[:4].isdigit() and v[4] == "-")
        if path is not None:
            data = _set(data, path, rng.choice(BAD_DATES))
    elif what == "empty_list":
        path = _pick(rng, data, lambda p, v: isinstance(v, list) and bool(v))
        if path is not None:
            data = _set(data, path, [])
    return what, data


def _get(root: Any, path: Path_) -> Any:
    for step in path:
        root = root[step]
    return root


def _bytes_mutation(rng: random.Random, raw: bytes) -> tuple[str, bytes]:
    what = rng.choice(["truncate", "flip", "bad_utf8", "prefix_junk"])
    if what == "truncate":
        return what, raw[: rng.randrange(len(raw))]
    if what == "flip":
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return what, bytes(data)
    if what == "bad_utf8":
        at = rng.randrange(len(raw))
        return what, raw[:at] + b"\xff\xfe\xc3" + raw[at:]
    return what, rng.choice([b"\xef\xbb\xbf", b"<html>", b"null", b")]}',\n"]) + raw


def _mutate_html(rng: random.Random, soup: BeautifulSoup) -> str:
    """One mutation of the page (in place); returns what it was."""
    what = rng.choice(["remove_element", "remove_class", "change_text", "duplicate_row", "swap_blocks"])
    tags = soup.find_all(True)
    if what == "remove_element":
        tag = rng.choice([t for t in tags if t.name not in ("html", "body")] or tags)
        tag.decompose()
    elif what == "remove_class":
        with_class = [t for t in tags if t.get("class")]
        if with_class:
            tag = rng.choice(with_class)
            del tag["class"]
    elif what == "change_text":
        strings = [s for s in soup.find_all(string=True) if s.strip()]
        if strings:
            rng.choice(strings).replace_with(rng.choice([*JUNK_STRINGS, "Mon, Feb 30", "Out", "Tue, Nov 31"]))
    elif what == "duplicate_row":
        rows = soup.select("tbody tr")
        if rows:
            row = rng.choice(rows)
            row.insert_after(copy.copy(row))
    elif what == "swap_blocks":
        blocks = soup.select("div.TableBaseWrapper")
        if len(blocks) >= 2:
            a, b = rng.sample(blocks, 2)
            a_copy, b_copy = copy.copy(a), copy.copy(b)
            a.replace_with(b_copy)
            b.replace_with(a_copy)
    return what


@functools.cache
def corpus() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []
    for seed, kind, league, suffix, payload, fmt, day in _seeds():
        page = BeautifulSoup(payload, "html.parser") if suffix == ".html" else None
        for number in range(CASES_PER_SEED[seed]):
            steps: list[str] = []
            if suffix == ".html":
                assert page is not None
                soup = copy.copy(page)  # a copy of the parsed page is 4x faster than parsing again
                for _ in range(rng.randint(1, 3)):
                    steps.append(_mutate_html(rng, soup))
                raw = str(soup).encode()
            else:
                data = copy.deepcopy(payload)
                for _ in range(rng.randint(1, 3)):
                    what, data = _mutate_json(rng, data)
                    steps.append(what)
                raw = json.dumps(data, allow_nan=True).encode()
            if rng.random() < 0.2:
                what, raw = _bytes_mutation(rng, raw)
                steps.append(what)
            name = f"{seed}-{number:03d}-{'+'.join(steps)}"
            cases.append(Case(name, kind, league, suffix, raw, fmt or "decimal", day))
    return cases


def case_payload(name: str) -> bytes:
    """The payload of one named case, to replay it by hand."""
    return next(c.payload for c in corpus() if c.name == name)


# --- The tests -----------------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    return {
        "games": Game.objects.count(),
        "quotes": OddsQuote.objects.count(),
        "injuries": Injury.objects.count(),
        "bookmakers": Bookmaker.objects.count(),
    }


def _pull(case: Case, path: Path) -> dict[str, Any]:
    if case.kind == "odds":
        return odds_pull(league_code=case.league, from_file=path, odds_format=case.odds_format).counts
    if case.kind == "scores":
        return scores_pull(league_code=case.league, day=case.day, from_file=path).counts
    return injuries_pull(league_code=case.league, from_file=path).counts


def _created(case: Case, counts: dict[str, Any]) -> dict[str, int]:
    """What the pull says it created, in the terms of ``_counts``."""
    if case.kind == "odds":
        return {"games": counts["games_created"], "quotes": counts["quotes_created"]}
    if case.kind == "scores":
        return {"games": counts["created"]}
    return {"injuries": counts["created"]}


def test_the_corpus_is_large_and_varied():
    cases = corpus()
    assert len(cases) >= 500
    assert len({c.payload for c in cases}) >= 450  # mutations that change nothing are rare
    assert {c.kind for c in cases} == {"odds", "scores", "injuries"}


@pytest.mark.slow
def test_every_mutated_payload_is_written_whole_or_refused_and_recorded(reference, tmp_path, record_property):
    cases = corpus()
    problems: list[str] = []
    outcomes = {"written": 0, "refused": 0}
    for number, case in enumerate(cases):
        path = tmp_path / f"{number}{case.suffix}"
        path.write_bytes(case.payload)
        before, runs_before = _counts(), JobRun.objects.count()
        try:
            counts = _pull(case, path)
        except DOCUMENTED as exc:
            outcomes["refused"] += 1
            after = _counts()
            if after != before:
                problems.append(f"{case.name}: refused ({exc!r:.100}) but rows changed: {before} -> {after}")
            run = JobRun.objects.order_by("-pk").first()
            if JobRun.objects.count() != runs_before + 1 or run is None or run.status != JobRun.Status.FAILED:
                problems.append(f"{case.name}: refused but no failed JobRun recorded")
            elif not run.error:
                problems.append(f"{case.name}: failed JobRun without the reason")
        except Exception as exc:
            problems.append(f"{case.name}: crashed with {type(exc).__name__}: {str(exc)[:200]}")
        else:
            outcomes["written"] += 1
            after = _counts()
            for table, created in _created(case, counts).items():
                if after[table] - before[table] != created:
                    problems.append(
                        f"{case.name}: reported {created} {table} created, {after[table] - before[table]} appeared"
                    )
            if JobRun.objects.order_by("-pk").values_list("status", flat=True).first() != JobRun.Status.SUCCESS:
                problems.append(f"{case.name}: written but its JobRun does not say success")
    written, refused = outcomes["written"], outcomes["refused"]
    record_property("figure", f"{len(cases)} mutated payloads: {written} written whole, {refused} refused and recorded")
    assert problems == [], "\n".join(problems[:40])
    # Both outcomes occur: the corpus is neither all-garbage nor all-harmless.
    assert outcomes["written"] >= 50 and outcomes["refused"] >= 100


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=40,
)
ODDS_KEYS = ["id", "sport_key", "commence_time", "home_team", "away_team", "bookmakers", "key", "title", "markets",
             "outcomes", "name", "price", "point", "last_update"]  # fmt: skip
odds_like = st.lists(
    st.dictionaries(st.sampled_from(ODDS_KEYS), json_values, max_size=len(ODDS_KEYS)), max_size=4
) | st.lists(json_values, max_size=3)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=odds_like | json_values)
def test_parsers_accept_or_refuse_any_json_with_a_parse_error(payload):
    raw = json.dumps(payload, allow_nan=True).encode()
    fetched = dt.datetime(2025, 11, 24, 15, tzinfo=dt.UTC)
    for parse in (
        lambda: odds_api.parse(raw, odds_format="decimal"),
        lambda: odds_api.parse(raw, odds_format="american"),
        lambda: espn.parse_scoreboard(raw, sport_key="basketball_nba"),
        lambda: espn.parse_injuries(raw),
        lambda: injuries_cbs.parse(raw, fetched_at=fetched),
    ):
        with contextlib.suppress(ParseError):
            parse()
