"""Re-encrypt every stored API key under the newest encryption key."""

from __future__ import annotations

from typing import Any

from core.management.base import SharplineCommand, command_errors
from core.ops import secrets
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = (
        "Re-encrypt every stored API key under the first key of FIELD_ENCRYPTION_KEYS. Put the new key first and "
        "keep the old ones after it, run this, then drop the old keys. Running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors(secrets.SecretsError), job_run("rotate_keys") as run:
            summary = secrets.keys_rotate()
            run.counts = {"rotated": summary.rotated, "already_current": summary.current}
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.rotated} key(s) re-encrypted under the newest key, {summary.current} already under it"
            )
        )
