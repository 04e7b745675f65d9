"""Tools for the fault-injection tests: a private redis-server that can be killed and restarted,
real Celery worker processes that can be SIGKILLed, a provider that misbehaves on demand, and a
TCP proxy in front of PostgreSQL that can be cut.

Nothing here touches the shared PostgreSQL or Redis servers: the Redis a test kills is its own
(a fresh ``redis-server`` on a free port), and the database "goes down" by closing the proxy the
worker connects through.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def real_stack() -> None:
    """Skip unless the run is on PostgreSQL and Redis (the real-stack configuration of .ci/run)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL and PostgreSQL (the real-stack run of .ci/run)")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll until ``predicate()`` is truthy; return the seconds it took, fail after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


# --- A private Redis ---------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a free port, in memory only; ``kill()`` and ``start()`` at will."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sharpline-faults-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 10, f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    real_stack()
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- Real Celery workers -----------------------------------------------------------------------


def database_url(port: int | None = None) -> str:
    """The test database's URL, optionally through another port (the cuttable proxy)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = "127.0.0.1" if port is not None else (db["HOST"] or "127.0.0.1")
    return f"postgres://{db['USER']}{password}@{host}:{port or db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A ``celery worker`` process on the test database and a given Redis, serving ``queue``."""

    def __init__(self, *, redis_url: str, queue: str, pool: str = "solo", **extra_env: str) -> None:
        self.queue = queue
        self.log = tempfile.NamedTemporaryFile(prefix="sharpline-worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
        env.update(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="core.settings.test", CONN_MAX_AGE="0")
        env.update(REDIS_URL=redis_url, **extra_env)
        command = [sys.executable, "-m", "celery", "-A", "core", "worker", "-Q", queue, "--pool", pool,
                   "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
                   "--hostname", f"{uuid.uuid4().hex[:8]}@faults", "--loglevel", "INFO"]  # fmt: skip
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> float:
        took = wait_for(lambda: " ready." in self.output() or self.process.poll() is not None, timeout, "worker")
        assert self.process.poll() is None, f"the worker did not start:\n{self.output()[-3000:]}"
        return took

    def kill(self) -> None:
        """SIGKILL the whole worker (its pool children too): nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        output = self.output()
        Path(self.log.name).unlink(missing_ok=True)
        return output


@pytest.fixture
def workers() -> Iterator[Callable[..., Worker]]:
    """``workers(redis_url=..., queue=..., **env)`` starts a worker; all are stopped at the end."""
    started: list[Worker] = []

    def start(**kwargs: str) -> Worker:
        worker = Worker(**kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def celery_app(redis_url: str) -> Celery:
    """A client-side Celery app on ``redis_url`` (the worker's broker and result backend)."""
    app = Celery("faults", broker=redis_url, backend=redis_url)
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
    return app


# --- A provider that misbehaves ----------------------------------------------------------------


class Provider:
    """A local HTTP server. ``mode``: ``ok`` (the body), ``error`` (500), ``hang`` (sleeps past any
    timeout), ``slow`` (sleeps ``delay`` then answers), ``block`` (waits for ``release``)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.mode = "ok"
        self.delay = 0.0
        self.hits: list[tuple[float, str]] = []
        self.release = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.hits.append((time.monotonic(), self.path))
                mode = provider.mode
                try:
                    if mode == "error":
                        self.send_response(500)
                        self.send_header("Content-Length", "5")
                        self.end_headers()
                        self.wfile.write(b"error")
                        return
                    if mode == "hang":
                        time.sleep(provider.delay or 5)
                    elif mode == "slow":
                        time.sleep(provider.delay)
                    elif mode == "block":
                        provider.release.wait(60)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(provider.body)))
                    self.end_headers()
                    self.wfile.write(provider.body)
                except OSError:
                    pass  # the client gave up (timeout) or died

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def provider() -> Iterator[Callable[[bytes], Provider]]:
    made: list[Provider] = []

    def make(body: bytes) -> Provider:
        server = Provider(body)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


# --- A cuttable path to PostgreSQL -------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database server. ``cut()`` drops every connection and
    refuses new ones (as a database that went down); ``restore()`` lets them through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = threading.Event()
        self.up.set()
        self.refused = 0
        self.accepted = 0
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                with self._lock:
                    self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()
