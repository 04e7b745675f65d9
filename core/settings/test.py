"""Test runs: the same settings as local, with fast password hashing."""

from __future__ import annotations

import os

from core.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PAGE_FINGERPRINT_SECONDS = 0.0  # every request sees the data as it is now

# Parallel test processes (pytest-xdist) share one Redis: each gets its own cache key prefix, so one
# process's single-flight locks and cached pages never reach another's tests. A worker process a
# test starts inherits PYTEST_XDIST_WORKER, so it shares its test's prefix (unless the test names a
# prefix of its own with CACHE_KEY_PREFIX, as tests.core.health_helpers.isolate_cache does).
explicit_prefix = "CACHE_KEY_PREFIX" in os.environ
if "KEY_PREFIX" in CACHES["default"] and os.environ.get("PYTEST_XDIST_WORKER") and not explicit_prefix:
    for _alias in ("default", "pages"):
        CACHES[_alias]["KEY_PREFIX"] += f"-{os.environ['PYTEST_XDIST_WORKER']}"
