"""The operator's channels: a webhook (JSON POST to ALERT_WEBHOOK_URL), a Telegram bot
(TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID) and email (ALERT_EMAILS). Health alerts and edge alerts both
go through here. A channel that fails is logged and reported to the caller, never raised: an alert
must not break the work that raised it. Secrets (the webhook's path, the bot token) never reach a
log line or a returned error."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail

from core.http.client import session_for

logger = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_MAX_CHARS = 4096  # Telegram's limit on one message
CHANNELS = ("webhook", "telegram", "email")


def configured() -> list[str]:
    """The channels whose settings are present, in a fixed order."""
    present = {
        "webhook": bool(settings.ALERT_WEBHOOK_URL),
        "telegram": bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID),
        "email": bool(settings.ALERT_EMAILS),
    }
    return [name for name in CHANNELS if present[name]]


def send(channel: str, *, subject: str, text: str, payload: Mapping[str, object] | None = None) -> str | None:
    """Send on one channel; None when it went, else the reason (no secret in it), also logged."""
    sender = {"webhook": _webhook, "telegram": _telegram, "email": _email}.get(channel)
    if sender is None:
        raise ValueError(f"unknown alert channel {channel!r}: choose one of {', '.join(CHANNELS)}")
    error = sender(subject, text, payload or {})
    if error:
        logger.error("alerts: %s failed: %s", channel, error)
    return error


def _timeout() -> tuple[float, float]:
    seconds = float(settings.ALERT_WEBHOOK_TIMEOUT)
    return seconds, seconds


def _http_reason(exc: requests.RequestException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


def _webhook(subject: str, text: str, payload: Mapping[str, object]) -> str | None:
    parts = urlsplit(settings.ALERT_WEBHOOK_URL)
    shown = f"{parts.scheme}://{parts.netloc}/..."  # webhook paths carry their secret (Slack)
    try:
        response = session_for("alerts").post(
            settings.ALERT_WEBHOOK_URL, json={"text": f"{subject}\n{text}", **payload}, timeout=_timeout()
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        return f"webhook {shown}: {_http_reason(exc)}"
    return None


def _telegram(subject: str, text: str, payload: Mapping[str, object]) -> str | None:
    message = f"{subject}\n{text}"
    if len(message) > TELEGRAM_MAX_CHARS:
        message = message[: TELEGRAM_MAX_CHARS - 1] + "…"
    url = f"{TELEGRAM_API}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
    body = {"chat_id": settings.TELEGRAM_CHAT_ID, "text": message, "disable_web_page_preview": True}
    try:
        response = session_for("alerts").post(url, json=body, timeout=_timeout())
        response.raise_for_status()
    except requests.RequestException as exc:
        return f"telegram: {_http_reason(exc)}"  # the URL holds the token: never shown
    return None


def _email(subject: str, text: str, payload: Mapping[str, object]) -> str | None:
    try:
        send_mail(subject[:250], text, settings.DEFAULT_FROM_EMAIL, settings.ALERT_EMAILS, fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        return f"email: {type(exc).__name__}: {exc}"
    return None
