"""``make bench`` (``python -m bench``): every figure beside a baseline measured in the same run,
printed and written to ``bench/results.md`` (raw figures in ``bench/results-bench.json``).

- odds ingestion into PostgreSQL against a raw COPY of the same rows (``bench/ingest.py``);
- the today and game pages against a trivial view, gunicorn with the production settings
  (``bench/web.py``);
- the JSON API's list endpoints, p50 and p95 of one client against the trivial view on the same
  server (``bench/api.py``; issue 18's target: under 50 ms p50);
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

Where: everything runs in a scratch database ``sharpline_bench`` (created, loaded by the run itself
from the files in data/demo as ``make demo-data`` imports them, and dropped at the end) on the
PostgreSQL server of ``DATABASE_URL``, or on postgres@127.0.0.1:5432 when ``DATABASE_URL`` is not
PostgreSQL; Redis is ``REDIS_URL``, else redis://127.0.0.1:6379/14 (keys under their own prefix,
cleared at the start). Nothing has to be prepared: a fresh clone with PostgreSQL and Redis running is
enough. ``--quick`` (``make bench-quick``) runs the same steps on smaller inputs (four NBA seasons,
shorter page runs) for a developer before a commit; its figures go to the history marked ``quick``
and leave the results pages alone. A quick run keeps its freshly loaded database as
``sharpline_bench_seed`` (marked with a fingerprint of the migrations, the installed packages, the
settings, the games app and the demo files) and the next quick run with the same fingerprint starts
from a copy of it instead of migrating and loading again. ``BENCH_DATABASE`` names the scratch
database instead of ``sharpline_bench`` (its seed: that name and ``_seed``).

A step that fails prints the failing command and its own output, the other steps still run, and the
run exits non-zero. Each run appends one row per figure to ``bench/history.csv``; ``bench/results.md``
shows the newest figures beside the median and range of the last runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import api, backtests, history, report, web
from bench.stack import (
    DEFAULT_REDIS,
    PYTHON,
    ROOT,
    StepFailed,
    code_version,
    keep_seed,
    last_json_line,
    load_demo,
    manage,
    scratch_database,
    seed_database,
    seed_fingerprint,
    stack_env,
)

CACHE_PREFIX = "sharpline-bench"


def run_module(module: str, env: dict[str, str], timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m module``; its last JSON line. Its stderr goes straight to ours (a failing
    command it runs prints its whole output there); ``StepFailed`` with its stdout when it exits
    non-zero or prints no result."""
    started = time.perf_counter()
    command = [PYTHON, "-m", module]
    process = subprocess.run(
        command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, timeout=timeout, check=False
    )
    output = process.stdout
    if process.returncode != 0:
        raise StepFailed(["python", "-m", module], process.returncode, output)
    try:
        result: dict[str, Any] = dict(last_json_line(process.stdout))
    except ValueError:
        raise StepFailed(["python", "-m", module], process.returncode, output) from None
    result["took_s"] = round(time.perf_counter() - started, 1)
    return result


# --- The walk-forward backtest (betting/bets/backtest.py): ten seasons, or one when quick -----------


def backtest_args(quick: bool) -> list[str]:
    if quick:  # NBA h2h 2017-18 at the close: the quick backtests step's one season, the same command
        return backtests.QUICK_SEASONS[0].args()
    return ["backtest", "--league", "NBA", "--market", "h2h", "--from", "2008-10-01", "--to", "2018-06-30", "--json"]


def backtest(env: dict[str, str], quick: bool, measured: dict[str, Any] | None = None) -> dict[str, Any]:
    """The command's wall time and headline figures; taken from ``measured`` (the backtests step's
    summary) when that step already ran the same command in this run."""
    args = backtest_args(quick)
    command = "manage.py " + " ".join(args)
    timed = next((t for t in (measured or {}).get("timed", []) if t["command"] == command), None)
    if timed is None:
        started = time.perf_counter()
        figures = last_json_line(manage(*args, env=env).stdout)
        seconds = time.perf_counter() - started
    else:
        figures, seconds = timed, float(timed["seconds"])
    keys = [k for k in ("n_bets", "roi", "yield", "avg_clv", "final_bankroll") if k in figures]
    detail = ", ".join(f"{k} {figures[k]}" for k in keys)
    if timed is not None:
        detail += " (the backtests step's run of the same command)"
    return {"seconds": round(seconds, 1), "detail": detail, "command": command, "quick": quick}


# ---------------------------------------------------------------------------------------------------


