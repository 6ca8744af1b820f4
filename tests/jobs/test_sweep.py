"""The jobs sweeper against the real database and Redis as the broker: a job whose message the broker
lost is sent again, once, under its own task id; a job the broker still holds is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.jobs import broker, services
from portal.jobs.models import Job, JobStatus
from tests.jobs.test_services import body_args

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def job(asset_factory, committed):
    with committed():
        return services.job_create(asset_id=asset_factory().pk, queue="media")


def after(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def past_grace(settings):
    return after(settings.JOBS_SWEEP_GRACE_SECONDS + 1)


def task_ids(queued_messages, queue="media"):
    return [message["headers"]["id"] for message in queued_messages(queue)]


def test_a_queued_job_whose_message_was_lost_is_sent_again_under_its_task_id(job, broker_redis, queued_messages,
                                                                               settings):
    broker_redis.flushdb()  # Redis lost its data

    assert services.job_sweep(now=past_grace(settings)) == [job.pk]

    [message] = queued_messages("media")
    assert message["headers"]["id"] == job.task_id
    assert body_args(message) == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_a_second_sweep_finds_the_message_and_sends_nothing_more(job, broker_redis, queued_messages, settings):
    broker_redis.flushdb()
    now = past_grace(settings)
    assert services.job_sweep(now=now) == [job.pk]
    assert services.job_sweep(now=now + timedelta(seconds=settings.JOBS_SWEEP_GRACE_SECONDS + 1)) == []
    assert task_ids(queued_messages) == [job.task_id]


def test_a_job_still_waiting_in_its_queue_is_left_alone(job, queued_messages, settings):
    assert services.job_sweep(now=past_grace(settings)) == []
    assert task_ids(queued_messages) == [job.task_id]


def test_a_job_delivered_to_a_worker_and_not_acknowledged_is_left_alone(job, queued_messages, settings):
    # What a worker does with acks_late: take the message, hold it unacknowledged while it runs.
    with broker._connection() as conn:
        taken = conn.default_channel.basic_get("media", no_ack=False)
        assert taken is not None
        assert queued_messages("media") == []
        assert services.job_sweep(now=past_grace(settings)) == []
        assert queued_messages("media") == [], "nothing was sent again"


def test_a_lost_job_younger_than_the_grace_period_is_left_alone(job, broker_redis, queued_messages, settings):
    broker_redis.flushdb()
    assert services.job_sweep(now=after(settings.JOBS_SWEEP_GRACE_SECONDS - 5)) == []
    assert queued_messages("media") == []


def test_a_running_job_is_sent_again_only_once_its_lease_has_expired(job, committed, broker_redis, queued_messages,
                                                                     settings):
    with committed():
        services.job_start(job_id=job.pk)  # its worker then dies, and Redis loses the unacked message
    broker_redis.flushdb()

    assert services.job_sweep(now=past_grace(settings)) == [], "a running job may still have a live worker"
    assert services.job_sweep(now=after(settings.JOBS_RUNNING_LEASE_SECONDS + 1)) == [job.pk]
    assert task_ids(queued_messages) == [job.task_id]
    # The task id is the attempt's: the worker that takes it starts the job again as a new attempt.
    assert services.job_start(job_id=job.pk).attempts == 2


def test_finished_jobs_are_never_swept(job, committed, broker_redis, settings):
    with committed():
        services.job_start(job_id=job.pk)
        services.job_succeed(job_id=job.pk)
    broker_redis.flushdb()
    assert services.job_sweep(now=after(settings.JOBS_RUNNING_LEASE_SECONDS + 1)) == []
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


def test_a_dead_broker_sweeps_nothing_and_raises_nothing(job, broker_redis, settings):
    broker_redis.flushdb()
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    assert services.job_sweep(now=past_grace(settings)) == []
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
