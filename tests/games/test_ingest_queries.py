"""The live pipelines look games up per pull, not per event: the number of queries a pull takes does
not grow with the events it holds (recorded ESPN and The Odds API payloads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.games.ingest.odds import odds_ingest
from betting.games.ingest.scores import scores_ingest
from betting.games.models import Game
from betting.games.providers import espn, odds_api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def queries(ingest, records) -> int:
    with CaptureQueriesContext(connection) as captured:
        ingest(records=records)
    return len(captured)


def game_lookups(ingest, records) -> int:
    """The SELECTs on the games table a pull makes."""
    table = Game._meta.db_table
    with CaptureQueriesContext(connection) as captured:
        ingest(records=records)
    return sum(1 for q in captured if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"])


@pytest.mark.django_db
def test_a_scoreboard_pull_takes_as_many_queries_for_fourteen_events_as_for_one(reference):
    records = espn.parse_scoreboard(json.loads((FIXTURES / "mlb_scoreboard_2025.json").read_text())).records
    assert len(records) == 14
    one = queries(scores_ingest, records[:1])  # one game created
    thirteen = queries(scores_ingest, records[1:])  # thirteen created
    assert Game.objects.count() == 14
    again_one = queries(scores_ingest, records[:1])  # unchanged
    again_all = queries(scores_ingest, records)  # all fourteen unchanged
    assert (thirteen, again_all) == (one, again_one), (
        f"created: 13 events took {thirteen} queries, 1 took {one}; "
        f"unchanged: 14 events took {again_all}, 1 took {again_one}"
    )
    assert again_all < one  # nothing to write: no insert
    assert game_lookups(scores_ingest, records) == 1


@pytest.mark.django_db
def test_an_odds_pull_takes_one_game_lookup_for_sixteen_events_as_for_one(reference):
    payload = json.loads((FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_text())
    records = odds_api.parse(payload).records
    by_event: dict[str, list] = {}
    for record in records:
        by_event.setdefault(record.event_external_id, []).append(record)
    first, second, *rest = by_event.values()
    queries(odds_ingest, first)  # creates the bookmakers
    one = game_lookups(odds_ingest, second)
    sixteen = game_lookups(odds_ingest, [r for quotes in rest for r in quotes])
    assert Game.objects.count() == 18
    # (its quote inserts are batched by the database's parameter limit, so only lookups are compared)
    assert (one, sixteen) == (1, 1), f"16 events took {sixteen} game lookups, 1 took {one}"
