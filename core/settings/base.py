"""Settings shared by every environment. Every value comes from the environment through ``env``.

With no environment at all the project runs on embedded defaults: SQLite under ``var/``,
an in-process cache, and Celery tasks executed in-process. ``DATABASE_URL`` switches to
PostgreSQL and ``REDIS_URL`` to Redis for the cache, the Celery broker and its results.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab

from core.observe.log import logging_config
from core.settings.env import env, fernet_keys, ratelimit_rate

# Lets admin and queryset classes be subscripted at run time (ModelAdmin[Game]) for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("SHARPLINE_VAR_DIR", default=str(BASE_DIR / "var")))

_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    env.read_env(str(_dotenv))

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "django_ratelimit",
    "csp",
    "core",
    "betting.games",
    "betting.predictions",
    "betting.bets",
    # The JSON API (/api/v1/, Django Ninja): "ninja" serves its docs page's script and styles locally.
    "ninja",
    "betting.api",
]

MIDDLEWARE = [
    # First: every log line of the request, and the response, carry its request id.
    "core.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.web.preferences.OddsFormatMiddleware",  # after WhiteNoise: static files need no odds format
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.web.cache.degraded_context",  # the banner of a page built without its cache
                "core.web.preferences.odds_context",  # the odds-format toggle
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.database("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and a command writing at once should wait for the lock, not fail.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.redis_url("REDIS_URL")
# Two aliases on one Redis. "default" is strict (errors raise): single-flight locks, rate-limit
# counts, quotas, heartbeats, where a silent miss would be wrong. "pages" (core/web/cache.py) holds
# rendered pages and their aggregates: a Redis error there is a miss, so pages degrade, never fail.
if REDIS_URL:
    _cache_prefix = env.str("CACHE_KEY_PREFIX", default="sharpline")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _cache_prefix,
        },
        "pages": {
            "BACKEND": "core.web.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _cache_prefix,
            # A page waits at most this long on a Redis that does not answer, then skips it for a while.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 2.0, "RETRY_AFTER": 5.0},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
    }

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Without a broker there is no worker: run tasks in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task with acks_late whose worker process dies (SIGKILL, OOM) goes back on the queue at once
# instead of being acknowledged as failed: the pulls are idempotent, so running it again is safe.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis broker: a message delivered to a worker that vanished without acknowledging it (the whole
# node killed) is delivered again after this many seconds. It must exceed the longest task (the
# import's hard limit is 2000 s), or a slow task would run twice. Sweeps for such messages run
# every tenth of it (at most every 10 s, kombu's default; at least every second).
_visibility = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility,
    "unacked_restore_interval": max(1, min(10, _visibility // 10)),
    "unacked_restore_throttle": 1 if _visibility < 600 else 10,
}
# First wait (s) before an ingest task retries after a provider outage or a database error;
# doubles on each retry (with full jitter), at most 600 s.
TASK_RETRY_BACKOFF = env.int("TASK_RETRY_BACKOFF", default=30)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Defined once, here; django-celery-beat syncs it into the database, where the admin can edit it.
# Crons are UTC. "expires" keeps a late run from piling onto the next one.
CELERY_TASK_ROUTES = {
    "games.*": {"queue": "ingest"},
    "predictions.*": {"queue": "models"},
    "bets.*": {"queue": "default"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"


def _cron(name: str, default: str) -> crontab:
    """A crontab from a five-field variable ("*/10 * * * *"), with the variable named on error."""
    text = env.str(name, default=default)
    fields = text.split()
    if len(fields) != 5:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"Environment variable {name} is malformed: expected 5 cron fields, got {text!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return crontab(minute, hour, day_of_week, day_of_month, month_of_year)


CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Each job skips quickly (and records why) when there is nothing to do: odds and scores only
    # on days with games, scores only while games are on.
    "ingest: odds": {
        "task": "games.fetch_odds_all",
        "schedule": _cron("ODDS_CRON", "*/2 * * * *"),
        "options": {"expires": 100},
    },
    "ingest: live scores": {
        "task": "games.fetch_scores_all",
        "schedule": _cron("SCORES_CRON", "*/5 * * * *"),
        "options": {"expires": 4 * 60},
    },
    "ingest: injuries": {
        "task": "games.fetch_injuries",
        "schedule": _cron("INJURIES_CRON", "7 * * * *"),
        "options": {"expires": 55 * 60},
    },
    "ingest: schedule refresh": {
        "task": "games.refresh_schedule",
        "schedule": _cron("SCHEDULE_CRON", "30 8 * * *"),
        "options": {"expires": 23 * 3600},
    },
    "bets: settle": {
        "task": "bets.settle_bets",
        "schedule": _cron("SETTLE_CRON", "*/15 * * * *"),
        "options": {"expires": 14 * 60},
    },
    "models: nightly warm start": {
        "task": "predictions.warm_start_nightly",
        "schedule": _cron("WARM_START_CRON", "0 10 * * *"),
        "options": {"expires": 23 * 3600},
    },
    "models: full retrain when due": {
        "task": "predictions.full_retrain",
        "schedule": _cron("FULL_RETRAIN_CRON", "30 10 * * *"),
        "options": {"expires": 23 * 3600},
    },
    # Its own run is beat's heartbeat: /ready reports beat stale when it stops arriving.
    "ops: health check": {
        "task": "core.health_check",
        "schedule": _cron("HEALTH_CHECK_CRON", "* * * * *"),
        "options": {"expires": 50},
    },
    "ops: nightly backup": {
        "task": "core.backup",
        "schedule": _cron("BACKUP_CRON", "15 5 * * *"),
        "options": {"expires": 6 * 3600},
    },
}

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Pages show times in this zone; the database always stores UTC.
DISPLAY_TIME_ZONE = env.str("DISPLAY_TIME_ZONE", default="America/New_York")
# How pages and commands write prices: american (+150, -110) or decimal (2.50, 1.91); each browser can
# switch (a cookie, core/web/preferences.py).
ODDS_FORMAT = env.str("ODDS_FORMAT", default="american").strip().lower()
if ODDS_FORMAT not in ("american", "decimal"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable ODDS_FORMAT is malformed: american or decimal, got {ODDS_FORMAT!r}"
    )

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production swaps in WhiteNoise's hashed, compressed storage (needs collectstatic).
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders when collectstatic has not run (tests, a first demo).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- Pages (templates/, static/) --------------------------------------------------------------
# Read-only pages (today, games, bets, models, backtests) open to anyone; false: login required.
# Every action (rollback, starting a backtest) needs a staff login and a CSRF token either way.
PUBLIC_PAGES = env.bool("PUBLIC_PAGES", default=True)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Heavy page aggregates (bankroll curves, monthly figures, model charts) stay cached this long;
# their keys carry a fingerprint of the rows they read, so a change shows at once anyway.
PAGES_CACHE_SECONDS = env.int("PAGES_CACHE_SECONDS", default=3600)
# A page fingerprint (the one query behind a cached page) is reused this long within a process.
PAGE_FINGERPRINT_SECONDS = env.float("PAGE_FINGERPRINT_SECONDS", default=1.0)
# The today page warns when the newest odds for games not yet started are older than this.
ODDS_STALE_MINUTES = env.int("ODDS_STALE_MINUTES", default=30)
# Content-Security-Policy (django-csp) on every response: scripts only from our own static files
# (static/js/*, vendor/plotly.min.js; no inline script, no eval), no framing, forms post only here.
# Styles: our stylesheets, plus the two <style> elements plotly.js adds at run time, each allowed by
# the hash of its content rather than 'unsafe-inline' (which would let any injected <style> in):
# - PLOTLY_STYLE_HASHES[0], the empty string's: plotly appends an empty <style> and fills it through
#   the CSSOM (insertRule), which CSP does not govern; its other styling is element.style (CSSOM too);
# - PLOTLY_STYLE_HASHES[1], the stylesheet of maplibre (its map traces) that plotly.js 4.1.1 (plotly
#   7.1.0) injects on load. An upgrade changes it: tests/pages/test_csp.py recomputes it from the file.
# img-src blob: is plotly's "download plot as a png", which draws the chart through a blob: image.
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", *PLOTLY_STYLE_HASHES],
        "img-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# plotly.js comes from the plotly package (no CDN): core.web.pages.PlotlyFinder serves it as vendor/plotly.min.js.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "core.web.pages.PlotlyFinder",
]

# --- Models ---------------------------------------------------------------------------------
MODEL_DIR = Path(env.str("MODEL_DIR", default=str(VAR_DIR / "models")))
RETRAIN_FREQUENCY_DAYS = env.int("RETRAIN_FREQUENCY_DAYS", default=7)
RETRAIN_MIN_NEW_GAMES = env.int("RETRAIN_MIN_NEW_GAMES", default=100)
# Three seasons: measured on NBA 2017-18 walk-forward, a 365-day window scored log loss 0.606,
# 1095 days 0.602, 3650 days 0.601 (README, "Models").
RETRAIN_WINDOW_DAYS = env.int("RETRAIN_WINDOW_DAYS", default=1095)
# A candidate replaces the active model unless its log loss on the recent games is worse by more.
PROMOTION_TOLERANCE = env.float("PROMOTION_TOLERANCE", default=0.002)
PROMOTION_RECENT_GAMES = env.int("PROMOTION_RECENT_GAMES", default=200)
MODEL_KEEP_VERSIONS = env.int("MODEL_KEEP_VERSIONS", default=20)
# Staleness guard (betting/predictions/staleness.py): a prediction whose inputs are older than
# this gets no stake. Model: the last game it trained on; a full retrain is due every
# RETRAIN_FREQUENCY_DAYS (7) and warm starts run nightly, so 14 days is two missed retrain
# cycles, longer than the All-Star break. Features: a team's last final result; the longest
# in-season gap between a team's games is 11 days in NBA 2007-2025 (All-Star break) and 5 in MLB.
MODEL_STALE_DAYS = env.int("MODEL_STALE_DAYS", default=14)
FEATURE_STALE_DAYS = env.int("FEATURE_STALE_DAYS", default=14)
# Extra days allowed when the input is from the season right before the game's. A team out of the
# playoffs waits longest: NBA 127-199 days (2011 lockout 258), MLB about 150-180 days.
# "NBA=190;MLB=180" (semicolons); a league left out keeps its default, one unknown gets 180.
OFFSEASON_DAYS: dict[str, int] = {
    "NBA": 190,
    "MLB": 180,
    **env.dict("OFFSEASON_DAYS", cast={"value": int}, default={}),
}
OFFSEASON_DAYS_DEFAULT = 180

# --- Outbound HTTP (core/http/: client, throttle, breaker, quota) ---------------------------
HTTP_USER_AGENT = env.str("HTTP_USER_AGENT", default="Sharpline/0.1 (sports analytics)")
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=20.0)
# Retries after the first attempt (3 = up to 4 requests), on connection errors, timeouts, 429 and 5xx.
HTTP_MAX_RETRIES = env.int("HTTP_MAX_RETRIES", default=3)
# Waits between attempts: HTTP_BACKOFF_BASE * 2**(n-1) seconds, ±25% jitter, at most HTTP_BACKOFF_CAP.
HTTP_BACKOFF_BASE = env.float("HTTP_BACKOFF_BASE", default=1.0)
HTTP_BACKOFF_CAP = env.float("HTTP_BACKOFF_CAP", default=30.0)
# How long a call waits for a rate-limit token before giving up.
HTTP_THROTTLE_TIMEOUT = env.float("HTTP_THROTTLE_TIMEOUT", default=30.0)
CIRCUIT_BREAKER_MAX_FAILURES = env.int("CIRCUIT_BREAKER_MAX_FAILURES", default=5)
CIRCUIT_BREAKER_RESET_TIMEOUT = env.float("CIRCUIT_BREAKER_RESET_TIMEOUT", default=60.0)
# Requests per second and burst per provider, shared by every worker (Redis token bucket).
HTTP_PROVIDERS: dict[str, dict[str, float]] = {
    "odds_api": {"rate": env.float("ODDS_API_RATE", default=1.0), "burst": env.int("ODDS_API_BURST", default=5)},
    "espn": {"rate": env.float("ESPN_RATE", default=2.0), "burst": env.int("ESPN_BURST", default=10)},
    "injuries": {"rate": env.float("INJURIES_RATE", default=0.5), "burst": env.int("INJURIES_BURST", default=3)},
}

# --- Betting (names and defaults as users of earlier systems know them) ---------------------
BETTING_MODE = env.str("BETTING_MODE", default="PAPER")
if BETTING_MODE not in {"PAPER", "LIVE"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"Environment variable BETTING_MODE is malformed: PAPER or LIVE, got {BETTING_MODE!r}")
# The second lock: LIVE records bets the user enters; nothing is ever placed with real money here.
ENABLE_LIVE_BETTING = env.bool("ENABLE_LIVE_BETTING", default=False)
BETTING_KILL_SWITCH = env.bool("BETTING_KILL_SWITCH", default=False)
# The automatic decision run after each odds pull: games starting within the horizon, the paper
# bankroll it places on (opened with the deposit the first time).
RECOMMEND_HORIZON_HOURS = env.int("RECOMMEND_HORIZON_HOURS", default=36)
PAPER_BANKROLL = env.str("PAPER_BANKROLL", default="paper")
PAPER_BANKROLL_DEPOSIT = env.int("PAPER_BANKROLL_DEPOSIT", default=10000)
# What places paper bets (betting/bets/strategies.py): model (the active models), scanner (+EV prices
# against the sharp consensus, no model) or both.
PAPER_STRATEGY = env.str("PAPER_STRATEGY", default="model")
if PAPER_STRATEGY not in ("model", "scanner", "both"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable PAPER_STRATEGY is malformed: model, scanner or both, got {PAPER_STRATEGY!r}"
    )
RISK_LIMITS = {
    "kelly_fraction": env.float("KELLY_FRACTION", default=0.25),
    "min_edge": env.float("MIN_EDGE", default=0.01),
    "min_ev": env.float("MIN_EV", default=0.0),
    "min_probability": env.float("MIN_PROBABILITY", default=0.15),
    "min_odds": env.float("MIN_ODDS", default=1.01),
    "max_odds": env.float("MAX_ODDS", default=1000.0),
    "max_stake_absolute": env.str("MAX_STAKE_ABSOLUTE", default="500"),
    "max_stake_fraction": env.float("MAX_STAKE_FRACTION", default=0.05),
    "daily_exposure_fraction": env.float("DAILY_EXPOSURE_FRACTION", default=0.20),
    "max_drawdown_fraction": env.float("MAX_DRAWDOWN_FRACTION", default=0.20),
    "drawdown_warn_fraction": env.float("DRAWDOWN_WARN_FRACTION", default=0.15),
    "peak_bankroll_days": env.int("PEAK_BANKROLL_DAYS", default=30),
    "consecutive_loss_limit": env.int("CONSECUTIVE_LOSS_LIMIT", default=5),
    "consecutive_loss_warn": env.int("CONSECUTIVE_LOSS_WARN", default=3),
    "max_recent_losses_check": env.int("MAX_RECENT_LOSSES_CHECK", default=10),
    "loss_streak_cooldown_hours": env.float("LOSS_STREAK_COOLDOWN_HOURS", default=24.0),
    # recover: a tripped drawdown stop lifts once equity is back within DRAWDOWN_WARN_FRACTION of its
    # all-time peak; rolling: as soon as the drawdown from the PEAK_BANKROLL_DAYS peak is under the stop.
    "drawdown_rearm": env.str("DRAWDOWN_REARM", default="recover"),
    # Stakes open and new on one game (any markets) and on the games of one team, as shares of equity.
    "max_game_exposure_fraction": env.float("MAX_GAME_EXPOSURE_FRACTION", default=0.05),
    "max_team_exposure_fraction": env.float("MAX_TEAM_EXPOSURE_FRACTION", default=0.10),
}
if RISK_LIMITS["drawdown_rearm"] not in ("recover", "rolling"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable DRAWDOWN_REARM is malformed: recover or rolling, got {RISK_LIMITS['drawdown_rearm']!r}"
    )
# Quote sanity (betting/games/market.py): a two-way pair whose margin (sum of implied probabilities
# minus 1) is outside these bounds is kept but left out of consensus, training inputs and CLV.
QUOTE_MIN_MARGIN = env.float("QUOTE_MIN_MARGIN", default=-0.05)
QUOTE_MAX_MARGIN = env.float("QUOTE_MAX_MARGIN", default=0.25)
if not QUOTE_MIN_MARGIN < QUOTE_MAX_MARGIN:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variables QUOTE_MIN_MARGIN ({QUOTE_MIN_MARGIN}) must be below "
        f"QUOTE_MAX_MARGIN ({QUOTE_MAX_MARGIN})"
    )
# The one de-vig method of the market's consensus (betting/games/market.py): settlement CLV, backtests
# (unless a strategy names its own), the Today and game pages and the feature selectors.
DEVIG_METHOD = env.str("DEVIG_METHOD", default="multiplicative")
if DEVIG_METHOD not in ("multiplicative", "additive", "power", "shin"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable DEVIG_METHOD is malformed: multiplicative, additive, power or shin, got {DEVIG_METHOD!r}"
    )

# The market scanner (betting/bets/scanner.py; manage.py scan, /edges). Book keys as The Odds API
# writes them; the fair probability comes from the sharp books present, else from every book.
SHARP_BOOKS: list[str] = env.list("SHARP_BOOKS", default=["pinnacle", "circasports", "lowvig", "betonlineag"])
MIN_SCAN_EV = env.float("MIN_SCAN_EV", default=0.01)
MAX_HOLD = env.float("MAX_HOLD", default=0.10)
# Exchanges take a commission on net winnings; their prices are scanned net of it (fnmatch patterns).
EXCHANGE_COMMISSION = env.float("EXCHANGE_COMMISSION", default=0.02)
EXCHANGE_BOOKS: list[str] = env.list(
    "EXCHANGE_BOOKS",
    default=["betfair_ex_*", "matchbook", "smarkets", "betdaq", "sporttrade", "prophetx", "novig"],
)
STEAM_MIN_BOOKS = env.int("STEAM_MIN_BOOKS", default=3)
STEAM_WINDOW_MINUTES = env.int("STEAM_WINDOW_MINUTES", default=10)
EDGES_REFRESH_SECONDS = env.int("EDGES_REFRESH_SECONDS", default=60)
if not 0.0 <= EXCHANGE_COMMISSION < 1.0 or STEAM_MIN_BOOKS < 2 or STEAM_WINDOW_MINUTES < 1 or MAX_HOLD < 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Environment variables EXCHANGE_COMMISSION (0 to <1), STEAM_MIN_BOOKS (>= 2), STEAM_WINDOW_MINUTES (>= 1) "
        f"or MAX_HOLD (>= 0) are malformed: got {EXCHANGE_COMMISSION}, {STEAM_MIN_BOOKS}, {STEAM_WINDOW_MINUTES}, "
        f"{MAX_HOLD}"
    )

# --- Providers -----------------------------------------------------------------------------
ODDS_API_KEY = env.str("ODDS_API_KEY", default="")
ODDS_API_BASE_URL = env.str("ODDS_API_BASE_URL", default="https://api.the-odds-api.com")
ODDS_API_REGIONS = env.str("ODDS_API_REGIONS", default="us")
ODDS_API_MARKETS = env.str("ODDS_API_MARKETS", default="h2h,spreads,totals")
ODDS_API_ODDS_FORMAT = env.str("ODDS_API_ODDS_FORMAT", default="decimal")
# Stop pulling odds (and say so) when the provider's remaining request quota falls under this.
ODDS_API_QUOTA_RESERVE = env.int("ODDS_API_QUOTA_RESERVE", default=50)
# Player props: the per-event markets asked for (each costs credits per event and region), and the most
# events one props pull asks about (soonest first); the pull also stops at ODDS_API_QUOTA_RESERVE.
PROPS_MARKETS = env.list("PROPS_MARKETS", default=["player_points", "player_rebounds", "player_assists"])
PROPS_MAX_EVENTS_PER_PULL = env.int("PROPS_MAX_EVENTS_PER_PULL", default=10)
ESPN_BASE_URL = env.str("ESPN_BASE_URL", default="https://site.api.espn.com/apis/site/v2/sports")
# Backfill (manage.py backfill): the opening odds snapshot of a day at this hour UTC (15: 10-11 am in New York,
# before any NBA or MLB start), a closing one this many minutes before each start time, and a progress line
# every this many days when the output is not a terminal.
BACKFILL_OPEN_HOUR_UTC = env.int("BACKFILL_OPEN_HOUR_UTC", default=15)
BACKFILL_CLOSE_MINUTES = env.int("BACKFILL_CLOSE_MINUTES", default=5)
BACKFILL_LOG_EVERY_DAYS = env.int("BACKFILL_LOG_EVERY_DAYS", default=10)
if not 0 <= BACKFILL_OPEN_HOUR_UTC <= 23 or not 1 <= BACKFILL_CLOSE_MINUTES <= 720 or BACKFILL_LOG_EVERY_DAYS < 1:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Environment variables BACKFILL_OPEN_HOUR_UTC (0-23), BACKFILL_CLOSE_MINUTES (1-720) or "
        f"BACKFILL_LOG_EVERY_DAYS (>= 1) are malformed: got {BACKFILL_OPEN_HOUR_UTC}, {BACKFILL_CLOSE_MINUTES}, "
        f"{BACKFILL_LOG_EVERY_DAYS}"
    )
# Odds cadence: every ODDS_INTERVAL_MINUTES on days with games, every beat tick (ODDS_CRON, 2 min)
# once a game starts within ODDS_NEAR_START_MINUTES.
ODDS_INTERVAL_MINUTES = env.int("ODDS_INTERVAL_MINUTES", default=10)
ODDS_NEAR_START_MINUTES = env.int("ODDS_NEAR_START_MINUTES", default=90)
INJURIES_URL = env.str("INJURIES_URL", default="https://www.cbssports.com/nba/injuries/")
# Bounds on one pull (betting/games/pulls.py): a payload beyond them is refused whole, nothing written,
# the reason on its JobRun. Real ones are far below: a day of NBA odds (US books, three markets) is
# 200 KB with 18 events and 15 bookmakers, an MLB scoreboard 14 events, ESPN's injury file 99 rows.
PULL_MAX_BYTES = env.int("PULL_MAX_BYTES", default=10_000_000)
# Events of an odds response or a scoreboard, rows of an injury file.
PULL_MAX_EVENTS = env.int("PULL_MAX_EVENTS", default=1000)
# Distinct bookmakers of one odds response (the recorded ones: 15 for region us, 13 for us and eu).
PULL_MAX_BOOKMAKERS = env.int("PULL_MAX_BOOKMAKERS", default=200)
_pull_bounds = {
    "PULL_MAX_BYTES": PULL_MAX_BYTES,
    "PULL_MAX_EVENTS": PULL_MAX_EVENTS,
    "PULL_MAX_BOOKMAKERS": PULL_MAX_BOOKMAKERS,
}
if bad_bounds := [(name, value) for name, value in _pull_bounds.items() if value < 1]:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable {bad_bounds[0][0]} is malformed: a pull's bound is at least 1, got {bad_bounds[0][1]}"
    )

# --- Secrets and operator endpoints (core/ops/: secrets, endpoints) -------------------------
# Fernet keys (comma-separated) that encrypt the API keys stored in the database: the first
# encrypts, every one decrypts. Required in production; local settings derive one into var/.
FIELD_ENCRYPTION_KEYS: list[str] = fernet_keys("FIELD_ENCRYPTION_KEYS", env.list("FIELD_ENCRYPTION_KEYS", default=[]))
# Bearer token of POST /ops/...; unset, the operator endpoints answer 503.
OPS_TOKEN = env.str("OPS_TOKEN", default="")
if OPS_TOKEN and len(OPS_TOKEN) < 32:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Environment variable OPS_TOKEN is too short: use at least 32 random characters")
# What POST /ops/pipeline/run runs, by dotted path and task name (core imports no betting app):
# the function that keeps the active leagues among the codes asked for, and the chain's tasks.
OPS_PIPELINE_LEAGUES = "betting.bets.pipeline.pipeline_leagues"
OPS_PIPELINE_TASKS = ["bets.pipeline_ingest", "bets.pipeline_predict", "bets.pipeline_recommend"]
# django-ratelimit rates ("10/m": ten per minute per client address).
OPS_RATE_LIMIT = ratelimit_rate("OPS_RATE_LIMIT", env.str("OPS_RATE_LIMIT", default="10/m"))
ADMIN_LOGIN_RATE_LIMIT = ratelimit_rate("ADMIN_LOGIN_RATE_LIMIT", env.str("ADMIN_LOGIN_RATE_LIMIT", default="5/m"))
RATELIMIT_USE_CACHE = "default"
# The JSON API (/api/v1/): requests per personal API token (django-ratelimit rate; 429 beyond it).
API_RATE_LIMIT = ratelimit_rate("API_RATE_LIMIT", env.str("API_RATE_LIMIT", default="120/m"))
# django-ratelimit's checks know django-redis but not Django's own RedisCache, whose incr is
# Redis's atomic INCRBY (W001). Without REDIS_URL the in-process cache counts per process (E003),
# which is exact for the single process of the embedded mode; with REDIS_URL every process
# shares one count in Redis.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] if REDIS_URL else ["django_ratelimit.W001", "django_ratelimit.E003"]

# --- Health, alerts, observability, backups (core/health/, core/observe/, core/ops/) --------
# /ready and /status: checks named in HEALTH_CHECKS run in order; each function says whether it is
# critical (a failure answers 503) or a warning (200, status "degraded"). See README, "Health".
HEALTH_CHECKS = [
    "core.health.checks.check_database",
    "core.health.checks.check_cache",
    "core.health.checks.check_broker",
    "core.health.checks.check_workers",
    "core.health.checks.check_beat",
    "core.health.checks.check_breakers",
    "core.health.checks.check_quota",
    "betting.games.health.check_freshness",
    "betting.predictions.health.check_active_models",
]
# /status: each league's last final result and the gaps behind its scheduled games, from this
# function (a dotted path, as HEALTH_CHECKS: core imports no betting app); empty shows none.
RESULTS_SUMMARY = "betting.games.selectors.results_by_league"
# A /ready answer is reused for this many seconds (0: every request runs the checks).
READY_CACHE_SECONDS = env.int("READY_CACHE_SECONDS", default=5)
# Warn when odds of a league with games still to start today (next 24 h) are older than this...
READY_ODDS_MAX_AGE_MINUTES = env.int("READY_ODDS_MAX_AGE_MINUTES", default=30)
# ...when the scoreboard of a league with games in progress is older than this...
READY_SCORES_MAX_AGE_MINUTES = env.int("READY_SCORES_MAX_AGE_MINUTES", default=20)
# ...and when the injury report of a league playing today is older than this.
READY_INJURIES_MAX_AGE_MINUTES = env.int("READY_INJURIES_MAX_AGE_MINUTES", default=180)
# Beat is stale when the health job (every minute) has not run for this long.
READY_BEAT_MAX_AGE_SECONDS = env.int("READY_BEAT_MAX_AGE_SECONDS", default=300)
# A worker is live while its heartbeat (written every 15 s) is younger than this.
READY_WORKER_MAX_AGE_SECONDS = env.int("READY_WORKER_MAX_AGE_SECONDS", default=60)
# Warn when a provider's remaining request quota falls under this.
READY_QUOTA_WARN = env.int("READY_QUOTA_WARN", default=100)
# League:market pairs that must each have an active model.
READY_MODELS: list[str] = env.list("READY_MODELS", default=["NBA:h2h", "NBA:spreads", "NBA:totals", "MLB:h2h"])
if bad_models := [m for m in READY_MODELS if not re.fullmatch(r"[A-Za-z0-9]+:(h2h|spreads|totals)", m.strip())]:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable READY_MODELS is malformed: LEAGUE:market pairs (market h2h, spreads or totals), "
        f"got {', '.join(bad_models)}"
    )
# Who hears about a check changing state: email addresses (Django mail, EMAIL_URL) and/or a
# webhook that receives a JSON POST ({"text": ..., "events": [...]}; Slack-compatible "text").
ALERT_EMAILS: list[str] = env.list("ALERT_EMAILS", default=[])
ALERT_WEBHOOK_URL = env.str("ALERT_WEBHOOK_URL", default="")
ALERT_WEBHOOK_TIMEOUT = env.float("ALERT_WEBHOOK_TIMEOUT", default=5.0)
# A Telegram bot (core/ops/notify.py): both set, health and edge alerts also go to this chat.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_CHAT_ID = env.str("TELEGRAM_CHAT_ID", default="")
# Alerts on new edges after each odds pull (betting/bets/alerts.py): which kinds, from what size.
ALERT_KINDS: list[str] = env.list("ALERT_KINDS", default=["positive_ev", "arbitrage", "steam"])
ALERT_MIN_EV = env.float("ALERT_MIN_EV", default=0.03)
ALERT_MIN_ARB_MARGIN = env.float("ALERT_MIN_ARB_MARGIN", default=0.0)
ALERT_MAX_ATTEMPTS = env.int("ALERT_MAX_ATTEMPTS", default=5)
# "23:00-07:00" in DISPLAY_TIME_ZONE: edges found then are recorded but not sent. Empty: never quiet.
ALERT_QUIET_HOURS = env.str("ALERT_QUIET_HOURS", default="")
ALERT_QUIET: tuple[dt.time, dt.time] | None = None
if ALERT_QUIET_HOURS.strip():
    try:
        _quiet_from, _quiet_to = (dt.time.fromisoformat(part.strip()) for part in ALERT_QUIET_HOURS.split("-"))
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"Environment variable ALERT_QUIET_HOURS is malformed: expected HH:MM-HH:MM, got {ALERT_QUIET_HOURS!r}"
        ) from None
    ALERT_QUIET = (_quiet_from, _quiet_to)
if bad_kinds := sorted(set(ALERT_KINDS) - {"positive_ev", "arbitrage", "middles", "steam"}):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"Environment variable ALERT_KINDS is malformed: positive_ev, arbitrage, middles, steam; got {bad_kinds}"
    )
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sharpline@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Logs: one line per record, "plain" text or "json" (production's default), each with the request
# id and the Celery task id (core/observe/log.py).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# Celery keeps its hands off the logging Django configured (core/observe/signals.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Sentry: errors (and, at SENTRY_TRACES_SAMPLE_RATE, traces) of web and tasks; off when unset.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from core.observe.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# Prometheus metrics at /metrics (core/observe/metrics.py): off unless enabled; then readable with
# "Authorization: Bearer <METRICS_TOKEN>" or by a staff user. Several gunicorn workers (and workers
# on the same host) share their counts through PROMETHEUS_MULTIPROC_DIR, emptied before start.
PROMETHEUS_ENABLED = env.bool("PROMETHEUS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# Backups (manage.py backup / restore): one timestamped folder per run under BACKUP_DIR, the
# newest BACKUP_KEEP kept.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)

if PROMETHEUS_ENABLED:
    MIDDLEWARE.insert(0, "core.web.middleware.MetricsMiddleware")
