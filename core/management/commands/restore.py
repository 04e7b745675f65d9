from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from core.management.args import Arg
from core.management.base import SharplineCommand, command_errors
from core.models import JobRun
from core.ops.backup import BackupError, backup_restore, latest, read_manifest


class Command(SharplineCommand):
    help = (
        "Restore a backup made by `backup`: checks every checksum first, then pg_restore --clean (a "
        "pg_dump backup) or loaddata into an empty, migrated database (a dumpdata backup), then the model "
        "artifacts into MODEL_DIR. Replaces data: nothing happens without --yes. Stop the workers and beat first."
    )
    arguments = (
        Arg.of("path", nargs="?", help="Backup folder (sharpline-YYYYMMDDTHHMMSSZ)."),
        Arg.of("--latest", action="store_true", help="The newest backup under BACKUP_DIR."),
        Arg.of("--yes", action="store_true", help="Really replace the data."),
        Arg.of("--flush", action="store_true", help="dumpdata backups: empty the database first."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["latest"] == bool(options["path"]):
            raise CommandError("give a backup folder or --latest (one of them)")
        with command_errors(BackupError, OSError, say=lambda exc: f"restore failed: {exc}"):
            path = latest() if options["latest"] else Path(options["path"])
            manifest = read_manifest(path)
            method = manifest["database"]["method"]
            if not options["yes"]:
                raise CommandError(
                    f"{path} ({method}, {manifest['created_at']}) verified; nothing restored: "
                    "pass --yes to replace the database and the model files with it"
                )
            result = backup_restore(path=path, flush=options["flush"])
        # Written after the restore, which replaced the job history with the backup's.
        JobRun.objects.create(
            job="restore", status=JobRun.Status.SUCCESS, params={"path": str(path)}, counts=result,
            finished_at=timezone.now(),
        )  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Restored {path} ({method}) and {result['model_files']} model file(s)."))
