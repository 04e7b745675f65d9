"""The JSON API's list endpoints under gunicorn with the production settings (issue 18's target: under
50 ms p50 at the demo's size), each beside the trivial view served by the same server in the same run.

Same server and client as the page step (``bench/web.py``: ``bench.settings``, 3 sync workers,
``bench.stack.hammer``), with a read-scope token made by ``manage.py create_api_token`` for a staff user
(staff see every bankroll, bet and backtest: the largest lists) and ``API_RATE_LIMIT`` raised so the
limiter never answers 429. One client sends the requests one after another: p50 and p95 are the time
of one request, not the queue behind 50 others.
"""

from __future__ import annotations

from typing import Any

from bench.stack import gunicorn, hammer, manage_all
from bench.web import DEMO_DAY, TRIVIAL, server_env, warm

TARGET_MS = 50.0
USER = "bench-api"
RATE = "1000000/m"


def api_paths(quick: bool) -> list[str]:
    """The list endpoints, with the default page size, and the filters the API's author found slow:
    a status filter and a league's 200 newest games (MLB; NBA in the quick run, which loads no MLB).
    Edges at the evening of the recorded NBA pull, so the scanner has a market to read."""
    league = "NBA" if quick else "MLB"
    return [
        "/api/v1/games",
        "/api/v1/games?status=final",
        f"/api/v1/games?league={league}&limit=200",
        "/api/v1/predictions",
        f"/api/v1/edges?at={DEMO_DAY}T23:00:00Z",
        "/api/v1/bankrolls",
        "/api/v1/bets",
        "/api/v1/backtests",
    ]


def api_token(env: dict[str, str]) -> str:
    """A staff user ``bench-api`` (made if missing) and a new read token for it."""
    make_user = (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.update_or_create(username={USER!r}, defaults={{'is_staff': True}})"
    )
    token = ["create_api_token", "--user", USER, "--scope", "read", "--name", "make bench"]
    output = manage_all([["shell", "-c", make_user], token], env=env).stdout
    tokens = [line.strip() for line in output.splitlines() if line.strip().startswith("shl_")]
    if not tokens:
        raise RuntimeError(f"create_api_token printed no token:\n{output[-2000:]}")
    return tokens[-1]


def measure(database_url: str, redis_url: str, *, quick: bool = False, requests: int = 100) -> dict[str, Any]:
    """Per path: ``requests`` sequential requests after a warm-up; the trivial view the same way
    before them (its p50 is each endpoint's baseline). Any answer but 200 is a failure of the step."""
    env = server_env(database_url, redis_url, API_RATE_LIMIT=RATE)
    headers = {"Authorization": f"Bearer {api_token(env)}"}
    paths = api_paths(quick)
    results: dict[str, Any] = {"workers": 3, "clients": 1, "requests": requests, "target_ms": TARGET_MS}
    endpoints: dict[str, dict[str, Any]] = {}
    with gunicorn(env) as base:
        warm(base, [TRIVIAL, *paths], headers=headers)
        trivial_run = hammer(base, [TRIVIAL], clients=1, seconds=300, headers=headers, requests=requests)
        trivial_p50 = max(trivial_run.percentile(50) * 1000, 0.1)
        for path in paths:
            run = hammer(base, [path], clients=1, seconds=300, headers=headers, requests=requests)
            summary = run.summary()
            endpoints[path] = {
                k: summary[k] for k in ("requests", "p50_ms", "p95_ms", "p99_ms", "failures", "statuses")
            }
            endpoints[path]["ratio"] = round(run.percentile(50) * 1000 / trivial_p50, 2)
    trivial = trivial_run.summary()
    results["trivial"] = trivial
    results["endpoints"] = endpoints
    results["met"] = [p for p, e in endpoints.items() if e["p50_ms"] < TARGET_MS]
    results["missed"] = [p for p, e in endpoints.items() if e["p50_ms"] >= TARGET_MS]
    failed = [f"{p} ({e['statuses']})" for p, e in endpoints.items() if e["failures"]]
    if failed:
        results["errors"] = failed  # python -m bench marks the step failed
    return results
