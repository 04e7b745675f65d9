"""Pulls: fetch a provider's payload (or read a recorded one), parse it, write it, record a JobRun.

The commands (``fetch_odds``, ``fetch_scores``, ``fetch_injuries``) and the Celery tasks call
these same functions. A pull is written whole or not at all: parsing happens before any write,
and every write of one pull shares one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from betting.games.models import Game, League
from betting.games.providers import espn, injuries_cbs, odds_api
from betting.games.selectors import insane_pair_count
from betting.games.services import injuries_ingest, odds_ingest, scores_ingest
from core import http
from core.jobs import job_run, single_flight
from core.models import JobRun
from core.secrets import SecretsError, api_key
from core.switches import pulls_paused

ESPN_PATHS = {"basketball_nba": "basketball/nba", "baseball_mlb": "baseball/mlb"}
ODDS_API_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{32,64}$")


class PullError(Exception):
    """A pull that could not run as asked (configuration, unknown league); nothing was written."""


@dataclass
class PullResult:
    job_run_id: int
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _league(code: str) -> League:
    league = League.objects.filter(code=code.upper()).first()
    if league is None:
        known = ", ".join(League.objects.values_list("code", flat=True)) or "none"
        raise PullError(f"unknown league {code!r}; known leagues: {known}")
    return league


def _finish(run: JobRun, counts: dict[str, Any], status: str = JobRun.Status.SUCCESS, note: str = "") -> PullResult:
    run.counts = counts
    run.status = status
    run.error = note
    return PullResult(run.pk, status, counts, note)


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
    with (
        single_flight(f"fetch_odds:{league.code}", owner=task_id),
        job_run("fetch_odds", params, task_id=task_id) as run,
    ):
        if from_file is not None:
            payload: bytes = from_file.read_bytes()
        elif paused := pulls_paused():
            return _finish(run, {}, JobRun.Status.SKIPPED, paused)
        else:
            left = (http.quota("odds_api") or {}).get("remaining")
            if left is not None and left < settings.ODDS_API_QUOTA_RESERVE:
                return _finish(
                    run,
                    {"quota_remaining": left},
                    JobRun.Status.SKIPPED,
                    f"skipped: {left} requests left in the quota, under the reserve of "
                    f"{settings.ODDS_API_QUOTA_RESERVE}",
                )
            payload = _fetch_odds(league, day, odds_format)
        report = odds_api.parse(payload, odds_format=odds_format)
        summary = odds_ingest(records=report.records)
        counts = {**summary.as_counts(), "parsed_quotes": len(report.records), "parse_skipped": report.skipped}
        counts["insane_pairs"] = insane_pair_count(since=run.started_at, league=league)  # kept, priced from by none
        return _finish(run, counts)


def _fetch_odds(league: League, day: dt.date | None, odds_format: str) -> bytes:
    try:
        key = api_key("odds_api")  # ODDS_API_KEY, else the key stored encrypted (set_api_key)
    except SecretsError as exc:
        raise PullError(str(exc)) from None
    if not ODDS_API_KEY_FORMAT.match(key):
        raise PullError("ODDS_API_KEY is malformed: expected 32 to 64 letters and digits")
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
    return http.get("odds_api", url, params=query).content


# --- Scores and schedules ----------------------------------------------------------------------


def scores_pull(
    *, league_code: str, day: dt.date | None = None, from_file: Path | None = None, task_id: str = ""
) -> PullResult:
    """One day's scoreboard (schedule, live status, finals) for one league."""
    league = _league(league_code)
    day = day or timezone.localdate()
    params = {"league": league.code, "date": str(day), "from_file": str(from_file or "")}
    with (
        single_flight(f"fetch_scores:{league.code}:{day}", owner=task_id),
        job_run("fetch_scores", params, task_id=task_id) as run,
    ):
        if from_file is not None:
            payload: bytes = from_file.read_bytes()
        elif paused := pulls_paused():
            return _finish(run, {}, JobRun.Status.SKIPPED, paused)
        else:
            path = ESPN_PATHS.get(league.sport_key)
            if path is None:
                raise PullError(f"no ESPN scoreboard is configured for {league.code}")
            url = f"{settings.ESPN_BASE_URL.rstrip('/')}/{path}/scoreboard"
            payload = http.get("espn", url, params={"dates": f"{day:%Y%m%d}"}).content
        report = espn.parse_scoreboard(payload, sport_key=league.sport_key)
        summary = scores_ingest(records=report.records)
        return _finish(run, {**summary.as_counts(), "parse_skipped": report.skipped})


# --- Injuries ----------------------------------------------------------------------------------


def injuries_pull(*, league_code: str = "NBA", from_file: Path | None = None, task_id: str = "") -> PullResult:
    """The injury report page (CBS layout), or a recorded one: ``.json`` files are read as ESPN's
    injuries data, anything else as the HTML page."""
    league = _league(league_code)
    params = {"league": league.code, "from_file": str(from_file or "")}
    with (
        single_flight(f"fetch_injuries:{league.code}", owner=task_id),
        job_run("fetch_injuries", params, task_id=task_id) as run,
    ):
        fetched_at = timezone.now()
        if from_file is None and (paused := pulls_paused()):
            return _finish(run, {}, JobRun.Status.SKIPPED, paused)
        if from_file is not None and from_file.suffix.lower() == ".json":
            report = espn.parse_injuries(from_file.read_bytes())
            source = "espn"
        else:
            html = (
                from_file.read_bytes() if from_file is not None else http.get("injuries", settings.INJURIES_URL).content
            )
            report = injuries_cbs.parse(html, fetched_at=fetched_at)
            source = "cbs"
        summary = injuries_ingest(records=report.records, league_code=league.code, source=source)
        return _finish(run, {**summary.as_counts(), "parse_skipped": report.skipped})


# --- What the beat jobs decide ---------------------------------------------------------------


def leagues_with_games(*, start: dt.datetime, end: dt.datetime, statuses: list[str] | None = None) -> list[str]:
    """Codes of the leagues with games starting in [start, end)."""
    games = Game.objects.filter(start_time__gte=start, start_time__lt=end)
    if statuses:
        games = games.filter(status__in=statuses)
    return sorted(set(games.values_list("league__code", flat=True)))


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
            JobRun.objects.filter(job="fetch_odds", params__league=code, status=JobRun.Status.SUCCESS)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        interval = dt.timedelta(minutes=settings.ODDS_INTERVAL_MINUTES) - dt.timedelta(seconds=30)
        if code in soon or last is None or now - last >= interval:
            due.append(code)
    return due