def clear_cache(redis_url: str, prefix: str = CACHE_PREFIX) -> None:
    """The bench's own keys in Redis from an earlier run (its feature frames, pages, counters)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    mode = "quick" if quick else "full"
    database_url = os.environ.get("DATABASE_URL", "")
    postgres = database_url.startswith(("postgres://", "postgresql://"))
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "mode": mode,
        "code": code_version(),
        "notes": [],
    }
    failures: list[str] = []

    def step(name: str, title: str, measure: Callable[[], object]) -> None:
        print(f"{title} ...", flush=True)
        began = time.perf_counter()
        try:
            results[name] = measure()
        except (StepFailed, RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
            results[name] = {"error": str(exc).splitlines()[0][:400]}
            failures.append(name)
            print(f"\nFAILED: {name}\n{exc}\n", file=sys.stderr, flush=True)
            return
        errors = results[name].get("errors") if isinstance(results[name], dict) else None
        if errors:  # a season the step could not measure: its own output was printed by the step
            failures.append(f"{name} ({', '.join(errors)})")
        print(f"  done in {time.perf_counter() - began:.0f} s", flush=True)

    clear_cache(redis_url)
    server = database_url if postgres else None
    # Quick: the database migrated and loaded by an earlier quick run from the same inputs, when kept.
    fingerprint = seed_fingerprint(quick=True) if quick else None
    seed = seed_database(server, fingerprint) if fingerprint else None
    began = time.perf_counter()
    with scratch_database(server, template=seed) as scratch:
        env = stack_env(scratch, redis_url, CACHE_KEY_PREFIX=CACHE_PREFIX)
        if quick:
            env["BENCH_QUICK"] = "1"
        if seed:
            note = f"copied from {seed} (kept by an earlier quick run: same migrations, code and demo files)"
            results["notes"].append(f"{note} in {time.perf_counter() - began:.0f} s")
        else:
            try:
                print(f"migrating and loading the demo data into {scratch} ...", flush=True)
                loaded = load_demo(env, quick=quick)
                if fingerprint:
                    keep_seed(server, fingerprint)
            except (StepFailed, FileNotFoundError) as exc:
                print(f"\nFAILED: loading the demo data\n{exc}", file=sys.stderr)
                return 1
            results["notes"].append(
                f"migrated and loaded from data/demo in {time.perf_counter() - began:.0f} s: {'; '.join(loaded)}"
            )
        step("models", "models: training with the search, refit, warm start against a full retrain (bench/models.py)",
             lambda: run_module("bench.models", env))  # fmt: skip
        step("oos", "models out-of-sample: evaluate --walk-forward per season (bench/oos.py)",
             lambda: run_module("bench.oos", env))  # fmt: skip
        step("backtests", "backtests out-of-sample: default strategy per season (bench/backtests.py)",
             lambda: run_module("bench.backtests", env))  # fmt: skip
        step("backtest", f"backtest: {'one season (quick)' if quick else 'ten seasons'}, walk-forward",
             lambda: backtest(env, quick, results.get("backtests")))  # fmt: skip
        step("sweep", "sweep: 20 strategies over one walk-forward against one backtest (bench/sweep.py)",
             lambda: run_module("bench.sweep", env))  # fmt: skip
        step("scan", "scan: the market scanner over the recorded NBA pull, beside the pull (bench/scan.py)",
             lambda: run_module("bench.scan", env))  # fmt: skip
        step("ingest", "ingestion: odds_ingest against COPY (bench/ingest.py)", lambda: run_module("bench.ingest", env))
        step("limiter", "rate limiter (bench/limiter.py)", lambda: run_module("bench.limiter", env))
        rounds = 1 if quick else web.ROUNDS
        step("web", f"pages: today and game against a trivial view under gunicorn, {rounds} round(s) (bench/web.py)",
             lambda: web.measure(scratch, redis_url, rounds=rounds, seconds=3 if quick else 10))  # fmt: skip
        requests = 20 if quick else 100
        step("api", f"API: list endpoints against the trivial view under gunicorn, {requests} requests each "
             "(bench/api.py)", lambda: api.measure(scratch, redis_url, quick=quick, requests=requests))  # fmt: skip
        results["notes"].append(
            "pages read from the scratch database with the demo data (no trained models: no model columns)"
        )
    load = os.getloadavg()[0]
    results["notes"].append(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
    rows = history.append(results, commit=str(results["code"]), mode=mode, load_average=load)
    if not quick:
        report.BENCH_JSON.write_text(json.dumps(results, indent=2, default=str) + "\n")
        out: Path = report.write()
    print()
    print(report.bench_section(results))
    print(f"\n{rows} figure(s) appended to {history.HISTORY}" + ("" if quick else f"; written to {out}"))
    if failures:
        print(f"\nFAILED steps: {', '.join(failures)} (their commands' output is above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
