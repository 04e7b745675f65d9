"""Pages of the betting engine: today's slate (``/``), the bets and bankroll, the backtests."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal, TypedDict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from betting.bets import edges as edge_scanner
from betting.bets import exports, page_data, report_card, scanner, selectors
from betting.bets.backtest import passes_with_figures
from betting.bets.forms import BacktestForm, BetFilterForm, EdgeFilterForm, TodayForm, TodayValues
from betting.bets.models import Backtest, Bankroll, Bet
from betting.games.models import League, OddsQuote
from core.health.views import provider_status
from core.web.pages import (
    anonymous_request,
    bounded,
    cache_key,
    cached,
    deploy_digest,
    page_get,
    page_set,
    public_page,
    recent,
    staff_action,
)
from core.web.preferences import odds_format

BETS_PER_PAGE = 50
COMPARED_BANKROLLS = 10
BACKTESTS_LISTED = 100
BACKTEST_BETS_PER_PAGE = 50


def _leagues() -> list[tuple[str, str]]:
    """The leagues of the filter forms; read at most once per ``PAGE_FINGERPRINT_SECONDS`` and process."""
    return recent(
        "bets:leagues",
        lambda: [(code, name) for code, name in League.objects.order_by("code").values_list("code", "name")],
    )


def _failing() -> tuple[list[dict[str, object]], dt.datetime | None]:
    """The providers whose breaker is open (or unknown) and, when any is, the newest quote's time:
    what the banner shows. Read at most once per ``PAGE_FINGERPRINT_SECONDS`` and process (one
    Redis read per provider), so a cached page costs no breaker read at each view."""

    def read() -> tuple[list[dict[str, object]], dt.datetime | None]:
        failing = [p for p in provider_status(quotas=False) if p["breaker"] not in ("closed", "half_open", "half-open")]
        newest = OddsQuote.objects.aggregate(last=Max("captured_at"))["last"] if failing else None
        return failing, newest

    return recent("bets:failing-providers", read)


def _display_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(settings.DISPLAY_TIME_ZONE)).date()


PAGE_MODULES = ("betting.bets.page_data", "betting.bets.views", "core.templatetags.pages")
# The Today page caches every day with games, and at most this many empty days per process and
# PAGES_CACHE_SECONDS (core.web.pages.bounded); other empty days (any date up to 2100 is valid) are built
# at each view, a cheap page. So the variants in the cache are bounded by the data, not by what
# visitors ask: (days with games + EMPTY_DAYS_CACHED x processes x 2) x markets x (leagues + 1).
EMPTY_DAYS_CACHED = 100
TODAY_FIELDS = ("date", "league", "market")


def _today_query(data: TodayValues) -> list[tuple[str, str]]:
    """What the Today page reads from its query string, normalised: its own fields, in their order,
    each once, the empty ones left out. Unknown parameters, repeats, order and spacing make no new
    variant of the page."""
    values = {
        "date": day.isoformat() if (day := data.get("date")) else "",
        "league": data.get("league") or "",
        "market": data.get("market") or "",
    }
    return [(name, values[name]) for name in TODAY_FIELDS if values[name]]


TODAY_INPUTS_KEPT = 256


def _today_input(request: HttpRequest, leagues: list[tuple[str, str]]) -> TodayValues | None:
    """What the Today form makes of the request's query string: its cleaned data ({} without a
    query string), None when it is not valid (the view then builds the form for its errors)."""
    return _cleaned_today(request.META.get("QUERY_STRING", ""), tuple(leagues))


@functools.lru_cache(maxsize=TODAY_INPUTS_KEPT)
def _cleaned_today(query: str, leagues: tuple[tuple[str, str], ...]) -> TodayValues | None:
    """``_today_input`` by query string and league list, kept per process: binding and cleaning a
    Django form costs more than the rest of a view served from the cache. The cleaning depends on
    nothing else (no clock, no database), so an entry never goes stale; visitors can make new
    query strings at will, hence the bound. A remembered query string is not even parsed."""
    data = QueryDict(query)
    if not data:
        return {}
    form = TodayForm(data, leagues=list(leagues))
    return form.values() if form.is_valid() else None


HTML_PARTS: tuple[Literal["head", "nav", "table"], ...] = ("head", "nav", "table")


class TodayFragments(TypedDict):
    """The Today page's cached part: the slate and the HTML of its heading, day links and table."""

    slate: page_data.Slate
    head: str
    nav: str
    table: str


