"""``bench/results.md`` from the latest ``make bench`` and ``make load`` figures (kept as JSON beside
it, so each command rewrites the page without losing the other's figures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import history

HERE = Path(__file__).resolve().parent
BENCH_JSON = HERE / "results-bench.json"
LOAD_JSON = HERE / "results-load.json"
RESULTS = HERE / "results.md"


def _load(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# One row of the figures table: (figure, measured, baseline measured in the same run, ratio, target and verdict).
Row = tuple[str, str, str, str, str]


def _row(figure: str, measured: str, baseline: str = "", ratio: str = "", target: str = "") -> Row:
    return (figure, measured, baseline, ratio, target)


def _target(rule: str, ok: bool) -> str:
    return f"{rule}: {_verdict(ok)}"


def _ingest_rows(ingest: dict[str, Any]) -> list[Row]:
    copy = (
        f"raw COPY of the same rows into a table with the same constraints: {ingest['copy_qps']:,} quotes/s "
        f"({ingest['copy_s']:.3f} s); without its foreign keys: {ingest.get('copy_bare_qps', 0):,} quotes/s "
        f"(ratio {ingest.get('ratio_bare', 0):.3f})"
    )
    figure = f"odds ingestion, one pull of {ingest['quotes']:,} quotes ({ingest['events']} events) into PostgreSQL"
    measured = f"{ingest['ingest_qps']:,} quotes/s ({ingest['ingest_s']:.2f} s)"
    return [_row(figure, measured, copy, f"{ingest['ratio']:.3f}", _target(">= 0.25", ingest["ratio"] >= 0.25))]


def _web_rows(web: dict[str, Any]) -> list[Row]:
    trivial = web["trivial"]
    rows = []
    for name, label in (("today", f"today page `{web['today_path']}`"), ("game", f"game page `{web['game_path']}`")):
        page, ratio, ratios = web[name], web[f"{name}_ratio"], web.get(f"{name}_ratios", [])
        server = f"{page['clients']} clients, gunicorn {web['workers']} sync workers, production settings"
        shown = f"{ratio:.3f}" + (f" (median of {', '.join(f'{r:.3f}' for r in ratios)})" if len(ratios) > 1 else "")
        rows.append(
            _row(
                f"{label}, {server}",
                f"{page['rps']:,} req/s (p50 {page['p50_ms']} ms, p99 {page['p99_ms']} ms, {page['failures']} failed)",
                f"trivial view: {trivial['rps']:,} req/s (p50 {trivial['p50_ms']} ms)",
                shown,
                _target(">= 0.5", ratio >= 0.5) if name == "today" else "(no target)",
            )
        )
    return rows


def _api_rows(api: dict[str, Any]) -> list[Row]:
    trivial, target_ms = api["trivial"], api["target_ms"]
    server = f"{api['clients']} client, gunicorn {api['workers']} sync workers, production settings"
    baseline = f"trivial view: p50 {trivial['p50_ms']} ms, p95 {trivial['p95_ms']} ms"
    return [
        _row(
            f"API `{path}`, {server}",
            f"p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms ({e['requests']} requests, {e['failures']} failed)",
            baseline,
            f"{e['ratio']:.1f}x",
            _target(f"p50 < {target_ms:.0f} ms", e["p50_ms"] < target_ms),
        )
        for path, e in api["endpoints"].items()
    ]


def _models_rows(models: dict[str, Any]) -> list[Row]:
    search = _row(
        f"full training with the family search, NBA h2h, the training seasons ({models['ten_games']:,} games)",
        f"{models['search_s']:.2f} s (chose {models['family']})",
        f"refit with the family fixed: {models['refit_s']:.3f} s",
        f"{models['search_s'] / models['refit_s']:.1f}x",
        _target("< 30 s", models["search_s"] < 30),
    )
    if "speedup" not in models:
        return [search, _row("warm start vs full retrain", "not measured", models.get("error", ""))]
    worse = models["warm_loss"] - models["full_loss"]
    warm = _row(
        f"warm start (+{models['new_games']:,} games, one night, on the model trained to the night before)",
        f"{models['warm_s']:.3f} s, log loss {models['warm_loss']:.4f}",
        f"full retrain ({models['full_games']:,} games): {models['full_s']:.3f} s, log loss {models['full_loss']:.4f}",
        f"{models['speedup']:.1f}x faster; log loss {worse:+.4f}",
        f"{_target('>= 5x', models['speedup'] >= 5)}; {_target('<= +0.002', worse <= 0.002)}",
    )
    return [search, warm]


def _oos_rows(oos: dict[str, Any]) -> list[Row]:
    failed = f"; not measured: {', '.join(oos['errors'])}" if oos["errors"] else ""
    return [
        _row(
            "models out-of-sample, walk-forward per league/market/season (`bench/results-models.md`)",
            f"targets held on {oos['met']} of {oos['rows']} rows",
            "line baseline, Elo, de-vigged close on the same games",
            "",
            f"missed: {', '.join(oos['missed']) or 'none'}{failed}",
        )
    ]


def _backtests_rows(backtests: dict[str, Any]) -> list[Row]:
    failed = f"; not measured: {', '.join(backtests['errors'])}" if backtests["errors"] else ""
    stress = backtests["stress"]
    stop = (
        f"stress (market ignored): {stress['bets']} bets, max drawdown {stress['max_drawdown']:.1%} "
        f"against {stress['bound']:.0%}: {_verdict(bool(stress['met']))}"
        if stress.get("met") is not None
        else f"stress not measured: {stress.get('error', '')}"
    )
    held = (
        f"loss <= 10% and drawdown <= stop + one day's exposure on {backtests['met']} of "
        f"{backtests['rows']} seasons ({backtests['bets']} bets in all)"
    )
    figure = "default strategy backtests out-of-sample, per league/market/season (`bench/results-backtests.md`)"
    return [_row(figure, held, stop, "", f"missed: {', '.join(backtests['missed']) or 'none'}{failed}")]


def _backtest_rows(backtest: dict[str, Any]) -> list[Row]:
    seconds = backtest["seconds"]
    target = "" if backtest.get("quick") else _target("< 30 s (ten seasons)", seconds < 30)
    figure = f"walk-forward backtest, `{backtest.get('command', '')}`"
    return [_row(figure, f"{seconds:.1f} s", backtest.get("detail", ""), "", target)]


def _sweep_rows(sweep: dict[str, Any]) -> list[Row]:
    return [
        _row(
            f"backtest --sweep, {sweep['strategies']} strategies, {sweep['league']} h2h {sweep['window']}",
            f"{sweep['sweep_s']:.1f} s",
            f"one backtest of the same window: {sweep['single_s']:.1f} s",
            f"{sweep['ratio']:.2f}x",
            _target("<= 3x", sweep["ratio"] <= 3),
        )
    ]


def _scan_rows(scan: dict[str, Any]) -> list[Row]:
    median, pull = scan["scan_median_s"], scan["pull_s"]
    pulled = f"the pull itself: {pull * 1000:.0f} ms"
    ratio, target = f"{median / pull:.2f}x", _target("< 1 s", median < 1)
    figure = f"scan over the recorded NBA pull ({scan['latest_quotes']:,} latest quotes, 15 books, 18 games)"
    return [_row(figure, f"{median * 1000:.0f} ms (median of 5)", pulled, ratio, target)]


def _limiter_rows(limiter: dict[str, Any]) -> list[Row]:
    allowed, ping = limiter["allowed_in_1s"], limiter["ping_p50_ms"]
    decision = _row(
        f"rate limiter decision (RedisTokenBucket.acquire, {limiter['decisions']:,} calls)",
        f"p50 {limiter['decision_p50_ms']} ms, p99 {limiter['decision_p99_ms']} ms",
        f"Redis PING round trip: p50 {ping} ms",
        f"{limiter['decision_p50_ms'] / ping:.1f}x a PING",
    )
    rate = _row(
        f"rate limiter, {limiter['processes']} processes on one bucket for {limiter['seconds']:.0f} s",
        f"sustained {limiter['sustained_rate']} /s; at most {limiter['max_in_1s']} in any 1 s",
        f"configured {limiter['configured_rate']:.0f} /s, burst {limiter['burst']}",
        f"{limiter['sustained_rate'] / limiter['configured_rate']:.3f}",
        _target(f"never above rate + burst ({allowed:.0f} in 1 s)", limiter["max_in_1s"] <= allowed),
    )
    return [decision, rate]


# The figures table, in order: (step, the key present when the step measured, its row builder, the
# row's name when it did not). The backtest step without "seconds" shows its "status" instead.
FIGURES: list[tuple[str, str, Callable[[dict[str, Any]], list[Row]], str]] = [
    ("ingest", "ratio", _ingest_rows, "odds ingestion"),
    ("web", "today_ratio", _web_rows, "today page"),
    ("api", "endpoints", _api_rows, "API list endpoints"),
    ("models", "search_s", _models_rows, "warm start vs full retrain"),
    ("oos", "met", _oos_rows, "models out-of-sample"),
    ("backtests", "met", _backtests_rows, "default strategy backtests out-of-sample"),
    ("backtest", "seconds", _backtest_rows, "ten-season walk-forward backtest"),
    ("sweep", "ratio", _sweep_rows, "backtest --sweep"),
    ("scan", "scan_median_s", _scan_rows, "scan"),
    ("limiter", "decision_p50_ms", _limiter_rows, "rate limiter"),
]


def figure_rows(bench: dict[str, Any]) -> list[Row]:
    """(figure, measured, baseline measured in the same run, ratio, target and verdict)."""
    rows: list[Row] = []
    for step, measured, build, name in FIGURES:
        part = bench.get(step, {})
        if measured in part:
            rows += build(part)
        elif step == "backtest":
            rows.append(_row(name, part.get("status", "not available")))
        else:
            rows.append(_row(name, "not measured", part.get("error", "")))
    return rows


def bench_section(bench: dict[str, Any]) -> str:
    lines = [
        f"## `make bench` ({bench['when']}, {bench['cores']} cores)",
        "",
        "Each figure beside a baseline measured in the same run, on the same machine.",
        "",
        "| figure | measured | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in figure_rows(bench)),
    ]
    ingest = bench.get("ingest", {})
    if ingest.get("profile"):
        lines += [
            "",
            f"Where the ingestion time goes ({ingest['queries']} queries for the pull; the same pull again, "
            f"all quotes unchanged: {ingest['unchanged_qps']:,} quotes/s; parsing the payload: "
            f"{ingest['parse_s']:.2f} s, not counted above). Slowest functions by own time (cProfile):",
            "",
            *(f"- `{line}`" for line in ingest["profile"]),
        ]
    notes = bench.get("notes", [])
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def load_section(load: dict[str, Any]) -> str:
    paths = ", ".join(f"`{p}`" for p in load["paths"])
    lines = [
        f"## `make load` ({load['when']}, {load['cores']} cores)",
        "",
        f"gunicorn with `{load['settings']}`, {load['workers']} sync workers, on PostgreSQL and Redis with the "
        f"demo data; {load['clients']} concurrent clients sending for {load.get('planned_seconds', 0):.0f} s "
        f"({load['seconds']:.0f} s until the last answer; req/s over the latter), each alternating {paths}. "
        f"The client runs on the same machine (load average at the end: {load.get('load_average', '?')}).",
        "",
        "| requests | req/s | p50 | p95 | p99 | failed | statuses | errors |",
        "|---|---|---|---|---|---|---|---|",
        f"| {load['requests']:,} | {load['rps']} | {load['p50_ms']} ms | {load['p95_ms']} ms | {load['p99_ms']} ms "
        f"| {load['failures']} | {load['statuses']} | {load['errors'] or 'none'} |",
        "",
        "| page | requests | p50 | p95 | p99 |",
        "|---|---|---|---|---|",
        *(
            f"| `{path}` | {stats['requests']:,} | {stats['p50_ms']} ms | {stats['p95_ms']} ms | {stats['p99_ms']} ms |"
            for path, stats in load.get("per_path", {}).items()
        ),
    ]
    return "\n".join(lines)


def write() -> Path:
    bench, load = _load(BENCH_JSON), _load(LOAD_JSON)
    parts = [
        "# Benchmarks and load test",
        "",
        "Written by `make bench` and `make load` (see the README, "
        '"Benchmarks, load test and fault injection"); the raw figures are in `results-bench.json` and '
        "`results-load.json` beside this file, and the model benchmark's own table in `results-models.md`.",
    ]
    parts += ["", bench_section(bench)] if bench else ["", "`make bench` has not run yet."]
    parts += ["", history.section()]
    parts += ["", load_section(load)] if load else ["", "`make load` has not run yet."]
    RESULTS.write_text("\n".join(parts) + "\n")
    return RESULTS


# --- bench/results-models.md: the model benchmark (bench/models.py) and the out-of-sample figures
# (bench/oos.py), each run rewriting its own part of the page without losing the other's.

MODELS_JSON = HERE / "results-models.json"
MODELS = HERE / "results-models.md"


def _keep(path: Path, figures: dict[str, Any], title: str, modules: str, targets: str) -> list[str]:
    """Write ``figures`` to ``path`` (JSON); the first lines of the page written from them."""
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return [
        f"# {title}",
        "",
        f"Written by `make bench` ({modules}) on the database `DATABASE_URL` names (the demo database by "
        f"default, after `make demo-data`); raw figures in `{path.name}` beside this file. The targets "
        f"are {targets}.",
    ]


def _score(row: dict[str, Any], name: str) -> str:
    figures = row.get(name)
    if not figures:
        return "n/a"
    return f"{figures['log_loss']:.4f} ({figures['brier']:.4f})"


def oos_section(oos: dict[str, Any]) -> str:
    lines = [
        f"## Out-of-sample seasons (`python -m bench.oos`, {oos['when']}, {oos['cores']} cores, "
        f"code {oos.get('code', 'not recorded')})",
        "",
        "Families, hyperparameters and gates were chosen on seasons up to 2016-17: every season below is "
        "out-of-sample. Each is `manage.py evaluate --league L --market M --from D --to D --walk-forward "
        "--json`: the model is fitted (family search included) on the games before the season only, then "
        "updated night by night as the scheduled jobs would (warm starts, periodic refits, each behind the "
        "promotion gate), and every game is scored by the model as it stood before the game started. "
        "Line baseline, Elo and the de-vigged closing market are scored on exactly the same games. "
        "Spreads and totals: P(home covers) / P(over) the closing line, pushes left out; the archives hold "
        "no prices for those lines, so the market column is a coin (50%).",
        "",
        "Log loss (Brier in brackets); lower is better.",
        "",
        "| league | market | season | n | model | line baseline | Elo | market (close) | family chosen | why "
        "| target | holds | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in oos["rows"]:
        result = row["evaluate"]
        cells = [row["league"], row["market"], row["season"]]
        if "error" in result:
            cells += ["", "", "", "", "", "", result["error"].replace("|", "/"), row["target"], "not measured", ""]
        else:
            chosen = result.get("chosen") or {}
            n = f"{result['n_games']:,}"
            if result.get("left_out_no_market_price"):
                n += f" ({result['left_out_no_market_price']:,} games without a moneyline left out)"
            cells += [
                n,
                *(_score(result, name) for name in ("model", "baseline", "elo", "market")),
                str(chosen.get("family", "")),
                str(chosen.get("why", "")).replace("|", "/"),
                row["target"],
                {True: "yes", False: "**no**", None: "n/a"}[row["met"]],
                f"{result['seconds']:.0f} s",
            ]
        lines.append(f"| {' | '.join(cells)} |")
    met = sum(1 for r in oos["rows"] if r["met"])
    lines += ["", f"Targets held on {met} of {len(oos['rows'])} rows."]
    line_rows = [r for r in oos["rows"] if (r["evaluate"].get("chosen") or {}).get("family") == "line"]
    if line_rows:
        lines.append(
            f"On {len(line_rows)} of them the search kept the line baseline itself (family `line`): there the "
            "model's forecasts are the baseline's, and the target holds because the model adds nothing."
        )
    for row in oos["rows"]:
        result = row["evaluate"]
        if row["league"] == "NBA" and row["market"] == "h2h" and result.get("market") and result.get("model"):
            gap = result["model"]["log_loss"] - result["market"]["log_loss"]
            lines.append(
                f"NBA h2h {row['season']}: model {gap:+.4f} from the de-vigged close (aim: within 0.005): "
                f"{'met' if gap <= 0.005 else 'not met'}."
            )
    walks = [r for r in oos["rows"] if r["evaluate"].get("updates")]
    if walks:
        lines += ["", "Model updates during the walk-forwards:", ""]
        lines += [
            f"- {r['league']} {r['market']} {r['season']}: "
            + ", ".join(f"{k} {v}" for k, v in r["evaluate"]["updates"].items())
            for r in walks
        ]
    lines += ["", "Commands:", "", *(f"- `{r['command']}`" for r in oos["rows"])]
    return "\n".join(lines)


def training_section(training: dict[str, Any]) -> str:
    rows = training.get("rows", [])
    return "\n".join(
        [
            f"## Training time and warm start (`python -m bench.models`, {training['when']}, "
            f"{training['cores']} cores, best of {training['repeats']}, code {training.get('code', 'not recorded')})",
            "",
            "| what | data | time | note |",
            "|---|---|---|---|",
            *(f"| {' | '.join(row)} |" for row in rows),
            "",
            *(f"- {line}" for line in training.get("verdict", [])),
        ]
    )


def write_models(*, training: dict[str, Any] | None = None, oos: dict[str, Any] | None = None) -> Path:
    """Keep the given part's raw figures in ``results-models.json``, and rewrite the page from both."""
    stored = _load(MODELS_JSON) or {}
    if training is not None:
        stored["training"] = training
    if oos is not None:
        stored["oos"] = oos
    parts = _keep(
        MODELS_JSON,
        stored,
        "Model benchmarks",
        "`python -m bench.models` and `python -m bench.oos`, each also alone",
        "issue 12's",
    )
    parts += ["", oos_section(stored["oos"])] if "oos" in stored else ["", "`python -m bench.oos` has not run yet."]
    parts += (
        ["", training_section(stored["training"])]
        if "training" in stored
        else ["", "`python -m bench.models` has not run yet."]
    )
    MODELS.write_text("\n".join(parts) + "\n")
    return MODELS


