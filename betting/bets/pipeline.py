"""Run now: ingest -> predict -> recommend for the active leagues, the chain the operator endpoint
``POST /ops/pipeline/run`` queues (tasks ``bets.pipeline_*``). Each step records the same JobRuns
as its command or automatic run (fetch_scores, fetch_odds, predict, recommend); a league whose
pull fails is reported and the next steps still run on the data already there."""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypedDict

from betting.bets.strategies import RecommendSummary, recommend_upcoming
from betting.games.models import League
from betting.games.pulls import odds_pull, scores_pull
from betting.predictions.services import predictions_make
from core.errors import SharplineError
from core.ops.jobs import AlreadyRunning, job_run, single_flight

# Any known failure of a league's pull (PullError, ParseError, IngestFailed, ProviderError,
# AlreadyRunning...) is reported and the next steps still run; a bug propagates.
PULL_ERRORS = (SharplineError,)


class StepReport(TypedDict, total=False):
    """One pull of one league: its JobRun's status and note, or why it failed."""

    status: str
    job_run: int
    note: str


class Skipped(TypedDict):
    """A run left out because the same one was running (``AlreadyRunning``), and its note."""

    status: Literal["skipped"]
    note: str


def pipeline_leagues(codes: list[str] | None = None) -> list[str]:
    """The active leagues' codes, or those of ``codes`` (unknown or inactive ones are left out)."""
    leagues = League.objects.filter(active=True)
    if codes:
        leagues = leagues.filter(code__in=[c.upper() for c in codes])
    return sorted(leagues.values_list("code", flat=True))


def pipeline_ingest(*, leagues: list[str], task_id: str = "") -> dict[str, dict[str, StepReport]]:
    """Today's scoreboard, then the odds, for each league."""
    report: dict[str, dict[str, StepReport]] = {}
    for code in leagues:
        steps: dict[str, StepReport] = {}
        for name, pull in (("scores", scores_pull), ("odds", odds_pull)):
            try:
                result = pull(league_code=code, task_id=task_id)
            except PULL_ERRORS as exc:
                steps[name] = {"status": "failed", "note": f"{type(exc).__name__}: {exc}"}
            else:
                steps[name] = {"status": result.status, "job_run": result.job_run_id, "note": result.note}
        report[code] = steps
    return report


def pipeline_predict(*, leagues: list[str], task_id: str = "") -> dict[str, dict[str, object]]:
    """Predict each league's games from now on with the active models."""
    report: dict[str, dict[str, object]] = {}
    for league in League.objects.filter(code__in=leagues):
        with job_run("predict", {"league": league.code, "pipeline": True}, task_id=task_id) as run:
            result = predictions_make(league=league)
            run.counts = vars(result)
        report[league.code] = vars(result)
    return report


def pipeline_recommend(
    *, leagues: list[str], now: dt.datetime | None = None, task_id: str = ""
) -> dict[str, RecommendSummary | Skipped]:
    """Recommend each league's coming games exactly as the automatic run after an odds pull does
    (``recommend_upcoming``: the same paper bankroll, the same decision run of the day, so a side
    is never bet twice a day by the two), under the risk limits and the kill switch."""
    report: dict[str, RecommendSummary | Skipped] = {}
    for code in leagues:
        summary: RecommendSummary | Skipped
        try:
            with (
                single_flight(f"recommend:{code}"),
                job_run("recommend", {"league": code, "pipeline": True}, task_id=task_id) as run,
            ):
                summary = recommend_upcoming(league_code=code, now=now)
                run.counts = summary
        except AlreadyRunning as exc:
            summary = {"status": "skipped", "note": str(exc)}
        report[code] = summary
    return report