@require_GET
@public_page
def today(request: HttpRequest) -> HttpResponse:
    """Every game of a day with the model's probability, the best price, the de-vigged market, the
    edge and the stake; a banner when the odds are stale or a provider is failing.

    Cached, never stale: the heading, the day links and the table are rendered once per
    ``page_data.slate_fingerprint`` (one query summing every row they read; any new odds, prediction,
    bet or settlement changes it); the banners are decided at each view. An anonymous visitor
    (no session, nothing pending) at the normalised address (``_today_query``) gets the whole page
    from the cache, keyed by that fingerprint, the query and the banners; any other spelling of the
    query is served from the cached fragments. Empty days are cached up to ``EMPTY_DAYS_CACHED``.
    The fingerprint, the leagues and the failing providers are each
    read at most once per ``PAGE_FINGERPRINT_SECONDS`` and process (``scalars``, ``recent``), so
    under load such a view costs one Redis read and no query. The filter form is only built when
    the page is rendered (its query string's cleaning is remembered, ``_today_input``), so a page
    served whole builds none."""
    leagues = _leagues()
    data = _today_input(request, leagues)
    failing, newest_quote = _failing()
    context: dict[str, object] = {
        "failing": failing,
        "display_zone": settings.DISPLAY_TIME_ZONE,
        "newest_quote": newest_quote,
    }
    if data is None:
        form = TodayForm(request.GET, leagues=leagues)
        form.is_valid()
        context.update(form=form, slate=None)
        context["parts"] = {"head": render_to_string("bets/today_head.html", context)}
        return render(request, "bets/today.html", context, status=400)
    day = data.get("date") or _display_today()
    market = data.get("market") or "h2h"
    league = data.get("league") or None
    opening = None
    if not data.get("date"):
        # No date asked: today, or the nearest date with games and odds, and its league (the notice says so).
        opening = page_data.opening_day(today=day, league=league, leagues=[code for code, _ in leagues])
        if opening.day is not None:
            day, league = opening.day, opening.league
    now = timezone.now()
    context.update(
        day=day,
        market=market,
        league=league,
        opening=opening,
        previous=day - dt.timedelta(days=1),
        following=day + dt.timedelta(days=1),
        stale_minutes=settings.ODDS_STALE_MINUTES,
    )
    query = _today_query(data)
    # The form echoes what it was given: bound to the normalised query instead, the page is the same
    # for every spelling of it, and the key holds nothing else of the request. When the page opened
    # on another day, the date picker and the league list show the day and league opened on.
    shown = query
    if opening is not None and opening.moved and opening.day is not None:
        shown = _today_query({**data, "date": day, "league": league})

    def today_form() -> TodayForm:
        form = TodayForm(QueryDict(urlencode(shown)) if shown else None, leagues=leagues)
        form.is_valid()
        return form

    slate_key = page_data.slate_fingerprint(day=day, league=league, market=market, now=now)
    figures = next((part for part in slate_key if isinstance(part, dict)), {})
    store = int(figures.get("games") or 0) > 0 or bounded("today:empty-days", day, EMPTY_DAYS_CACHED)
    # Whose stakes and placed bets the slate shows: a visitor without a session gets the automatic
    # run's bankroll (no query, no session read); a signed-in user their own (selectors.default_bankroll).
    viewer_bankroll: Bankroll | None | str = page_data.SYSTEM
    if not anonymous_request(request):
        viewer_bankroll = selectors.default_bankroll(request.user, list(selectors.bankrolls_for(request.user)))
    viewer_key = viewer_bankroll if isinstance(viewer_bankroll, str) else getattr(viewer_bankroll, "pk", None)
    fingerprint = (
        deploy_digest(*PAGE_MODULES),
        slate_key,
        query,
        TodayForm.league_choices(leagues),
        odds_format(),  # prices are rendered in the viewer's odds format
        opening.as_key() if opening is not None else None,
        viewer_key,
    )

    def fragments() -> TodayFragments:
        slate = page_data.slate(day=day, league=league, market=market, now=now, bankroll=viewer_bankroll)
        built = {**context, "slate": slate}
        return {
            "slate": slate,
            "head": render_to_string("bets/today_head.html", built),
            "nav": render_to_string("bets/today_nav.html", built),
            "table": render_to_string("bets/today_table.html", built),
        }

    def page() -> tuple[HttpResponse, page_data.Slate, bool]:
        context["form"] = today_form()
        parts: TodayFragments = cached("today", fingerprint, fragments, store=store)
        slate = parts["slate"]
        stale = page_data.odds_stale(slate, now)
        context.update(
            slate=slate,
            stale=stale,
            parts={name: mark_safe(parts[name]) for name in HTML_PARTS},  # noqa: S308 (our own HTML)  # nosec B308 B703
        )
        return render(request, "bets/today.html", context), slate, stale

    # The shell echoes the address (the sign-in link's next=): only the normalised one is cached whole.
    if not (store and anonymous_request(request) and request.META.get("QUERY_STRING", "") == urlencode(query)):
        return page()[0]
    # Whole page: the same for every anonymous visitor of this address while the data and the
    # failing providers are unchanged; re-rendered when the odds have turned stale since.
    banners = ([(p["name"], p["breaker"], p["last_error"]) for p in failing], newest_quote)
    key = cache_key("today-page", (fingerprint, banners))
    whole = page_get(key)
    if whole is None or whole["stale"] != (whole["stale_from"] is not None and now > whole["stale_from"]):
        response, slate, stale = page()
        stale_from = page_data.odds_stale_from(slate)
        whole = {"content": response.content, "stale_from": stale_from, "stale": stale}
        page_set(key, whole)
    return HttpResponse(whole["content"])


