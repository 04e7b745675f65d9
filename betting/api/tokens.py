"""Making, checking and revoking personal API tokens. A token reads ``shl_<prefix>_<secret>``:
the prefix (8 characters) is stored in clear to tell tokens apart, the whole token only as its
SHA-256, so a leaked database reveals no usable token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from betting.api.models import ApiToken
from core.errors import SharplineError

TOKEN_START = "shl_"  # noqa: S105  # the marker every token starts with, not a secret # nosec B105
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token: not one UPDATE per API request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


class TokenError(SharplineError, ValueError):
    pass


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_create(*, user: Any, scope: str, name: str = "") -> tuple[ApiToken, str]:  # noqa: ANN401 (swappable user model)
    """A new token for ``user``: the row and the token itself, which is never shown again."""
    if scope not in ApiToken.Scope.values:
        raise TokenError(f"unknown scope {scope!r}: choose one of {', '.join(ApiToken.Scope.values)}")
    if not getattr(user, "is_active", False):
        raise TokenError(f"user {user} is inactive: no token")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    raw = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], prefix=prefix, key_hash=token_hash(raw), scope=scope
    )
    return token, raw


def token_revoke(*, user: Any, token_id: int) -> bool:  # noqa: ANN401 (swappable user model)
    """Revoke one of ``user``'s tokens; False when it is not theirs or already revoked."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )


def tokens_of(user: Any) -> QuerySet[ApiToken]:  # noqa: ANN401 (swappable user model)
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_authenticate(raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token ``raw`` names (its user active), or None. Looked up by its hash: the
    presented secret is never compared character by character."""
    if not raw.startswith(TOKEN_START) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
