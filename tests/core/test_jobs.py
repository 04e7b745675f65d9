from __future__ import annotations

import pytest

from core.models import JobRun
from core.ops.jobs import job_run


@pytest.mark.django_db
def test_a_job_that_finishes_is_recorded_with_its_counts():
    with job_run("demo", {"league": "NBA"}) as run:
        run.counts = {"games": 3}
    saved = JobRun.objects.get(pk=run.pk)
    assert (saved.status, saved.counts, saved.params, saved.error) == ("success", {"games": 3}, {"league": "NBA"}, "")
    assert saved.duration is not None and saved.duration >= 0


@pytest.mark.django_db
def test_a_job_that_raises_is_recorded_as_failed_with_the_reason():
    with pytest.raises(RuntimeError), job_run("demo") as run:
        raise RuntimeError("the provider answered 503")
    saved = JobRun.objects.get(pk=run.pk)
    assert saved.status == "failed"
    assert saved.error == "RuntimeError: the provider answered 503"


def test_single_flight_refuses_an_overlapping_run_and_frees_the_lock():
    from core.ops.jobs import AlreadyRunning, single_flight

    with (
        single_flight("pull_odds:test"),
        pytest.raises(AlreadyRunning, match="pull_odds:test is already running"),
        single_flight("pull_odds:test"),
    ):
        pass
    with single_flight("pull_odds:test"):
        pass
