"""Re-encrypt every stored API key under the newest encryption key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.ops import secrets
from core.ops.jobs import job_run


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key under the first key of FIELD_ENCRYPTION_KEYS. Put the new key first and "
        "keep the old ones after it, run this, then drop the old keys. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with job_run("rotate_keys") as run:
                summary = secrets.keys_rotate()
                run.counts = {"rotated": summary.rotated, "already_current": summary.current}
        except secrets.SecretsError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.rotated} key(s) re-encrypted under the newest key, {summary.current} already under it"
            )
        )
