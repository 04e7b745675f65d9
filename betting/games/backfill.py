"""Backfill: a league's past scores and odds, day by day, resumable (``manage.py backfill``, task ``games.backfill``).

A unit of work is (league, what, day), ``what`` being ``scores`` or ``odds``:
- scores: ESPN's scoreboard of that day (one request), parsed by ``providers.espn`` and written by
  ``ingest.scores.scores_ingest``, as ``fetch_scores`` does;
- odds: The Odds API's historical snapshots (``/v4/historical/sports/{sport}/odds?date=``): an opening one
  at BACKFILL_OPEN_HOUR_UTC, then a closing one BACKFILL_CLOSE_MINUTES before each distinct start time of
  that day's games (from the opening snapshot's events and the games already in the database). Every quote
  is dated by its snapshot's ``timestamp``, and the day is written by one ``ingest.odds.odds_ingest`` (one
  transaction, quotes appended only when they moved), after all its snapshots were fetched and parsed.

A day is written whole or not at all, then recorded as a ``BackfillDay``: a re-run skips the days done
and tries the failed ones again (a 429, a timeout, a malformed payload, an unknown team name), so an
interrupted run continues where it stopped and a second run changes nothing. A failed day does not stop
the others; an open circuit breaker, a refused key or the credit budget does (the rest is left for the
next run). Every call goes through ``core.http.client`` (throttle, breaker, retries, quota headers).

The odds cost credits: 10 per region per market per call (CREDITS_PER_MARKET_REGION). The plan
(days, calls, credits) is said before anything is spent, and the run is refused when it would cost more
than ``max_credits`` or than the quota has left above ODDS_API_QUOTA_RESERVE (read from the quota headers
of ``/v4/sports``, a call that costs nothing). Days without a known schedule are estimated at the league's
average number of start times per day in the database (DEFAULT_STARTS_PER_DAY when it has none), and the
run stops before a call that would pass the budget whatever the estimate said.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count

from betting.games.ingest.common import IngestFailed, Progress
from betting.games.ingest.odds import odds_ingest
from betting.games.ingest.scores import scores_ingest
from betting.games.models import BackfillDay, Game, League
from betting.games.providers import espn, odds_api
from betting.games.providers.live_records import OddsRecord
from betting.games.providers.records import ParseError
from betting.games.pulls import ESPN_PATHS, PullError, _api_key, _bounded, _league
from core.errors import SharplineError
from core.http import client as http
from core.models import JobRun
from core.ops.jobs import job_run, single_flight
from core.ops.switches import pulls_paused

logger = logging.getLogger(__name__)

WHATS = ("scores", "odds")
CREDITS_PER_MARKET_REGION = 10  # The Odds API's price of one historical odds call, per region and market
DEFAULT_STARTS_PER_DAY = 6  # distinct start times of a day with no known schedule (NBA: 3-5, MLB: 5-8)
LOCK_SECONDS = 6 * 3600  # longer than any backfill; a killed run's lock expires after it


class BackfillRefused(SharplineError):
    """The run would spend more than allowed, or cannot run as asked; nothing was spent."""


class _Stop(Exception):
    """Stop the run here (breaker open, key refused, budget reached): the rest waits for the next run."""


# --- Pure: which snapshots a day takes -------------------------------------------------------------


def snapshot_times(
    *, day: dt.date, starts: Iterable[dt.datetime], open_hour: int, close_minutes: int
) -> tuple[dt.datetime, list[dt.datetime]]:
    """The opening snapshot (``day`` at ``open_hour`` UTC) and one closing snapshot ``close_minutes``
    before each distinct start time, earliest first (a start equal to the opening adds nothing)."""
    opening = dt.datetime.combine(day, dt.time(open_hour), tzinfo=dt.UTC)
    lead = dt.timedelta(minutes=close_minutes)
    closes = sorted({start.astimezone(dt.UTC) - lead for start in starts} - {opening})
    return opening, closes


def credits_per_call() -> int:
    """What one historical odds call costs: 10 per region per market asked for."""
    regions = [r for r in settings.ODDS_API_REGIONS.split(",") if r.strip()]
    markets = [m for m in settings.ODDS_API_MARKETS.split(",") if m.strip()]
    return CREDITS_PER_MARKET_REGION * max(1, len(regions)) * max(1, len(markets))


# --- The plan --------------------------------------------------------------------------------------


@dataclass
class Plan:
    league: str
    whats: tuple[str, ...]
    start: dt.date
    end: dt.date
    todo: dict[str, list[dt.date]]
    already: dict[str, int]
    odds_calls: int = 0
    known_days: int = 0  # odds days whose start times came from games in the database
    per_call: int = 0
    quota_remaining: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def credits(self) -> int:
        return self.odds_calls * self.per_call

    def lines(self) -> list[str]:
        out = [f"Backfill {self.league} {'+'.join(self.whats)} from {self.start} to {self.end} ({self.days} days)"]
        for what in self.whats:
            out.append(f"  {what}: {len(self.todo[what])} day(s) to fetch, {self.already[what]} already done")
        if "scores" in self.whats:
            out.append(f"  scores: {len(self.todo['scores'])} ESPN request(s), no credits")
        if "odds" in self.whats:
            left = "unknown" if self.quota_remaining is None else f"{self.quota_remaining:,}"
            out.append(
                f"  odds: about {self.odds_calls} historical call(s) (1 opening + 1 per start time a day; "
                f"{self.known_days} of {len(self.todo['odds'])} day(s) with a known schedule) x {self.per_call} "
                f"credits = about {self.credits:,} credits; quota remaining: {left}"
            )
        return out


def backfill_plan(*, league_code: str, whats: Iterable[str], start: dt.date, end: dt.date) -> Plan:
    """What a run would fetch and what it would cost, from the database alone (no request)."""
    league = _league(league_code)
    whats = tuple(w for w in WHATS if w in set(whats))
    if not whats:
        raise BackfillRefused(f"nothing to backfill: expected {' or '.join(WHATS)}")
    if end < start:
        raise BackfillRefused(f"the range ends ({end}) before it starts ({start})")
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    todo: dict[str, list[dt.date]] = {}
    already: dict[str, int] = {}
    for what in whats:
        done = set(
            BackfillDay.objects.filter(
                league=league, what=what, day__gte=start, day__lte=end, status=BackfillDay.Status.DONE
            ).values_list("day", flat=True)
        )
        todo[what] = [day for day in days if day not in done]
        already[what] = len(done)
    plan = Plan(league.code, whats, start, end, todo, already)
    if "odds" in whats:
        plan.per_call = credits_per_call()
        starts = _known_starts(league, todo["odds"])
        average = _average_starts(league)
        plan.known_days = sum(1 for day in todo["odds"] if starts.get(day))
        plan.odds_calls = sum(1 + (len(starts[day]) if starts.get(day) else average) for day in todo["odds"])
        remaining = (http.quota("odds_api") or {}).get("remaining")
        plan.quota_remaining = remaining if isinstance(remaining, int) else None
    return plan


def _known_starts(league: League, days: list[dt.date]) -> dict[dt.date, set[dt.datetime]]:
    starts: dict[dt.date, set[dt.datetime]] = {}
    if not days:
        return starts
    rows = Game.objects.filter(
        league=league, game_date__gte=min(days), game_date__lte=max(days), start_time_exact=True
    ).values_list("game_date", "start_time")
    wanted = set(days)
    for day, start in rows:
        if day in wanted:
            starts.setdefault(day, set()).add(start)
    return starts


def _average_starts(league: League) -> int:
    """The league's mean number of distinct start times a day, over the days the database knows."""
    per_day = (
        Game.objects.filter(league=league, start_time_exact=True)
        .values("game_date")
        .annotate(starts=Count("start_time", distinct=True))
        .values_list("starts", flat=True)
    )
    counts = list(per_day[:2000])
    return math.ceil(sum(counts) / len(counts)) if counts else DEFAULT_STARTS_PER_DAY


