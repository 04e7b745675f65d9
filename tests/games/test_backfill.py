"""manage.py backfill against a local HTTP server serving recorded payloads: ESPN's recorded MLB scoreboard
of 2025-09-02, and The Odds API's recorded NBA odds of 2023-12-11 wrapped in the documented historical
envelope (tests/fixtures/SOURCES.md). Nothing leaves the machine."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from betting.games.backfill import snapshot_times
from betting.games.models import BackfillDay, Game, OddsQuote
from betting.games.tasks import backfill_task
from core.http.breaker import get_breaker
from core.models import JobRun
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
MLB_SCOREBOARD = (FIXTURES / "mlb_scoreboard_2025.json").read_bytes()  # 2025-09-02, 14 games
NBA_EVENTS = json.loads((FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_text())
KEY = "0123456789abcdef0123456789abcdef"
PER_CALL = 20  # 10 credits x 1 region (us) x 2 markets (h2h, spreads), as the recorded response was asked
# 13 of the recorded events start on 2023-12-11 (New York), at five distinct times.
CLOSES_2023_12_11 = ["2023-12-12T00:05:00Z", "2023-12-12T00:35:00Z", "2023-12-12T01:05:00Z"]
CLOSES_2023_12_11 += ["2023-12-12T03:05:00Z", "2023-12-12T03:35:00Z"]


class Provider:
    """What the fake ESPN and Odds API answer, and every request they saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.fail: dict[str, list[int]] = {}  # a date asked for -> statuses to answer first, one per request
        self.remaining = 20_000
        self.changed: dict[str, Any] = {}  # a snapshot date -> the events to serve instead
        self.malformed: set[str] = set()  # snapshot dates answered without their timestamp

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.seen.append((path, query))
        asked = query.get("dates") or query.get("date") or ""
        if self.fail.get(asked):
            return self.fail[asked].pop(0), {"Retry-After": "0"}, b'{"message": "try again"}'
        if path.startswith("/espn/baseball/mlb/scoreboard"):
            return 200, {}, MLB_SCOREBOARD  # every date gets the recorded board; its games keep their own date
        if path == "/odds/v4/sports":  # free: only the quota headers are read
            return 200, self._quota(0), b"[]"
        if path == "/odds/v4/historical/sports/basketball_nba/odds":
            self.remaining -= PER_CALL
            envelope = self._envelope(asked)
            if asked in self.malformed:
                del envelope["timestamp"]
            return 200, self._quota(PER_CALL), json.dumps(envelope).encode()
        return 404, {}, b'{"message": "not found"}'

    def _quota(self, last: int) -> dict[str, str]:
        used = 20_000 - self.remaining
        return {"x-requests-remaining": str(self.remaining), "x-requests-used": str(used), "x-requests-last": str(last)}

    def _envelope(self, asked: str) -> dict[str, Any]:
        """The documented envelope: the snapshot at or before the date asked for (every five minutes)."""
        moment = dt.datetime.fromisoformat(asked)
        moment -= dt.timedelta(minutes=moment.minute % 5, seconds=moment.second)
        iso = "%Y-%m-%dT%H:%M:%SZ"
        return {
            "timestamp": f"{moment:{iso}}",
            "previous_timestamp": f"{moment - dt.timedelta(minutes=5):{iso}}",
            "next_timestamp": f"{moment + dt.timedelta(minutes=5):{iso}}",
            "data": self.changed.get(asked, NBA_EVENTS),
        }

    def asked(self, path: str) -> list[str]:
        return [q.get("date") or q.get("dates", "") for p, q in self.seen if p == path]


@pytest.fixture
def provider(db, reference) -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, headers, body = state.answer(url.path, query)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fast = {name: {"rate": 1000.0, "burst": 1000} for name in settings.HTTP_PROVIDERS}
    _forget()
    try:
        with override_settings(
            ESPN_BASE_URL=f"{base}/espn",
            ODDS_API_BASE_URL=f"{base}/odds",
            ODDS_API_KEY=KEY,
            ODDS_API_REGIONS="us",
            ODDS_API_MARKETS="h2h,spreads",
            ODDS_API_ODDS_FORMAT="decimal",
            HTTP_MAX_RETRIES=0,
            HTTP_PROVIDERS=fast,
            BACKFILL_OPEN_HOUR_UTC=15,
            BACKFILL_CLOSE_MINUTES=5,
        ):
            yield state
    finally:
        _forget()
        server.shutdown()
        server.server_close()


def _forget() -> None:
    """Breakers, recorded quota and locks of other tests (in-process or in Redis) are not ours."""
    for name in ("espn", "odds_api"):
        get_breaker().reset(name)
    cache.delete_many(["quota:odds_api", "lock:backfill:NBA", "lock:backfill:MLB"])


def backfill(*args: str) -> str:
    out = StringIO()
    call_command("backfill", *args, stdout=out)
    return out.getvalue()


