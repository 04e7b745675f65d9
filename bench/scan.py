"""The market scanner against the pull it scans (issue 16): the recorded NBA Odds API pull (15 books,
h2h and spreads, 18 games) written into a scratch SQLite database, then ``edges_scan`` over it at a
moment before the games, timed in the same run. Target: the scan in under 1 s.

Run by ``make bench`` (or ``python -m bench.scan``); needs no database of its own: it makes one in a
temporary folder. Prints its figures as a JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "data" / "demo" / "odds_api" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
AT = dt.datetime(2023, 12, 11, 18, 0, tzinfo=dt.UTC)
REPEATS = 5
KINDS = ("positive_ev", "arbitrage", "middles", "steam")


def main() -> int:
    folder = tempfile.mkdtemp(prefix="sharpline-scan-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/scan.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    from betting.bets.edges import edges_scan
    from betting.games.models import OddsQuote

    call_command("migrate", "--noinput", verbosity=0)
    call_command("sync_teams", stdout=StringIO())
    began = time.perf_counter()
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(PAYLOAD), stdout=StringIO())
    pull_s = time.perf_counter() - began
    timings = []
    found = None
    for _ in range(REPEATS):
        began = time.perf_counter()
        found = edges_scan(at=AT, league="NBA")
        timings.append(time.perf_counter() - began)
    timings.sort()
    figures = {
        "quotes": OddsQuote.objects.count(),
        "pull_s": round(pull_s, 3),
        "scan_median_s": round(timings[len(timings) // 2], 4),
        "scan_max_s": round(timings[-1], 4),
        "latest_quotes": found.quotes if found else 0,
        "found": {kind: len(getattr(found.result, kind)) for kind in KINDS} if found else {},
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
