"""Local development and ``make demo``: embedded defaults, a per-checkout secret key."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from core.settings.base import *  # noqa: F403
from core.settings.base import FIELD_ENCRYPTION_KEYS, STATIC_ROOT, VAR_DIR
from core.settings.env import env


def _local_secret(name: str = "secret_key", make: Callable[[], str] = lambda: secrets.token_urlsafe(50)) -> str:
    """Read a key from var/, creating it once: stable across restarts, never committed."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        try:
            with open(path, "x", encoding="ascii") as handle:
                handle.write(make())
            path.chmod(0o600)
        except FileExistsError:
            pass  # another process created it first
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret()
# The key that encrypts stored API keys on this checkout (a Fernet key: 32 random bytes, base64).
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [
    _local_secret("field_encryption_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))
]

# WhiteNoise warns at start when the folder is missing; collectstatic fills it for production.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
