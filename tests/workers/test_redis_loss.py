"""Redis loses every queued message (killed and restarted without persistence, a failover) while no
worker runs: PostgreSQL still knows the work, and the jobs sweeper sends it again, so every job is
done exactly once. The loss is simulated by FLUSHDB on this test's own broker database, never by
killing the shared Redis."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from portal.jobs.models import Job, JobStatus
from portal.library.models import Kind, Status
from tests.processing.media import make_photo
from tests.workers.conftest import CELERY, final, uploaded, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

JOB_TIMEOUT_S = 120.0  # an image takes about a second; 60 s later the reported jobs still read "queued"


def test_jobs_queued_when_redis_lost_its_data_are_done_exactly_once_after_the_sweep(
        start_process, broker_redis: redis.Redis, editor, client_as, tmp_path: Path):
    photo = make_photo(tmp_path / "photo.jpg", size=(320, 240)).read_bytes()
    assets = [uploaded(kind=Kind.IMAGE, body=photo, content_type="image/jpeg") for _ in range(3)]
    studio = client_as(editor)
    for asset in assets:  # "process again", three times, with no worker running
        response = studio.post(reverse("processing:rerun", args=[asset.pk]))
        assert response.status_code == 302
    jobs = list(Job.objects.filter(asset__in=assets).order_by("id"))
    assert [job.status for job in jobs] == [JobStatus.QUEUED] * 3
    assert broker_redis.llen("interactive") == 3

    broker_redis.flushdb()  # Redis comes back empty: the three messages are gone

    # A worker with beat embedded, so the sweeper runs on its schedule, as in production.
    name = f"test-{uuid.uuid4().hex[:12]}@{socket.gethostname()}"
    worker = start_process(name, [CELERY, "-A", "workers", "worker", "-B", "-s", str(tmp_path / "beat-schedule"),
                                  "-Q", "interactive", "-c", "1", "--without-mingle", "--without-gossip",
                                  "-n", name, "-l", "INFO"],
                           JOBS_SWEEP_SECONDS="1", JOBS_SWEEP_GRACE_SECONDS="2")

    for job in jobs:
        job = final(job, timeout=JOB_TIMEOUT_S, worker=worker)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1), job.error
    for asset in assets:
        asset.refresh_from_db()
        assert asset.status == Status.READY
    # Each job's task ran once: three successes, one per job, whatever the sweeper sent meanwhile.
    wait_until(lambda: len(worker.times(r"Task processing\.run\[.*\] succeeded")) >= 3, timeout=30,
               what="the worker to log three successes", explain=worker.tail)
    succeeded = worker.times(r"Task processing\.run\[.*\] succeeded")
    assert len(succeeded) == 3, worker.tail()
    for job in jobs:
        assert worker.log().count(f"Task processing.run[{job.task_id}] succeeded") == 1
    assert "had no message in the broker; sent again" in worker.log()
