"""Alerts on new edges: once per edge across replays and pulls, a failing channel recorded, logged
and retried, never failing the pull; quiet hours; health alerts on the same Telegram channel.
Every HTTP call is mocked with `responses`: nothing here reaches the network."""

from __future__ import annotations

import datetime as dt
import json
import logging
from io import StringIO
from pathlib import Path

import pytest
import requests
import responses
import time_machine
from django.core import mail
from django.core.management import call_command

from betting.bets.alerts import edges_alert
from betting.bets.models import Alert
from betting.games.tasks import fetch_odds
from core.health import checks as health
from core.http import client as http
from core.models import JobRun
from tests.games.test_pulls import ODDS_URL, providers  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NBA = FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"
MLB = FIXTURES / "mlb_odds_2024-05-24_us_eu_h2h_american.json"
NBA_AT = dt.datetime(2023, 12, 11, 18, 0, tzinfo=dt.UTC)
MLB_AT = dt.datetime(2024, 5, 24, 20, 0, tzinfo=dt.UTC)
WEBHOOK = "https://hooks.example.com/services/T000/B000/SECRETPATH"
TOKEN = "123456:SECRET-TOKEN"
TELEGRAM = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


@pytest.fixture
def channels(settings):
    settings.ALERT_WEBHOOK_URL = WEBHOOK
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_CHAT_ID = "-100123"
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_QUIET = None
    settings.ALERT_MIN_EV = 0.03
    settings.ALERT_MIN_ARB_MARGIN = 0.0
    settings.ALERT_KINDS = ["positive_ev", "arbitrage", "steam"]
    http._forget_sessions()


def load(path: Path, league: str) -> None:
    extra = ["--odds-format", "american"] if "american" in path.name else []
    call_command("fetch_odds", "--league", league, "--from-file", str(path), *extra, stdout=StringIO())


@pytest.mark.django_db
@responses.activate
def test_each_edge_is_alerted_once_across_replays_and_pulls(reference, channels):
    webhook = responses.post(WEBHOOK, json={"ok": True})
    telegram = responses.post(TELEGRAM, json={"ok": True})
    load(MLB, "MLB")
    summary = edges_alert(league_code="MLB", now=MLB_AT)
    alerts = list(Alert.objects.order_by("kind"))
    assert summary["new"] == len(alerts) == 1 and alerts[0].kind == "arbitrage"  # the +EV price is 2%, under 3%
    assert alerts[0].status == "sent" and alerts[0].channels == {"webhook": "sent", "telegram": "sent", "email": "sent"}
    assert webhook.call_count == telegram.call_count == len(mail.outbox) == 1
    posted = json.loads(webhook.calls[0].request.body)
    assert posted["alerts"][0]["kind"] == "arbitrage" and "betonlineag" in posted["text"]
    # the same pull replayed, then the next run a few minutes later: nothing new, nothing sent
    load(MLB, "MLB")
    assert edges_alert(league_code="MLB", now=MLB_AT)["new"] == 0
    assert edges_alert(league_code="MLB", now=MLB_AT + dt.timedelta(minutes=10))["new"] == 0
    assert Alert.objects.count() == 1 and webhook.call_count == telegram.call_count == len(mail.outbox) == 1


@pytest.mark.django_db
@responses.activate
def test_a_failing_channel_is_recorded_logged_and_retried_after_the_next_pull(reference, channels, caplog):
    failing = responses.post(WEBHOOK, status=500)
    telegram = responses.post(TELEGRAM, json={"ok": True})
    load(MLB, "MLB")
    with caplog.at_level(logging.ERROR):
        edges_alert(league_code="MLB", now=MLB_AT)
    alert = Alert.objects.get()
    assert alert.status == "partial" and alert.attempts == 1 and alert.sent_at == MLB_AT
    assert alert.channels["telegram"] == "sent" and "HTTP 500" in alert.channels["webhook"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook https://hooks.example.com/...: HTTP 500" in logged
    assert "SECRETPATH" not in logged + json.dumps(alert.channels) and "SECRET-TOKEN" not in logged
    responses.replace(responses.POST, WEBHOOK, json={"ok": True})
    edges_alert(league_code="MLB", now=MLB_AT + dt.timedelta(minutes=10))
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.attempts == 2 and alert.channels["webhook"] == "sent"
    assert telegram.call_count == 1 and len(mail.outbox) == 1  # the channels that worked are not repeated
    assert failing.call_count == 1


@pytest.mark.django_db
@responses.activate
def test_failing_channels_never_fail_the_odds_pull(reference, channels, providers, settings, monkeypatch):  # noqa: F811
    from core.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)
    settings.EMAIL_BACKEND = "tests.bets.test_alerts.BrokenEmail"
    responses.get(ODDS_URL, body=NBA.read_bytes())
    responses.post(WEBHOOK, body=requests.ConnectionError("refused"))
    responses.post(TELEGRAM, status=502)
    with time_machine.travel(NBA_AT, tick=False):
        result = fetch_odds.delay("NBA").get()
    assert result["status"] == "success" and result["then"] == "bets.recommend"
    run = JobRun.objects.get(job="alert_edges")
    assert run.status == "success" and run.counts["new"] > 0
    assert set(Alert.objects.values_list("status", flat=True)) == {"failed"}
    assert JobRun.objects.get(job="fetch_odds").status == "success"


class BrokenEmail:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server unreachable")


@pytest.mark.django_db
@responses.activate
def test_quiet_hours_record_edges_without_sending_them(reference, channels, settings):
    settings.ALERT_QUIET = (dt.time(0, 0), dt.time(23, 59))
    load(MLB, "MLB")
    assert edges_alert(league_code="MLB", now=MLB_AT)["quiet"] == 1
    assert Alert.objects.get().status == "quiet" and len(responses.calls) == 0 and mail.outbox == []
    assert edges_alert(league_code="MLB", now=MLB_AT + dt.timedelta(minutes=5))["new"] == 0


@pytest.mark.django_db
def test_no_channel_configured_is_said_on_the_row(reference, settings):
    settings.ALERT_WEBHOOK_URL = settings.TELEGRAM_BOT_TOKEN = ""
    settings.ALERT_EMAILS = []
    settings.ALERT_QUIET = None
    load(MLB, "MLB")
    edges_alert(league_code="MLB", now=MLB_AT)
    assert Alert.objects.get().status == "no_channel"


@responses.activate
def test_health_alerts_go_to_telegram_too(channels, settings):
    settings.ALERT_WEBHOOK_URL = ""
    settings.ALERT_EMAILS = []
    telegram = responses.post(TELEGRAM, json={"ok": True})
    change = {"name": "database", "old_state": "ok", "new_state": "fail", "detail": "connection refused"}
    assert health.alert([change], status="fail")
    sent = json.loads(telegram.calls[0].request.body)
    assert sent["chat_id"] == "-100123" and "database" in sent["text"] and "connection refused" in sent["text"]
