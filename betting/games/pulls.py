"""Pulls: fetch a provider's payload (or read a recorded one), parse it, write it, record a JobRun.

The commands (``fetch_odds``, ``fetch_scores``, ``fetch_injuries``) and the Celery tasks call
these same functions. A pull is written whole or not at all: parsing happens before any write,
and every write of one pull shares one transaction. A payload larger than PULL_MAX_BYTES, or with
more events (PULL_MAX_EVENTS) or bookmakers (PULL_MAX_BOOKMAKERS), is refused whole; parts the
parser refuses (a name longer than its column) are left out and the run recorded as partial.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, TypeVar

from django.conf import settings
from django.utils import timezone

from betting.games.ingest.injuries import injuries_ingest
from betting.games.ingest.odds import odds_ingest
from betting.games.ingest.reference import ReferenceSummary, reference_sync
from betting.games.ingest.scores import scores_ingest
from betting.games.models import Game, League
from betting.games.providers import espn, injuries_cbs, odds_api
from betting.games.providers.live_records import OddsRecord, ParseReport, load_json
from betting.games.selectors import insane_pair_count, league_of
from core.errors import SharplineError
from core.http import client as http
from core.models import JobRun
from core.ops.jobs import job_run, single_flight
from core.ops.secrets import SecretsError, api_key
from core.ops.switches import pulls_paused

ESPN_PATHS = {"basketball_nba": "basketball/nba", "baseball_mlb": "baseball/mlb"}
ODDS_API_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{32,64}$")


class PullError(SharplineError):
    """A pull that could not run as asked (configuration, unknown league); nothing was written."""


@dataclass
class PullResult:
    job_run_id: int
    status: str
    counts: dict[str, object] = field(default_factory=dict)  # the JobRun's counts (JSON)
    note: str = ""


def _league(code: str) -> League:
    return league_of(code, error=PullError)


def _finish(
    run: JobRun, counts: Mapping[str, object], status: str = JobRun.Status.SUCCESS, note: str = ""
) -> PullResult:
    run.counts = dict(counts)
    run.status = status
    run.error = note
    return PullResult(run.pk, status, run.counts, note)


_Record = TypeVar("_Record")


def _finish_parsed(run: JobRun, counts: Mapping[str, object], report: ParseReport[_Record]) -> PullResult:
    """Success; partial, saying what and where, when the parser refused part of the payload."""
    counts = {**counts, "parse_skipped": report.skipped}
    if not report.refused:
        return _finish(run, counts)
    counts["refused"] = report.refused
    shown = "; ".join(report.refusals[:5]) + (
        f"; and {len(report.refusals) - 5} more" if len(report.refusals) > 5 else ""
    )
    note = f"{len(report.refusals)} part(s) of the payload refused, the rest written: {shown}"
    return _finish(run, counts, JobRun.Status.PARTIAL, note)


def _bounded(payload: bytes, source: str) -> bytes:
    """The payload, unless it is larger than a pull may be (PULL_MAX_BYTES)."""
    _refuse_size(len(payload), source)
    return payload


def _read(path: Path) -> bytes:
    """A recorded payload, its size checked before it is read."""
    _refuse_size(path.stat().st_size, f"the file {path}")
    return path.read_bytes()


def _refuse_size(size: int, source: str) -> None:
    if size > settings.PULL_MAX_BYTES:
        raise PullError(
            f"{source} is {size:,} bytes, more than PULL_MAX_BYTES ({settings.PULL_MAX_BYTES:,}): "
            "refused whole, nothing written"
        )


@contextmanager
def _pull_run(job: str, lock: str, params: dict[str, str], task_id: str) -> Iterator[JobRun]:
    """One pull: the only one holding ``lock`` (``AlreadyRunning`` otherwise), recorded as a ``job`` JobRun."""
    with single_flight(lock, owner=task_id), job_run(job, params, task_id=task_id) as run:
        yield run


def _paused(run: JobRun, from_file: Path | None) -> PullResult | None:
    """The run recorded as skipped while pulls are paused (a replay from a file still runs)."""
    paused = pulls_paused() if from_file is None else ""
    return _finish(run, {}, JobRun.Status.SKIPPED, paused) if paused else None


def _quota_short() -> float | None:
    """The requests left in The Odds API's quota when they are under ODDS_API_QUOTA_RESERVE."""
    left = (http.quota("odds_api") or {}).get("remaining")
    return left if isinstance(left, int | float) and left < settings.ODDS_API_QUOTA_RESERVE else None


