"""Readiness checks, their history and alerts.

A check is a function marked with ``@health_check(critical=...)`` and named in
``settings.HEALTH_CHECKS`` (the betting apps add theirs there, so ``core`` imports no ``betting``
module). It returns one ``CheckResult`` or several (one per provider, league, model...).

- **Critical** (a failure makes ``/ready`` answer 503, status ``fail``): the database, the cache
  (Redis), the Celery broker and at least one live worker. Without them nothing works.
- **Warnings** (a failure leaves ``/ready`` at 200 with status ``degraded``): beat's last tick, data
  freshness per provider and league, circuit breakers, remaining quota, an active model per
  configured league and market. The site still serves while they are wrong; someone should look.

``run_checks()`` runs them all (an exception inside a check becomes a failed result with its
message, never an error page); ``ready_report()`` reuses a report for ``READY_CACHE_SECONDS``.
The ``core.health_check`` beat job (every minute) records each state change as a ``HealthEvent``
(only on change), logs it and alerts by email and/or webhook; its own run is beat's heartbeat.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict, TypeVar
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import DatabaseError, connection
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from core.celery import app
from core.http import client as http
from core.http.breaker import BreakerError, State
from core.http.throttle import redis_client
from core.models import HealthEvent
from core.observe.signals import heartbeat_key
from core.ops import notify

logger = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
BEAT_TICK_KEY = "health:beat_tick"
STATES_KEY = "health:states"
PENDING_KEY = "health:pending_events"
PENDING_MAX = 500


@dataclass
class CheckResult:
    """One line of the report. ``critical`` is filled in from the check function's mark."""

    name: str
    ok: bool
    detail: str
    data: Mapping[str, object] = field(default_factory=dict)
    critical: bool = False

    @property
    def state(self) -> str:
        if self.ok:
            return OK
        return FAIL if self.critical else WARN

    def as_dict(self, *, detail: bool = True) -> dict[str, object]:
        """``detail=False``: name and state only, for anyone (no host names, no raw errors)."""
        public = {"name": self.name, "ok": self.ok, "state": self.state, "critical": self.critical}
        return {**public, "detail": self.detail, "data": self.data} if detail else public


CheckOutput = CheckResult | Iterable[CheckResult]
CheckFunc = Callable[[], CheckOutput]
F = TypeVar("F", bound=CheckFunc)


def health_check(*, name: str, critical: bool, needs_db: bool = False) -> Callable[[F], F]:
    """Mark a check: its name (for a failure of the check itself), whether a failure is critical,
    and whether it reads the database (skipped, failed, when the database check failed)."""

    def mark(func: F) -> F:
        func.health_name = name  # type: ignore[attr-defined]
        func.health_critical = critical  # type: ignore[attr-defined]
        func.health_needs_db = needs_db  # type: ignore[attr-defined]
        return func

    return mark


@dataclass
class Report:
    results: list[CheckResult]
    checked_at: dt.datetime
    seconds: float

    @property
    def status(self) -> str:
        if any(not r.ok and r.critical for r in self.results):
            return FAIL
        if any(not r.ok for r in self.results):
            return "degraded"
        return OK

    @property
    def http_status(self) -> int:
        return 503 if self.status == FAIL else 200

    def as_dict(self, *, detail: bool = True) -> dict[str, object]:
        """``detail=False`` (an anonymous probe): the status and each check's name and state; what
        each check saw (worker host names, connection errors) only with ``detail``."""
        return {
            "status": self.status,
            "checked_at": self.checked_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "checks": [r.as_dict(detail=detail) for r in self.results],
        }

    def result(self, name: str) -> CheckResult | None:
        return next((r for r in self.results if r.name == name), None)


def run_checks() -> Report:
    started = time.perf_counter()
    results: list[CheckResult] = []
    database_ok = True
    for path in settings.HEALTH_CHECKS:
        func: CheckFunc = import_string(path)
        name = getattr(func, "health_name", path.rsplit(".", 1)[-1])
        critical = bool(getattr(func, "health_critical", False))
        if getattr(func, "health_needs_db", False) and not database_ok:
            output: CheckOutput = CheckResult(name, False, "not checked: the database is unreachable")
        else:
            try:
                output = func()
            except Exception as exc:  # a broken check is reported as failed, never turned into a 500
                logger.exception("health check %s raised", name)
                output = CheckResult(name, False, f"the check itself failed: {type(exc).__name__}: {exc}")
        produced = [output] if isinstance(output, CheckResult) else list(output)
        for result in produced:
            result.critical = critical
        if name == "database":
            database_ok = all(r.ok for r in produced)
        results.extend(produced)
    return Report(results, timezone.now(), time.perf_counter() - started)


