"""The operator's pipeline chain through a real Celery worker on the real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from django.conf import settings

from core.models import JobRun
from core.ops import switches
from core.ops.endpoints import pipeline_queue
from tests.core.test_celery_worker import running_worker

pytestmark = [
    pytest.mark.realstack,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (the real-stack run of .ci/run sets it)"),
]


def test_a_worker_runs_ingest_predict_recommend_as_one_chain(reference, transactional_db):
    # Pulls paused: the chain runs without the network.
    switches.switch_set(pulls_paused=True, reason="worker test")
    with running_worker() as queue:
        queued = pipeline_queue(["NBA"], queue=queue)
        from celery.result import AsyncResult

        report = AsyncResult(queued["task_id"]).get(timeout=120)
    ingest, predict, recommend = queued["steps"]
    assert queued["eager"] is False and queued["task_id"] == recommend
    assert report["leagues"] == ["NBA"]
    assert report["ingest"]["NBA"]["odds"]["status"] == "skipped"
    assert report["predict"]["NBA"]["games"] == 0  # no games in the database: nothing to predict
    assert report["recommend"]["NBA"]["placed"] == 0
    assert set(JobRun.objects.filter(task_id=ingest).values_list("job", "status")) == {
        ("fetch_scores", "skipped"),
        ("fetch_odds", "skipped"),
    }
    assert JobRun.objects.get(task_id=predict).job == "predict"
    assert JobRun.objects.get(task_id=recommend).job == "recommend"