NBA_ODDS = ["--league", "NBA", "--from", "2023-12-11", "--to", "2023-12-11", "--what", "odds"]
MLB_SCORES = ["--league", "MLB", "--from", "2025-09-01", "--to", "2025-09-03", "--what", "scores"]


def rows() -> tuple[int, int, int]:
    return Game.objects.count(), OddsQuote.objects.count(), BackfillDay.objects.count()


def test_a_dry_run_prints_the_cost_and_spends_nothing(provider):
    out = backfill(*NBA_ODDS, "--dry-run")
    # No schedule known yet: the day is estimated at the default six start times, 7 calls of 20 credits.
    assert "about 7 historical call(s)" in out and "about 140 credits" in out
    assert "Dry run: nothing fetched" in out
    assert provider.seen == []
    assert rows() == (0, 0, 0) and not JobRun.objects.filter(job="backfill").exists()


def test_a_run_costing_more_than_max_credits_is_refused_before_any_request(provider):
    with pytest.raises(CommandError, match=r"refused, nothing spent: .*about 140 credits, more than --max-credits 100"):
        backfill(*NBA_ODDS, "--max-credits", "100")
    assert provider.seen == [] and rows() == (0, 0, 0)
    assert JobRun.objects.get(job="backfill").status == JobRun.Status.SKIPPED


def test_a_run_costing_more_than_the_quota_left_is_refused_after_the_free_quota_call(provider):
    provider.remaining = 150  # 150 left, less the reserve of 50: 100 < 140
    with pytest.raises(CommandError, match="more than the quota's 150 remaining less the reserve of 50"):
        backfill(*NBA_ODDS)
    assert [path for path, _ in provider.seen] == ["/odds/v4/sports"]
    assert rows() == (0, 0, 0)


def test_odds_take_an_opening_and_a_closing_snapshot_before_each_start_time(provider):
    out = backfill(*NBA_ODDS, "--max-credits", "140")
    assert provider.asked("/odds/v4/historical/sports/basketball_nba/odds") == [
        "2023-12-11T15:00:00Z",
        *CLOSES_2023_12_11,
    ]
    assert "1 day(s) written, 0 failed, 0 left for the next run; 120 credits spent" in out
    day = BackfillDay.objects.get(what="odds", day=dt.date(2023, 12, 11))
    assert (day.status, day.credits, day.counts["snapshots"]) == ("done", 120, 6)
    # Only the day's 13 games were written (the recorded response also holds five Christmas games).
    assert Game.objects.count() == 13
    assert set(Game.objects.values_list("game_date", flat=True)) == {dt.date(2023, 12, 11)}
    run = JobRun.objects.get(job="backfill")
    assert (run.status, run.counts["credits"], run.counts["days_done"]) == ("success", 120, 1)


def test_quotes_are_dated_by_their_snapshot_timestamp(provider):
    closing = copy.deepcopy(NBA_EVENTS)
    hornets = closing[0]["bookmakers"][0]["markets"][0]
    assert closing[0]["home_team"] == "Charlotte Hornets" and hornets["key"] == "h2h"
    hornets["outcomes"][0]["price"] = round(hornets["outcomes"][0]["price"] + 0.25, 2)  # the line moved
    provider.changed["2023-12-12T00:05:00Z"] = closing
    backfill(*NBA_ODDS)
    stamps = set(OddsQuote.objects.values_list("captured_at", flat=True))
    opening = dt.datetime(2023, 12, 11, 15, tzinfo=dt.UTC)
    # The price moved in the 00:05 snapshot and moved back in the next one (the recorded price again).
    moved_at, back_at = dt.datetime(2023, 12, 12, 0, 5, tzinfo=dt.UTC), dt.datetime(2023, 12, 12, 0, 35, tzinfo=dt.UTC)
    assert stamps == {opening, moved_at, back_at}
    moved, back = OddsQuote.objects.get(captured_at=moved_at), OddsQuote.objects.get(captured_at=back_at)
    assert (moved.bookmaker.key, moved.market) == (closing[0]["bookmakers"][0]["key"], "h2h")
    assert float(moved.price) == hornets["outcomes"][0]["price"]
    assert float(back.price) == NBA_EVENTS[0]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"]


def test_a_second_run_changes_nothing_and_asks_nothing(provider):
    backfill(*NBA_ODDS)
    backfill(*MLB_SCORES)
    before, asked = rows(), len(provider.seen)
    assert before[0] == 13 + 14 and before[1] > 0 and before[2] == 4
    out = backfill(*NBA_ODDS) + backfill(*MLB_SCORES)
    assert rows() == before and len(provider.seen) == asked
    assert "0 day(s) to fetch, 1 already done" in out and "0 day(s) to fetch, 3 already done" in out


