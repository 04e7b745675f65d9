from __future__ import annotations

import secrets
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from core.settings.env import env


class Command(BaseCommand):
    help = (
        "Create the local admin user if it does not exist. The password comes from "
        "DJANGO_SUPERUSER_PASSWORD, or is generated and printed once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        username = options["username"]
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user {username!r} already exists; its password is unchanged.")
            return
        password = env.str("DJANGO_SUPERUSER_PASSWORD", default="")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email=options["email"], password=password)
        if generated:
            self.stdout.write(
                self.style.SUCCESS(f"Created admin user {username!r} with password: {password}")
                + "\n(shown once; set DJANGO_SUPERUSER_PASSWORD to choose it, or run manage.py changepassword)"
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Created admin user {username!r} (password from DJANGO_SUPERUSER_PASSWORD)")
            )