_cached: tuple[float, Report] | None = None
_cache_lock = threading.Lock()


def ready_report() -> Report:
    """The latest report when younger than ``READY_CACHE_SECONDS``, else a fresh one. Kept in this
    process, not in the cache: the cache may be what is down."""
    global _cached
    ttl = float(settings.READY_CACHE_SECONDS)
    with _cache_lock:
        if ttl > 0 and _cached is not None and time.monotonic() - _cached[0] < ttl:
            return _cached[1]
        report = run_checks()
        _cached = (time.monotonic(), report)
        return report


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class WorkerBeat(TypedDict):
    """A worker's heartbeat as the status page shows it: its age in seconds and the queues it consumes."""

    name: str
    age: float
    queues: list[str]


class Change(TypedDict):
    """A check's state change: a ``HealthEvent`` row's fields (``at`` in ISO form, so that the ones
    waiting in the cache while the database is down stay JSON)."""

    name: str
    old_state: str
    new_state: str
    detail: str
    critical: bool
    at: str


# --- Critical checks ------------------------------------------------------------------------


@health_check(name="database", critical=True)
def check_database() -> CheckResult:
    started = time.perf_counter()
    error: DatabaseError | None = None
    # Twice at most: a persistent connection the server dropped (a restart) fails once, then a new one answers.
    for _ in range(2):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            error = exc
            if connection.in_atomic_block:
                break  # inside a transaction (tests): closing would lose it
            connection.close()
            continue
        return CheckResult("database", True, f"{connection.vendor} answered", {"ms": _ms(started)})
    return CheckResult("database", False, f"{type(error).__name__}: {str(error).strip()[:300]}")


@health_check(name="cache", critical=True)
def check_cache() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult("cache", True, "in-process cache (embedded mode: REDIS_URL is not set)")
    started = time.perf_counter()
    try:
        redis_client(settings.REDIS_URL).ping()
    except redis.RedisError as exc:
        return CheckResult("cache", False, f"Redis unreachable: {exc}")
    return CheckResult("cache", True, "Redis answered", {"ms": _ms(started)})


@health_check(name="broker", critical=True)
def check_broker() -> CheckResult:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult("broker", True, "tasks run in-process (embedded mode: eager, no broker)")
    started = time.perf_counter()
    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except (OperationalError, OSError) as exc:
        return CheckResult("broker", False, f"broker unreachable: {exc}")
    scheme = urlsplit(settings.CELERY_BROKER_URL).scheme
    return CheckResult("broker", True, f"{scheme} broker answered", {"ms": _ms(started)})


def worker_heartbeats() -> list[WorkerBeat]:
    """Workers that wrote a heartbeat (``core.observe.signals``), newest first, with their age."""
    client = redis_client(settings.REDIS_URL)
    raw: dict[bytes, bytes] = client.hgetall(heartbeat_key())  # type: ignore[assignment]
    now = time.time()
    workers: list[WorkerBeat] = []
    for host, value in raw.items():
        entry = json.loads(value)
        age = max(0.0, now - float(entry.get("at", 0)))
        if age > 86400:  # a worker gone for a day (killed without shutdown): forget it
            client.hdel(heartbeat_key(), host.decode())
            continue
        workers.append(WorkerBeat(name=host.decode(), age=round(age, 1), queues=entry.get("queues", [])))
    return sorted(workers, key=lambda w: w["age"])


