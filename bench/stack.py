"""What the benchmarks and the load test share: a scratch PostgreSQL database, gunicorn with the
production settings, and a threaded HTTP client that reports throughput, latency percentiles and
every error. No Django import at module level: the callers choose the settings first.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
# The scratch database's name: ``BENCH_DATABASE`` lets two runs on one server keep apart.
SCRATCH = os.environ.get("BENCH_DATABASE") or "sharpline_bench"
# ``make bench-quick`` (``python -m bench --quick``): the same steps on smaller inputs.
QUICK = os.environ.get("BENCH_QUICK") == "1"


# --- Databases -----------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(with_database(url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute(sql)
    finally:
        connection.close()


def server_of(url: str | None) -> str:
    """The PostgreSQL server of ``url``, or the local one when ``url`` is not PostgreSQL."""
    return url if url and url.startswith(("postgres://", "postgresql://")) else LOCAL_SERVER


@contextlib.contextmanager
def scratch_database(server_url: str | None = None, name: str = SCRATCH, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (dropped first if a crashed run left it), dropped at the end: empty,
    or a copy of ``template`` (`seed_database`)."""
    server = server_of(server_url)
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield with_database(server, name)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The seed: the migrated database with the demo data, kept between quick runs ------------------


def seed_name(name: str = SCRATCH) -> str:
    return f"{name}_seed"


