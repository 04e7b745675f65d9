from __future__ import annotations

from typing import Any

from core.errors import SharplineError
from core.management.args import Arg
from core.management.base import SharplineCommand, command_errors
from core.ops.backup import backup_job


class Command(SharplineCommand):
    help = (
        "Back up the database (pg_dump on PostgreSQL when a matching pg_dump is installed, else Django "
        "dumpdata) and the model artifacts into a new folder under BACKUP_DIR; keep the newest BACKUP_KEEP."
    )
    arguments = (
        Arg.of(
            "--method",
            choices=["auto", "pg_dump", "dumpdata"],
            default="auto",
            help="auto (default): pg_dump when usable, else dumpdata.",
        ),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors(SharplineError, OSError, say=lambda exc: f"backup failed: {exc}"):  # BackupError...
            result = backup_job(method=options["method"])
        size = sum(f["bytes"] for f in result.files.values())
        self.stdout.write(self.style.SUCCESS(f"Backup written to {result.path} ({result.method}, {size:,} bytes)."))
        if result.note:
            self.stdout.write(self.style.WARNING(result.note))
        for name in result.deleted:
            self.stdout.write(f"Deleted old backup {name}.")