def _under_reserve(left: float) -> str:
    return f"{left} requests left in the quota, under the reserve of {settings.ODDS_API_QUOTA_RESERVE}"


# --- Odds --------------------------------------------------------------------------------------


def odds_pull(
    *,
    league_code: str,
    day: dt.date | None = None,
    from_file: Path | None = None,
    odds_format: str | None = None,
    task_id: str = "",
) -> PullResult:
    """Odds for one league: live from The Odds API, or replayed from a recorded response."""
    league = _league(league_code)
    odds_format = odds_format or settings.ODDS_API_ODDS_FORMAT
    params = {"league": league.code, "date": str(day or ""), "from_file": str(from_file or ""), "format": odds_format}
    with _pull_run("fetch_odds", f"fetch_odds:{league.code}", params, task_id) as run:
        if (skipped := _paused(run, from_file)) is not None:
            return skipped
        if from_file is not None:
            payload = _read(from_file)
        elif (left := _quota_short()) is not None:
            return _finish(run, {"quota_remaining": left}, JobRun.Status.SKIPPED, f"skipped: {_under_reserve(left)}")
        else:
            payload = _fetch_odds(league, day, odds_format)
        report = odds_api.parse(payload, odds_format=odds_format, **_payload_bounds())
        counts = _odds_written(report)
        counts["insane_pairs"] = insane_pair_count(since=run.started_at, league=league)  # kept, priced from by none
        return _finish_parsed(run, counts, report)


class _Bounds(TypedDict):
    max_events: int
    max_bookmakers: int


def _payload_bounds() -> _Bounds:
    """The most events and bookmakers a pull's payload may hold (PULL_MAX_EVENTS, PULL_MAX_BOOKMAKERS)."""
    return {"max_events": settings.PULL_MAX_EVENTS, "max_bookmakers": settings.PULL_MAX_BOOKMAKERS}


def _odds_written(report: ParseReport[OddsRecord]) -> dict[str, object]:
    """The parsed quotes written (``odds_ingest``): the JobRun's counts."""
    return {**odds_ingest(records=report.records).as_counts(), "parsed_quotes": len(report.records)}


def _fetch_odds(league: League, day: dt.date | None, odds_format: str) -> bytes:
    key = _api_key()
    query: dict[str, str] = {
        "apiKey": key,
        "regions": settings.ODDS_API_REGIONS,
        "markets": settings.ODDS_API_MARKETS,
        "oddsFormat": odds_format,
        "dateFormat": "iso",
    }
    if day is not None:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        query["commenceTimeFrom"] = f"{start:%Y-%m-%dT%H:%M:%SZ}"
        query["commenceTimeTo"] = f"{start + dt.timedelta(days=1, hours=12):%Y-%m-%dT%H:%M:%SZ}"
    url = f"{settings.ODDS_API_BASE_URL.rstrip('/')}/v4/sports/{league.sport_key}/odds"
    return _bounded(http.get("odds_api", url, params=query).content, "The Odds API's answer")


# --- Player props ----------------------------------------------------------------------------


def props_pull(
    *, league_code: str, from_file: Path | None = None, odds_format: str | None = None, task_id: str = ""
) -> PullResult:
    """Player props (PROPS_MARKETS) for a league's upcoming games, one per-event request each (at most
    PROPS_MAX_EVENTS_PER_PULL, soonest first, stopping at the ODDS_API_QUOTA_RESERVE), or replayed from a
    recorded per-event response (one event object or a list). Written like odds: a replay changes nothing."""
    league = _league(league_code)
    odds_format = odds_format or settings.ODDS_API_ODDS_FORMAT
    params = {"league": league.code, "from_file": str(from_file or ""), "format": odds_format}
    with _pull_run("fetch_props", f"fetch_props:{league.code}", params, task_id) as run:
        if (skipped := _paused(run, from_file)) is not None:
            return skipped
        budget: _PropsBudget = {}
        if from_file is not None:
            payload: bytes | list[object] = _read(from_file)
        else:
            payload, budget = _fetch_props(league, odds_format)
            if not payload and budget.get("stopped"):
                return _finish(run, budget, JobRun.Status.SKIPPED, f"skipped: {budget['stopped']}")
        report = odds_api.parse_props(payload, odds_format=odds_format, **_payload_bounds())
        counts = {**_odds_written(report), **budget}
        return _finish_parsed(run, counts, report)


