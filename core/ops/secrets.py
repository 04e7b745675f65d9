"""Provider API keys, encrypted at rest: ``api_key("odds_api")`` is what every caller asks.

Keys are stored in ``ApiCredential`` as Fernet tokens under ``FIELD_ENCRYPTION_KEYS`` (a
``MultiFernet``: the first key encrypts, every key decrypts), set with ``manage.py set_api_key``
(the secret read from standard input only) and re-encrypted under the newest key with
``manage.py rotate_keys``. The environment variable of a provider (``ODDS_API_KEY``) still works
and wins over the stored key. Nothing here ever logs, prints or raises with a plaintext key:
messages name the provider and the variable, and a key is shown only as ``••••••••abcd``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import SharplineError
from core.models import ApiCredential

MASK = "••••••••"


@dataclass(frozen=True)
class Provider:
    name: str
    setting: str  # the environment variable (and setting) that takes precedence
    pattern: re.Pattern[str]
    expected: str  # what a valid key looks like, for the error message


PROVIDERS: dict[str, Provider] = {
    # The Odds API's keys are 32 hex characters; 32-64 letters and digits is what users of earlier
    # systems were told (PRODUCT_NOTES) and what the odds pull accepts from ODDS_API_KEY.
    "odds_api": Provider(
        "odds_api", "ODDS_API_KEY", re.compile(r"^[A-Za-z0-9]{32,64}$"), "32 to 64 letters and digits"
    ),
}


class SecretsError(SharplineError):
    """A key that is missing, malformed or cannot be decrypted. Messages never hold the key."""


class UnknownProvider(SecretsError):
    pass


class ApiKeyMissing(SecretsError):
    pass


class ApiKeyMalformed(SecretsError):
    pass


class DecryptionFailed(SecretsError):
    pass


def provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(f"unknown provider {name!r}; known providers: {', '.join(sorted(PROVIDERS))}") from None


def _fernets() -> list[Fernet]:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise SecretsError("FIELD_ENCRYPTION_KEYS is empty: set it to one or more Fernet keys (see README, API keys)")
    return [Fernet(key.encode("ascii")) for key in keys]


def encrypt(plaintext: str) -> str:
    return MultiFernet(_fernets()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, what: str = "a stored secret") -> str:
    try:
        return MultiFernet(_fernets()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionFailed(
            f"cannot decrypt {what}: none of the keys in FIELD_ENCRYPTION_KEYS encrypted it. Put the key it was "
            "stored under back into FIELD_ENCRYPTION_KEYS (after the new one) and run `manage.py rotate_keys`, "
            "or store the API key again with `manage.py set_api_key`"
        ) from None


def fingerprint(value: str) -> str:
    """A keyed hash that tells two keys apart without revealing either (HMAC with SECRET_KEY)."""
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def mask(value: str) -> str:
    return MASK + value[-4:]


def validate(name: str, value: str) -> str:
    """The key without surrounding whitespace, or ApiKeyMalformed naming the provider and format
    (never the value)."""
    spec = provider(name)
    cleaned = value.strip()
    if not cleaned:
        raise ApiKeyMalformed(f"the {name} key is empty")
    if not spec.pattern.match(cleaned):
        raise ApiKeyMalformed(
            f"the {name} key is malformed: expected {spec.expected} ({len(cleaned)} characters given)"
        )
    return cleaned


def credential_fill(row: ApiCredential, value: str) -> ApiCredential:
    """Put a validated key into a row, encrypted (not saved)."""
    cleaned = validate(row.provider, value)
    row.ciphertext = encrypt(cleaned)
    row.fingerprint = fingerprint(cleaned)
    row.last4 = cleaned[-4:]
    return row


def api_key_store(*, provider_name: str, value: str) -> tuple[ApiCredential, bool]:
    """Validate, encrypt and store a provider's key. Returns (row, created)."""
    provider(provider_name)
    with transaction.atomic():
        row = ApiCredential.objects.select_for_update().filter(provider=provider_name).first()
        created = row is None
        row = credential_fill(row or ApiCredential(provider=provider_name), value)
        row.save()
    return row, created


def api_key(name: str) -> str:
    """The provider's key: its environment variable when set, else the stored key decrypted, else
    ApiKeyMissing saying how to provide one."""
    spec = provider(name)
    from_env = str(getattr(settings, spec.setting, "") or "")
    if from_env:
        return from_env
    row = ApiCredential.objects.filter(provider=name).first()
    if row is None:
        raise ApiKeyMissing(
            f"{spec.setting} is not set and no {name} key is stored: set {spec.setting} in the environment, "
            f"or store the key with `manage.py set_api_key --provider {name}` (reads it from standard input)"
        )
    return decrypt(row.ciphertext, what=f"the stored {name} key")


def api_key_source(name: str) -> str:
    """Where ``api_key(name)`` would read from: "environment", "database" or "missing"."""
    spec = provider(name)
    if getattr(settings, spec.setting, ""):
        return "environment"
    return "database" if ApiCredential.objects.filter(provider=name).exists() else "missing"


@dataclass
class RotateSummary:
    rotated: int = 0
    current: int = 0


def keys_rotate() -> RotateSummary:
    """Re-encrypt every stored key under the newest (first) encryption key. Rows already under it
    are left as they are, so running it again changes nothing. All or nothing: one row no key
    decrypts stops the rotation with nothing written."""
    fernets = _fernets()
    newest, every = fernets[0], MultiFernet(fernets)
    summary = RotateSummary()
    now = timezone.now()
    with transaction.atomic():
        for row in ApiCredential.objects.select_for_update().order_by("provider"):
            token = row.ciphertext.encode("ascii")
            try:
                newest.decrypt(token)
            except InvalidToken:
                pass
            else:
                summary.current += 1
                continue
            try:
                row.ciphertext = every.rotate(token).decode("ascii")
            except InvalidToken:
                raise DecryptionFailed(
                    f"cannot decrypt the stored {row.provider} key with any key in FIELD_ENCRYPTION_KEYS, so nothing "
                    "was rotated: add the key it was stored under (after the new one), or store it again with "
                    f"`manage.py set_api_key --provider {row.provider}`"
                ) from None
            row.rotated_at = now
            row.save(update_fields=["ciphertext", "rotated_at"])
            summary.rotated += 1
    return summary
