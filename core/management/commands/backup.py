from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import SharplineError
from core.ops.backup import backup_job


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump on PostgreSQL when a matching pg_dump is installed, else Django "
        "dumpdata) and the model artifacts into a new folder under BACKUP_DIR; keep the newest BACKUP_KEEP."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--method",
            choices=["auto", "pg_dump", "dumpdata"],
            default="auto",
            help="auto (default): pg_dump when usable, else dumpdata.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_job(method=options["method"])
        except (SharplineError, OSError) as exc:  # BackupError, AlreadyRunning
            raise CommandError(f"backup failed: {exc}") from exc
        size = sum(f["bytes"] for f in result.files.values())
        self.stdout.write(self.style.SUCCESS(f"Backup written to {result.path} ({result.method}, {size:,} bytes)."))
        if result.note:
            self.stdout.write(self.style.WARNING(result.note))
        for name in result.deleted:
            self.stdout.write(f"Deleted old backup {name}.")
