"""On the real stack: a Celery worker process runs a pull end to end against a local HTTP
server, and several processes bursting at one provider stay under its configured rate."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from betting.games.models import Game
from betting.games.tasks import fetch_scores
from tests.core.test_celery_worker import ROOT, running_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = [
    pytest.mark.realstack,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (the real-stack run of .ci/run sets it)"),
]


class Recorder(BaseHTTPRequestHandler):
    body = b""
    hits: list[float] = []

    def do_GET(self) -> None:
        Recorder.hits.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.body = (FIXTURES / "mlb_scoreboard_2025.json").read_bytes()
    Recorder.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sports"
    httpd.shutdown()


def test_a_worker_runs_a_scoreboard_pull_end_to_end(reference, transactional_db, server):
    with running_worker(ESPN_BASE_URL=server) as queue:
        result = fetch_scores.apply_async(args=["MLB", "2025-09-21"], queue=queue).get(timeout=120)
    assert result["status"] == "success"
    assert Game.objects.filter(league__code="MLB").count() == 14
    assert len(Recorder.hits) == 1


BURST_SCRIPT = """
import django, os, sys
django.setup()
from core.http import client as http
for _ in range(int(sys.argv[2])):
    http.get("espn", sys.argv[1] + "/basketball/nba/scoreboard")
"""


def test_several_processes_never_exceed_the_configured_rate(server):
    """Three processes, 12 requests each, one shared bucket: rate 4/s, burst 3."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings.test",
        "ESPN_RATE": "4",
        "ESPN_BURST": "3",
    }
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("sharpline:throttle:espn")  # no tokens left from other tests

    procs = [subprocess.Popen([sys.executable, "-c", BURST_SCRIPT, server, "12"], cwd=ROOT, env=env) for _ in range(3)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    hits = sorted(Recorder.hits)
    assert len(hits) == 36
    for i, start in enumerate(hits):
        for window in (0.5, 1.0, 2.0):
            inside = sum(1 for t in hits[i:] if t - start <= window)
            assert inside <= 3 + 4 * window + 1, (window, inside)
