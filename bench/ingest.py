"""Odds ingestion against a raw COPY: quotes per second for a large pull through
``betting.games.ingest.odds.odds_ingest`` into PostgreSQL, and the same rows loaded with
``COPY ... FROM STDIN`` (psycopg2 ``copy_expert``) into a scratch table shaped like the quotes table
(same columns, indexes and constraints, foreign keys included). Run by ``python -m bench`` in a process whose
``DATABASE_URL`` is the scratch database; prints a JSON line last.

The pull is the real recorded Odds API response (18 NBA events, 15 books, h2h and spreads)
replicated across days: each copy's events get new ids and start (and quote) times shifted by a
whole number of days, so every copy is new games and new quotes, as a season of pulls would be.
"""

from __future__ import annotations

import copy
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
django.setup()

from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.games.ingest.odds import QUOTE_COLUMNS, odds_ingest
from betting.games.ingest.reference import reference_sync
from betting.games.models import OddsQuote
from betting.games.providers import odds_api

SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "data"
    / "demo"
    / "odds_api"
    / ("nba_odds_2023-12-11_us_h2h_spreads_decimal.json")
)
COPIES = 12
REPEATS = 3
# The columns the pull's own COPY writes (``QUOTE_COLUMNS``): the baseline copies the same ones.
COLUMNS = ", ".join(QUOTE_COLUMNS)


def _shift(stamp: str, days: int) -> str:
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) + dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def synthesize(copies: int = COPIES) -> bytes:
    """The recorded pull replicated ``copies`` times, one week apart from 2030 on (new games)."""
    events = json.loads(SAMPLE.read_text())
    out = []
    for n in range(copies):
        days = (2030 - 2023) * 365 + 7 * n
        for event in events:
            event = copy.deepcopy(event)
            event["id"] = f"{event['id']}-{n}"
            event["commence_time"] = _shift(event["commence_time"], days)
            for book in event["bookmakers"]:
                book["last_update"] = _shift(book["last_update"], days)
                for market in book["markets"]:
                    if "last_update" in market:
                        market["last_update"] = _shift(market["last_update"], days)
            out.append(event)
    return json.dumps(out).encode()


def _clear() -> None:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM games_oddsquote WHERE game_id IN (SELECT id FROM games_game WHERE season >= 2029)")
        cur.execute("DELETE FROM games_game WHERE season >= 2029")


def measure() -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise SystemExit("the ingestion benchmark needs PostgreSQL (DATABASE_URL)")
    reference_sync(league_codes=["NBA"])
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy")
    payload = synthesize()
    parse_started = time.perf_counter()
    records = odds_api.parse(payload).records
    parse_s = time.perf_counter() - parse_started

    ingest_times = []
    for _ in range(REPEATS):
        _clear()
        started = time.perf_counter()
        summary = odds_ingest(records=records)
        ingest_times.append(time.perf_counter() - started)
    quotes = summary.quotes_created
    assert quotes == len(records) and OddsQuote.objects.filter(game__season__gte=2029).count() == quotes
    with CaptureQueriesContext(connection) as queries:
        _clear()
        odds_ingest(records=records)
    query_count = len(queries.captured_queries) - 2
    started = time.perf_counter()
    again = odds_ingest(records=records)  # the same pull twice: every quote unchanged
    unchanged_s = time.perf_counter() - started
    assert again.quotes_created == 0

    buffer = io.StringIO()
    with connection.cursor() as cur:
        cur.copy_expert(
            f"COPY (SELECT {COLUMNS} FROM games_oddsquote WHERE game_id IN "
            "(SELECT id FROM games_game WHERE season >= 2029)) TO STDOUT",
            buffer,
        )
    copy_times: list[float] = []
    bare_times: list[float] = []
    for with_keys in [False] * REPEATS + [True] * REPEATS:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_copy")
            cur.execute("CREATE TABLE bench_copy (LIKE games_oddsquote INCLUDING ALL)")
        if with_keys:
            # LIKE copies no foreign keys; the quotes table has two (checked at commit, as Django
            # declares them): the baseline is measured with them too, the same constraints as the
            # pull pays. Without them (``bare``) for reference.
            with connection.cursor() as cur:
                cur.execute(
                    "ALTER TABLE bench_copy "
                    "ADD FOREIGN KEY (game_id) REFERENCES games_game (id) DEFERRABLE INITIALLY DEFERRED, "
                    "ADD FOREIGN KEY (bookmaker_id) REFERENCES games_bookmaker (id) DEFERRABLE INITIALLY DEFERRED"
                )
        buffer.seek(0)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.copy_expert(f"COPY bench_copy ({COLUMNS}) FROM STDIN", buffer)
        (copy_times if with_keys else bare_times).append(time.perf_counter() - started)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM bench_copy")
            assert cur.fetchone()[0] == quotes
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy")  # it references the games _clear() deletes

    profile = cProfile.Profile()
    _clear()
    profile.enable()
    odds_ingest(records=records)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(8)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy")
    _clear()

    ingest_s, copy_s, bare_s = min(ingest_times), min(copy_times), min(bare_times)
    return {
        "events": len(json.loads(payload)),
        "quotes": quotes,
        "parse_s": round(parse_s, 3),
        "ingest_s": round(ingest_s, 3),
        "ingest_qps": round(quotes / ingest_s),
        "unchanged_s": round(unchanged_s, 3),
        "unchanged_qps": round(quotes / unchanged_s),
        "copy_s": round(copy_s, 4),
        "copy_qps": round(quotes / copy_s),
        "ratio": round(copy_s / ingest_s, 3),
        "copy_bare_s": round(bare_s, 4),
        "copy_bare_qps": round(quotes / bare_s),
        "ratio_bare": round(bare_s / ingest_s, 3),
        "queries": query_count,
        "profile": _top(text.getvalue()),
    }


def _top(report: str) -> list[str]:
    """The profile's table rows: ``tottime`` and the function, slowest first."""
    rows = []
    for line in report.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[1].replace(".", "", 1).isdigit():
            rows.append(f"{parts[1]} s {parts[5]}")
    return rows[:8]


if __name__ == "__main__":
    print(json.dumps(measure()))
    sys.exit(0)
