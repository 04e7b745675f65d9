"""Backups and their restore: the data and the boosters come back, a damaged or unconfirmed
restore changes nothing, old backups are pruned."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from io import StringIO

import psycopg2
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from betting.games.models import League, Team, TeamAlias
from betting.predictions.models import ModelVersion
from core.models import HealthEvent, JobRun
from core.ops import backup

BOOSTER = b"UBJSON booster bytes \x00\x01\x02"


@pytest.fixture
def stored(settings, tmp_path, nba):
    """Backups and boosters in temporary folders; a user, a job, an event, a model and its file."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MODEL_DIR = tmp_path / "models"
    (settings.MODEL_DIR / "NBA").mkdir(parents=True)
    (settings.MODEL_DIR / "NBA" / "h2h_20250101_000000.ubj").write_bytes(BOOSTER)
    get_user_model().objects.create_user("operator", password="pw-not-secret-123", is_staff=True)
    JobRun.objects.create(job="fetch_odds", status="success", params={"league": "NBA"}, counts={"quotes": 12})
    HealthEvent.objects.create(name="database", old_state="ok", new_state="fail", detail="refused", critical=True)
    ModelVersion.objects.create(
        league=nba, market="h2h", version="20250101_000000", kind="full", status="active", is_active=True,
        feature_set_version="1", features=["elo_diff"], feature_hash="x", params={}, n_train=100,
        trained_until=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), artifact="NBA/h2h_20250101_000000.ubj",
    )  # fmt: skip
    return settings


def snapshot():
    return {
        "leagues": sorted(League.objects.values_list("code", flat=True)),
        "teams": Team.objects.count(),
        "aliases": TeamAlias.objects.count(),
        "users": sorted(get_user_model().objects.values_list("username", "is_staff")),
        "jobs": sorted(JobRun.objects.exclude(job__in=["backup", "restore"]).values_list("job", "counts")),
        "events": list(HealthEvent.objects.values_list("name", "old_state", "new_state", "critical")),
        "models": list(ModelVersion.objects.values_list("league__code", "market", "version", "is_active")),
    }


def test_dumpdata_backup_round_trips_into_an_emptied_database(stored, transactional_db):
    before = snapshot()
    assert before["teams"] > 25 and before["users"] == [("operator", True)]
    out = StringIO()
    call_command("backup", "--method", "dumpdata", stdout=out)
    [path] = backup.backups()
    assert f"Backup written to {path} (dumpdata" in out.getvalue()
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["database"]["method"] == "dumpdata"
    assert set(manifest["files"]) == {"database.json.gz", "models.tar.gz"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    assert JobRun.objects.get(job="backup").status == "success"
    booster = stored.MODEL_DIR / "NBA" / "h2h_20250101_000000.ubj"
    booster.unlink()

    call_command("restore", str(path), "--yes", "--flush", stdout=StringIO())

    assert snapshot() == before
    assert booster.read_bytes() == BOOSTER
    # The backup's own run, dumped while running, comes back finished; the restore is on record.
    assert JobRun.objects.get(job="backup").status == "success"
    assert JobRun.objects.get(job="restore").params == {"path": str(path)}


def test_restore_changes_nothing_without_yes_or_from_a_damaged_backup(stored):
    call_command("backup", "--method", "dumpdata", stdout=StringIO())
    path = backup.latest()
    HealthEvent.objects.create(name="cache", new_state="ok")
    before = snapshot()
    with pytest.raises(CommandError, match="verified; nothing restored: pass --yes"):
        call_command("restore", str(path))
    with pytest.raises(CommandError, match=r"not empty .*pass --flush"):
        call_command("restore", "--latest", "--yes")
    archive = path / "models.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-1] + b"X")
    with pytest.raises(CommandError, match=r"models\.tar\.gz does not match its checksum: the backup is damaged"):
        call_command("restore", str(path), "--yes", "--flush")
    assert snapshot() == before


def test_only_the_newest_backups_are_kept(stored):
    stored.BACKUP_KEEP = 2
    start = dt.datetime(2025, 3, 1, 5, 15, tzinfo=dt.UTC)
    results = []
    for day in range(3):
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            results.append(backup.backup_create(method="dumpdata"))
    assert [p.name for p in backup.backups()] == ["sharpline-20250302T051500Z", "sharpline-20250303T051500Z"]
    assert results[-1].deleted == ["sharpline-20250301T051500Z"]
    leftover = stored.BACKUP_DIR / ".sharpline-20250228T051500Z.partial"
    leftover.mkdir()
    crashed = (start - dt.timedelta(days=1)).timestamp()
    os.utime(leftover, (crashed, crashed))
    with time_machine.travel(start + dt.timedelta(days=5), tick=False):
        assert ".sharpline-20250228T051500Z.partial" in backup.backup_create(method="dumpdata").deleted


def test_pg_dump_that_cannot_read_the_server_falls_back_to_dumpdata(stored, monkeypatch):
    if connection.vendor != "postgresql":
        result = backup.backup_create()
        assert (result.method, result.note) == ("dumpdata", "")  # SQLite: dumpdata, nothing to explain
        return
    server = backup.server_major()
    monkeypatch.setattr(backup, "tool_major", lambda tool: server - 1)
    result = backup.backup_create()
    assert result.method == "dumpdata"
    assert result.note == f"dumpdata because pg_dump {server - 1} is older than the server ({server})"


def test_the_nightly_backup_is_a_beat_job(stored):
    entry = stored.CELERY_BEAT_SCHEDULE["ops: nightly backup"]
    assert entry["task"] == "core.backup"
    from core.tasks import backup as backup_task

    answer = backup_task.apply(kwargs={"method": "dumpdata"}).get()
    assert answer["method"] == "dumpdata" and answer["path"] == str(backup.latest())


@pytest.mark.realstack
def test_pg_dump_backup_restores_into_a_fresh_postgresql_database(stored, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL (the real-stack run)")
    usable, why = backup.pg_dump_usable()
    if not usable:
        pytest.skip(f"no pg_dump for this server: {why} (backups fall back to dumpdata)")
    before = snapshot()
    result = backup.backup_job()
    assert result.method == "pg_dump" and set(result.files) == {"database.dump", "models.tar.gz"}
    assert result.note == "" and json.loads((result.path / "manifest.json").read_text())["database"]["tool"] == why
    fresh = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    try:
        backup._pg_restore(result.path / backup.PG_FILE, {**connection.settings_dict, "NAME": fresh})
        db = connection.settings_dict
        with (
            psycopg2.connect(
                dbname=fresh, user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"], port=db["PORT"]
            ) as restored,
            restored.cursor() as cursor,
        ):
            cursor.execute("SELECT count(*) FROM games_team")
            assert cursor.fetchone()[0] == before["teams"]
            cursor.execute("SELECT version, is_active FROM predictions_modelversion")
            assert cursor.fetchall() == [("20250101_000000", True)]
            cursor.execute("SELECT name, new_state FROM core_healthevent")
            assert cursor.fetchall() == [("database", "fail")]
            cursor.execute("SELECT username FROM auth_user")
            assert cursor.fetchall() == [("operator",)]
        restored.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    # And through the command, over the live test database.
    Team.objects.filter(league__code="MLB").delete()
    call_command("restore", str(result.path), "--yes", stdout=StringIO())
    assert snapshot() == before