def _ledger_request(
    request: HttpRequest,
) -> tuple[BetFilterForm, list[Bankroll], Bankroll | None, QuerySet[Bet] | None]:
    """The ledger's filters as the page and its CSV read them: the form, the bankrolls the viewer may
    see, the one chosen and its bets matching the filters, newest first (None, None: no bankroll, or
    a filter that could not be applied)."""
    bankrolls = list(selectors.bankrolls_for(request.user).select_related("owner").order_by("name", "pk"))
    form = BetFilterForm(request.GET or None, bankrolls=bankrolls, leagues=_leagues())
    if not bankrolls or (request.GET and not form.is_valid()):
        return form, bankrolls, None, None
    data = form.cleaned_data if form.is_bound else {}
    default = selectors.default_bankroll(request.user, bankrolls) or bankrolls[0]
    bankroll = next((b for b in bankrolls if str(b.pk) == data.get("bankroll")), default)
    return form, bankrolls, bankroll, selectors.ledger(bankroll, data)


@require_GET
@public_page
def bets(request: HttpRequest) -> HttpResponse:
    """The ledger with filters, the open bets, the bankroll curve and the figures by market and month."""
    form, bankrolls, bankroll, ledger = _ledger_request(request)
    context: dict[str, object] = {"form": form, "bankrolls": bankrolls}
    if not bankrolls:
        return render(request, "bets/bets.html", context)
    if bankroll is None or ledger is None:
        return render(request, "bets/bets.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    page = Paginator(ledger, BETS_PER_PAGE).get_page(data.get("page") or 1)
    open_bets = selectors.open_bets(bankroll)
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        bankroll=bankroll,
        page=page,
        open_bets=open_bets,
        now=timezone.now(),  # an open bet on a game started before now: no result recorded yet
        figures=page_data.bankroll_figures(bankroll),
        query=query.urlencode(),
        # Real bets beside the paper strategy's: each visible bankroll's ROI, yield and CLV.
        comparison=[(b, page_data.bankroll_figures(b)["total"]) for b in bankrolls[:COMPARED_BANKROLLS]],
        can_import=bool(request.user.is_authenticated and selectors.bankrolls_for(request.user, perm="bet").exists()),
    )
    return render(request, "bets/bets.html", context)


