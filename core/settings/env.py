"""The one environment reader for every settings module.

django-environ does the parsing; this subclass makes every failure name the variable
(``ImproperlyConfigured: Environment variable REDIS_URL is malformed: ...``) and makes
booleans strict, because ``DEBUG=flase`` silently meaning ``False`` hides typos.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}


class Env(environ.Env):  # type: ignore[misc]  # django-environ ships no type hints
    def get_value(
        self,
        var: str,
        cast: object = None,
        default: object = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:  # noqa: ANN401 (django-environ is untyped: what ``cast`` makes of it, typed by each caller)
        if cast is bool:
            raw = super().get_value(var, cast=str, default=default, parse_default=False)
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ImproperlyConfigured(f"Environment variable {var} is malformed: expected true/false, got {raw!r}")
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured:
            raise
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"Environment variable {var} is malformed: {exc}") from exc

    def database(self, var: str, default: str) -> dict[str, object]:
        url = self.str(var, default=default)
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in DATABASE_SCHEMES:
            raise ImproperlyConfigured(
                f"Environment variable {var} is malformed: expected a URL such as "
                f"postgres://user@host:5432/name or sqlite:///path, got scheme {scheme!r}"
            )
        config: dict[str, object] = self.db_url_config(url)
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"Environment variable {var} is malformed: no database name")
        return config

    def redis_url(self, var: str) -> str:
        url: str = self.str(var, default="")
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(
                f"Environment variable {var} is malformed: expected redis://host:port/db, got {url!r}"
            )
        return url


env = Env()


def fernet_keys(var: str, keys: list[str]) -> list[str]:
    """Fernet keys as ``Fernet.generate_key()`` writes them: 32 bytes in URL-safe base64."""
    cleaned = [key.strip() for key in keys if key.strip()]
    for position, key in enumerate(cleaned, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"Environment variable {var} is malformed: key {position} is not a Fernet key (44 characters of "
                "URL-safe base64; make one with python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
    return cleaned


_RATE = re.compile(r"^[1-9]\d*/\d*[smhd]$")


def ratelimit_rate(var: str, text: str) -> str:
    """A django-ratelimit rate: a count per period, e.g. ``10/m``, ``100/h`` or ``5/30s``."""
    text = text.strip()
    if not _RATE.match(text):
        raise ImproperlyConfigured(
            f"Environment variable {var} is malformed: expected a count per period such as 10/m, 100/h or 5/30s, "
            f"got {text!r}"
        )
    return text
