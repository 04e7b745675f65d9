"""Operator endpoints: token, rate limit, audit, input validation; the kill switch and the pipeline
through the real services; the admin login's rate limit."""

from __future__ import annotations

import datetime as dt
import hmac
import itertools
import json
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import responses
from django.core.management import call_command
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from betting.bets.models import Bet
from betting.bets.services import bankroll_open, recommend, risk_limits
from betting.bets.staking import RiskLimits
from betting.games.models import Game
from betting.games.pulls import injuries_pull, odds_pull, scores_pull
from core.http import client as http
from core.models import JobRun, KillSwitch, OpsAudit
from core.ops import switches
from tests.conftest import predict_recorded_nba

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOKEN = "ops-test-token-0123456789abcdefghijklmnop"
KILL = "/ops/kill-switch"
RUN = "/ops/pipeline/run"
_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """On the real stack the cache is the shared Redis: locks (lock:fetch_odds:NBA) and rate-limit
    counts of this test get a prefix of their own, so tests running in parallel never meet."""
    if settings.REDIS_URL:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}}


def fresh_address() -> str:
    """A client address of its own per test: rate-limit counts are per address, and on the real
    stack they live in the shared Redis."""
    n = next(_addresses) + uuid.uuid4().int % 50_000
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture
def ops(settings, time_machine):
    settings.OPS_TOKEN = TOKEN
    settings.OPS_RATE_LIMIT = "100/m"
    settings.BETTING_KILL_SWITCH = False
    # A frozen clock keeps every call of a test in one rate-limit window.
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False)
    return Client(REMOTE_ADDR=fresh_address(), enforce_csrf_checks=True)  # CSRF-exempt: a token API


def post(client: Client, url: str, body: object = None, token: str | None = TOKEN, raw: str | bytes | None = None):
    headers = {"User-Agent": "pytest-ops"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return client.post(url, data=data, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_without_ops_token_the_endpoints_are_disabled(ops, settings):
    settings.OPS_TOKEN = ""
    answer = post(ops, KILL, {"action": "stop"})
    assert answer.status_code == 503
    assert answer.json() == {"error": "operator endpoints are disabled: set OPS_TOKEN"}
    assert not switches.betting_stopped()
    assert OpsAudit.objects.get().outcome == "disabled"


@pytest.mark.django_db
@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN[:-1], TOKEN + "x", TOKEN.upper()])
def test_no_or_wrong_token_is_401_and_nothing_happens(ops, token):
    answer = post(ops, KILL, {"action": "stop", "pause_pulls": True}, token=token)
    assert answer.status_code == 401
    assert "valid token is required" in answer.json()["error"]
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert not KillSwitch.objects.exists() and not switches.betting_stopped()
    run = post(ops, RUN, {}, token=token)
    assert run.status_code == 401 and not JobRun.objects.exists()
    audits = list(OpsAudit.objects.all())
    assert [a.outcome for a in audits] == ["unauthorized", "unauthorized"]
    for audit in audits:
        assert audit.remote_addr and audit.user_agent == "pytest-ops" and audit.status_code == 401
        assert TOKEN not in json.dumps([audit.params, audit.detail, audit.token_fingerprint])
        if token:
            assert audit.token_fingerprint and audit.token_fingerprint not in token


