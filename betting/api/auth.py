"""Bearer authentication with personal API tokens, their scopes and their rate limit."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from ninja.security import HttpBearer
from redis.exceptions import RedisError

from betting.api.errors import ApiError, RateLimited
from betting.api.models import ApiToken
from betting.api.tokens import token_authenticate
from core.ops.endpoints import PROCESS_LIMITER

logger = logging.getLogger(__name__)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _period(rate: str) -> int:
    _, _, per = rate.partition("/")
    digits = per[:-1]
    return int(digits or 1) * _UNITS[per[-1]]


def _token_key(group: str, request: HttpRequest) -> str:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return f"token:{token.pk}"


def check_rate(request: HttpRequest, token: ApiToken) -> None:
    """Count this request against the token (API_RATE_LIMIT); RateLimited beyond it. The count is in
    the shared cache (Redis in production); when it does not answer, in this process (as core.ops.endpoints)."""
    rate = settings.API_RATE_LIMIT
    request.auth = token  # type: ignore[attr-defined]  # what _token_key reads
    try:
        limited = is_ratelimited(request, group="api", key=_token_key, rate=rate, increment=True)
    except (RedisError, OSError) as exc:
        logger.warning("API rate limiter store unavailable, counting in this process: %s", exc)
        limited = PROCESS_LIMITER.hit("api", f"token:{token.pk}", rate)
    except (ValueError, ImproperlyConfigured) as exc:
        logger.warning("API rate limiter unavailable, letting the request through: %s", exc)
        limited = False
    if limited:
        period = _period(rate)
        raise RateLimited(rate, retry_after=max(1, period - int(time.time()) % period))


class TokenAuth(HttpBearer):
    """``Authorization: Bearer shl_...``. ``write=True`` operations need a token of scope ``bet``."""

    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = token_authenticate(token)
        if found is None:
            return None  # Ninja answers 401 (errors.install)
        check_rate(request, found)
        if self.write and not found.can_write:
            raise ApiError(403, "this token's scope is read: recording bets, imports and backtests need scope bet")
        return found


READ = TokenAuth()
WRITE = TokenAuth(write=True)


def user_of(request: HttpRequest) -> Any:  # noqa: ANN401 (swappable user model)
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return token.user