@require_GET
@public_page
def bets_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The ledger as CSV: the bets the page lists for the same filters (every page of them), streamed."""
    form, bankrolls, bankroll, ledger = _ledger_request(request)
    if bankrolls and (bankroll is None or ledger is None):
        reasons = "; ".join(f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())
        return HttpResponse(f"Bad filter: {reasons}\n", status=400, content_type="text/plain; charset=utf-8")
    rows = exports.ledger_rows(ledger, bankroll.name) if ledger is not None and bankroll is not None else iter([])
    name = f"bets-{slugify(bankroll.name) or bankroll.pk}.csv" if bankroll is not None else "bets.csv"
    return exports.csv_response(exports.LEDGER_COLUMNS, rows, name)


@require_http_methods(["GET", "POST"])
@login_required
@csrf_protect
def bets_import(request: HttpRequest) -> HttpResponse:
    """Signed-in: import a CSV of the bets placed at books onto a bankroll the user may bet on (all
    or nothing; the rows to correct listed), settled with their CLV (``imports.import_bets``)."""
    from betting.bets.forms import ImportBetsForm
    from betting.bets.imports import LAYOUTS, import_bets

    bankrolls = list(selectors.bankrolls_for(request.user, perm="bet").select_related("owner").order_by("name", "pk"))
    layouts = [(layout.name, layout.title) for layout in LAYOUTS.values()]
    form = ImportBetsForm(request.POST or None, request.FILES or None, bankrolls=bankrolls, layouts=layouts)
    context: dict[str, object] = {"form": form, "bankrolls": bankrolls, "result": None}
    if request.method != "POST":
        return render(request, "bets/import.html", context)
    if not form.is_valid():
        return render(request, "bets/import.html", context, status=400)
    bankroll = next(b for b in bankrolls if str(b.pk) == form.cleaned_data["bankroll"])
    result = import_bets(
        form.cleaned_data["file"], user=request.user, bankroll=bankroll, layout=form.cleaned_data["layout"]
    )
    context.update(result=result, bankroll=bankroll, unmatched=result.unmatched[:IMPORT_PROBLEMS_SHOWN])
    return render(request, "bets/import.html", context, status=200 if result.ok else 400)


IMPORT_PROBLEMS_SHOWN = 500


@require_GET
@public_page
def backtest_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.backtests_for(request.user)
    backtests = list(visible.select_related("league").defer("bets", "curve", "summary")[:BACKTESTS_LISTED])
    context = {"backtests": backtests, "cards": report_card.report_cards(visible)}
    return render(request, "bets/backtest_list.html", context)


@require_GET
@public_page
def backtest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bt = get_object_or_404(selectors.backtests_for(request.user).select_related("league", "created_by"), pk=pk)
    simulated = bt.bets if isinstance(bt.bets, list) else []
    summary = bt.summary if isinstance(bt.summary, dict) else {}
    context = {
        "bt": bt,
        "curve": page_data.backtest_curve(bt) if bt.status == Backtest.Status.SUCCESS else None,
        "by_month": _groups(summary.get("by_month")),
        "by_side": _groups(summary.get("by_side")),
        "passes": passes_with_figures(summary),
        "updates": summary.get("model_updates") if isinstance(summary.get("model_updates"), dict) else {},
        "summary": summary,
        "sim_page": Paginator(simulated, BACKTEST_BETS_PER_PAGE).get_page(request.GET.get("page") or 1),
    }
    return render(request, "bets/backtest_detail.html", context)


@require_GET
@public_page
def backtest_bets_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every simulated bet of a backtest as CSV (the bets live in the row's JSON list), streamed."""
    bt = get_object_or_404(selectors.backtests_for(request.user).only("pk", "market", "bets"), pk=pk)
    simulated = bt.bets if isinstance(bt.bets, list) else []
    rows = exports.backtest_rows(simulated, bt.market)
    return exports.csv_response(exports.BACKTEST_COLUMNS, rows, f"backtest-{bt.pk}-bets.csv")


def _groups(table: object) -> list[dict[str, object]]:
    """``{"2017-11": {"bets", "staked", "profit", "wins", "losses"}}`` as rows with yield and hit rate."""
    if not isinstance(table, dict):
        return []
    rows = []
    for name, row in table.items():
        if not isinstance(row, dict):
            continue
        staked, profit = float(row.get("staked") or 0), float(row.get("profit") or 0)
        decided = (row.get("wins") or 0) + (row.get("losses") or 0)
        rows.append(
            {
                "name": name,
                **row,
                "yield": profit / staked if staked else None,
                "hit_rate": (row.get("wins") or 0) / decided if decided else None,
            }
        )
    return rows