class _PropsBudget(TypedDict, total=False):
    """What the quota allowed a props pull (part of its JobRun's counts)."""

    events_asked: int
    stopped: str  # why the reserve stopped the pull
    quota_remaining: float


def _fetch_props(league: League, odds_format: str) -> tuple[list[object], _PropsBudget]:
    """The per-event responses of the league's next games with an Odds API event id, decoded, and
    what the quota allowed: ``events_asked`` and, when the reserve stopped the pull, ``stopped``."""
    key = _api_key()
    games = Game.objects.filter(league=league, start_time__gt=timezone.now(), status=Game.Status.SCHEDULED)
    event_ids = [
        event_id
        for details in games.order_by("start_time").values_list("details", flat=True)
        if isinstance(details, dict) and (event_id := (details.get("odds_api") or {}).get("event_id"))
    ][: settings.PROPS_MAX_EVENTS_PER_PULL]
    query = {
        "apiKey": key,
        "regions": settings.ODDS_API_REGIONS,
        "markets": ",".join(settings.PROPS_MARKETS),
        "oddsFormat": odds_format,
        "dateFormat": "iso",
    }
    base = f"{settings.ODDS_API_BASE_URL.rstrip('/')}/v4/sports/{league.sport_key}/events"
    events: list[object] = []
    budget: _PropsBudget = {"events_asked": 0}
    for event_id in event_ids:
        if (left := _quota_short()) is not None:
            budget["stopped"], budget["quota_remaining"] = _under_reserve(left), left
            break
        body = _bounded(http.get("odds_api", f"{base}/{event_id}/odds", params=query).content, "The Odds API's answer")
        budget["events_asked"] += 1
        events.append(load_json(body, what="The Odds API event odds response"))
    return events, budget


def _api_key() -> str:
    try:
        key = api_key("odds_api")  # ODDS_API_KEY, else the key stored encrypted (set_api_key)
    except SecretsError as exc:
        raise PullError(str(exc)) from None
    if not ODDS_API_KEY_FORMAT.match(key):
        raise PullError("ODDS_API_KEY is malformed: expected 32 to 64 letters and digits")
    return key


# --- Scores and schedules ----------------------------------------------------------------------


def scores_pull(
    *, league_code: str, day: dt.date | None = None, from_file: Path | None = None, task_id: str = ""
) -> PullResult:
    """One day's scoreboard (schedule, live status, finals) for one league."""
    league = _league(league_code)
    day = day or timezone.localdate()
    params = {"league": league.code, "date": str(day), "from_file": str(from_file or "")}
    with _pull_run("fetch_scores", f"fetch_scores:{league.code}:{day}", params, task_id) as run:
        if (skipped := _paused(run, from_file)) is not None:
            return skipped
        if from_file is not None:
            payload = _read(from_file)
        else:
            path = ESPN_PATHS.get(league.sport_key)
            if path is None:
                raise PullError(f"no ESPN scoreboard is configured for {league.code}")
            url = f"{settings.ESPN_BASE_URL.rstrip('/')}/{path}/scoreboard"
            payload = _bounded(http.get("espn", url, params={"dates": f"{day:%Y%m%d}"}).content, "ESPN's scoreboard")
        report = espn.parse_scoreboard(payload, sport_key=league.sport_key, max_events=settings.PULL_MAX_EVENTS)
        summary = scores_ingest(records=report.records)
        return _finish_parsed(run, summary.as_counts(), report)


# --- Injuries ----------------------------------------------------------------------------------


