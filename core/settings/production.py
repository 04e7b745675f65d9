"""Production: the same settings, stricter. Refuses to start without its secrets."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.observe.log import logging_config
from core.settings.base import *  # noqa: F403
from core.settings.base import FIELD_ENCRYPTION_KEYS, LOG_LEVEL
from core.settings.env import env

SECRET_KEY = env.str("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY must be set to a random string of at least 50 characters "
        "in production (python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Environment variable ALLOWED_HOSTS must list the host names this site answers to in production"
    )
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Environment variable FIELD_ENCRYPTION_KEYS must be set in production: the Fernet key(s) that encrypt "
        "the API keys stored in the database (python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())')"
    )

DEBUG = False  # never on in production, whatever the environment says

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Probes from inside the network (load balancer, orchestrator) call these over plain http.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
# One JSON object per log line (core/observe/log.py) unless LOG_FORMAT says otherwise.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
