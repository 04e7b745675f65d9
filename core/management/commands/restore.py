from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.ops.backup import BackupError, backup_restore, latest, read_manifest


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup`: checks every checksum first, then pg_restore --clean (a "
        "pg_dump backup) or loaddata into an empty, migrated database (a dumpdata backup), then the model "
        "artifacts into MODEL_DIR. Replaces data: nothing happens without --yes. Stop the workers and beat first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", nargs="?", help="Backup folder (sharpline-YYYYMMDDTHHMMSSZ).")
        parser.add_argument("--latest", action="store_true", help="The newest backup under BACKUP_DIR.")
        parser.add_argument("--yes", action="store_true", help="Really replace the data.")
        parser.add_argument("--flush", action="store_true", help="dumpdata backups: empty the database first.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["latest"] == bool(options["path"]):
                raise CommandError("give a backup folder or --latest (one of them)")
            path = latest() if options["latest"] else Path(options["path"])
            manifest = read_manifest(path)
            method = manifest["database"]["method"]
            if not options["yes"]:
                raise CommandError(
                    f"{path} ({method}, {manifest['created_at']}) verified; nothing restored: "
                    "pass --yes to replace the database and the model files with it"
                )
            result = backup_restore(path=path, flush=options["flush"])
        except (BackupError, OSError) as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        from django.utils import timezone

        from core.models import JobRun

        # Written after the restore, which replaced the job history with the backup's.
        JobRun.objects.create(
            job="restore", status=JobRun.Status.SUCCESS, params={"path": str(path)}, counts=result,
            finished_at=timezone.now(),
        )  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Restored {path} ({method}) and {result['model_files']} model file(s)."))