def injuries_pull(*, league_code: str = "NBA", from_file: Path | None = None, task_id: str = "") -> PullResult:
    """The injury report page (CBS layout), or a recorded one: ``.json`` files are read as ESPN's
    injuries data, anything else as the HTML page."""
    league = _league(league_code)
    params = {"league": league.code, "from_file": str(from_file or "")}
    with _pull_run("fetch_injuries", f"fetch_injuries:{league.code}", params, task_id) as run:
        fetched_at = timezone.now()
        if (skipped := _paused(run, from_file)) is not None:
            return skipped
        if from_file is not None and from_file.suffix.lower() == ".json":
            report = espn.parse_injuries(_read(from_file), max_rows=settings.PULL_MAX_EVENTS)
            source = "espn"
        else:
            html = (
                _read(from_file)
                if from_file is not None
                else _bounded(http.get("injuries", settings.INJURIES_URL).content, "the injury page")
            )
            report = injuries_cbs.parse(html, fetched_at=fetched_at)
            source = "cbs"
        summary = injuries_ingest(records=report.records, league_code=league.code, source=source)
        return _finish_parsed(run, summary.as_counts(), report)


# --- What the beat jobs decide ---------------------------------------------------------------


def leagues_with_games(*, start: dt.datetime, end: dt.datetime, statuses: list[str] | None = None) -> list[str]:
    """Codes of the leagues with games starting in [start, end)."""
    games = Game.objects.filter(start_time__gte=start, start_time__lt=end)
    if statuses:
        games = games.filter(status__in=statuses)
    return sorted(set(games.values_list("league__code", flat=True)))


REFERENCE_JOB = "sync_reference"  # the command's, the task's (games.sync_reference) and the JobRun's name


def reference_sync_job(*, league_codes: list[str] | None = None, task_id: str = "") -> ReferenceSummary:
    """``reference_sync`` recorded as a ``sync_reference`` JobRun: what ``manage.py sync_reference``
    and the ``games.sync_reference`` task run (the post-migrate fill calls ``reference_sync`` bare)."""
    with job_run(REFERENCE_JOB, {"leagues": league_codes or "all"}, task_id=task_id) as run:
        summary = reference_sync(league_codes=league_codes)
        run.counts = vars(summary)
    return summary


SCORES_LIVE_BEFORE = dt.timedelta(hours=5)  # a game started this long ago and not final is still on
SCORES_LIVE_AHEAD = dt.timedelta(minutes=15)


def scores_due(*, now: dt.datetime) -> list[str]:
    """Leagues whose scoreboard should be pulled at this beat tick: those with a game on now (started
    in the last ``SCORES_LIVE_BEFORE`` or starting within ``SCORES_LIVE_AHEAD``, not final)."""
    return leagues_with_games(
        start=now - SCORES_LIVE_BEFORE, end=now + SCORES_LIVE_AHEAD, statuses=["scheduled", "in_progress"]
    )


def schedule_due(*, today: dt.date, days: int) -> list[tuple[str, dt.date]]:
    """The scoreboards the daily schedule refresh pulls: every active league, today and the next
    ``days - 1`` days (new games, moved start times)."""
    codes = League.objects.filter(active=True).order_by("code").values_list("code", flat=True)
    return [(code, today + dt.timedelta(days=offset)) for code in codes for offset in range(days)]


def odds_due(*, now: dt.datetime) -> list[str]:
    """Leagues whose odds should be pulled at this beat tick: those with games in the next 36 hours,
    every ODDS_INTERVAL_MINUTES, and at every tick once one of their games starts within
    ODDS_NEAR_START_MINUTES."""
    due = []
    soon = set(
        leagues_with_games(
            start=now, end=now + dt.timedelta(minutes=settings.ODDS_NEAR_START_MINUTES), statuses=["scheduled"]
        )
    )
    for code in leagues_with_games(start=now - dt.timedelta(hours=3), end=now + dt.timedelta(hours=36)):
        last = (
            JobRun.objects.filter(  # a partial pull (a refused event) wrote the rest: it counts as one
                job="fetch_odds", params__league=code, status__in=[JobRun.Status.SUCCESS, JobRun.Status.PARTIAL]
            )
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        interval = dt.timedelta(minutes=settings.ODDS_INTERVAL_MINUTES) - dt.timedelta(seconds=30)
        if code in soon or last is None or now - last >= interval:
            due.append(code)
    return due
