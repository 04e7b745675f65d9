"""``make bench`` (``python -m bench``): every figure beside a baseline measured in the same run,
printed and written to ``bench/results.md`` (raw figures in ``bench/results-bench.json``).

- odds ingestion into PostgreSQL against a raw COPY of the same rows (``bench/ingest.py``);
- the today and game pages against a trivial view, gunicorn with the production settings
  (``bench/web.py``);
- model training: full training with the family search, a refit with the family fixed, and a warm
  start against a full retrain (``bench/models.py``, on the demo database);
- the models out-of-sample: ``evaluate --walk-forward`` on each reported season beside the line
  baseline, Elo and the market (``bench/oos.py``, written to ``bench/results-models.md``);
- the default strategy backtested on each out-of-sample season, against the loss and drawdown
  targets, with a stress row where the stop must hold (``bench/backtests.py``, written to
  ``bench/results-backtests.md``);
- the ten-season walk-forward backtest, when the ``backtest`` command exists;
- a 20-strategy sweep against one backtest of the same season (``bench/sweep.py``);
- the market scanner over the recorded NBA pull against the pull itself (``bench/scan.py``);
- the global rate limiter's decision latency and observed rate (``bench/limiter.py``).

Where: ingestion and the limiter always run in a scratch database ``sharpline_bench`` (created, and
dropped at the end) on the PostgreSQL server of ``DATABASE_URL``, or on postgres@127.0.0.1:5432 when
``DATABASE_URL`` is not PostgreSQL; Redis is ``REDIS_URL``, else redis://127.0.0.1:6379/14. The pages
are read from ``DATABASE_URL`` when it is PostgreSQL holding the demo odds, else from the scratch
database loaded with a slice of the demo data (the 2017-18 NBA season and the recorded odds). The
models and the backtest read the demo database the environment names (``var/db.sqlite3`` by default;
``make demo-data`` first).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import report, web
from bench.stack import (
    DEFAULT_REDIS,
    PYTHON,
    ROOT,
    last_json_line,
    load_demo_slice,
    manage,
    scratch_database,
    stack_env,
)


def run_module(module: str, env: dict[str, str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``python -m module``; its last JSON line, or ``{"error": ...}`` with the output's tail."""
    started = time.perf_counter()
    process = subprocess.run(
        [PYTHON, "-m", module], cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout, check=False
    )
    output = process.stdout + process.stderr
    if process.returncode != 0:
        tail = " ".join(output.strip().splitlines()[-3:])[:400]
        return {"error": f"`python -m {module}` failed: {tail}"}
    result = last_json_line(process.stdout)
    result["took_s"] = round(time.perf_counter() - started, 1)
    return result


# --- HOOK: the ten-season walk-forward backtest (betting/bets/backtest.py) -------------------------
# Measured when `manage.py backtest` exists; "not available" otherwise. The command's own JSON
# (printed with --json) is kept as the detail when it parses.
BACKTEST_ARGS = ["backtest", "--league", "NBA", "--market", "h2h"]
BACKTEST_ARGS += ["--from", "2008-10-01", "--to", "2018-06-30", "--json"]


def backtest(env: dict[str, str]) -> dict[str, Any]:
    if not (ROOT / "betting" / "bets" / "management" / "commands" / "backtest.py").exists():
        return {"status": "not available (no `manage.py backtest` command)"}
    started = time.perf_counter()
    process = subprocess.run(
        [PYTHON, "manage.py", *BACKTEST_ARGS], cwd=ROOT, env=env, text=True, capture_output=True, check=False
    )
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = " ".join((process.stdout + process.stderr).strip().splitlines()[-2:])[:300]
        return {"status": f"failed after {seconds:.1f} s: {tail}"}
    detail = ""
    try:
        figures = last_json_line(process.stdout)
        keys = [k for k in ("n_bets", "roi", "yield", "avg_clv", "final_bankroll") if k in figures]
        detail = ", ".join(f"{k} {figures[k]}" for k in keys)
    except ValueError:
        pass
    return {"seconds": round(seconds, 1), "detail": detail, "command": "manage.py " + " ".join(BACKTEST_ARGS)}


# ---------------------------------------------------------------------------------------------------


def _has_demo_odds(database_url: str) -> bool:
    import psycopg2

    try:
        connection = psycopg2.connect(database_url)
    except psycopg2.Error:
        return False
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT EXISTS (SELECT 1 FROM games_oddsquote WHERE source = 'odds_api')")
            row = cur.fetchone()
            return bool(row and row[0])
    except psycopg2.Error:
        return False
    finally:
        connection.close()


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    postgres = database_url.startswith(("postgres://", "postgresql://"))
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "notes": [],
    }
    print(
        "models: training with the search, refit, warm start against a full retrain (bench/models.py) ...", flush=True
    )
    results["models"] = run_module("bench.models", dict(os.environ))
    print("models out-of-sample: evaluate --walk-forward per season (bench/oos.py) ...", flush=True)
    results["oos"] = run_module("bench.oos", dict(os.environ), timeout=3600)
    print("backtests out-of-sample: default strategy per season (bench/backtests.py) ...", flush=True)
    results["backtests"] = run_module("bench.backtests", dict(os.environ))
    print("backtest: ten seasons, walk-forward ...", flush=True)
    results["backtest"] = backtest(dict(os.environ))
    print("sweep: 20 strategies over one walk-forward against one backtest (bench/sweep.py) ...", flush=True)
    results["sweep"] = run_module("bench.sweep", dict(os.environ))
    print("scan: the market scanner over the recorded NBA pull, beside the pull (bench/scan.py) ...", flush=True)
    results["scan"] = run_module("bench.scan", dict(os.environ))
    with scratch_database(database_url if postgres else None) as scratch:
        env = stack_env(scratch, redis_url)
        manage("migrate", "--noinput", env=env)
        print("ingestion: odds_ingest against COPY (bench/ingest.py) ...", flush=True)
        results["ingest"] = run_module("bench.ingest", env)
        print("rate limiter (bench/limiter.py) ...", flush=True)
        results["limiter"] = run_module("bench.limiter", env)
        if postgres and _has_demo_odds(database_url):
            pages_db = database_url
            results["notes"].append("pages read from DATABASE_URL (its demo data)")
        else:
            print("loading a slice of the demo data for the pages ...", flush=True)
            load_demo_slice(env)
            pages_db = scratch
            results["notes"].append(
                "pages read from the scratch database with a slice of the demo data (NBA 2017-18 and the "
                "recorded odds of 2023-12-11; no trained models, so no model columns)"
            )
        print("pages: today and game against a trivial view under gunicorn (bench/web.py) ...", flush=True)
        try:
            results["web"] = web.measure(pages_db, redis_url)
        except (SystemExit, RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            results["web"] = {"error": str(exc)[:400]}
    load = os.getloadavg()[0]
    results["notes"].append(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
    report.BENCH_JSON.write_text(json.dumps(results, indent=2, default=str) + "\n")
    out: Path = report.write()
    print()
    print(report.bench_section(results))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