@health_check(name="workers", critical=True)
def check_workers() -> CheckResult:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult("workers", True, "tasks run in-process (embedded mode: eager, no worker needed)")
    max_age = float(settings.READY_WORKER_MAX_AGE_SECONDS)
    if not settings.REDIS_URL:
        # A broker without Redis (RabbitMQ): ask the workers directly instead of reading heartbeats.
        replies = app.control.ping(timeout=1.0) or []
        names = sorted(name for reply in replies for name in reply)
        if not names:
            return CheckResult("workers", False, "no worker answered a ping within 1 s")
        return CheckResult("workers", True, f"{len(names)} worker(s) answered", {"workers": names})
    try:
        workers = worker_heartbeats()
    except redis.RedisError as exc:
        return CheckResult("workers", False, f"heartbeats unreadable: {exc}")
    live = [w for w in workers if w["age"] <= max_age]
    data: dict[str, object] = {"workers": workers, "max_age": max_age}
    if not live:
        last = f"; the last one {workers[0]['age']:.0f} s ago" if workers else ""
        return CheckResult("workers", False, f"no worker heartbeat within {max_age:.0f} s{last}", data)
    queues = sorted({q for w in live for q in w["queues"]})
    live_names = ", ".join(w["name"] for w in live)
    return CheckResult("workers", True, f"{len(live)} live: {live_names} (queues {', '.join(queues)})", data)


# --- Warnings -------------------------------------------------------------------------------


def record_beat_tick() -> None:
    cache.set(BEAT_TICK_KEY, time.time(), timeout=None)


@health_check(name="beat", critical=False)
def check_beat() -> CheckResult:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult("beat", True, "no beat in embedded mode (eager tasks): schedules do not run")
    try:
        tick = cache.get(BEAT_TICK_KEY)
    except (redis.RedisError, OSError) as exc:
        return CheckResult("beat", False, f"last tick unreadable: {exc}")
    max_age = float(settings.READY_BEAT_MAX_AGE_SECONDS)
    if tick is None:
        return CheckResult("beat", False, "no tick yet: the health job (core.health_check) has never run")
    age = max(0.0, time.time() - float(tick))
    data = {"last_tick": dt.datetime.fromtimestamp(float(tick), tz=dt.UTC).isoformat(), "age": round(age, 1)}
    if age > max_age:
        return CheckResult("beat", False, f"stale: the last tick was {age:.0f} s ago (limit {max_age:.0f} s)", data)
    return CheckResult("beat", True, f"last tick {age:.0f} s ago", data)


@health_check(name="breakers", critical=False)
def check_breakers() -> list[CheckResult]:
    results = []
    for provider in http.providers():
        name = f"breaker:{provider}"
        try:
            state = http.breaker_state(provider)
        except BreakerError as exc:
            results.append(CheckResult(name, False, f"state unreadable: {exc}"))
            continue
        data = {
            "state": str(state.state),
            "failures": state.failures,
            "opened_at": state.opened_at.isoformat() if state.opened_at else None,
        }
        if state.state == State.CLOSED:
            results.append(CheckResult(name, True, "closed", data))
        else:
            since = f" since {state.opened_at:%Y-%m-%d %H:%M} UTC" if state.opened_at else ""
            error = f": {state.last_error[:200]}" if state.last_error else ""
            results.append(CheckResult(name, False, f"{state.state}{since}{error}", data))
    return results


@health_check(name="quota", critical=False)
def check_quota() -> list[CheckResult]:
    floor = int(settings.READY_QUOTA_WARN)
    results = []
    for provider in http.providers():
        name = f"quota:{provider}"
        try:
            entry = http.quota(provider)
        except (redis.RedisError, OSError) as exc:
            results.append(CheckResult(name, False, f"quota unreadable: {exc}"))
            continue
        remaining = (entry or {}).get("remaining")
        if remaining is None:
            results.append(CheckResult(name, True, "no quota reported"))
        elif remaining < floor:
            results.append(
                CheckResult(name, False, f"{remaining} requests left (warning under {floor})", dict(entry or {}))
            )
        else:
            results.append(CheckResult(name, True, f"{remaining} requests left", dict(entry or {})))
    return results


# --- History and alerts ---------------------------------------------------------------------


def _previous_states() -> dict[str, str]:
    """The states the last run saw: from the cache (written every run, so an outage of the database
    does not make the next run forget what it alerted about), else the newest event per check."""
    try:
        states: dict[str, str] | None = cache.get(STATES_KEY)
    except (redis.RedisError, OSError):
        states = None
    if states is not None:
        return states
    latest = HealthEvent.objects.values("name").annotate(last=Max("pk")).values("last")
    return dict(HealthEvent.objects.filter(pk__in=latest).values_list("name", "new_state"))


