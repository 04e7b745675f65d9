"""Make a personal API token for a user and print it (once: only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from betting.api.models import ApiToken
from betting.api.tokens import TokenError, token_create


class Command(BaseCommand):
    help = "Make a personal API token (Authorization: Bearer ...) for a user; the token is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The username the token acts as.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            token, raw = token_create(user=user, scope=options["scope"], name=options["name"])
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"Token {token.prefix} for {user} (scope {token.scope}); copy it now, it is not shown again:")
        self.stdout.write(raw)
