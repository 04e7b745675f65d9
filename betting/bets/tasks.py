from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from betting.bets.services import bets_settle
from core.models import JobRun
from core.ops.jobs import AlreadyRunning, job_run, single_flight


@shared_task(bind=True, name="bets.settle", serializer="json", soft_time_limit=300, time_limit=360, acks_late=True)
def settle(self: Task[Any, Any]) -> dict[str, Any]:
    """Settle finished games' bets (idempotent: a re-delivered run settles nothing twice)."""
    try:
        with single_flight("settle_bets"), job_run("settle_bets", {}, task_id=self.request.id or "") as run:
            summary = bets_settle()
            run.counts = {"settled": summary.settled, **summary.results}
    except AlreadyRunning as exc:
        return {"status": "skipped", "note": str(exc)}
    return {"settled": summary.settled, **summary.results}


@shared_task(
    bind=True, name="bets.run_backtest", serializer="json", soft_time_limit=1800, time_limit=1900, acks_late=True
)
def run_backtest(self: Task[Any, Any], backtest_id: int) -> dict[str, Any]:
    """Run a queued backtest (the web form and `backtest --queue` put them here)."""
    from betting.bets.services import backtest_run

    with job_run("backtest", {"backtest": backtest_id}, task_id=self.request.id or "") as run:
        bt = backtest_run(backtest_id, task_id=self.request.id or "")
        run.counts = {"status": bt.status, "bets": bt.n_bets}
        if bt.error:
            run.status, run.error = JobRun.Status.FAILED, bt.error
    return {"backtest": backtest_id, "status": bt.status, "bets": bt.n_bets}


# --- Run now: ingest -> predict -> recommend (queued as one chain by POST /ops/pipeline/run) ---------
# Each step passes its report on to the next; a step's own failures per league are in the report.


@shared_task(bind=True, name="bets.pipeline_ingest", serializer="json", soft_time_limit=600, time_limit=660)
def pipeline_ingest(self: Task[Any, Any], leagues: list[str] | None = None) -> dict[str, Any]:
    from betting.bets import pipeline

    codes = pipeline.pipeline_leagues(leagues)
    return {"leagues": codes, "ingest": pipeline.pipeline_ingest(leagues=codes, task_id=self.request.id or "")}


@shared_task(bind=True, name="bets.pipeline_predict", serializer="json", soft_time_limit=900, time_limit=960)
def pipeline_predict(self: Task[Any, Any], report: dict[str, Any]) -> dict[str, Any]:
    from betting.bets import pipeline

    predicted = pipeline.pipeline_predict(leagues=report["leagues"], task_id=self.request.id or "")
    return {**report, "predict": predicted}


@shared_task(bind=True, name="bets.pipeline_recommend", serializer="json", soft_time_limit=300, time_limit=360)
def pipeline_recommend(self: Task[Any, Any], report: dict[str, Any]) -> dict[str, Any]:
    from betting.bets import pipeline

    recommended = pipeline.pipeline_recommend(leagues=report["leagues"], task_id=self.request.id or "")
    return {**report, "recommend": recommended}


@shared_task(
    bind=True,
    name="bets.recommend",
    serializer="json",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def recommend_task(self: Task[Any, Any], league_code: str) -> dict[str, Any]:
    """After each odds pull: predict the coming games with the active models, then recommend
    stakes; in PAPER mode the accepted ones are placed on the paper bankroll, once per side a day."""
    from betting.bets.strategies import recommend_upcoming

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
def alert_edges(self: Task[Any, Any], league_code: str) -> dict[str, Any]:
    """After each odds pull: alert the new edges of the league (failed channels are recorded on the
    Alert rows and tried again next time; they never fail this task or the pull)."""
    from betting.bets.alerts import edges_alert

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
