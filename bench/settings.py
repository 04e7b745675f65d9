"""The production settings plus one trivial view (``/bench/trivial``), for ``make bench`` only:
the baseline the today page is measured against, served by the same gunicorn with the same
settings. Never used in production: ``core.settings.production`` routes ``core.urls``."""

from __future__ import annotations

from core.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
