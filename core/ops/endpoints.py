"""Operator endpoints for break-glass use, and the admin login's rate limit.

``POST /ops/pipeline/run`` queues ingest -> predict -> recommend now; ``POST /ops/kill-switch``
stops or resumes new bets and optionally pauses provider pulls. Both:

- answer only POST (405 otherwise) with JSON, and are CSRF-exempt (a token API, no cookies);
- are rate limited per client address first (django-ratelimit, ``OPS_RATE_LIMIT``; 429), so
  guessing tokens is limited too;
- need ``Authorization: Bearer <OPS_TOKEN>``, compared in constant time (401 without it, and
  nothing happens); with ``OPS_TOKEN`` unset they are off (503);
- validate their JSON body strictly (400 naming the problem; unknown fields are refused, so a
  typo cannot be silently ignored);
- leave an ``OpsAudit`` row for every call, whatever its outcome: never the token, only a keyed
  fingerprint of the one presented.

When the rate limiter's store (Redis) cannot be reached, or refuses writes (full), the limits still
hold: each process counts on its own (``ProcessLimiter``), so a client gets at most the rate per
web process instead of the rate overall, and the endpoints still work (the kill switch must work
during an outage); the audit row says so. The login forms count the same way. Failing closed
instead would lock staff out of the admin exactly when they need it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypedDict

from celery import chain
from celery.result import AsyncResult
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from core.celery import app
from core.errors import SharplineError
from core.models import OpsAudit
from core.ops.switches import switch_set

logger = logging.getLogger(__name__)

Outcome = OpsAudit.Outcome
MAX_BODY = 4096
LEAGUE_CODE_MAX = 10
P = ParamSpec("P")

# A JSON object: the request body an endpoint takes, the body it answers, the params it audits.
JSONObject = dict[str, object]


class BadInput(SharplineError):
    """The request body is not what the endpoint takes; the message says what is wrong."""


@dataclass
class Answer:
    status: int
    body: JSONObject
    outcome: str
    action: str = ""
    params: JSONObject = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _client_ip(request: HttpRequest) -> str | None:
    """The peer's address when it is one (behind a Unix-socket proxy it may be empty)."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


