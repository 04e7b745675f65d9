"""API keys encrypted at rest: set from standard input, validated, masked, rotated, looked up."""

from __future__ import annotations

import logging
import uuid
from io import StringIO
from pathlib import Path

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from betting.games.pulls import odds_pull
from core.http import client as http
from core.models import ApiCredential, JobRun
from core.ops import secrets
from core.settings.env import fernet_keys, ratelimit_rate
from tests.core.test_settings import SAFE_KEY, run_python

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KEY = "0123456789abcdef0123456789abcdef"  # the shape of an Odds API key: 32 hex characters
OTHER_KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """On the real stack the cache is the shared Redis: locks (lock:fetch_odds:NBA) and rate-limit
    counts of this test get a prefix of their own, so tests running in parallel never meet."""
    if settings.REDIS_URL:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}}


class Tty(StringIO):
    def isatty(self) -> bool:
        return True


def set_key(value: str) -> str:
    out = StringIO()
    call_command("set_api_key", "--provider", "odds_api", stdin=StringIO(value + "\n"), stdout=out)
    return out.getvalue()


@pytest.fixture
def no_env_key(settings):
    settings.ODDS_API_KEY = ""
    return settings


@pytest.mark.django_db
def test_set_api_key_reads_stdin_stores_it_encrypted_and_never_prints_it(no_env_key, caplog):
    caplog.set_level(logging.DEBUG)
    out = set_key(KEY)
    row = ApiCredential.objects.get(provider="odds_api")
    assert KEY not in row.ciphertext and KEY not in out and KEY not in caplog.text
    assert "••••••••cdef" in out and row.masked == "••••••••cdef" and row.last4 == "cdef"
    assert secrets.api_key("odds_api") == KEY
    assert "replaced" in set_key(OTHER_KEY) and secrets.api_key("odds_api") == OTHER_KEY
    assert ApiCredential.objects.count() == 1


@pytest.mark.django_db
def test_set_api_key_never_takes_the_key_from_the_command_line(no_env_key):
    with pytest.raises(CommandError, match="unrecognized arguments"):
        call_command("set_api_key", "--provider", "odds_api", KEY, stdin=StringIO(""))
    assert not ApiCredential.objects.exists()


@pytest.mark.django_db
def test_on_a_terminal_the_key_is_prompted_without_echo(no_env_key, monkeypatch):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or KEY)
    call_command("set_api_key", "--provider", "odds_api", stdin=Tty(), stdout=StringIO())
    assert asked and "not echoed" in asked[0]
    assert secrets.api_key("odds_api") == KEY


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["short-key!", "x" * 31, "k" * 65, "0123456789abcdef 0123456789abcdef", ""])
def test_a_malformed_key_is_refused_with_the_format_and_not_echoed(no_env_key, value):
    with pytest.raises(CommandError) as caught:
        set_key(value)
    message = str(caught.value)
    assert "odds_api key is" in message
    if value:
        assert "expected 32 to 64 letters and digits" in message and value not in message
    assert not ApiCredential.objects.exists()


@pytest.mark.django_db
def test_an_unknown_provider_is_refused(no_env_key):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("set_api_key", "--provider", "bookie", stdin=StringIO(KEY))


@pytest.mark.django_db
def test_the_environment_variable_wins_over_the_stored_key(settings):
    settings.ODDS_API_KEY = ""
    with pytest.raises(secrets.ApiKeyMissing, match=r"ODDS_API_KEY is not set.*set_api_key --provider odds_api"):
        secrets.api_key("odds_api")
    secrets.api_key_store(provider_name="odds_api", value=KEY)
    assert secrets.api_key("odds_api") == KEY and secrets.api_key_source("odds_api") == "database"
    settings.ODDS_API_KEY = OTHER_KEY
    assert secrets.api_key("odds_api") == OTHER_KEY and secrets.api_key_source("odds_api") == "environment"
    out = set_key(KEY)
    assert "ODDS_API_KEY is set in the environment and takes precedence" in out


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_under_the_newest_key(settings, no_env_key):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    secrets.api_key_store(provider_name="odds_api", value=KEY)
    before = ApiCredential.objects.get().ciphertext

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "1 key(s) re-encrypted under the newest key, 0 already under it" in out.getvalue()
    row = ApiCredential.objects.get()
    assert row.ciphertext != before and row.rotated_at is not None

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key retired: the rotated row still decrypts
    assert secrets.api_key("odds_api") == KEY
    again = StringIO()
    call_command("rotate_keys", stdout=again)
    assert "0 key(s) re-encrypted under the newest key, 1 already under it" in again.getvalue()
    assert ApiCredential.objects.get().ciphertext == row.ciphertext
    assert JobRun.objects.filter(job="rotate_keys", status="success").count() == 2