def fingerprint(label: str, paths: Iterable[Path]) -> str:
    """A digest of ``label``, the installed packages (names and versions) and the files ``paths``
    (names and contents): what a result kept between runs was made from."""
    digest = hashlib.sha256(label.encode())
    site = sorted(p.name for p in Path(sys.prefix).glob("lib/python*/site-packages/*.dist-info"))
    digest.update("\n".join(site).encode())
    for path in sorted(p for p in paths if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def seed_fingerprint(*, quick: bool) -> str:
    """What the loaded database depends on: the migrations, the installed packages, the settings,
    the games app that imports the data (commands, parsers, reference files), the demo files and
    this module. A seed made from other inputs is not used."""
    inputs = [
        *ROOT.glob("betting/*/migrations/*.py"),
        *ROOT.glob("core/migrations/*.py"),
        *ROOT.glob("core/settings/*.py"),
        *(ROOT / "betting" / "games").rglob("*"),
        *DEMO.rglob("*"),
        Path(__file__),
    ]
    return fingerprint("quick" if quick else "full", inputs)


def _query(url: str, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    import psycopg2

    connection = psycopg2.connect(with_database(url, "postgres"))
    try:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        connection.close()


def seed_database(server_url: str | None, fingerprint: str, name: str = SCRATCH) -> str | None:
    """The seed of ``name`` when one was kept from the same inputs (``fingerprint``), else None."""
    seed = seed_name(name)
    rows = _query(
        server_of(server_url),
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [seed],
    )
    return seed if rows and rows[0][0] == fingerprint else None


def keep_seed(server_url: str | None, fingerprint: str, name: str = SCRATCH) -> str:
    """A copy of the freshly loaded ``name`` kept as its seed, marked with ``fingerprint``: the next
    run with the same inputs starts from it instead of migrating and loading again."""
    server, seed = server_of(server_url), seed_name(name)
    _admin(server, f'DROP DATABASE IF EXISTS "{seed}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{seed}" TEMPLATE "{name}"')
    _admin(server, f"COMMENT ON DATABASE \"{seed}\" IS '{fingerprint}'")  # hex digits only
    return seed


class StepFailed(RuntimeError):
    """A bench step's command failed: the command and its own output, for the reader to see as is."""

    def __init__(self, command: Sequence[str], returncode: int, output: str) -> None:
        self.command, self.returncode, self.output = list(command), returncode, output
        tail = "\n".join(output.rstrip().splitlines()[-60:])
        super().__init__(f"`{' '.join(self.command)}` exited with {returncode}; its output:\n{tail}")


def manage(*args: str, env: dict[str, str], quiet: bool = True) -> subprocess.CompletedProcess[str]:
    """``manage.py *args``; raises ``StepFailed`` with the command's own output when it fails."""
    process = _run([PYTHON, "manage.py", *args], env, quiet=quiet)
    if process.returncode != 0:
        raise StepFailed(["manage.py", *args], process.returncode, process.stdout or "")
    return process


def _run(command: list[str], env: dict[str, str], quiet: bool = True) -> subprocess.CompletedProcess[str]:
    """``command`` from the repository's root; quiet: its output (stderr included) captured."""
    out = subprocess.PIPE if quiet else None
    err = subprocess.STDOUT if quiet else None
    return subprocess.run(command, cwd=ROOT, env=env, check=False, text=True, stdout=out, stderr=err)


# One Django process running management commands in turn, as ``manage.py`` would run each
# (``call_command`` parses the same arguments), without paying Django's start for every one.
_MANAGE_ALL = """
import json, sys
import django
django.setup()
from django.core.management import call_command
for args in json.loads(sys.argv[1]):
    print("== manage.py " + " ".join(args), flush=True)
    call_command(*args)
"""


def manage_all(commands: Sequence[Sequence[str]], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``manage.py`` each of ``commands`` in turn, in one process; ``StepFailed`` with the output of
    the run (each command's own after its ``== manage.py ...`` line) when one fails."""
    process = _run([PYTHON, "-c", _MANAGE_ALL, json.dumps([list(c) for c in commands])], env)
    if process.returncode != 0:
        failed = [line[3:] for line in process.stdout.splitlines() if line.startswith("== manage.py ")][-1:]
        raise StepFailed(failed or ["manage.py (several commands)"], process.returncode, process.stdout)
    return process


def stack_env(database_url: str, redis_url: str, settings: str = "core.settings.local", **extra: str) -> dict[str, str]:
    """The environment of a process on the real stack (PostgreSQL + Redis)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE=settings, LOG_LEVEL="WARNING")
    env.update(extra)
    return env


DEMO = ROOT / "data" / "demo"
NBA_PULL = DEMO / "odds_api" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB_PULL = DEMO / "odds_api" / "mlb_odds_2024-05-24_us_eu_h2h_american.json"
# The quick run's NBA seasons: three to train on, 2017-18 to test and backtest.
QUICK_NBA_SEASONS = ("2014-15", "2015-16", "2016-17", "2017-18")


def demo_files(pattern: str, seasons: Sequence[str] = ()) -> list[str]:
    """The bundled files matching ``pattern`` under data/demo (whatever their extension: a season
    may ship as .csv or .xlsx), only those naming one of ``seasons`` when given. An empty match is
    an error: the step would measure nothing."""
    files = sorted(DEMO.glob(pattern))
    if seasons:
        files = [f for f in files if any(season in f.name for season in seasons)]
    if not files:
        raise FileNotFoundError(f"no demo file matches {DEMO / pattern} (seasons {', '.join(seasons) or 'all'})")
    return [str(f) for f in files]


def load_demo(env: dict[str, str], *, quick: bool = False) -> list[str]:
    """The demo data the benchmarks read, imported into the (empty) database of ``env``, migrated
    first, from the files in data/demo, as ``make demo-data`` imports them (no models are trained:
    the benchmarks train their own); the commands run in one process (`manage_all`). Quick: the NBA
    seasons 2014-15..2017-18 and the recorded NBA pull. Returns what was loaded, in words."""
    nba_sbr = demo_files("nba/sbr/nba_odds_*", QUICK_NBA_SEASONS if quick else ())
    commands = [
        ["migrate", "--noinput"],
        ["sync_teams"],
        ["import_history", "--league", "NBA", "--format", "sbr", "--no-progress", *nba_sbr],
    ]
    loaded = [f"NBA {len(nba_sbr)} SBR season(s)"]
    if not quick:
        kaggle = demo_files("nba/kaggle/*.csv")
        mlb = demo_files("mlb/sbr/*.csv")
        commands += [
            ["import_history", "--league", "NBA", "--format", "kaggle", "--no-progress", *kaggle],
            ["import_history", "--league", "MLB", "--format", "sbr", "--no-progress", *mlb],
        ]
        loaded += ["NBA Kaggle 2007-08..2017-18 and 2022-23..2024-25", f"MLB {len(mlb)} SBR season(s)"]
    commands.append(["fetch_odds", "--league", "NBA", "--from-file", str(NBA_PULL)])
    loaded.append("the recorded NBA Odds API pull of 2023-12-11")
    if not quick:
        commands.append(["fetch_odds", "--league", "MLB", "--odds-format", "american", "--from-file", str(MLB_PULL)])
        loaded.append("the recorded MLB pull of 2024-05-24")
    manage_all(commands, env)
    analyze(env["DATABASE_URL"])
    loaded.append("table statistics (ANALYZE)")
    return loaded


def analyze(database_url: str) -> None:
    """``ANALYZE`` the freshly loaded database. Production runs autovacuum, which gathers these
    statistics soon after a bulk load; this machine's PostgreSQL has it off, and without them the
    planner scans all quotes for the Today page's fingerprint (about 50 ms instead of 0.3 ms), a
    plan production never runs."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    finally:
        connection.close()


# --- gunicorn with the production settings ---------------------------------------------------------


def production_env(database_url: str, redis_url: str, settings: str = "core.settings.production") -> dict[str, str]:
    """Production settings with throwaway secrets. Requests carry ``X-Forwarded-Proto: https``, as
    behind the TLS proxy production runs behind, so ``SECURE_SSL_REDIRECT`` stays on."""
    static_root = ROOT / "var" / "bench-static"
    return stack_env(
        database_url,
        redis_url,
        settings,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        STATIC_ROOT=str(static_root),
        LOG_FORMAT="plain",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def collect_static(env: dict[str, str]) -> None:
    """``collectstatic`` into the STATIC_ROOT of ``env``, unless the files there were collected from
    the same inputs (the static folder, the settings, the installed packages and the finder that
    serves Plotly): the page and API steps, and the next runs, serve the files already collected."""
    root = env.get("STATIC_ROOT")
    stamp = Path(root).with_name(Path(root).name + ".collected") if root else None  # beside it, not served
    inputs = [*(ROOT / "static").rglob("*"), *ROOT.glob("core/settings/*.py"), *ROOT.glob("bench/settings.py")]
    made_from = fingerprint(env.get("DJANGO_SETTINGS_MODULE", ""), [*inputs, ROOT / "core" / "web" / "pages.py"])
    if stamp is not None and stamp.is_file() and stamp.read_text() == made_from:
        return
    manage("collectstatic", "--noinput", env=env)
    if stamp is not None:
        stamp.write_text(made_from)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 3) -> Iterator[str]:
    """``gunicorn core.wsgi`` as the image runs it (sync workers, WEB_CONCURRENCY default 3), its
    static files collected first (`collect_static`)."""
    collect_static(env)
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="sharpline-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    command = [str(Path(PYTHON).with_name("gunicorn")), "core.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--access-logfile", os.devnull, "--error-logfile", log.name,
               "--timeout", "60"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if fetch(base, "/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{Path(log.name).read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        Path(log.name).unlink(missing_ok=True)


HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "sharpline-bench"}


def fetch(base: str, path: str, timeout: float = 60, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``path`` with ``HEADERS`` (and ``headers``, e.g. an API token's ``Authorization``)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("GET", path, headers={**HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- Load -----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    seconds: float  # from the start until the last request answered
    paths: list[str]
    planned: float = 0.0  # how long new requests were sent
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    by_path: dict[str, list[float]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def failures(self) -> int:
        """Anything but a 200: 5xx, 4xx, redirects, and connection errors and timeouts."""
        return sum(n for status, n in self.statuses.items() if status != 200) + sum(self.errors.values())

    @property
    def rps(self) -> float:
        return sum(n for status, n in self.statuses.items() if status == 200) / self.seconds

    def percentile(self, q: float, path: str | None = None) -> float:
        values = self.latencies if path is None else self.by_path.get(path, [])
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def summary(self) -> dict[str, object]:
        per_path = {
            path: {
                "requests": len(values),
                "p50_ms": round(self.percentile(50, path) * 1000, 1),
                "p95_ms": round(self.percentile(95, path) * 1000, 1),
                "p99_ms": round(self.percentile(99, path) * 1000, 1),
            }
            for path, values in self.by_path.items()
        }
        return {
            "per_path": per_path,
            "clients": self.clients,
            "planned_seconds": round(self.planned, 1),
            "seconds": round(self.seconds, 1),
            "paths": self.paths,
            "requests": self.requests,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p95_ms": round(self.percentile(95) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if self.latencies else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "failures": self.failures,
        }


def hammer(
    base: str,
    paths: Sequence[str],
    *,
    clients: int,
    seconds: float,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
    requests: int | None = None,
) -> LoadResult:
    """``clients`` threads, each requesting ``paths`` in turn, one request at a time, for ``seconds``
    (or until each has sent ``requests``, when given), with ``headers`` added to each request.

    Every request is timed from connect to the last byte; a status other than 200, a connection
    error or a timeout counts as a failure. Requests still running at the end are waited for.
    """
    result = LoadResult(clients=clients, seconds=seconds, paths=list(paths), planned=seconds)
    lock = threading.Lock()
    start_gate = threading.Event()
    stop_at = [0.0]

    def client(offset: int) -> None:
        latencies: list[float] = []
        timed: dict[str, list[float]] = {}
        statuses: dict[int, int] = {}
        errors: dict[str, int] = {}
        start_gate.wait()
        n = offset
        while time.monotonic() < stop_at[0] and (requests is None or n - offset < requests):
            path = paths[n % len(paths)]
            n += 1
            started = time.monotonic()
            try:
                status, _ = fetch(base, path, timeout=timeout, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            latencies.append(time.monotonic() - started)
            timed.setdefault(path, []).append(latencies[-1])
            statuses[status] = statuses.get(status, 0) + 1
        with lock:
            result.latencies.extend(latencies)
            for path, values in timed.items():
                result.by_path.setdefault(path, []).extend(values)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count
            for name, count in errors.items():
                result.errors[name] = result.errors.get(name, 0) + count

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    start_gate.set()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result


def last_json_line(text: str) -> dict[str, object]:
    """The JSON object a bench subprocess prints last: on one line, or indented over the last lines
    (``manage.py backtest --json``)."""
    lines = text.strip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip().startswith("{"):
            continue
        for candidate in (lines[i], "\n".join(lines[i:])):
            try:
                loaded: dict[str, object] = json.loads(candidate)
            except ValueError:
                continue
            return loaded
    raise ValueError(f"no JSON result in the output:\n{text[-2000:]}")


def code_version() -> str:
    """The commit the figures were measured on, and whether the working tree differed from it."""
    git = shutil.which("git")
    if git is None:
        return "unknown (no git)"
    head = subprocess.run([git, "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True, check=False)
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    status = [git, "status", "--porcelain", "--untracked-files=no"]
    dirty = subprocess.run(status, cwd=ROOT, text=True, capture_output=True, check=False).stdout.strip()
    return head.stdout.strip() + (" + uncommitted changes" if dirty else "")


def manage_json(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """``manage.py *args`` whose output ends in JSON (``--json``): that object with its wall time in
    ``seconds``, or ``{"error": ..., "seconds": ...}`` with the command's last lines."""
    started = time.perf_counter()
    process = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=True, check=False
    )
    seconds = round(time.perf_counter() - started, 1)
    if process.returncode != 0:
        # Loud: the failing command and its own output, on stderr (``python -m bench`` shows it as is).
        print(StepFailed(["manage.py", *args], process.returncode, process.stdout + process.stderr), file=sys.stderr)
        tail = " ".join((process.stdout + process.stderr).strip().splitlines()[-2:])[:300]
        return {"error": f"exit {process.returncode} after {seconds} s: {tail}", "seconds": seconds}
    try:
        result: dict[str, Any] = dict(last_json_line(process.stdout))
    except ValueError as exc:
        print(f"`manage.py {' '.join(args)}` printed no JSON result:\n{process.stdout[-3000:]}", file=sys.stderr)
        return {"error": str(exc)[:300], "seconds": seconds}
    result["seconds"] = seconds
    return result