# --- The run ---------------------------------------------------------------------------------------


@dataclass
class BackfillResult:
    plan: Plan
    job_run_id: int | None = None
    status: str = "dry_run"
    refused: str = ""
    stopped: str = ""
    done: int = 0
    failed: list[str] = field(default_factory=list)
    left: int = 0  # units not attempted (the run stopped)
    credits: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.refused:
            return [f"Refused: {self.refused}"]
        out = [
            f"{self.status}: {self.done} day(s) written, {len(self.failed)} failed, {self.left} left for the next "
            f"run; {self.credits:,} credits spent" + (f" (job run #{self.job_run_id})" if self.job_run_id else "")
        ]
        if self.counts:
            out.append("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(self.counts.items()) if v))
        out += [f"  failed {line}" for line in self.failed[:20]]
        if len(self.failed) > 20:
            out.append(f"  ... and {len(self.failed) - 20} more (admin, Backfill days, status failed)")
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        return out


def backfill_run(
    *,
    league_code: str,
    whats: Iterable[str],
    start: dt.date,
    end: dt.date,
    max_credits: int | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = logger.info,
    progress: Progress | None = None,
    task_id: str = "",
) -> BackfillResult:
    """Plan, say the plan and its cost, check the budget, then fetch and write day by day (see the module
    docstring). ``say`` gets the plan, a progress line every BACKFILL_LOG_EVERY_DAYS days when there is
    no ``progress`` bar, and the summary. A dry run stops after the plan: no request, no write."""
    plan = backfill_plan(league_code=league_code, whats=whats, start=start, end=end)
    if dry_run:
        for line in plan.lines():
            say(line)
        say("Dry run: nothing fetched, nothing written, no credits spent.")
        return BackfillResult(plan)
    league = _league(league_code)
    params = {
        "league": league.code,
        "what": list(plan.whats),
        "from": str(start),
        "to": str(end),
        "max_credits": max_credits,
    }
    with (
        single_flight(f"backfill:{league.code}", ttl=LOCK_SECONDS, owner=task_id),
        job_run("backfill", params, task_id=task_id) as run,
    ):
        result = BackfillResult(plan, job_run_id=run.pk)
        try:
            budget = _budget(plan, max_credits)
        except BackfillRefused as exc:
            for line in plan.lines():
                say(line)
            result.status, result.refused = JobRun.Status.SKIPPED, str(exc)
            run.status, run.error, run.counts = result.status, result.refused, {"credits_estimated": plan.credits}
            return result
        for line in plan.lines():
            say(line)
        _Runner(league, plan, budget, result, say, progress).run()
        run.counts = {**result.counts, "days_done": result.done, "days_failed": len(result.failed)}
        run.counts |= {"days_left": result.left, "credits": result.credits}
        if result.failed or result.stopped:
            result.status = JobRun.Status.FAILED if not result.done else JobRun.Status.PARTIAL
            run.error = "; ".join(filter(None, [result.stopped, *result.failed[:5]]))[:2000]
        else:
            result.status = JobRun.Status.SUCCESS
        run.status = result.status
    for line in result.lines():
        say(line)
    return result


def _budget(plan: Plan, max_credits: int | None) -> int | None:
    """The most credits the run may spend (None: no odds), or ``BackfillRefused`` saying why not."""
    if paused := pulls_paused():
        raise BackfillRefused(paused.removeprefix("skipped: "))
    if "odds" not in plan.whats or not plan.todo["odds"]:
        return None
    _api_key()  # a missing or malformed key refuses the run before anything is asked
    if max_credits is not None and plan.credits > max_credits:
        raise BackfillRefused(
            f"the odds would cost about {plan.credits:,} credits, more than --max-credits {max_credits:,}"
        )
    plan.quota_remaining = _quota_remaining()
    allowed: int = plan.quota_remaining - int(settings.ODDS_API_QUOTA_RESERVE)
    if plan.credits > allowed:
        raise BackfillRefused(
            f"the odds would cost about {plan.credits:,} credits, more than the quota's {plan.quota_remaining:,} "
            f"remaining less the reserve of {settings.ODDS_API_QUOTA_RESERVE} (ODDS_API_QUOTA_RESERVE)"
        )
    return min(allowed, max_credits) if max_credits is not None else allowed


def _quota_remaining() -> int:
    """The quota left, from the headers of ``/v4/sports`` (a call that costs no credit)."""
    url = f"{settings.ODDS_API_BASE_URL.rstrip('/')}/v4/sports"
    try:
        http.get("odds_api", url, params={"apiKey": _api_key()})
    except http.ProviderError as exc:
        raise BackfillRefused(f"could not read the remaining quota: {exc}") from None
    left = (http.quota("odds_api") or {}).get("remaining")
    if not isinstance(left, int):
        raise BackfillRefused("The Odds API sent no x-requests-remaining header: the quota is unknown")
    return left


class _Runner:
    def __init__(
        self,
        league: League,
        plan: Plan,
        budget: int | None,
        result: BackfillResult,
        say: Callable[[str], None],
        progress: Progress | None,
    ) -> None:
        self.league, self.plan, self.budget, self.result = league, plan, budget, result
        self.say, self.progress = say, progress
        self.zone = zoneinfo.ZoneInfo(league.time_zone)

    def run(self) -> None:
        units = sorted(((day, what) for what, days in self.plan.todo.items() for day in days), key=_unit_order)
        if self.progress is not None:
            self.progress.reset(total=len(units))
        every = max(1, settings.BACKFILL_LOG_EVERY_DAYS)
        total_days = len({day for day, _ in units})
        days_finished = 0
        for index, (day, what) in enumerate(units):
            try:
                self._unit(day, what)
            except _Stop as exc:
                self.result.stopped = str(exc)
                self.result.left = len(units) - index
                break
            finally:
                if self.progress is not None:
                    self.progress.update(1)
            if index + 1 == len(units) or units[index + 1][0] != day:
                days_finished += 1
                if self.progress is None and days_finished % every == 0:
                    self.say(
                        f"  {days_finished} of {total_days} day(s) through {day}: {self.result.done} unit(s) "
                        f"written, {len(self.result.failed)} failed, {self.result.credits:,} credits"
                    )
        if self.progress is not None:
            self.progress.close()

    def _unit(self, day: dt.date, what: str) -> None:
        spent_before = self.result.credits
        try:
            counts = self._scores(day) if what == "scores" else self._odds(day)
        except _Stop as exc:
            if self.result.credits > spent_before:  # a snapshot of the day was paid for: on record
                self._record(day, what, error=str(exc), credits=self.result.credits - spent_before)
            raise
        except http.ProviderUnavailable as exc:
            spent = self.result.credits - spent_before
            if exc.reason == "retries_exhausted" or spent:  # asked and failed, or part of the day paid for
                self._record(day, what, error=str(exc), credits=spent)
            if exc.reason != "retries_exhausted":  # breaker open, throttle unreachable: the next days alike
                raise _Stop(str(exc)) from None
        except (ParseError, IngestFailed, PullError, http.ProviderError) as exc:
            self._record(day, what, error=f"{type(exc).__name__}: {exc}", credits=self.result.credits - spent_before)
            if isinstance(exc, http.ProviderHTTPError) and exc.status_code in (401, 403):
                raise _Stop(f"the key was refused, every day would be: {exc}") from None
        else:
            self._record(day, what, counts=counts, credits=self.result.credits - spent_before)

    def _record(
        self, day: dt.date, what: str, *, counts: dict[str, object] | None = None, error: str = "", credits: int = 0
    ) -> None:
        status = BackfillDay.Status.FAILED if error else BackfillDay.Status.DONE
        row, created = BackfillDay.objects.get_or_create(
            league=self.league,
            what=what,
            day=day,
            defaults={"status": status, "error": error, "credits": credits, "counts": counts or {}},
        )
        if not created:
            row.status, row.error, row.attempts, row.credits = status, error, row.attempts + 1, row.credits + credits
            row.counts = counts or {}
            row.save(update_fields=["status", "error", "attempts", "credits", "counts", "updated_at"])
        if error:
            self.result.failed.append(f"{what} {day}: {error}")
            logger.warning("backfill %s %s %s failed: %s", self.league.code, what, day, error)
            return
        self.result.done += 1
        for key, value in (counts or {}).items():
            if isinstance(value, int):
                self.result.counts[f"{what}_{key}"] = self.result.counts.get(f"{what}_{key}", 0) + value

    def _scores(self, day: dt.date) -> dict[str, object]:
        path = ESPN_PATHS.get(self.league.sport_key)
        if path is None:
            raise _Stop(f"no ESPN scoreboard is configured for {self.league.code}")
        url = f"{settings.ESPN_BASE_URL.rstrip('/')}/{path}/scoreboard"
        payload = _bounded(http.get("espn", url, params={"dates": f"{day:%Y%m%d}"}).content, "ESPN's scoreboard")
        report = espn.parse_scoreboard(payload, sport_key=self.league.sport_key, max_events=settings.PULL_MAX_EVENTS)
        summary = scores_ingest(records=report.records)
        return {**summary.as_counts(), "refused": sum(report.refused.values())}

    def _odds(self, day: dt.date) -> dict[str, object]:
        opening, records = self._snapshot(
            dt.datetime.combine(day, dt.time(settings.BACKFILL_OPEN_HOUR_UTC), tzinfo=dt.UTC), day
        )
        starts = {record.start_time for record in records} | _known_starts(self.league, [day]).get(day, set())
        _, closes = snapshot_times(
            day=day,
            starts=starts,
            open_hour=settings.BACKFILL_OPEN_HOUR_UTC,
            close_minutes=settings.BACKFILL_CLOSE_MINUTES,
        )
        self._afford(len(closes), f"the closing snapshots of {day}")
        for moment in closes:
            records += self._snapshot(moment, day)[1]
        summary = odds_ingest(records=records)
        return {**summary.as_counts(), "snapshots": 1 + len(closes), "opening_timestamp": opening.isoformat()}

    def _afford(self, calls: int, what: str) -> None:
        cost = calls * self.plan.per_call
        if self.budget is not None and self.result.credits + cost > self.budget:
            raise _Stop(
                f"budget reached: {what} would cost {cost:,} credits, {self.budget - self.result.credits:,} left "
                "of this run's budget"
            )

    def _snapshot(self, moment: dt.datetime, day: dt.date) -> tuple[dt.datetime, list[OddsRecord]]:
        """One historical snapshot, its quotes of ``day``'s games dated by the snapshot's timestamp."""
        self._afford(1, f"the snapshot at {moment:%Y-%m-%d %H:%M}Z")
        url = f"{settings.ODDS_API_BASE_URL.rstrip('/')}/v4/historical/sports/{self.league.sport_key}/odds"
        query = {
            "apiKey": _api_key(),
            "regions": settings.ODDS_API_REGIONS,
            "markets": settings.ODDS_API_MARKETS,
            "oddsFormat": settings.ODDS_API_ODDS_FORMAT,
            "dateFormat": "iso",
            "date": f"{moment:%Y-%m-%dT%H:%M:%SZ}",
        }
        response = http.get("odds_api", url, params=query)
        last = odds_api.quota(response.headers)["last"]  # what this call cost, when the API says
        self.result.credits += last if last is not None else self.plan.per_call
        payload = _bounded(response.content, "The Odds API's historical answer")
        timestamp, report = odds_api.parse_historical(
            payload,
            odds_format=settings.ODDS_API_ODDS_FORMAT,
            max_events=settings.PULL_MAX_EVENTS,
            max_bookmakers=settings.PULL_MAX_BOOKMAKERS,
        )
        return timestamp, [r for r in report.records if r.start_time.astimezone(self.zone).date() == day]


def _unit_order(unit: tuple[dt.date, str]) -> tuple[dt.date, int]:
    return unit[0], WHATS.index(unit[1])  # a day's scores before its odds: the odds then know its schedule
