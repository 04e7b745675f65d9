"""Settings come from the environment: embedded defaults with none, clear failures when malformed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'], 'cache': settings.CACHES['default']['BACKEND'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, 'debug': settings.DEBUG}))"
)
SAFE_KEY = "k" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789"
FERNET_KEY = "Y2ktb25seS1ub3Qtc2VjcmV0LWNpLW9ubHktbm90LXM="  # base64 of 32 bytes, not a secret


def run_python(code: str, settings: str = "core.settings.local", tmp_path: Path | None = None, **env: str):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_"))}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = settings
    if tmp_path is not None:
        clean["SHARPLINE_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("env", "db", "cache", "eager", "broker"),
    [
        # no environment: the embedded defaults
        ({}, "sqlite3", "locmem.LocMemCache", True, "memory://"),
        # DATABASE_URL and REDIS_URL switch to the real stack
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "REDIS_URL": "redis://127.0.0.1:6379/0"},
            "postgresql",
            "redis.RedisCache",
            False,
            "redis://127.0.0.1:6379/0",
        ),
    ],
    ids=["embedded-defaults", "real-stack"],
)
def test_the_environment_chooses_embedded_defaults_or_the_real_stack(tmp_path, env, db, cache, eager, broker):
    result = run_python(PROBE, tmp_path=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "db": f"django.db.backends.{db}",
        "cache": f"django.core.cache.backends.{cache}",
        "eager": eager,
        "broker": broker,
        "debug": False,
    }
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # generated once, private


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("CONN_MAX_AGE", "sixty"),
        ("DATABASE_URL", "mysql//nohost"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("CELERY_TASK_ALWAYS_EAGER", "2x"),
        ("PULL_MAX_EVENTS", "0"),
    ],
)
def test_a_malformed_variable_fails_at_start_with_its_name(tmp_path, name, value):
    result = run_python(PROBE, tmp_path=tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Environment variable {name} is malformed" in result.stderr


def test_production_refuses_to_start_without_secret_key_or_hosts(tmp_path):
    no_key = run_python(PROBE, "core.settings.production", tmp_path, ALLOWED_HOSTS="example.com")
    assert no_key.returncode != 0 and "SECRET_KEY" in no_key.stderr
    no_hosts = run_python(PROBE, "core.settings.production", tmp_path, SECRET_KEY=SAFE_KEY)
    assert no_hosts.returncode != 0 and "ALLOWED_HOSTS" in no_hosts.stderr


@pytest.mark.slow
def test_production_is_never_in_debug_and_passes_the_deploy_check(tmp_path):
    env = {"SECRET_KEY": SAFE_KEY, "ALLOWED_HOSTS": "example.com", "DEBUG": "true", "FIELD_ENCRYPTION_KEYS": FERNET_KEY}
    probe = run_python(PROBE, "core.settings.production", tmp_path, **env)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout)["debug"] is False
    check = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        "core.settings.production",
        tmp_path,
        **env,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout


def test_a_malformed_cron_names_its_variable(tmp_path):
    result = run_python(PROBE, tmp_path=tmp_path, ODDS_CRON="every ten minutes")
    assert result.returncode != 0
    assert "Environment variable ODDS_CRON is malformed: expected 5 cron fields" in result.stderr