class ProcessLimiter:
    """Fixed-window counts per group and client address in this process: the fallback when the
    shared store fails. At most ``max_keys`` addresses are counted at once; past that (a flood from
    many addresses while Redis is down) a new address is refused until the window turns."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, group: str, key: str, rate: str) -> bool:
        """Count one request; True when it is over ``rate`` ("5/m", "10/30s")."""
        limit, period = _split_rate(rate)
        window = int(time.time() // period)
        with self._lock:
            start, count = self._counts.get((group, key), (window, 0))
            if start != window:
                count = 0
            if (group, key) not in self._counts and len(self._counts) >= self.max_keys:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
                if len(self._counts) >= self.max_keys:
                    return True
            self._counts[(group, key)] = (window, count + 1)
            return count + 1 > limit

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _split_rate(rate: str) -> tuple[int, int]:
    """``"5/m"`` -> (5, 60), ``"5/30s"`` -> (5, 30): the rates django-ratelimit reads
    (core.settings.env.ratelimit_rate validates them at start)."""
    match = re.fullmatch(r"(\d+)/(\d*)([smhd])", rate.strip())
    if match is None:
        raise ImproperlyConfigured(f"not a rate: {rate!r}")
    return int(match[1]), int(match[2] or 1) * _UNITS[match[3]]


PROCESS_LIMITER = ProcessLimiter()
_STORE_WARNED: dict[str, float] = {}
FALLBACK_NOTE = "rate limiter unavailable: counted in this process"
NO_ADDRESS_NOTE = "rate limiter unavailable: no client address"


def _limited(request: HttpRequest, *, group: str, rate: str) -> tuple[bool, str]:
    """Count this request against the client address: ``(over the limit, note)``. In the shared
    store (Redis) when it answers (note empty); else in this process (``PROCESS_LIMITER``). A peer
    without an address (a Unix-socket proxy) is not counted: all of them would share one count."""
    address = _client_ip(request)
    if address is None:
        return False, NO_ADDRESS_NOTE
    try:
        return bool(is_ratelimited(request, group=group, key="ip", rate=rate, increment=True)), ""
    except (RedisError, OSError) as exc:  # down, or full and refusing writes
        now = time.monotonic()
        if now - _STORE_WARNED.get(group, -60.0) >= 60.0:  # once a minute per group and process
            _STORE_WARNED[group] = now
            logger.warning("rate limiter store for %s unavailable, counting in this process: %s", group, exc)
        return PROCESS_LIMITER.hit(group, address, rate), FALLBACK_NOTE
    except (ValueError, ImproperlyConfigured) as exc:
        logger.warning("rate limiter for %s unavailable, letting the request through: %s", group, exc)
        return False, "rate limiter unavailable"


def token_fingerprint(token: str) -> str:
    """Keyed hash of a presented token (HMAC with SECRET_KEY): tells tokens apart, reveals none."""
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def _bearer(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_valid(presented: str, expected: str) -> bool:
    """Constant-time comparison: how long it takes says nothing about how much was right."""
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def _json_body(request: HttpRequest) -> JSONObject:
    too_large = f"the body is too large: at most {MAX_BODY} bytes"
    try:
        raw = request.body
    except RequestDataTooBig:  # over DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it
        raise BadInput(too_large) from None
    if len(raw) > MAX_BODY:
        raise BadInput(too_large)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadInput("the body must be a JSON object")
    return data


def _only(data: JSONObject, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _error(
    status: int,
    outcome: str,
    message: str,
    *,
    action: str = "",
    params: JSONObject | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    return Answer(status, {"error": message}, outcome, action=action, params=params or {}, headers=headers or {})


def ops_endpoint(
    name: str,
) -> Callable[[Callable[[JSONObject, str], Answer]], Callable[[HttpRequest], HttpResponse]]:
    """Wrap an action ``(body, token_fingerprint) -> Answer`` in the limit, the method check,
    the token check, the body parsing and the audit."""

    def wrap(action: Callable[[JSONObject, str], Answer]) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @never_cache
        def view(request: HttpRequest) -> HttpResponse:
            presented = _bearer(request)
            fingerprint = token_fingerprint(presented) if presented else ""
            # One count per client address for both endpoints: guesses at the token add up.
            limited, note = _limited(request, group="ops", rate=settings.OPS_RATE_LIMIT)
            answer = _decide(request, action, presented, fingerprint, limited)
            detail = answer.body.get("error") or answer.body.get("message") or ""
            if note:
                detail = f"{detail} ({note})".strip()
            OpsAudit.objects.create(
                endpoint=request.path[:100],
                action=answer.action[:40],
                outcome=answer.outcome,
                status_code=answer.status,
                method=(request.method or "")[:10],
                remote_addr=_client_ip(request),
                token_fingerprint=fingerprint,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                params=answer.params,
                detail=str(detail) + _task_note(answer.body),
            )
            response = JsonResponse(answer.body, status=answer.status)
            for header, value in answer.headers.items():
                response[header] = value
            return response

        view.__name__ = view.__qualname__ = f"ops_{name.replace('-', '_')}"
        return view

    return wrap


def _task_note(body: JSONObject) -> str:
    return f" task {body['task_id']}" if body.get("task_id") else ""


def _decide(
    request: HttpRequest,
    action: Callable[[JSONObject, str], Answer],
    presented: str,
    fingerprint: str,
    limited: bool,
) -> Answer:
    if limited:
        return _error(
            429,
            Outcome.RATE_LIMITED,
            f"too many requests: at most {settings.OPS_RATE_LIMIT} per client address",
            headers={"Retry-After": "60"},
        )
    if request.method != "POST":
        return _error(405, Outcome.NOT_ALLOWED, "only POST is allowed", headers={"Allow": "POST"})
    expected = settings.OPS_TOKEN
    if not expected:
        return _error(503, Outcome.DISABLED, "operator endpoints are disabled: set OPS_TOKEN")
    if not presented or not token_valid(presented, expected):
        message = "a valid token is required: Authorization: Bearer <OPS_TOKEN>"
        return _error(401, Outcome.UNAUTHORIZED, message, headers={"WWW-Authenticate": 'Bearer realm="ops"'})
    try:
        body = _json_body(request)
        return action(body, fingerprint)
    except BadInput as exc:
        return _error(400, Outcome.INVALID, str(exc))


# --- The endpoints -------------------------------------------------------------------------------


def _leagues(body: JSONObject) -> list[str] | None:
    leagues = body.get("leagues")
    if leagues is None:
        return None
    if not isinstance(leagues, list) or not leagues or not all(isinstance(code, str) for code in leagues):
        raise BadInput('"leagues" must be a non-empty list of league codes, e.g. ["NBA"]')
    codes = sorted({code.strip().upper() for code in leagues})
    if any(not code.isalnum() or len(code) > LEAGUE_CODE_MAX for code in codes):
        raise BadInput('"leagues" holds something that is not a league code (letters and digits, e.g. NBA)')
    # By a dotted path in the settings, not an import: core knows no sports (ARCHITECTURE, import rules).
    known = set(import_string(settings.OPS_PIPELINE_LEAGUES)(codes))
    missing = [code for code in codes if code not in known]
    if missing:
        raise BadInput(f"unknown or inactive league(s): {', '.join(missing)}")
    return codes


class Queued(TypedDict):
    task_id: str  # the last step's
    steps: list[str]  # every step's task id, first to last
    eager: bool


def pipeline_queue(leagues: list[str] | None, *, queue: str | None = None) -> Queued:
    """Queue the chain ingest -> predict -> recommend (the tasks named in ``OPS_PIPELINE_TASKS``, by
    name: core imports no betting module). ``queue`` overrides the routing of every step."""
    app.autodiscover_tasks(force=True)  # eager mode runs the tasks here: they must be registered
    options = {"queue": queue} if queue else {}
    first, *rest = settings.OPS_PIPELINE_TASKS
    steps = chain(
        app.signature(first, kwargs={"leagues": leagues}, options=options),
        *(app.signature(name, options=options) for name in rest),
    )
    result = steps.apply_async()
    ids = []
    node = result.parent
    ids.append(result.id)
    while isinstance(node, AsyncResult):  # a chain's parents: each an AsyncResult (EagerResult in eager mode)
        ids.append(node.id)
        node = node.parent
    return {"task_id": result.id, "steps": ids[::-1], "eager": bool(app.conf.task_always_eager)}


@ops_endpoint("pipeline-run")
def pipeline_run(body: JSONObject, fingerprint: str) -> Answer:
    _only(body, {"leagues"})
    leagues = _leagues(body)
    params: JSONObject = {"leagues": leagues}
    try:
        queued = pipeline_queue(leagues)
    except Exception as exc:  # the broker or (eager) a step failed: say so, keep the cause
        logger.exception("the pipeline could not be queued")
        return _error(503, Outcome.FAILED, f"the pipeline could not be queued: {type(exc).__name__}: {exc}",
                      action="run", params=params)  # fmt: skip
    message = "pipeline queued: ingest -> predict -> recommend"
    logger.warning(
        "operator (token %s) queued the pipeline for %s: task %s",
        fingerprint,
        leagues or "all leagues",
        queued["task_id"],
    )
    return Answer(202, {"message": message, **queued}, Outcome.ACCEPTED, action="run", params=params)


@ops_endpoint("kill-switch")
def kill_switch(body: JSONObject, fingerprint: str) -> Answer:
    _only(body, {"action", "pause_pulls", "reason"})
    action = body.get("action")
    if not isinstance(action, str) or action not in ("stop", "resume"):
        raise BadInput('"action" must be "stop" or "resume"')
    pause = body.get("pause_pulls")
    if pause is not None and not isinstance(pause, bool):
        raise BadInput('"pause_pulls" must be true or false')
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise BadInput('"reason" must be a string of at most 500 characters')
    params: JSONObject = {"action": action, "pause_pulls": pause, "reason": reason}
    state = switch_set(
        betting_stopped=action == "stop", pulls_paused=pause, reason=reason.strip(), by=f"ops token {fingerprint}"
    )
    if action == "stop":
        message = "new bets stopped"
    elif state.env_kill_switch:
        message = "operator stop cleared, but BETTING_KILL_SWITCH is on in the environment: bets stay stopped"
    else:
        message = "new bets resumed"
    if pause is not None:
        message += "; pulls paused" if pause else "; pulls running"
    logger.warning("operator (token %s) kill switch: %s (%s)", fingerprint, message, reason or "no reason given")
    return Answer(200, {"message": message, "state": state.as_dict()}, Outcome.ACCEPTED, action=action, params=params)


# --- Login rate limit ----------------------------------------------------------------------------


def login_rate_limited(
    view: Callable[Concatenate[HttpRequest, P], HttpResponseBase], *, template: str = "admin/login_rate_limited.html"
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A login view whose POSTs are limited per client address (ADMIN_LOGIN_RATE_LIMIT, one count
    shared by every login form it wraps); over the limit a friendly 429 page, not the form."""

    def limited_view(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        rate = settings.ADMIN_LOGIN_RATE_LIMIT
        if request.method == "POST" and _limited(request, group="login", rate=rate)[0]:
            logger.warning("login rate limit reached by %s on %s", _client_ip(request), request.path)
            context = {**admin.site.each_context(request), "title": "Too many login attempts", "rate": rate}
            response = render(request, template, context, status=429)
            response["Retry-After"] = "60"
            return response
        return view(request, *args, **kwargs)

    return limited_view


def admin_login(request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponseBase:
    """The admin site's own login view, rate limited."""
    return login_rate_limited(admin.site.login)(request, extra_context)