# --- bench/results-backtests.md (python -m bench.backtests) ----------------------------------------

BACKTESTS_JSON = HERE / "results-backtests.json"
BACKTESTS = HERE / "results-backtests.md"


def _pct(value: float | None, sign: bool = True) -> str:
    return "n/a" if value is None else format(value, "+.2%" if sign else ".1%")


def _interval(ci: list[float] | None) -> str:
    return f"{_pct(ci[0])} .. {_pct(ci[1])}" if ci else "n/a"


def _blend(result: dict[str, Any]) -> str:
    """The blend weights in force at the end of the window, in words."""
    used = (result.get("blend") or {}).get("weights") or []
    if not used:
        return "none (nothing priced)"
    weights = used[-1]["weights"]
    if weights is None:
        return "the market alone"
    return f"market {weights['w_market']:.2f}, model {weights['w_model']:.2f}"


def _backtest_cells(row: dict[str, Any]) -> list[str]:
    result = row["backtest"]
    cells = [row["league"], row["market"], row["season"], row["at"]]
    if "error" in result:
        return [*cells, *[""] * 10, result["error"].replace("|", "/"), "not measured", "not measured", ""]
    yes = {True: "yes", False: "**no**", None: "n/a"}
    return [
        *cells,
        f"{result['games']:,} ({result['games_priced']:,})",
        _blend(result),
        f"{result['n_bets']:,}",
        f"{result['staked']:,.2f}",
        f"{result['profit']:+,.2f}",
        f"{_pct(result['roi'])} ({_interval(result['roi_ci95'])})",
        _pct(row["lost"], sign=False),
        _pct(result["max_drawdown"], sign=False),
        _pct(row["dd_bound"], sign=False),
        f"{_pct(result['avg_clv'])} ({_interval(result['clv_ci95'])})"
        if result["avg_clv"] is not None
        else "n/a (no bets)",
        row["note"].replace("|", "/"),
        yes[row["loss_ok"]],
        yes[row["dd_ok"]],
        f"{result['seconds']:.0f} s",
    ]


