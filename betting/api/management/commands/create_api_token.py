"""Make a personal API token for a user and print it (once: only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from betting.api.models import ApiToken
from betting.api.tokens import TokenError, token_create
from core.management.args import Arg
from core.management.base import SharplineCommand, command_errors


class Command(SharplineCommand):
    help = "Make a personal API token (Authorization: Bearer ...) for a user; the token is printed once."
    arguments = (
        Arg.of("--user", required=True, help="The username the token acts as."),
        Arg.of("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ),
        Arg.of("--name", default="", help="What the token is for."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        with command_errors(TokenError):
            token, raw = token_create(user=user, scope=options["scope"], name=options["name"])
        self.stderr.write(f"Token {token.prefix} for {user} (scope {token.scope}); copy it now, it is not shown again:")
        self.stdout.write(raw)
