"""Store a provider's API key, encrypted, from standard input (never from the command line)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from core.management.args import Arg
from core.management.base import SharplineCommand, command_errors
from core.ops import secrets


class Command(SharplineCommand):
    help = (
        "Store a provider's API key encrypted in the database (FIELD_ENCRYPTION_KEYS). The key is read from "
        "standard input only (prompted without echo on a terminal; piped otherwise), never from the command "
        "line, and never printed: `manage.py set_api_key --provider odds_api < keyfile`."
    )

    stealth_options = ("stdin",)  # call_command(..., stdin=StringIO(key)) in tests and scripts
    arguments = (
        Arg.of("--provider", required=True, choices=sorted(secrets.PROVIDERS), help="Whose key it is, e.g. odds_api."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["provider"]
        stdin = options.get("stdin") or sys.stdin
        # A terminal gets a prompt without echo; a pipe or file is read as is (first line).
        value = getpass.getpass(f"{name} key (not echoed): ") if stdin.isatty() else stdin.readline()
        with command_errors(secrets.SecretsError):
            row, created = secrets.api_key_store(provider_name=name, value=value)
        verb = "stored" if created else "replaced"
        self.stdout.write(self.style.SUCCESS(f"{name} key {verb}: {row.masked} (fingerprint {row.fingerprint})"))
        setting = secrets.provider(name).setting
        if secrets.api_key_source(name) == "environment":
            self.stdout.write(
                self.style.WARNING(f"{setting} is set in the environment and takes precedence over the stored key")
            )