def backtests_section(backtests: dict[str, Any]) -> str:
    rows, stressed = backtests["rows"], backtests["stress"]
    header = [
        "| league | market | season | decide at | games (priced) | blend at the end | bets | staked | profit "
        "| ROI (95% CI) | bankroll lost | max drawdown | bound | average CLV (95% CI) | note "
        f"| lost <= {backtests['max_loss']:.0%} | drawdown <= bound | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines = [
        f"## Default strategy, out-of-sample seasons (`python -m bench.backtests`, {backtests['when']}, "
        f"{backtests['cores']} cores, code {backtests['code']})",
        "",
        "Families, hyperparameters and gates were chosen on seasons up to 2016-17: every season below is "
        "out-of-sample. Each row is `manage.py backtest --league L --market M --from D --to D --at A --json` "
        "with the default strategy (the settings' risk limits, KELLY_FRACTION, MIN_EDGE, DEVIG_METHOD; a "
        "starting bankroll of 10,000): a walk-forward in which each game is decided with the model trained "
        "on earlier games only, blended with the market at decision time by the weights that model was "
        "fitted with, at the best price standing then (`close`: 5 minutes before the start; `open`: the "
        "game's first quote). ROI is the profit over the starting bankroll; bankroll lost is the same "
        "loss as a share of it. Maximum drawdown is from the all-time peak of the end-of-day bankroll; its "
        "bound is MAX_DRAWDOWN_FRACTION + DAILY_EXPOSURE_FRACTION as the run read them from the settings "
        "(the stop plus one day's exposure). CLV is against the close de-vigged by DEVIG_METHOD.",
        "",
        *header,
        *(f"| {' | '.join(_backtest_cells(row))} |" for row in rows),
        "",
        f"Both targets held on {sum(1 for r in rows if r['loss_ok'] and r['dd_ok'])} of {len(rows)} seasons.",
    ]
    idle = [r for r in rows if r["backtest"].get("n_bets") == 0]
    if idle:
        lines.append(
            f"{len(idle)} of them placed no bet, so their targets hold trivially and there is no CLV to "
            "report: "
            + "; ".join(f"{r['league']} {r['market']} {r['season']} at {r['at']} ({_idle_why(r)})" for r in idle)
            + "."
        )
    opens = [r for r in rows if r["at"] == "open" and r["backtest"].get("avg_clv") is not None]
    positive = [f"{r['league']} {r['market']} {r['season']}" for r in opens if r["backtest"]["avg_clv"] > 0]
    aim = "Aim, a strategy with positive average CLV at the opening line: "
    if positive:
        aim += f"met on {', '.join(positive)}."
    elif opens:
        aim += "not met (every season bet at the opening line has a negative or zero average CLV)."
    else:
        aim += "not measured: the default strategy placed no bet at the opening line, so there is no CLV there."
    lines.append(aim)
    lines += [
        "",
        "### Stress: the stop when the strategy does bet",
        "",
        f"The same backtest of {stressed['league']} {stressed['market']} {stressed['season']} with "
        f"{stressed['note']}: every stake sized on the model's own probability, so it bets where the "
        "defaults pass. It shows the drawdown stop holding, not a strategy to use. The command has no flag "
        "for blend weights: the bench calls the services it calls (`backtest_create` with "
        "`params['blend_weights']`, then `backtest_run`).",
        "",
        *header,
        f"| {' | '.join(_backtest_cells(stressed))} |",
    ]
    passes = stressed["backtest"].get("passes") or {}
    if passes:
        lines += ["", "Most common passes: " + "; ".join(f"{k} ({v:,})" for k, v in list(passes.items())[:5]) + "."]
    lines += [
        "",
        "Commands:",
        "",
        *(f"- `{r['command']}`" for r in rows),
        f"- stress: `{stressed['command']}`",
    ]
    return "\n".join(lines)


def _idle_why(row: dict[str, Any]) -> str:
    result = row["backtest"]
    if not result.get("games_priced"):
        return "no game had a price at decision time"
    top = next(iter(result.get("passes") or {}), "")
    return f"most common pass: {top}" if top else "every game passed"


def write_backtests(backtests: dict[str, Any]) -> Path:
    """Keep the raw figures in ``results-backtests.json`` and rewrite the page from them."""
    by = "`python -m bench.backtests`, also alone"
    parts = _keep(BACKTESTS_JSON, backtests, "Backtest benchmarks", by, "issue 13's")
    parts += ["", backtests_section(backtests)]
    BACKTESTS.write_text("\n".join(parts) + "\n")
    return BACKTESTS