@require_GET
@public_page
@never_cache
def backtest_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """What the detail page polls while a backtest runs: one small query."""
    visible = selectors.backtests_for(request.user).filter(pk=pk)
    row = visible.values("status", "progress", "progress_note", "error", "finished_at").first()
    if row is None:
        return JsonResponse({"error": "no such backtest"}, status=404)
    return JsonResponse(
        {
            "status": row["status"],
            "progress": round(float(row["progress"] or 0), 4),
            "note": row["progress_note"],
            "error": row["error"],
            "done": row["status"] in (Backtest.Status.SUCCESS, Backtest.Status.FAILED),
        }
    )


@require_http_methods(["GET", "POST"])
@staff_action
def backtest_new(request: HttpRequest) -> HttpResponse:
    """Staff: start a backtest. It runs as a Celery task; the detail page shows its progress."""
    from betting.bets.backtest import BacktestError
    from betting.bets.services import backtest_create, backtest_window_check
    from betting.bets.tasks import run_backtest

    leagues = _leagues()
    form = BacktestForm(request.POST or None, leagues=leagues, initial=_backtest_initial())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        league = League.objects.get(code=data["league"])
        try:
            backtest_window_check(league=league, date_from=data["date_from"], date_to=data["date_to"])
            bt = backtest_create(
                league=league,
                market=data["market"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                params=form.params(),
                name=data["name"],
                user=request.user,
            )
        except BacktestError as exc:
            form.add_error(None, str(exc))
        else:
            # After the commit, so a worker always finds the row; eager mode runs it right here.
            transaction.on_commit(lambda: run_backtest.delay(bt.pk))
            messages.success(request, "Backtest queued. This page follows it until it finishes.")
            return redirect("bets:backtest", pk=bt.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "bets/backtest_new.html", {"form": form, "has_leagues": bool(leagues)}, status=status)


BACKTEST_FORM_DAYS = 90  # the window the form suggests


def _backtest_initial() -> dict[str, dt.date | str]:
    """The last ``BACKTEST_FORM_DAYS`` days with results, in the league that played last."""
    end, league = selectors.last_final_game() or (_display_today(), "")
    return {"date_to": end, "date_from": end - dt.timedelta(days=BACKTEST_FORM_DAYS), "market": "h2h", "league": league}


def _edges_request(request: HttpRequest) -> tuple[EdgeFilterForm, edge_scanner.Scan | None]:
    """The scanner's findings for the filters in the query string; None when a filter is invalid."""
    form = EdgeFilterForm(request.GET or None, leagues=_leagues())
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    found = edge_scanner.edges_scan(
        at=data.get("at"),
        league=data.get("league") or None,
        market=data.get("market") or None,
        min_ev=data.get("min_ev"),
    )
    edge_scanner.sort_found(found, data.get("sort") or "ev")
    return form, found


@require_GET
@public_page
@never_cache
def edges(request: HttpRequest) -> HttpResponse:
    """The market scanner: +EV prices against the sharp consensus, arbitrages, middles and steam, for
    games not yet started; filtered by league, market and minimum EV; the page reloads itself."""
    form, found = _edges_request(request)
    replay = found is not None and form.is_bound and form.cleaned_data.get("at") is not None
    context: dict[str, object] = {
        "form": form,
        "found": found,
        "refresh_seconds": 0 if replay else settings.EDGES_REFRESH_SECONDS,  # a past moment never changes
        "settings_min_ev": settings.MIN_SCAN_EV,
        "max_hold": settings.MAX_HOLD,
        "sharp_books": settings.SHARP_BOOKS,
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "bets/edges.html", context, status=400 if found is None else 200)


@require_GET
@public_page
@never_cache
def edges_csv(request: HttpRequest) -> HttpResponse:
    """The same findings as one CSV table (a ``kind`` column says which list a row is from)."""
    form, found = _edges_request(request)
    if found is None:
        reasons = "; ".join(f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())
        return HttpResponse(f"Bad filter: {reasons}\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(scanner.to_csv(found.result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="edges-{found.at:%Y%m%dT%H%M}Z.csv"'
    return response
