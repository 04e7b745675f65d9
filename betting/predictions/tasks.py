"""Scheduled retraining: a nightly warm start and a periodic full retrain, per league and market."""

from __future__ import annotations

from typing import Any, TypedDict

from celery import Task, shared_task

from betting.games.models import League
from betting.predictions import registry
from betting.predictions.services import TrainResult, model_train, retrain_full_if_due
from betting.predictions.training import MARKETS
from core.ops.jobs import job_run


class TrainReport(TypedDict, total=False):
    """One league and market's line of a run's report (a skipped one has only the note)."""

    version: str | None
    promoted: bool
    note: str


def _summary(result: TrainResult) -> TrainReport:
    version = result.version.version if result.version else None
    return {"version": version, "promoted": result.promoted, "note": result.note}


@shared_task(bind=True, name="predictions.warm_start_nightly", soft_time_limit=900, time_limit=1000)
def warm_start_nightly(self: Task[Any, Any]) -> dict[str, TrainReport]:
    """Continue every active model on the games finished since it was trained."""
    report: dict[str, TrainReport] = {}
    with job_run("warm_start_nightly", {}, task_id=self.request.id or "") as run:
        for league in League.objects.filter(active=True):
            for market in MARKETS:
                key = f"{league.code}:{market}"
                if registry.active(league, market) is None:
                    report[key] = {"note": "skipped: no active model"}
                    continue
                try:
                    report[key] = _summary(model_train(league=league, market=market, warm=True))
                except registry.RegistryError as exc:  # e.g. an active version of an earlier family
                    report[key] = {"note": f"skipped: {exc}"}
        run.counts = report
    return report


@shared_task(bind=True, name="predictions.full_retrain", soft_time_limit=1800, time_limit=2000)
def full_retrain(self: Task[Any, Any]) -> dict[str, TrainReport]:
    """Retrain on the rolling window when enough games arrived or enough days passed."""
    report: dict[str, TrainReport] = {}
    with job_run("full_retrain", {}, task_id=self.request.id or "") as run:
        for league in League.objects.filter(active=True, games__isnull=False).distinct():
            for market in MARKETS:
                report[f"{league.code}:{market}"] = _summary(retrain_full_if_due(league=league, market=market))
        run.counts = report
    return report
