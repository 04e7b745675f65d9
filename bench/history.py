"""The runs kept to compare: ``bench/history.csv`` gets one row per figure at each ``make bench`` (and
``make bench-quick``, marked ``quick``), and ``bench/results.md`` shows, for each figure of the full
runs, the newest value beside the median and range of the last ``RECENT`` runs. A figure from one run
means little on a shared machine (the page ratio moved between 0.35 and 0.61 from run to run): the
median of several, with the load average each was measured under, is what to compare.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HISTORY = HERE / "history.csv"
COLUMNS = ("when", "commit", "mode", "figure", "value", "baseline", "ratio", "unit", "load_average")
RECENT = 5  # the runs the median and range are taken over


def _num(value: float | str | None, digits: int = 4) -> str:
    return "" if value is None else f"{float(value):.{digits}f}".rstrip("0").rstrip(".")


def figures(bench: dict[str, Any]) -> list[tuple[str, float, float | None, float | None, str]]:
    """(figure, value, same-run baseline, ratio, unit) for every figure measured in ``bench``."""
    out: list[tuple[str, float, float | None, float | None, str]] = []
    ingest = bench.get("ingest", {})
    if "ratio" in ingest:
        out.append(("ingest quotes/s vs COPY", ingest["ingest_qps"], ingest["copy_qps"], ingest["ratio"], "quotes/s"))
    web = bench.get("web", {})
    if "today_ratio" in web:
        trivial = web["trivial"]["rps"]
        out.append(("today page req/s vs trivial view", web["today"]["rps"], trivial, web["today_ratio"], "req/s"))
        out.append(("game page req/s vs trivial view", web["game"]["rps"], trivial, web["game_ratio"], "req/s"))
    api = bench.get("api", {})
    if "endpoints" in api:
        trivial = api["trivial"]
        for path, endpoint in api["endpoints"].items():
            for q in ("p50", "p95"):
                value, base = endpoint[f"{q}_ms"], trivial[f"{q}_ms"]
                out.append((f"API {path} {q} ms vs trivial view", value, base, value / max(base, 0.1), "ms"))
    models = bench.get("models", {})
    if "search_s" in models:
        out.append(("training with the family search s vs refit", models["search_s"], models["refit_s"],
                    models["search_s"] / models["refit_s"], "s"))  # fmt: skip
    if "speedup" in models:
        out.append(("warm start s vs full retrain", models["warm_s"], models["full_s"], models["speedup"], "s"))
    backtest = bench.get("backtest", {})
    if "seconds" in backtest:
        out.append(("walk-forward backtest s (target 30)", backtest["seconds"], 30.0, backtest["seconds"] / 30, "s"))
    sweep = bench.get("sweep", {})
    if "ratio" in sweep:
        out.append(("sweep s vs one backtest", sweep["sweep_s"], sweep["single_s"], sweep["ratio"], "s"))
    scan = bench.get("scan", {})
    if "scan_median_s" in scan:
        ratio = scan["scan_median_s"] / scan["pull_s"]
        out.append(("scan s vs the pull", scan["scan_median_s"], scan["pull_s"], ratio, "s"))
    limiter = bench.get("limiter", {})
    if "decision_p50_ms" in limiter:
        ratio = limiter["decision_p50_ms"] / limiter["ping_p50_ms"]
        out.append(("limiter decision p50 ms vs PING", limiter["decision_p50_ms"], limiter["ping_p50_ms"], ratio, "ms"))
        rate = limiter["sustained_rate"] / limiter["configured_rate"]
        out.append(("limiter rate vs configured", limiter["sustained_rate"], limiter["configured_rate"], rate, "/s"))
    for step in ("oos", "backtests"):
        part = bench.get(step, {})
        if "met" in part and part.get("rows"):
            label = "models out-of-sample rows on target" if step == "oos" else "backtest seasons on target"
            out.append((label, part["met"], part["rows"], part["met"] / part["rows"], "rows"))
    return out


def append(bench: dict[str, Any], *, commit: str, mode: str, load_average: float, path: Path = HISTORY) -> int:
    """One row per figure of this run appended to ``path`` (the header written first if new)."""
    rows = figures(bench)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(COLUMNS)
        for figure, value, baseline, ratio, unit in rows:
            writer.writerow([bench["when"], commit, mode, figure, _num(value), _num(baseline), _num(ratio), unit,
                             f"{load_average:.2f}"])  # fmt: skip
    return len(rows)


def read(path: Path = HISTORY) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def section(path: Path = HISTORY, mode: str = "full", recent: int = RECENT) -> str:
    """Per figure of the ``mode`` runs: the newest value and ratio beside the median and range of
    the last ``recent`` runs (the newest included)."""
    rows = [r for r in read(path) if r.get("mode", "full") == mode]
    if not rows:
        return "No run recorded in `bench/history.csv` yet."
    by_figure: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_figure.setdefault(row["figure"], []).append(row)
    runs = len({r["when"] for r in rows})
    lines = [
        f"## History (`bench/history.csv`: {runs} {mode} run(s); the last {recent} of each figure)",
        "",
        "The ratio is the figure over its same-run baseline. One run on a shared machine is noise: "
        "compare the medians, and each run's load average.",
        "",
        "| figure | newest value | newest ratio | newest load | runs | median ratio | ratio range | median value |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure, history in by_figure.items():
        last = history[-recent:]
        newest = last[-1]
        ratios = [float(r["ratio"]) for r in last if r["ratio"]]
        values = [float(r["value"]) for r in last if r["value"]]
        span = f"{min(ratios):.3f} .. {max(ratios):.3f}" if ratios else ""
        lines.append(
            f"| {figure} | {newest['value']} {newest.get('unit', '')} | {newest['ratio']} | {newest['load_average']} "
            f"| {len(last)} | {_num(statistics.median(ratios), 3) if ratios else ''} | {span} "
            f"| {_num(statistics.median(values), 3) if values else ''} |"
        )
    return "\n".join(lines)
