"""What every page shares: who may see it, the cache of heavy aggregates, plotly.js served
locally, and error pages that never show a stack trace. Knows nothing about sports."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar, cast, overload

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles.finders import BaseFinder
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.checks import CheckMessage
from django.core.exceptions import PermissionDenied
from django.core.files.storage import FileSystemStorage
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.http.response import HttpResponseBase
from django.template import loader
from django.views.decorators.csrf import csrf_protect

logger = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., HttpResponseBase])  # streamed responses (CSV) too
T = TypeVar("T")


def public_page(view: View) -> View:
    """A read-only page: open to anyone while ``PUBLIC_PAGES`` is on, else only to signed-in users."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if not settings.PUBLIC_PAGES and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def staff_action(view: View) -> View:
    """An action: staff only (anonymous -> the login page, signed-in non-staff -> 403), CSRF checked."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("staff only")
        return view(request, *args, **kwargs)

    return csrf_protect(wrapper)  # type: ignore[return-value]


# --- Cached aggregates --------------------------------------------------------------------------


# A value the database adapts as a query parameter.
SQLParam = bool | int | float | Decimal | str | bytes | dt.date | uuid.UUID | None

# One aggregate query of a fingerprint: ``({"quotes": "COUNT(*)", "quote_ids": "SUM(id)"},
# "FROM games_oddsquote WHERE game_id IN (...)", params)``, the params in the order of the SQL.
Aggregates = tuple[dict[str, str], str, Sequence[SQLParam]]


def scalars(parts: Sequence[Aggregates]) -> dict[str, str | None]:
    """Several one-row aggregate queries over different tables in one round trip, as text (the
    values of a fingerprint are only compared): ``SELECT 0, CAST(COUNT(*) AS TEXT), ... FROM ...
    UNION ALL SELECT 1, ...``. The cheap way to take a page's fingerprint: written SQL, so no ORM
    compiling at each view, and a UNION ALL the database plans branch by branch (a join of the
    same parts costs it more to plan than to run)."""
    if not parts:
        return {}
    width = max(len(columns) for columns, _, _ in parts)
    branches: list[str] = []
    params: list[SQLParam] = []
    for number, (columns, rest, args) in enumerate(parts):
        values = [f"CAST({expression} AS TEXT)" for expression in columns.values()]
        values += ["CAST(NULL AS TEXT)"] * (width - len(values))
        branches.append(f"SELECT {number}, {', '.join(values)} {rest}")
        params.extend(args)
    sql = " UNION ALL ".join(branches)
    # A fingerprint taken less than PAGE_FINGERPRINT_SECONDS ago in this process is reused: under
    # load, one query a second per page and process instead of one per request, at the price of a
    # change showing up to that long later (0 turns it off; the tests run with 0).
    reuse = float(settings.PAGE_FINGERPRINT_SECONDS)
    memo_key = (sql, tuple(str(a) for a in params))
    now = time.monotonic()
    if reuse > 0:
        hit = _FINGERPRINTS.get(memo_key)
        if hit is not None and now - hit[0] < reuse:
            return hit[1]
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    out: dict[str, str | None] = {}
    for number, (columns, _, _) in enumerate(parts):
        out.update(zip(columns, rows[number], strict=False))
    if reuse > 0:
        if len(_FINGERPRINTS) > 512:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[memo_key] = (now, out)
    return out


_FINGERPRINTS: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, str | None]]] = {}


def fingerprint_clock(now: dt.datetime) -> dt.datetime:
    """``now`` as a fingerprint compares with it (``start_time > now``): rounded down to a multiple
    of ``PAGE_FINGERPRINT_SECONDS``, so the query's parameters, hence its memo key in ``scalars``,
    stay the same that long (a parameter new at each request would miss the memo every time).
    What it counts is then at most that old, the staleness the memo already allows. Unchanged
    when the memo is off."""
    reuse = float(settings.PAGE_FINGERPRINT_SECONDS)
    if reuse <= 0:
        return now
    return dt.datetime.fromtimestamp(math.floor(now.timestamp() / reuse) * reuse, tz=dt.UTC)


def recent(key: Hashable, build: Callable[[], T]) -> T:
    """``build()``'s value, reused within this process for ``PAGE_FINGERPRINT_SECONDS`` (0: built
    at each call): for the small reads a page makes besides its fingerprint (the leagues of a form,
    the failing providers of a banner), so that a page served whole from the cache costs no query
    and no Redis read but the page itself, and a change still shows within that time."""
    reuse = float(settings.PAGE_FINGERPRINT_SECONDS)
    if reuse <= 0:
        return build()
    now = time.monotonic()
    hit = _RECENT.get(key)
    if hit is not None and now - hit[0] < reuse:
        return cast(T, hit[1])
    value = build()
    if len(_RECENT) > 512:
        _RECENT.clear()
    _RECENT[key] = (now, value)
    return value


_RECENT: dict[Hashable, tuple[float, object]] = {}


class TemplateEngine(TypedDict, total=False):
    """The part of a ``TEMPLATES`` entry that ``deploy_digest`` reads."""

    DIRS: list[str | Path]


@functools.cache
def deploy_digest(*modules: str) -> str:
    """What a rendered page also depends on besides the data, read once per process: the source of
    every template, the static files' manifest (hashed names), and the named Python modules. A
    deploy that changes any of them changes the keys of the cached pages (Redis outlives deploys)."""
    from importlib.util import find_spec

    digest = hashlib.sha256()
    files: list[Path] = []
    templates = cast("list[TemplateEngine]", settings.TEMPLATES)  # Django's documented shape
    for directory in (Path(d) for t in templates for d in t.get("DIRS", [])):
        files += sorted(directory.rglob("*.html"))
    files.append(Path(settings.STATIC_ROOT) / "staticfiles.json")
    for module in modules:
        spec = find_spec(module)
        if spec and spec.origin:
            files.append(Path(spec.origin))
    for file in files:
        digest.update(str(file).encode())
        digest.update(file.read_bytes() if file.is_file() else b"-")
    return digest.hexdigest()[:16]


def anonymous_request(request: HttpRequest) -> bool:
    """No session and no message cookie: the visitor is anonymous and has nothing pending, so the
    page shell (sign-in link, no messages, no CSRF token) is the same for every such visitor and
    a page can be served whole from the cache. Decided without touching the session."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


