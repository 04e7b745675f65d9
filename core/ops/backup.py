"""Backups of the database and the model artifacts, and their restore.

A backup is a folder ``BACKUP_DIR/sharpline-YYYYMMDDTHHMMSSZ/`` holding
- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``, when a ``pg_dump`` at least as new as
  the server is installed) or ``database.json.gz`` (Django ``dumpdata`` with natural keys: SQLite,
  or PostgreSQL without a usable ``pg_dump``);
- ``models.tar.gz``: the boosters under ``MODEL_DIR``;
- ``manifest.json``: what was dumped, how, the applied migrations, and each file's sha256 and size.

It is written into a ``.partial`` folder and renamed when complete, so a crashed backup is never
mistaken for one; then only the newest ``BACKUP_KEEP`` are kept. ``pg_dump``/``pg_restore`` get the
connection through the ``PG*`` environment variables (the password never appears in argv).

A restore verifies every checksum before it touches anything, then: ``pg_restore --clean
--if-exists --single-transaction`` for a ``pg_dump`` backup, or ``loaddata`` into an empty database
migrated to the same state (``flush=True`` empties it first); then it unpacks the boosters into
``MODEL_DIR`` (overwriting files of the same name, leaving others).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from core.errors import SharplineError
from core.models import JobRun
from core.ops.jobs import job_run, single_flight

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PG_FILE = "database.dump"
DJANGO_FILE = "database.json.gz"
MODELS_FILE = "models.tar.gz"
PREFIX = "sharpline-"
NAME = re.compile(r"^sharpline-\d{8}T\d{6}Z$")
# Rebuilt by migrate (content types, permissions) or not worth keeping (sessions).
DUMPDATA_EXCLUDE = ["contenttypes", "auth.permission", "sessions"]
PG_TIMEOUT = 3 * 3600


class BackupError(SharplineError):
    """A backup or restore that could not be done; the message says why."""


class FileEntry(TypedDict):
    sha256: str
    bytes: int


class DatabaseEntry(TypedDict):
    method: str  # "pg_dump" or "dumpdata"
    vendor: str
    name: str
    tool: str
    note: str


class Manifest(TypedDict):
    """``manifest.json``, as written by ``backup_create`` (format 1)."""

    format: int
    created_at: str
    database: DatabaseEntry
    migrations: dict[str, list[str]]
    model_dir: str
    job_run: int | None
    files: dict[str, FileEntry]


class RestoreSummary(TypedDict):
    method: str
    model_files: int
    created_at: str


@dataclass
class BackupResult:
    path: Path
    method: str
    files: dict[str, FileEntry]
    deleted: list[str] = field(default_factory=list)
    note: str = ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(db: Mapping[str, object]) -> dict[str, str]:
    """libpq's environment for ``db`` (Django's settings dict of one database)."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS")
    if isinstance(options, Mapping) and options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (the PostgreSQL client tools)")
    return path


def tool_major(tool: str) -> int | None:
    """Major version of ``pg_dump``/``pg_restore`` on the PATH, None when missing."""
    path = shutil.which(tool)
    if path is None:
        return None
    # A fixed argv, no shell: nothing from outside reaches the command line.
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout  # noqa: S603  # nosec B603
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def server_major(alias: str = "default") -> int:
    connection = connections[alias]
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]


def pg_dump_usable(alias: str = "default") -> tuple[bool, str]:
    """Whether ``pg_dump`` can dump this server (it refuses servers newer than itself)."""
    if connections[alias].vendor != "postgresql":
        return False, "not PostgreSQL"
    client = tool_major("pg_dump")
    if client is None:
        return False, "pg_dump is not installed"
    server = server_major(alias)
    if client < server:
        return False, f"pg_dump {client} is older than the server ({server})"
    return True, f"pg_dump {client}, server {server}"


def applied_migrations(alias: str = "default") -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connections[alias]).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


# --- Backup ---------------------------------------------------------------------------------