def record_transitions(report: Report) -> list[Change]:
    """Each check whose state changed since the last run, written as a ``HealthEvent`` (events that
    cannot be written while the database is down wait in the cache for the next run)."""
    try:
        previous = _previous_states()
    except DatabaseError as exc:
        logger.error("health: previous states unreadable, no transitions recorded: %s", exc)
        return []
    changes = [
        Change(
            name=r.name,
            old_state=previous.get(r.name, ""),
            new_state=r.state,
            detail=r.detail[:2000],
            critical=r.critical,
            at=report.checked_at.isoformat(),
        )
        for r in report.results
        if previous.get(r.name) != r.state
    ]
    current = {**previous, **{r.name: r.state for r in report.results}}
    try:
        pending: list[Change] = cache.get(PENDING_KEY) or []
        cache.set(STATES_KEY, current, timeout=None)
    except (redis.RedisError, OSError) as exc:
        logger.error("health: states not kept in the cache: %s", exc)
        pending = []
    unwritten = pending + changes
    if unwritten:
        try:
            HealthEvent.objects.bulk_create(
                HealthEvent(**{**e, "at": dt.datetime.fromisoformat(e["at"])}) for e in unwritten
            )
            if pending:
                cache.delete(PENDING_KEY)
        except DatabaseError as exc:
            logger.error("health: %d event(s) not written yet (database): %s", len(unwritten), exc)
            try:
                cache.set(PENDING_KEY, unwritten[-PENDING_MAX:], timeout=None)
            except (redis.RedisError, OSError):
                logger.error("health: events lost: neither the database nor the cache is reachable")
    for change in changes:
        log = logger.info if change["new_state"] == OK else logger.warning
        log(
            "health: %s %s -> %s: %s",
            change["name"],
            change["old_state"] or "(new)",
            change["new_state"],
            change["detail"],
            extra={"health_check": change["name"], "health_state": change["new_state"]},
        )
    return changes


def alert(changes: list[Change], *, status: str) -> list[Change]:
    """Tell the operator about changes (a check first seen healthy is no news). Email to
    ``ALERT_EMAILS`` and a JSON POST to ``ALERT_WEBHOOK_URL`` when set; failures are logged and
    never raised. Returns the changes alerted about."""
    news = [c for c in changes if c["old_state"] or c["new_state"] != OK]
    if not news:
        return []
    lines = [f"{c['name']}: {c['old_state'] or 'new'} -> {c['new_state']}: {c['detail']}" for c in news]
    subject = f"Sharpline health {status}: " + ", ".join(f"{c['name']} {c['new_state']}" for c in news[:5])
    if len(news) > 5:
        subject += f" and {len(news) - 5} more"
    body = "\n".join(lines)
    if settings.ALERT_EMAILS:
        _send_email(subject, body)
    if settings.ALERT_WEBHOOK_URL:
        _post_webhook({"text": f"{subject}\n{body}", "status": status, "events": news})
    if "telegram" in notify.configured():
        notify.send("telegram", subject=subject, text=body)  # logs its own failure, never raises
    return news


def _send_email(subject: str, body: str) -> None:
    try:
        send_mail(subject[:250], body, settings.DEFAULT_FROM_EMAIL, settings.ALERT_EMAILS, fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        logger.error("health: alert email not sent: %s", exc)


def _post_webhook(payload: dict[str, object]) -> None:
    url = settings.ALERT_WEBHOOK_URL
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}/..."  # webhook paths carry their secret (Slack, Telegram)
    timeout = float(settings.ALERT_WEBHOOK_TIMEOUT)
    try:
        response = http.session_for("alerts").post(url, json=payload, timeout=(timeout, timeout))
        response.raise_for_status()
    except requests.RequestException as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        reason = f"HTTP {status}" if status else type(exc).__name__
        logger.error("health: alert webhook %s failed: %s", shown, reason)


def health_job() -> dict[str, str | int]:
    """What the beat job does: tick, check, record changes, alert."""
    try:
        record_beat_tick()
    except (redis.RedisError, OSError) as exc:
        logger.error("health: beat tick not recorded: %s", exc)
    report = run_checks()
    changes = record_transitions(report)
    alerted = alert(changes, status=report.status)
    return {"status": report.status, "changes": len(changes), "alerted": len(alerted)}