@pytest.mark.django_db
def test_the_token_is_compared_in_constant_time(ops, monkeypatch):
    seen = []
    real = hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr("core.ops.endpoints.hmac.compare_digest", spy)
    assert post(ops, KILL, {"action": "stop"}, token="guess").status_code == 401
    assert post(ops, KILL, {"action": "stop"}).status_code == 200
    assert seen == [(b"guess", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


@pytest.mark.django_db
def test_the_right_token_stops_and_resumes_bets_and_every_call_is_audited(ops):
    answer = post(ops, KILL, {"action": "stop", "reason": "books are wrong tonight"})
    assert answer.status_code == 200, answer.content
    state = answer.json()["state"]
    assert state["betting_stopped"] and state["operator_stopped"] and not state["pulls_paused"]
    assert state["reason"] == "books are wrong tonight" and state["changed_by"].startswith("ops token ")
    assert switches.betting_stopped() and risk_limits().kill_switch
    resumed = post(ops, KILL, {"action": "resume"})
    assert resumed.json()["message"] == "new bets resumed" and not switches.betting_stopped()
    audit = OpsAudit.objects.order_by("created_at", "id").first()
    assert (audit.endpoint, audit.action, audit.outcome, audit.status_code, audit.method) == (
        KILL,
        "stop",
        "accepted",
        200,
        "POST",
    )
    assert audit.params == {"action": "stop", "pause_pulls": None, "reason": "books are wrong tonight"}
    assert len(audit.token_fingerprint) == 12 and audit.token_fingerprint not in TOKEN


@pytest.mark.django_db
def test_the_environment_kill_switch_cannot_be_resumed_from_the_endpoint(ops, settings):
    settings.BETTING_KILL_SWITCH = True
    answer = post(ops, KILL, {"action": "resume"})
    assert answer.status_code == 200
    assert "BETTING_KILL_SWITCH is on in the environment" in answer.json()["message"]
    assert answer.json()["state"]["betting_stopped"] and switches.betting_stopped()


@pytest.mark.django_db
def test_only_post_is_allowed(ops):
    for method in ("get", "put", "delete"):
        answer = getattr(ops, method)(KILL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert answer.status_code == 405 and answer["Allow"] == "POST"
        assert answer.json() == {"error": "only POST is allowed"}
    assert set(OpsAudit.objects.values_list("outcome", flat=True)) == {"not_allowed"}
    assert not KillSwitch.objects.exists()


# Each refusal's message, with the bodies that earn it.
BAD_BODIES: list[tuple[str, tuple[str | bytes, ...], str]] = [
    (KILL, ("{not json", b"\xc3\x28"), "the body is not valid JSON"),
    (KILL, ("[1, 2]", '"stop"'), "the body must be a JSON object"),
    (KILL, ("{}", '{"action": "halt"}', '{"action": 1}'), '"action" must be "stop" or "resume"'),
    (
        KILL, ('{"action": "stop", "pause_pulls": "yes"}', '{"action": "stop", "pause_pulls": 1}'),
        '"pause_pulls" must be true or false',
    ),
    (KILL, ('{"action": "stop", "reason": 5}',), '"reason" must be a string'),
    (KILL, ('{"action": "stop", "reason": "' + "x" * 501 + '"}',), "at most 500 characters"),
    (KILL, ('{"action": "stop", "pause_pull": true}',), "unknown field(s) pause_pull"),
    (RUN, ('{"leagues": "NBA"}', '{"leagues": []}'), '"leagues" must be a non-empty list'),
    (RUN, ('{"leagues": ["NBA; DROP TABLE"]}',), "not a league code"),
    (RUN, ('{"leagues": ["XFL"]}',), "unknown or inactive league(s): XFL"),
    (RUN, ('{"league": ["NBA"]}',), "unknown field(s) league"),
    (RUN, ("{" + '"a": 1,' * 1000 + "}",), "the body is too large"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "raw", "message"),
    [
        *((url, raw, message) for url, bodies, message in BAD_BODIES for raw in bodies),
        pytest.param(KILL, "x" * 3_000_000, "the body is too large", id="over-DATA_UPLOAD_MAX_MEMORY_SIZE"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message_and_changes_nothing(ops, url, raw, message):
    answer = post(ops, url, raw=raw)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not KillSwitch.objects.exists() and not JobRun.objects.exists()
    assert OpsAudit.objects.get().outcome == "invalid"


@pytest.mark.django_db
def test_hammered_past_the_limit_it_answers_429_json_and_audits_it(ops, settings):
    settings.OPS_RATE_LIMIT = "3/m"
    answers = [post(ops, KILL, {"action": "stop"}, token="wrong").status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    limited = post(ops, KILL, {"action": "stop"})  # even the right token, once over the limit
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert limited.json() == {"error": "too many requests: at most 3/m per client address"}
    assert not switches.betting_stopped()
    assert post(ops, RUN, {}).status_code == 429  # one count for both endpoints: nothing is queued
    assert not JobRun.objects.exists()
    other = Client(REMOTE_ADDR=fresh_address())
    assert post(other, KILL, {"action": "resume"}).status_code == 200  # another address is not limited
    outcomes = list(OpsAudit.objects.order_by("id").values_list("endpoint", "outcome"))
    assert outcomes == [(KILL, "unauthorized")] * 3 + [
        (KILL, "rate_limited"),
        (RUN, "rate_limited"),
        (KILL, "accepted"),
    ]


@pytest.mark.django_db
def test_the_kill_switch_works_when_the_rate_limiter_store_is_down(ops, monkeypatch):
    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr("core.ops.endpoints.is_ratelimited", down)
    assert post(ops, KILL, {"action": "stop"}).status_code == 200
    assert switches.betting_stopped()
    assert "rate limiter unavailable" in OpsAudit.objects.get().detail
    assert post(ops, KILL, {"action": "stop"}, token="wrong").status_code == 401


@pytest.mark.django_db
@responses.activate  # no URL registered: a live pull that went out would fail the test
def test_paused_pulls_skip_with_a_reason_and_replays_still_run(ops, reference):
    answer = post(ops, KILL, {"action": "stop", "pause_pulls": True, "reason": "quota nearly gone"})
    assert answer.json()["message"] == "new bets stopped; pulls paused"
    for pull in (odds_pull, scores_pull, injuries_pull):
        result = pull(league_code="NBA")
        assert result.status == "skipped"
        assert result.note == "skipped: pulls paused by the operator: quota nearly gone"
    assert len(responses.calls) == 0
    assert set(JobRun.objects.values_list("status", flat=True)) == {"skipped"}
    replay = odds_pull(league_code="NBA", from_file=FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json")
    assert replay.status == "success"
    # "resume" without pause_pulls leaves the pulls as they are; pause_pulls false starts them again.
    assert post(ops, KILL, {"action": "resume"}).json()["state"]["pulls_paused"] is True
    assert post(ops, KILL, {"action": "resume", "pause_pulls": False}).json()["state"]["pulls_paused"] is False
    assert switches.pulls_paused() == ""


@pytest.mark.django_db
def test_system_checks_of_the_rate_limiter_pass():
    call_command("check", "--tag", "caches", "--fail-level", "WARNING", stdout=StringIO())


# --- Through the real services: the kill switch on the recommend path, the pipeline ---------------


@pytest.fixture
def predicted(seasons, model_dir, settings):
    """Trained NBA h2h, the recorded odds of 2023-12-11 and predictions for that day."""
    predict_recorded_nba(settings)  # the staleness guard widened there: this is about the kill switch
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0}


@pytest.mark.django_db
@responses.activate
@pytest.mark.slow
def test_the_kill_switch_stops_the_recommend_path_and_the_pipeline_runs_end_to_end(
    predicted, settings, time_machine, monkeypatch
):
    from core.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)  # the chain runs here, on the test database
    settings.OPS_TOKEN, settings.OPS_RATE_LIMIT, settings.BETTING_KILL_SWITCH = TOKEN, "100/m", False
    settings.ODDS_API_KEY = "0123456789abcdef0123456789abcdef"
    settings.ODDS_API_BASE_URL, settings.ESPN_BASE_URL = "https://odds.test", "https://espn.test/sports"
    http._forget_sessions()
    responses.get(
        "https://odds.test/v4/sports/basketball_nba/odds",
        body=(FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_bytes(),
    )
    responses.get(
        "https://espn.test/sports/basketball/nba/scoreboard",
        body=(FIXTURES / "nba_scoreboard_2025-10-02_preseason.json").read_bytes(),
    )
    now = dt.datetime(2023, 12, 11, 18, 0, tzinfo=dt.UTC)
    time_machine.move_to(now, tick=False)
    client = Client(REMOTE_ADDR=fresh_address())

    assert post(client, KILL, {"action": "stop", "reason": "test"}).status_code == 200
    bankroll = bankroll_open(name="paper", deposit=Decimal("10000"), mode="PAPER")
    games = list(Game.objects.filter(game_date="2023-12-11"))
    for limits in (risk_limits(), RiskLimits(min_edge=0.0)):  # the second one built without the switch
        recs, _ = recommend(bankroll=bankroll, games=games, now=now, limits=limits, decision_run="t", place=True)
        assert recs and all(r.stake == 0 and "kill switch on" in r.reasons for r in recs)
    stopped = post(client, RUN, {"leagues": ["nba"]})
    assert stopped.status_code == 202, stopped.content
    assert Bet.objects.count() == 0

    assert post(client, KILL, {"action": "resume"}).status_code == 200
    answer = post(client, RUN, {"leagues": ["NBA"]})
    assert answer.status_code == 202
    body = answer.json()
    assert body["eager"] is True and len(body["steps"]) == 3 and body["task_id"] == body["steps"][-1]
    placed = Bet.objects.filter(bankroll__name="paper")
    assert placed.exists() and all(bet.decision_run == "auto-2023-12-11" for bet in placed)
    assert body["eager"] and post(client, RUN, {"leagues": ["NBA"]}).status_code == 202
    assert Bet.objects.count() == placed.count()  # the same side is not bet twice a day
    jobs = set(JobRun.objects.filter(params__pipeline=True).values_list("job", "status"))
    assert jobs == {("predict", "success"), ("recommend", "success")}
    assert JobRun.objects.filter(job="fetch_odds", task_id=body["steps"][0], status="success").exists()
    assert JobRun.objects.filter(job="fetch_scores", task_id=body["steps"][0]).exists()
    audit = OpsAudit.objects.get(endpoint=RUN, detail__contains=body["task_id"])
    assert audit.outcome == "accepted" and audit.status_code == 202 and audit.params == {"leagues": ["NBA"]}


# --- Admin login -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_is_rate_limited_with_a_friendly_page(settings, time_machine, admin_user):
    settings.ADMIN_LOGIN_RATE_LIMIT = "2/m"
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, 0, 30, tzinfo=dt.UTC), tick=False)
    client = Client(REMOTE_ADDR=fresh_address())
    wrong = {"username": "admin", "password": "wrong", "next": "/admin/"}
    assert [client.post("/admin/login/", wrong).status_code for _ in range(2)] == [200, 200]
    limited = client.post("/admin/login/", {**wrong, "password": "password"})
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    html = limited.content.decode()
    assert "Too many login attempts" in html and "Traceback" not in html
    assert "_auth_user_id" not in client.session  # the right password did not get through either
    assert client.get("/admin/login/").status_code == 200  # the form itself still shows
    # The site's own login form shares the count.
    assert client.post("/accounts/login/", wrong).status_code == 429
    other = Client(REMOTE_ADDR=fresh_address())
    assert other.post("/admin/login/", {**wrong, "password": "password"}).status_code == 302


@pytest.mark.django_db
def test_the_admin_lists_operator_calls_read_only_and_sets_the_switch(ops, admin_client):
    post(ops, KILL, {"action": "stop"}, token="wrong")
    listing = admin_client.get("/admin/core/opsaudit/?outcome__exact=unauthorized")
    assert listing.status_code == 200 and "unauthorized" in listing.content.decode().lower()
    audit = OpsAudit.objects.get()
    assert admin_client.get(f"/admin/core/opsaudit/{audit.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/core/opsaudit/{audit.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/core/opsaudit/add/").status_code == 403
    answer = admin_client.post(
        "/admin/core/killswitch/add/", {"betting_stopped": "on", "pulls_paused": "", "reason": "from the admin"}
    )
    assert answer.status_code == 302
    state = switches.switch_state()
    assert state.betting_stopped and not state.pulls_paused and state.changed_by == "admin admin"
    assert "new bets STOPPED" in admin_client.get("/admin/core/killswitch/").content.decode()


@pytest.mark.django_db
def test_a_peer_without_an_address_is_still_answered_and_audited(ops):
    client = Client(REMOTE_ADDR="")  # a Unix-socket proxy that passes no address
    assert post(client, KILL, {"action": "stop"}).status_code == 200
    audit = OpsAudit.objects.get()
    assert audit.remote_addr is None and "rate limiter unavailable" in audit.detail