def backup_create(
    *, directory: Path | None = None, keep: int | None = None, method: str = "auto", job_run_id: int | None = None
) -> BackupResult:
    """Dump the database and the model artifacts into a new timestamped folder; prune old ones."""
    root = Path(directory or settings.BACKUP_DIR)
    keep = settings.BACKUP_KEEP if keep is None else keep
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be at least 1")
    root.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().astimezone(dt.UTC)
    name = f"{PREFIX}{stamp:%Y%m%dT%H%M%SZ}"
    final = root / name
    if final.exists():
        raise BackupError(f"{final} exists already: one backup per second at most")
    work = root / f".{name}.partial"
    work.mkdir()
    try:
        used, note, tool = _dump_database(work, method)
        files = [work / (PG_FILE if used == "pg_dump" else DJANGO_FILE)]
        files.append(_pack_models(work / MODELS_FILE))
        manifest: Manifest = {
            "format": 1,
            "created_at": stamp.isoformat(),
            "database": {
                "method": used,
                "vendor": connections["default"].vendor,
                "name": str(connections["default"].settings_dict["NAME"]),
                "tool": tool,
                "note": note,
            },
            "migrations": applied_migrations(),
            "model_dir": str(settings.MODEL_DIR),
            # The backup's own JobRun is in the dump while it runs; a restore marks it finished.
            "job_run": job_run_id,
            "files": {f.name: {"sha256": _sha256(f), "bytes": f.stat().st_size} for f in files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    deleted = prune(root, keep)
    logger.info("backup written to %s (%s); %d old backup(s) deleted", final, used, len(deleted))
    return BackupResult(final, used, manifest["files"], deleted, note)


def _dump_database(work: Path, method: str) -> tuple[str, str, str]:
    """(method used, why not pg_dump on PostgreSQL or "", the tool's versions)"""
    if method not in {"auto", "pg_dump", "dumpdata"}:
        raise BackupError(f"unknown method {method!r}: auto, pg_dump or dumpdata")
    note = ""
    if method in {"auto", "pg_dump"}:
        usable, why = pg_dump_usable()
        if usable:
            _pg_dump(work / PG_FILE)
            return "pg_dump", "", why
        if method == "pg_dump":
            raise BackupError(f"pg_dump cannot be used: {why}")
        note = f"dumpdata because {why}" if connections["default"].vendor == "postgresql" else ""
        if note:
            logger.warning("backup: %s", note)
    call_command(
        "dumpdata",
        natural_foreign=True,
        natural_primary=True,
        exclude=DUMPDATA_EXCLUDE,
        output=str(work / DJANGO_FILE),
        verbosity=0,
    )
    return "dumpdata", note, "django dumpdata"


def _pg_dump(target: Path) -> None:
    db = connections["default"].settings_dict
    command = [
        _tool("pg_dump"),
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "--file",
        str(target),
        str(db["NAME"]),
    ]
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell; the password goes through PGPASSWORD  # nosec B603
        command, env=_pg_env(db), capture_output=True, text=True, timeout=PG_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed ({result.returncode}): {result.stderr.strip()[:500]}")


def _pack_models(target: Path) -> Path:
    source = Path(settings.MODEL_DIR)
    with tarfile.open(target, "w:gz") as tar:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return target


def backups(root: Path | None = None) -> list[Path]:
    """Complete backups under ``root`` (default ``BACKUP_DIR``), oldest first."""
    root = Path(root or settings.BACKUP_DIR)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and NAME.match(p.name) and (p / MANIFEST).is_file())


def prune(root: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups, and leftovers of crashed ones older than a day."""
    deleted = []
    for old in backups(root)[:-keep]:
        shutil.rmtree(old)
        deleted.append(old.name)
    cutoff = timezone.now().timestamp() - 86400
    for partial in root.glob(f".{PREFIX}*.partial"):
        if partial.stat().st_mtime < cutoff:
            shutil.rmtree(partial, ignore_errors=True)
            deleted.append(partial.name)
    return deleted


# --- Restore --------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    """The backup's manifest, after checking every file against its size and sha256."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{path} is not a backup: no {MANIFEST}")
    manifest: Manifest = json.loads(manifest_path.read_text())
    for name, expected in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            raise BackupError(f"{file} is missing")
        if file.stat().st_size != expected["bytes"] or _sha256(file) != expected["sha256"]:
            raise BackupError(f"{file} does not match its checksum: the backup is damaged")
    if manifest.get("database", {}).get("method") not in {"pg_dump", "dumpdata"}:
        raise BackupError(f"{manifest_path}: unknown database method")
    return manifest


def latest(root: Path | None = None) -> Path:
    found = backups(root)
    if not found:
        raise BackupError(f"no backup in {Path(root or settings.BACKUP_DIR)}")
    return found[-1]


def backup_restore(*, path: Path, flush: bool = False, alias: str = "default") -> RestoreSummary:
    """Restore the backup at ``path`` into database ``alias`` and ``MODEL_DIR``."""
    manifest = read_manifest(path)
    method = manifest["database"]["method"]
    connection = connections[alias]
    if method == "pg_dump":
        if connection.vendor != "postgresql":
            raise BackupError("this backup is a PostgreSQL dump: restore it into PostgreSQL (DATABASE_URL)")
        _pg_restore(path / PG_FILE, connection.settings_dict)
        connection.close()  # the schema was replaced under any open connection
    else:
        _loaddata(path / DJANGO_FILE, manifest, flush=flush, alias=alias)
    _finish_backup_run(manifest, alias)
    restored = _unpack_models(path / MODELS_FILE)
    logger.info("restored %s (%s) and %d model file(s)", path, method, restored)
    return {"method": method, "model_files": restored, "created_at": manifest["created_at"]}


def _finish_backup_run(manifest: Manifest, alias: str) -> None:
    job_run_id = manifest.get("job_run")
    if job_run_id:
        JobRun.objects.using(alias).filter(pk=job_run_id, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.SUCCESS,
            finished_at=dt.datetime.fromisoformat(manifest["created_at"]),
            counts={"restored_from_this_backup": True},
        )


def _pg_restore(dump: Path, db: Mapping[str, object]) -> None:
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--dbname", str(db["NAME"]), str(dump)]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell; the password goes through PGPASSWORD  # nosec B603
        command, env=_pg_env(db), capture_output=True, text=True, timeout=PG_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed ({result.returncode}): {result.stderr.strip()[:500]}")


def _user_rows(alias: str) -> list[str]:
    """Models (outside the excluded ones) that hold rows: loaddata needs an empty database."""
    excluded = {"contenttypes", "sessions", "auth.permission"}
    holding = []
    for model in apps.get_models():
        if model._meta.app_label in excluded or model._meta.label_lower in excluded:
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        if model._default_manager.using(alias).exists():
            holding.append(model._meta.label)
    return holding


def _loaddata(fixture: Path, manifest: Manifest, *, flush: bool, alias: str) -> None:
    current = applied_migrations(alias)
    if current != manifest.get("migrations"):
        missing = sorted(
            f"{app}.{name}"
            for app, names in manifest.get("migrations", {}).items()
            for name in names
            if name not in current.get(app, [])
        )
        extra = sorted(
            f"{app}.{name}"
            for app, names in current.items()
            for name in names
            if name not in manifest.get("migrations", {}).get(app, [])
        )
        raise BackupError(
            "the database is not migrated like the backup: "
            f"missing {', '.join(missing) or 'none'}; extra {', '.join(extra) or 'none'}. "
            "Migrate it to the backup's state (manage.py migrate <app> <migration>) first."
        )
    if flush:
        call_command("flush", interactive=False, database=alias, verbosity=0)
    holding = _user_rows(alias)
    if holding:
        raise BackupError(
            f"the database is not empty ({', '.join(holding[:5])}{'...' if len(holding) > 5 else ''}): "
            "pass --flush to empty it first (a newly migrated database holds the reference data migrate loads)"
        )
    with gzip.open(fixture, "rb") as handle:
        if handle.read(16).strip() in {b"", b"[]"}:
            return  # an empty database was backed up (loaddata would warn of "no fixture data")
    call_command("loaddata", str(fixture), database=alias, verbosity=0)


def _unpack_models(archive: Path) -> int:
    target = Path(settings.MODEL_DIR)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(target, members=members, filter="data")
    return len(members)


def backup_job(*, method: str = "auto", task_id: str = "") -> BackupResult:
    """A backup recorded as a ``JobRun`` ("backup"), never two at once."""
    with single_flight("backup", ttl=PG_TIMEOUT), job_run("backup", {"method": method}, task_id=task_id) as run:
        result = backup_create(method=method, job_run_id=run.pk)
        run.counts = {
            "path": str(result.path),
            "method": result.method,
            "bytes": sum(f["bytes"] for f in result.files.values()),
            "deleted": result.deleted,
        }
        run.error = result.note
    return result