def test_a_failed_day_is_recorded_and_fetched_again_by_the_next_run(provider):
    provider.fail["20250902"] = [500]
    with pytest.raises(CommandError, match=r"1 day.s. failed, 0 left: run the same command again"):
        backfill(*MLB_SCORES, "--no-progress")
    failed = BackfillDay.objects.get(what="scores", day=dt.date(2025, 9, 2))
    assert failed.status == "failed" and "HTTP 500" in failed.error
    assert BackfillDay.objects.filter(status="done").count() == 2  # the other days went on
    assert JobRun.objects.get(job="backfill").status == JobRun.Status.PARTIAL

    out = backfill(*MLB_SCORES)
    assert "scores: 1 day(s) to fetch, 2 already done" in out
    assert provider.asked("/espn/baseball/mlb/scoreboard").count("20250902") == 2
    again = BackfillDay.objects.get(pk=failed.pk)
    assert (again.status, again.attempts, again.error) == ("done", 2, "")


def test_a_day_whose_closing_snapshot_fails_writes_nothing_until_it_is_retried(provider):
    provider.fail["2023-12-12T01:05:00Z"] = [429]
    with pytest.raises(CommandError, match=r"1 day.s. failed"):
        backfill(*NBA_ODDS)
    assert OddsQuote.objects.count() == 0 and Game.objects.count() == 0  # never half a day
    day = BackfillDay.objects.get(what="odds")
    assert day.status == "failed" and "HTTP 429" in day.error and day.credits == 3 * PER_CALL

    backfill(*NBA_ODDS)
    day.refresh_from_db()
    assert (day.status, day.attempts, day.credits) == ("done", 2, 3 * PER_CALL + 6 * PER_CALL)
    assert Game.objects.count() == 13 and OddsQuote.objects.count() > 0


def test_a_malformed_snapshot_fails_its_day_whole(provider):
    provider.malformed.add("2023-12-12T03:35:00Z")
    with pytest.raises(CommandError, match=r"1 day.s. failed"):
        backfill(*NBA_ODDS)
    day = BackfillDay.objects.get(what="odds")
    assert (
        day.status == "failed"
        and "ParseError: timestamp: timestamp should be an ISO 8601 timestamp, got null" in day.error
    )
    assert OddsQuote.objects.count() == 0


def test_an_open_breaker_stops_the_run_and_leaves_the_rest_for_the_next(provider):
    provider.fail = {f"2025090{n}": [503] for n in (1, 2, 3)}
    with (
        override_settings(CIRCUIT_BREAKER_MAX_FAILURES=1),
        pytest.raises(CommandError, match=r"1 day.s. failed, 2 left"),
    ):
        backfill(*MLB_SCORES)
    assert provider.asked("/espn/baseball/mlb/scoreboard") == ["20250901"]
    assert list(BackfillDay.objects.values_list("day", "status")) == [(dt.date(2025, 9, 1), "failed")]
    assert JobRun.objects.get(job="backfill").status == JobRun.Status.FAILED


def test_without_a_terminal_a_progress_line_every_n_days(provider):
    with override_settings(BACKFILL_LOG_EVERY_DAYS=2):
        out = backfill(*MLB_SCORES, "--no-progress")
    assert "2 of 3 day(s) through 2025-09-02" in out and "1 of 3" not in out
    assert "success: 3 day(s) written, 0 failed" in out


def test_the_task_runs_the_same_backfill(provider):
    result = backfill_task.apply(
        kwargs={"league_code": "MLB", "what": "scores", "start": "2025-09-02", "end": "2025-09-02"}
    ).get()
    assert (result["status"], result["days_done"], result["credits"]) == ("success", 1, 0)
    assert Game.objects.filter(league__code="MLB").count() == 14
    assert backfill_task.name == "games.backfill"


def test_closing_snapshots_are_minutes_before_each_distinct_start():
    starts = [dt.datetime(2023, 12, 12, 0, 10, tzinfo=dt.UTC)] * 4 + [dt.datetime(2023, 12, 12, 0, 40, tzinfo=dt.UTC)]
    opening, closes = snapshot_times(day=dt.date(2023, 12, 11), starts=starts, open_hour=15, close_minutes=5)
    assert opening == dt.datetime(2023, 12, 11, 15, tzinfo=dt.UTC)
    assert closes == [dt.datetime(2023, 12, 12, 0, 5, tzinfo=dt.UTC), dt.datetime(2023, 12, 12, 0, 35, tzinfo=dt.UTC)]


def test_the_admin_lists_the_failed_days_with_their_reason(provider, admin_client):
    provider.fail["20250902"] = [500]
    with pytest.raises(CommandError):
        backfill(*MLB_SCORES)
    url = reverse("admin:games_backfillday_changelist")
    failed = admin_client.get(url, {"status__exact": "failed", "what__exact": "scores"}).content.decode()
    assert "Sept. 2, 2025" in failed and "HTTP 500" in failed and "Sept. 1, 2025" not in failed
    done = admin_client.get(url, {"status__exact": "done"}).content.decode()
    assert "Sept. 1, 2025" in done and "Sept. 3, 2025" in done and "Sept. 2, 2025" not in done
