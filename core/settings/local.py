"""Local development and ``make demo``: embedded defaults, a per-checkout secret key."""

from __future__ import annotations

import secrets

from core.settings.base import *  # noqa: F403
from core.settings.base import STATIC_ROOT, VAR_DIR
from core.settings.env import env


def _local_secret_key() -> str:
    """Read the key from var/, creating it once: stable across restarts, never committed."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        try:
            with open(path, "x", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(50))
            path.chmod(0o600)
        except FileExistsError:
            pass  # another process created it first
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()

# WhiteNoise warns at start when the folder is missing; collectstatic fills it for production.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
