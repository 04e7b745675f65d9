"""Test runs: the same settings as local, with fast password hashing."""

from __future__ import annotations

from core.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PAGE_FINGERPRINT_SECONDS = 0.0  # every request sees the data as it is now