@pytest.mark.django_db
def test_a_wrong_encryption_key_is_a_clear_error_not_a_traceback(settings, no_env_key):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    secrets.api_key_store(provider_name="odds_api", value=KEY)
    stored = ApiCredential.objects.get().ciphertext
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(secrets.DecryptionFailed) as caught:
        secrets.api_key("odds_api")
    assert "FIELD_ENCRYPTION_KEYS" in str(caught.value) and "rotate_keys" in str(caught.value)
    with pytest.raises(CommandError, match="nothing was rotated"):
        call_command("rotate_keys", stdout=StringIO())
    assert ApiCredential.objects.get().ciphertext == stored


@pytest.mark.django_db
@responses.activate
def test_the_odds_pull_uses_the_stored_key_and_never_logs_it(reference, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.ODDS_API_KEY = ""
    settings.ODDS_API_BASE_URL = "https://odds.test"
    http._forget_sessions()
    secrets.api_key_store(provider_name="odds_api", value=KEY)
    url = "https://odds.test/v4/sports/basketball_nba/odds"
    responses.get(url, body=(FIXTURES / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json").read_bytes())
    result = odds_pull(league_code="NBA")
    assert result.status == "success"
    assert responses.calls[0].request.params["apiKey"] == KEY
    assert KEY not in caplog.text


@pytest.mark.django_db
def test_the_admin_shows_the_key_masked_and_never_the_plaintext(admin_client, no_env_key):
    secrets.api_key_store(provider_name="odds_api", value=KEY)
    row = ApiCredential.objects.get()
    listing = admin_client.get("/admin/core/apicredential/").content.decode()
    page = admin_client.get(f"/admin/core/apicredential/{row.pk}/change/").content.decode()
    for html in (listing, page):
        assert "••••••••cdef" in html
        assert KEY not in html and row.ciphertext not in html
    # The key field is write-only: a new key replaces the stored one, and is not shown back.
    answer = admin_client.post(f"/admin/core/apicredential/{row.pk}/change/", {"new_key": OTHER_KEY})
    assert answer.status_code == 302
    assert secrets.api_key("odds_api") == OTHER_KEY
    refused = admin_client.post(f"/admin/core/apicredential/{row.pk}/change/", {"new_key": "not-a-key"})
    assert refused.status_code == 200 and "expected 32 to 64 letters and digits" in refused.content.decode()
    assert "not-a-key" not in refused.content.decode()
    assert secrets.api_key("odds_api") == OTHER_KEY


@pytest.mark.django_db
def test_the_admin_adds_a_key_encrypted(admin_client, no_env_key):
    answer = admin_client.post("/admin/core/apicredential/add/", {"provider": "odds_api", "new_key": KEY})
    assert answer.status_code == 302
    assert KEY not in ApiCredential.objects.get().ciphertext and secrets.api_key("odds_api") == KEY


def test_settings_derive_a_private_local_key_and_production_requires_one(tmp_path):
    probe = (
        "import django; from django.conf import settings; django.setup(); print(len(settings.FIELD_ENCRYPTION_KEYS))"
    )
    local = run_python(probe, "core.settings.local", tmp_path)
    assert local.returncode == 0 and local.stdout.strip() == "1", local.stderr
    assert (tmp_path / "field_encryption_key").stat().st_mode & 0o077 == 0
    env = {"SECRET_KEY": SAFE_KEY, "ALLOWED_HOSTS": "example.com"}
    missing = run_python(probe, "core.settings.production", tmp_path, **env)
    assert missing.returncode != 0 and "FIELD_ENCRYPTION_KEYS must be set in production" in missing.stderr


def test_encryption_keys_and_rates_are_checked_with_the_variable_named():
    two = [Fernet.generate_key().decode(), " " + Fernet.generate_key().decode() + " "]
    assert fernet_keys("FIELD_ENCRYPTION_KEYS", two) == [key.strip() for key in two]
    for bad in (["not-a-key"], [two[0], "c2hvcnQ="]):
        with pytest.raises(ImproperlyConfigured, match="Environment variable FIELD_ENCRYPTION_KEYS is malformed: key"):
            fernet_keys("FIELD_ENCRYPTION_KEYS", bad)
    for good in ("10/m", "100/h", "5/30s", "1000/d"):
        assert ratelimit_rate("OPS_RATE_LIMIT", good) == good
    for bad_rate in ("ten a minute", "5/fortnight", "0/m", "10"):
        with pytest.raises(ImproperlyConfigured, match="Environment variable OPS_RATE_LIMIT is malformed"):
            ratelimit_rate("OPS_RATE_LIMIT", bad_rate)


def test_a_short_ops_token_stops_the_start(tmp_path):
    result = run_python("import django; django.setup()", "core.settings.local", tmp_path, OPS_TOKEN="short")
    assert result.returncode != 0 and "Environment variable OPS_TOKEN is too short" in result.stderr
