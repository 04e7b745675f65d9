"""``make load``: gunicorn with the production settings on the real stack, 200 concurrent clients
for 30 s on the today page and a game page (each client alternates between them).

Needs ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` of a database holding the demo data
(``DATABASE_URL=... REDIS_URL=... make demo-data``). Writes ``bench/results-load.json`` and the
load section of ``bench/results.md``; exits non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from bench import report
from bench.stack import fetch, gunicorn, hammer, production_env
from bench.web import page_paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the image's WEB_CONCURRENCY)")
    args = parser.parse_args()
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        print("make load needs DATABASE_URL (PostgreSQL with the demo data) and REDIS_URL", file=sys.stderr)
        return 2
    today, game = page_paths(database_url)
    env = production_env(database_url, redis_url)
    with gunicorn(env, workers=args.workers) as base:
        for path in (today, game):
            status, body = fetch(base, path)
            if status != 200:
                print(f"{path} answered {status}: {body[:300]!r}", file=sys.stderr)
                return 1
        result = hammer(base, [today, game], clients=args.clients, seconds=args.seconds).summary()
    result.update(
        when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cores=os.cpu_count(),
        workers=args.workers,
        settings="core.settings.production",
        load_average=round(os.getloadavg()[0], 1),
    )
    report.LOAD_JSON.write_text(json.dumps(result, indent=2) + "\n")
    report.write()
    print(report.load_section(result))
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
