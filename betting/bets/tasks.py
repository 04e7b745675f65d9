"""Celery tasks of the bets app: settlement, queued backtests, the run-now pipeline, the automatic
recommendation and edge alerts after each odds pull. Each is named as its command and its JobRun."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Required, TypedDict

from celery import Task, shared_task

from betting.bets import pipeline
from betting.bets.alerts import edges_alert
from betting.bets.services import backtest_run, bets_settle
from betting.bets.strategies import RecommendSummary, recommend_upcoming
from core.celery import renamed_task, retrying
from core.models import JobRun
from core.ops.jobs import AlreadyRunning, job_run, single_flight


class PipelineReport(TypedDict, total=False):
    """What each step of the run-now chain hands the next: the leagues and every step's report."""

    leagues: Required[list[str]]
    ingest: dict[str, dict[str, pipeline.StepReport]]  # league -> "scores"/"odds" -> its pull
    predict: dict[str, dict[str, object]]  # league -> its `predictions_make` counts
    recommend: dict[str, RecommendSummary | pipeline.Skipped]


# "bets.settle" until this release: the alias runs messages queued before the rename.
@renamed_task("bets.settle_bets", old="bets.settle", soft_time_limit=300, time_limit=360, acks_late=True)
def settle_bets(self: Task[Any, Any]) -> dict[str, int | str]:
    """Settle finished games' bets (idempotent: a re-delivered run settles nothing twice)."""
    try:
        with single_flight("settle_bets"), job_run("settle_bets", {}, task_id=self.request.id or "") as run:
            summary = bets_settle()
            run.counts = {"settled": summary.settled, **summary.results}
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return {"settled": summary.settled, **summary.results}


# "bets.run_backtest" until this release: the alias runs messages queued before the rename.
@renamed_task("bets.backtest", old="bets.run_backtest", soft_time_limit=1800, time_limit=1900, acks_late=True)
def run_backtest(self: Task[Any, Any], backtest_id: int) -> dict[str, int | str | None]:
    """Run a queued backtest (the web form and `backtest --queue` put them here)."""
    with job_run("backtest", {"backtest": backtest_id}, task_id=self.request.id or "") as run:
        bt = backtest_run(backtest_id, task_id=self.request.id or "")
        run.counts = {"status": bt.status, "bets": bt.n_bets}
        if bt.error:
            run.status, run.error = JobRun.Status.FAILED, bt.error
    return {"backtest": backtest_id, "status": bt.status, "bets": bt.n_bets}


# --- Run now: ingest -> predict -> recommend (queued as one chain by POST /ops/pipeline/run) ---------
# Each step passes its report on to the next; a step's own failures per league are in the report.


@shared_task(bind=True, name="bets.pipeline_ingest", serializer="json", soft_time_limit=600, time_limit=660)
def pipeline_ingest(self: Task[Any, Any], leagues: list[str] | None = None) -> PipelineReport:
    codes = pipeline.pipeline_leagues(leagues)
    return {"leagues": codes, "ingest": pipeline.pipeline_ingest(leagues=codes, task_id=self.request.id or "")}


@shared_task(bind=True, name="bets.pipeline_predict", serializer="json", soft_time_limit=900, time_limit=960)
def pipeline_predict(self: Task[Any, Any], report: PipelineReport) -> PipelineReport:
    predicted = pipeline.pipeline_predict(leagues=report["leagues"], task_id=self.request.id or "")
    return {**report, "predict": predicted}


@shared_task(bind=True, name="bets.pipeline_recommend", serializer="json", soft_time_limit=300, time_limit=360)
def pipeline_recommend(self: Task[Any, Any], report: PipelineReport) -> PipelineReport:
    recommended = pipeline.pipeline_recommend(leagues=report["leagues"], task_id=self.request.id or "")
    return {**report, "recommend": recommended}


@shared_task(name="bets.recommend", acks_late=True, soft_time_limit=300, time_limit=360, **retrying(backoff=True))
def recommend_task(self: Task[Any, Any], league_code: str) -> RecommendSummary | pipeline.Skipped:
    """After each odds pull: predict the coming games with the active models, then recommend
    stakes; in PAPER mode the accepted ones are placed on the paper bankroll, once per side a day."""
    try:
        with (
            single_flight(f"recommend:{league_code}"),
            job_run("recommend", {"league": league_code, "auto": True}, task_id=self.request.id or "") as run,
        ):
            summary = recommend_upcoming(league_code=league_code)
            run.counts = summary
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return summary


@shared_task(bind=True, name="bets.alert_edges", serializer="json", soft_time_limit=120, time_limit=150)
def alert_edges(self: Task[Any, Any], league_code: str) -> Mapping[str, object]:
    """After each odds pull: alert the new edges of the league (failed channels are recorded on the
    Alert rows and tried again next time; they never fail this task or the pull)."""
    try:
        with (
            single_flight(f"alert_edges:{league_code}"),
            job_run("alert_edges", {"league": league_code}, task_id=self.request.id or "") as run,
        ):
            summary = edges_alert(league_code=league_code)
            run.counts = summary
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return summary
