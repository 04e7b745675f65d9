"""Alerts on new edges, after each odds pull: the scanner's findings above the alert thresholds that
were never alerted before become `Alert` rows (keyed by the edge, so a replay or the next pull adds
nothing) and one message per run on every configured channel (core/ops/notify.py). A channel that fails
is recorded on the rows and tried again after the next pull, up to ALERT_MAX_ATTEMPTS, while the game
has not started; it never fails the pull. In quiet hours (ALERT_QUIET_HOURS) edges are recorded, not sent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from betting.bets import scanner
from betting.bets.edges import edges_scan
from betting.bets.models import Alert
from core.ops import notify

MAX_LINES = 40  # per message; the rest are counted


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: str
    game_id: int
    text: str
    payload: dict[str, scanner.Json]  # the scanner's item, as `scan --json` writes it


def _key(*parts: object, player: str = "") -> str:
    """The edge's name. A prop's player is part of it (two players on one line are two edges); game
    markets have none, so their keys are the ones alerts were already stored under."""
    named = (*parts, player) if player else parts
    return hashlib.sha256(json.dumps(named, default=str).encode()).hexdigest()


def _signed(point: float | None, market: str) -> str:
    if point is None:
        return ""
    return f" {point:+g}" if market == "spreads" else f" {point:g}"


def alert_candidates(
    result: scanner.ScanResult, *, min_ev: float, min_arb_margin: float, kinds: list[str]
) -> list[Candidate]:
    """The findings worth a message, each with the key that names it. A +EV price is one edge per
    game, market, side, line and book (a moved price is not news); an arbitrage per line and books;
    a middle per its two points and books; steam per line, direction and first move."""
    found: list[Candidate] = []
    payloads = result.as_json()
    if "positive_ev" in kinds:
        for e, data in zip(result.positive_ev, payloads["positive_ev"], strict=True):
            if e.ev >= min_ev:
                key = _key("positive_ev", e.game_id, e.market, e.side, e.point, e.book, player=e.player)
                text = (
                    f"+EV {e.ev:+.1%}: {e.away} at {e.home}, {e.market} {e.side}{_signed(e.point, e.market)} "
                    f"at {e.book} {e.price:g} (fair {e.fair_prob:.1%})"
                )
                found.append(Candidate(key, "positive_ev", e.game_id, text, data))
    if "arbitrage" in kinds:
        for a, data in zip(result.arbitrage, payloads["arbitrage"], strict=True):
            if a.margin >= min_arb_margin:
                key = _key(
                    "arbitrage", a.game_id, a.market, a.point, [(leg.side, leg.book) for leg in a.legs], player=a.player
                )
                legs = " + ".join(f"{leg.side} at {leg.book} {leg.price:g} ({leg.stake:.2f})" for leg in a.legs)
                text = f"Arbitrage {a.margin:.2%}: {a.away} at {a.home}, {a.market}{_signed(a.point, 'totals')}: {legs}"
                found.append(Candidate(key, "arbitrage", a.game_id, text, data))
    if "middles" in kinds:
        for m, data in zip(result.middles, payloads["middles"], strict=True):
            key = _key(
                "middles", m.game_id, m.market, [(leg.side, leg.point, leg.book) for leg in m.legs], player=m.player
            )
            legs = " + ".join(f"{leg.side} {leg.point:g} at {leg.book} {leg.price:g}" for leg in m.legs)
            text = f"Middle {m.width:g} wide: {m.away} at {m.home}, {m.market}: {legs}"
            found.append(Candidate(key, "middles", m.game_id, text, data))
    if "steam" in kinds:
        for s, data in zip(result.steam, payloads["steam"], strict=True):
            key = _key("steam", s.game_id, s.market, s.side, s.first_book, s.first_at.isoformat(), player=s.player)
            text = (
                f"Steam: {s.away} at {s.home}, {s.market} towards {s.side}: {len(s.books)} books "
                f"from {s.first_at:%H:%M} UTC, {s.first_book} first"
            )
            found.append(Candidate(key, "steam", s.game_id, text, data))
    return found


def quiet(now: dt.datetime) -> bool:
    """Whether ``now`` falls in ALERT_QUIET_HOURS (DISPLAY_TIME_ZONE; a window may cross midnight)."""
    if not settings.ALERT_QUIET:
        return False
    start, end = settings.ALERT_QUIET
    local = now.astimezone(ZoneInfo(settings.DISPLAY_TIME_ZONE)).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def alerts_record(candidates: list[Candidate], *, now: dt.datetime) -> list[Alert]:
    """Create the rows of the candidates never alerted before; returns those rows (the new ones)."""
    by_key = {c.key: c for c in candidates}
    known = set(Alert.objects.filter(key__in=list(by_key)).values_list("key", flat=True))
    fresh = [
        Alert(key=c.key, kind=c.kind, game_id=c.game_id, text=c.text, payload=c.payload, created_at=now)
        for key, c in by_key.items()
        if key not in known
    ]
    Alert.objects.bulk_create(fresh, ignore_conflicts=True)  # a concurrent run's row wins; not sent twice
    return list(Alert.objects.filter(key__in=[a.key for a in fresh], status=Alert.Status.PENDING, attempts=0))


def alerts_deliver(alerts: list[Alert], *, now: dt.datetime, channels: list[str] | None = None) -> dict[str, int]:
    """One message with these alerts on each channel (all configured, or ``channels``); the outcome
    is written on every row: sent, partial (some channels failed) or failed."""
    targets = notify.configured() if channels is None else channels
    if not alerts:
        return {}
    if not targets:
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(status=Alert.Status.NO_CHANNEL)
        return {"no_channel": len(alerts)}
    lines = [a.text for a in alerts[:MAX_LINES]]
    if len(alerts) > MAX_LINES:
        lines.append(f"... and {len(alerts) - MAX_LINES} more on /edges")
    subject = f"Sharpline: {len(alerts)} new edge{'s' if len(alerts) != 1 else ''}"
    payload = {"alerts": [{"kind": a.kind, "game_id": a.game_id, **a.payload} for a in alerts]}
    errors = {name: notify.send(name, subject=subject, text="\n".join(lines), payload=payload) for name in targets}
    counts: dict[str, int] = {}
    for alert in alerts:
        alert.channels = {**alert.channels, **{name: error or "sent" for name, error in errors.items()}}
        failed = [name for name, state in alert.channels.items() if state != "sent"]
        alert.status = (
            Alert.Status.SENT
            if not failed
            else (Alert.Status.FAILED if len(failed) == len(alert.channels) else Alert.Status.PARTIAL)
        )
        alert.attempts += 1
        if alert.sent_at is None and any(error is None for error in errors.values()):
            alert.sent_at = now
        counts[alert.status] = counts.get(alert.status, 0) + 1
    Alert.objects.bulk_update(alerts, ["channels", "status", "attempts", "sent_at"])
    return counts


def alerts_retry(*, now: dt.datetime, game_ids: list[int] | None = None) -> dict[str, int]:
    """Send again, on the channels that failed, the alerts of games not yet started that have tries left."""
    retry = Alert.objects.filter(
        status__in=[Alert.Status.FAILED, Alert.Status.PARTIAL],
        attempts__lt=settings.ALERT_MAX_ATTEMPTS,
        game__start_time__gt=now,
    )
    if game_ids is not None:
        retry = retry.filter(game_id__in=game_ids)
    by_channels: dict[tuple[str, ...], list[Alert]] = {}
    for alert in retry.order_by("created_at"):
        failed = tuple(name for name, state in alert.channels.items() if state != "sent")
        by_channels.setdefault(failed, []).append(alert)
    counts: dict[str, int] = {}
    for failed, alerts in by_channels.items():
        for status, n in alerts_deliver(alerts, now=now, channels=list(failed)).items():
            counts[status] = counts.get(status, 0) + n
    return counts


class AlertSummary(TypedDict):
    """``edges_alert``'s counts: the candidates, the new ones and, of those, how many were sent
    per outcome (or held back in quiet hours), and the retried ones per outcome."""

    candidates: int
    new: int
    retried: dict[str, int]
    quiet: NotRequired[int]
    sent: NotRequired[dict[str, int]]


def edges_alert(*, league_code: str | None = None, now: dt.datetime | None = None) -> AlertSummary:
    """After an odds pull: scan, record the new edges, send them (unless quiet), retry failed ones."""
    now = now or timezone.now()
    found = edges_scan(at=now, league=league_code)
    candidates = alert_candidates(
        found.result,
        min_ev=settings.ALERT_MIN_EV,
        min_arb_margin=settings.ALERT_MIN_ARB_MARGIN,
        kinds=list(settings.ALERT_KINDS),
    )
    # earlier failures first, so an alert that fails now is tried again after the next pull, not twice now
    retried = alerts_retry(now=now, game_ids=list(found.games))
    fresh = alerts_record(candidates, now=now)
    summary: AlertSummary = {"candidates": len(candidates), "new": len(fresh), "retried": retried}
    if quiet(now):
        Alert.objects.filter(pk__in=[a.pk for a in fresh]).update(status=Alert.Status.QUIET)
        summary["quiet"] = len(fresh)
    else:
        summary["sent"] = alerts_deliver(fresh, now=now)
    return summary
