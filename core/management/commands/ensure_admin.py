from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model

from core.management.args import Arg
from core.management.base import SharplineCommand
from core.settings.env import env


class Command(SharplineCommand):
    help = (
        "Create the local admin user if it does not exist. The password comes from "
        "DJANGO_SUPERUSER_PASSWORD, or is generated and printed once."
    )
    arguments = (Arg.of("--username", default="admin"), Arg.of("--email", default="admin@localhost"))

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