PAGES_CACHE = "pages"


def page_cache() -> BaseCache:
    """The cache of pages and their aggregates: the ``pages`` alias, whose failures are misses
    (core/web/cache.py), or ``default`` where only that one is configured."""
    return caches[PAGES_CACHE if PAGES_CACHE in settings.CACHES else DEFAULT_CACHE_ALIAS]


def cache_key(name: str, fingerprint: object) -> str:
    """The cache key of ``name`` for ``fingerprint``: a digest of its repr."""
    return f"pages:{name}:{hashlib.sha256(repr(fingerprint).encode()).hexdigest()[:20]}"


def bounded(name: str, variant: Hashable, limit: int) -> bool:
    """Whether ``variant`` of ``name`` may be cached: True for the first ``limit`` distinct variants
    this process meets in each ``PAGES_CACHE_SECONDS`` window (and for those again), False past
    them. For the variants of a page that visitors can make at will (an empty day of any year):
    at most ``limit`` x processes x 2 (a key outlives its window by up to one) of them are cached
    at once, the rest are built at each view."""
    window = int(time.time() // max(1, int(settings.PAGES_CACHE_SECONDS)))
    with _VARIANTS_LOCK:
        start, seen = _VARIANTS.get(name, (window, set()))
        if start != window:
            seen = set()
        _VARIANTS[name] = (window, seen)
        if variant in seen:
            return True
        if len(seen) >= limit:
            return False
        seen.add(variant)
        return True


_VARIANTS: dict[str, tuple[int, set[Hashable]]] = {}
_VARIANTS_LOCK = threading.Lock()


# Values read from (or written to) the page cache, kept in this process for PAGE_FINGERPRINT_SECONDS
# (0: not kept): a page served whole costs a Redis read (and the unpickling of the page) once a
# second per process and key, not at every request. Safe because a key names its content: the
# fingerprint in it changes with the data, so a key is never reused for other content (the Today
# page re-checks its staleness on every read); no more stale than the fingerprint memo already is.
_LOCAL: dict[str, tuple[float, object]] = {}
LOCAL_PAGES = 256


def page_get(key: str) -> Any:  # noqa: ANN401 (an unpickled cache value: its shape is known to the caller that stored it)
    """The page cache's value of ``key`` (None: missing), from this process's copy when it is less
    than PAGE_FINGERPRINT_SECONDS old."""
    reuse = float(settings.PAGE_FINGERPRINT_SECONDS)
    now = time.monotonic()
    if reuse > 0:
        hit = _LOCAL.get(key)
        if hit is not None and now - hit[0] < reuse:
            return hit[1]
    value = page_cache().get(key)
    if reuse > 0 and value is not None:
        _keep(key, value, now)
    return value


def page_set(key: str, value: object) -> None:
    """``value`` into the page cache for PAGES_CACHE_SECONDS, and into this process's copy."""
    page_cache().set(key, value, settings.PAGES_CACHE_SECONDS)
    if float(settings.PAGE_FINGERPRINT_SECONDS) > 0:
        _keep(key, value, time.monotonic())


def _keep(key: str, value: object, now: float) -> None:
    if len(_LOCAL) >= LOCAL_PAGES:
        _LOCAL.clear()
    _LOCAL[key] = (now, value)


def cached(name: str, fingerprint: object, build: Callable[[], T], *, store: bool = True) -> T:
    """``build()``'s value, cached under ``name`` and a digest of ``fingerprint``.

    The fingerprint is a cheap summary of the rows the value reads (counts, largest ids, latest
    timestamps), taken by the caller in one query: when any of them changes the key changes, so a
    stale value is never served, whichever process wrote the change and however (save, update,
    bulk insert). Old keys expire after ``PAGES_CACHE_SECONDS``. The fingerprint must hold only
    what the page reads, normalised (never a raw query string), so that visitors cannot make new
    keys at will; ``store=False`` builds without caching, for variants beyond a page's bound.
    Without the cache (Redis down) every read is a miss and the value is built each time."""
    key = cache_key(name, fingerprint)
    hit = page_get(key) if store else None
    if hit is not None:
        return cast(T, hit)  # stored by this function under a key naming ``build``'s content
    value = build()
    if store:
        page_set(key, value)
    return value


# --- plotly.js, from the plotly package -----------------------------------------------------------


class PlotlyFinder(BaseFinder):
    """Serves the plotly.js bundle that ships inside the ``plotly`` Python package as
    ``vendor/plotly.min.js``: one pinned dependency, no CDN, collected like any static file."""

    prefix = "vendor"
    filename = "plotly.min.js"

    def __init__(self, *args: object, **kwargs: object) -> None:
        from importlib.util import find_spec

        spec = find_spec("plotly")  # located, not imported: the Python side of plotly is not needed
        locations = list(spec.submodule_search_locations or []) if spec else []
        self.root = Path(locations[0] if locations else ".") / "package_data"
        self.storage = FileSystemStorage(location=str(self.root))
        self.storage.prefix = self.prefix  # type: ignore[attr-defined]

    def check(self, **kwargs: object) -> list[CheckMessage]:
        from django.core.checks import Error

        if not (self.root / self.filename).is_file():
            return [Error(f"plotly.js is missing from {self.root}", id="core.E001")]
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False, **kwargs: object) -> str | None: ...
    @overload
    def find(self, path: str, find_all: Literal[True], **kwargs: object) -> list[str]: ...
    def find(self, path: str, find_all: bool = False, **kwargs: object) -> str | list[str] | None:
        if path == f"{self.prefix}/{self.filename}" and (self.root / self.filename).is_file():
            found = str(self.root / self.filename)
            return [found] if find_all or kwargs.get("all") else found
        return [] if find_all or kwargs.get("all") else None

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        if (self.root / self.filename).is_file():
            yield self.filename, self.storage


# --- Error pages ----------------------------------------------------------------------------------


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The 500 page: a static template without context processors (the database may be what
    failed), and plain text if even that cannot render."""
    try:
        return HttpResponseServerError(loader.get_template(template_name).render())
    except Exception:  # the error page must never raise; the original error is already logged
        logger.exception("could not render %s", template_name)
        return HttpResponseServerError(
            "Something went wrong. The error has been logged; please try again in a moment.",
            content_type="text/plain",
        )
