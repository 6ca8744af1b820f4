"""Job services on the real database, the real Redis (progress events) and Redis as the broker."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.jobs import progress, services
from portal.jobs.errors import IllegalJobTransition, JobAlreadyActive, UnknownQueue
from portal.jobs.models import Job, JobStatus

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def asset(asset_factory):
    return asset_factory(title="Harbour at dawn")


@pytest.fixture
def job(asset, committed):
    with committed():
        return services.job_create(asset_id=asset.pk, queue="media")


@pytest.fixture
def running(job, committed):
    with committed():
        return services.job_start(job_id=job.pk)


def body_args(message):
    return json.loads(base64.b64decode(message["body"]))[0]


def test_create_queues_the_job_and_sends_processing_run_by_name_after_commit(asset, committed, queued_messages,
                                                                             subscribe):
    events = subscribe(progress.asset_channel(asset.pk))
    with committed() as callbacks:
        job = services.job_create(asset_id=asset.pk, queue="media")
        assert queued_messages("media") == []  # nothing leaves before the commit
    assert len(callbacks) == 2
    [message] = queued_messages("media")
    assert message["headers"]["task"] == "processing.run"
    assert message["headers"]["id"] == job.task_id
    assert body_args(message) == [job.pk]
    event = events.next()
    assert event == {"job": job.pk, "asset": asset.pk, "stage": "", "percent": 0, "status": "queued",
                     "at": event["at"]}
    assert job.status == JobStatus.QUEUED
    assert job.queue == "media"
    assert job.attempts == 0


def test_create_is_idempotent_while_a_job_is_active(job, asset, committed, queued_messages):
    with committed():
        again = services.job_create(asset_id=asset.pk, queue="media")
    assert again.pk == job.pk
    assert len(queued_messages("media")) == 1


def test_create_refuses_an_unknown_queue(asset):
    with pytest.raises(UnknownQueue):
        services.job_create(asset_id=asset.pk, queue="nowhere")
    assert not Job.objects.exists()


def test_start_runs_the_job_counts_the_attempt_and_publishes_on_both_channels(job, committed, subscribe):
    on_asset, on_dashboard = subscribe(progress.asset_channel(job.asset_id)), subscribe(progress.DASHBOARD_CHANNEL)
    with committed():
        started = services.job_start(job_id=job.pk)
    assert started.status == JobStatus.RUNNING
    assert started.attempts == 1
    assert started.started_at
    assert on_asset.next()["status"] == "running"
    assert on_dashboard.next()["job"] == job.pk


def test_progress_always_publishes_but_writes_the_row_only_when_it_moved(running, subscribe, last_state):
    events = subscribe(progress.asset_channel(running.asset_id))
    with CaptureQueriesContext(connection) as first:
        assert services.job_progress(job_id=running.pk, stage="hls", percent=42.4) is True
    with CaptureQueriesContext(connection) as same:
        assert services.job_progress(job_id=running.pk, stage="hls", percent=42.9) is True
    assert len(first) == 1  # one UPDATE (the asset was remembered by job_start)
    assert len(same) == 0  # the same whole percent and stage: no write
    assert [events.next()["percent"], events.next()["percent"]] == [42, 42]
    services.job_progress(job_id=running.pk, stage="thumbnails", percent=42)
    event = events.next()
    assert (event["stage"], event["percent"], event["status"]) == ("thumbnails", 42, "running")
    running.refresh_from_db()
    assert (running.stage, running.percent) == ("thumbnails", 42)
    assert last_state(running.asset_id)["stage"] == "thumbnails"


def test_progress_from_another_process_looks_the_asset_up_once(running, subscribe):
    services._tracked.clear()  # as if a different worker process reported
    events = subscribe(progress.asset_channel(running.asset_id))
    with CaptureQueriesContext(connection) as queries:
        assert services.job_progress(job_id=running.pk, stage="hls", percent=5)
    assert len(queries) == 2
    assert events.next()["percent"] == 5


def test_progress_clamps_percent(running):
    services.job_progress(job_id=running.pk, stage="hls", percent=250)
    running.refresh_from_db()
    assert running.percent == 100


def test_succeed_finishes_at_100_and_publishes(running, committed, subscribe):
    events = subscribe(progress.asset_channel(running.asset_id))
    with committed():
        job = services.job_succeed(job_id=running.pk)
    assert (job.status, job.percent, bool(job.finished_at)) == ("succeeded", 100, True)
    assert events.next()["status"] == "succeeded"


def test_fail_keeps_a_readable_reason_and_publishes_it(running, committed, subscribe):
    events = subscribe(progress.asset_channel(running.asset_id))
    with committed():
        services.job_fail(job_id=running.pk, reason="  The video has no audio or video stream.  ")
    event = events.next()
    assert event["status"] == "failed"
    assert event["error"] == "The video has no audio or video stream."
    assert Job.objects.get().error == "The video has no audio or video stream."


def test_cancel_stops_a_running_job_and_its_late_progress_is_dropped(running, committed, subscribe, last_state):
    with committed():
        services.job_cancel(job_id=running.pk)
    events = subscribe(progress.asset_channel(running.asset_id))
    # The worker reports again: same percent as before (no write), so only Redis can tell it.
    assert services.job_progress(job_id=running.pk, stage="", percent=0) is False
    assert events.nothing()
    assert last_state(running.asset_id)["status"] == "cancelled"
    # A report that does reach the database finds the row no longer running.
    assert services.job_progress(job_id=running.pk, stage="hls", percent=50) is False
    assert Job.objects.get().status == JobStatus.CANCELLED


def test_a_cancelled_job_cannot_start(job, committed):
    with committed():
        services.job_cancel(job_id=job.pk)
    with pytest.raises(IllegalJobTransition):
        services.job_start(job_id=job.pk)


def test_a_redelivered_task_starts_again_as_a_new_attempt(running, committed):
    with committed():
        again = services.job_start(job_id=running.pk)
    assert (again.status, again.attempts) == ("running", 2)


@pytest.mark.parametrize("action", ["job_succeed", "job_retry"])
def test_illegal_moves_are_refused_and_change_nothing(job, action):
    with pytest.raises(IllegalJobTransition):
        getattr(services, action)(job_id=job.pk)
    assert Job.objects.get().status == JobStatus.QUEUED


def test_retry_queues_a_failed_job_again_under_a_new_task_id(running, committed, queued_messages, subscribe):
    with committed():
        services.job_fail(job_id=running.pk, reason="ffmpeg exited with status 1")
    events = subscribe(progress.asset_channel(running.asset_id))
    with committed():
        retried = services.job_retry(job_id=running.pk)
    assert retried.status == JobStatus.QUEUED
    assert retried.error == ""
    assert retried.attempts == 1
    assert retried.task_id != running.task_id
    assert {m["headers"]["id"] for m in queued_messages("media")} == {running.task_id, retried.task_id}
    assert events.next()["status"] == "queued"


def test_retry_refuses_while_another_job_of_the_asset_is_active(running, committed):
    with committed():
        services.job_cancel(job_id=running.pk)
        newer = services.job_create(asset_id=running.asset_id, queue="media")
    with pytest.raises(JobAlreadyActive) as refused:
        services.job_retry(job_id=running.pk)
    assert refused.value.job.pk == newer.pk


def test_a_dead_broker_fails_the_job_with_a_reason_instead_of_raising(asset, committed, settings, last_state):
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    with committed():
        job = services.job_create(asset_id=asset.pk, queue="media")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == services.ENQUEUE_FAILED
    assert last_state(asset.pk)["status"] == "failed"


def test_a_dead_progress_redis_is_logged_and_never_raised_into_the_job(asset, committed, settings, caplog):
    settings.PROGRESS_REDIS_URL = CLOSED_PORT_URL
    with caplog.at_level(logging.WARNING, logger="portal.jobs.progress"), committed():
        job = services.job_create(asset_id=asset.pk, queue="media")
    with committed():
        services.job_start(job_id=job.pk)
    assert services.job_progress(job_id=job.pk, stage="hls", percent=10) is True
    with committed():
        services.job_succeed(job_id=job.pk)
    assert Job.objects.get().status == JobStatus.SUCCEEDED
    assert "could not publish" in caplog.text
