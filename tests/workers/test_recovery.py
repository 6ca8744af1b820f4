"""A worker killed mid-transcode, and S3 gone for a moment: the job still finishes, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.jobs.models import Job, JobStatus
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.services import GAVE_UP_STORAGE
from tests.processing.media import make_photo, make_video
from tests.workers.conftest import VISIBILITY_TIMEOUT_S, final, rendition_keys, uploaded, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# testsrc encodes fast: a 25 s clip is through HLS in about 3 s here, too quick to catch mid-way.
# 90 s at 640x360 keeps the encode busy for about 10 s on an idle 2-core machine (longer when busy).
CLIP_SECONDS = 90
JOB_TIMEOUT_S = 600.0


def test_a_worker_killed_mid_hls_leaves_the_job_to_the_next_worker_which_finishes_it_once(start_worker, work_dir,
                                                                                         tmp_path: Path):
    clip = make_video(tmp_path / "long.mp4", seconds=CLIP_SECONDS, size="640x360")
    asset = uploaded(kind=Kind.VIDEO, body=clip.read_bytes(), content_type="video/mp4", filename="long.mp4")
    first = start_worker("media")
    job = job_create(asset_id=asset.pk, queue="media")

    def mid_hls() -> bool:
        job.refresh_from_db()
        return job.status == JobStatus.RUNNING and job.stage == "hls" and 10 <= job.percent < 80

    wait_until(mid_hls, timeout=JOB_TIMEOUT_S, what="the job to be mid-HLS",
               explain=lambda: f"{job.status} {job.stage} {job.percent}%\n{first.tail()}")
    first.kill()
    job.refresh_from_db()
    assert (job.status, job.stage, job.attempts) == (JobStatus.RUNNING, "hls", 1)
    assert not rendition_keys(asset), "nothing is stored before the pipeline has finished"
    assert list(work_dir.iterdir()), "the killed run's working directory (its copy of the original) is left"

    # The broker hands the unacknowledged task out again once the visibility timeout has passed.
    second = start_worker("media")
    job = final(job, timeout=JOB_TIMEOUT_S + VISIBILITY_TIMEOUT_S, worker=second)

    assert (job.status, job.attempts, job.percent) == (JobStatus.SUCCEEDED, 2, 100)
    asset.refresh_from_db()
    assert asset.status == Status.READY
    prefix = asset.renditions_prefix
    assert prefix == f"renditions/{asset.pk}/{job.pk}/"
    listed = {prefix + relative for relative in asset.renditions}
    assert any(key.endswith(".ts") for key in listed)
    assert any(key.endswith("master.m3u8") for key in listed)
    assert rendition_keys(asset) == listed, "every listed rendition is stored, and nothing else (no duplicates)"
    assert Job.objects.filter(asset=asset).count() == 1
    assert not list(work_dir.iterdir()), "the next run removed what the killed one left"


def test_s3_down_when_the_job_starts_is_retried_and_the_job_succeeds_once_it_is_back(start_worker, stopped,
                                                                                     tmp_path: Path):
    photo = make_photo(tmp_path / "photo.jpg", size=(800, 600))
    asset = uploaded(kind=Kind.IMAGE, body=photo.read_bytes(), content_type="image/jpeg")
    worker = start_worker("interactive")
    retried = r"Task processing\.run\[[0-9a-f-]+\] retry: Retry in .*StorageUnavailable"

    with stopped("s3"):  # the real server, stopped; restarted (and ready) when the block ends
        job = job_create(asset_id=asset.pk, queue="interactive")
        wait_until(lambda: worker.times(retried), timeout=120, what="the task to fail on S3 and be retried",
                   explain=worker.tail)
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING, "a transient failure must not fail the job"

    job = final(job, timeout=JOB_TIMEOUT_S, worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts >= 2
    asset.refresh_from_db()
    assert asset.status == Status.READY
    prefix = asset.renditions_prefix
    assert rendition_keys(asset) == {prefix + relative for relative in asset.renditions}


def test_s3_down_for_longer_than_the_retries_fails_the_job_with_a_reason_instead_of_leaving_it_running(
        start_worker, stopped, tmp_path: Path):
    """Before the fix the last retry's error ended the task and the job stayed "running" forever."""
    photo = make_photo(tmp_path / "photo.jpg", size=(320, 240))
    asset = uploaded(kind=Kind.IMAGE, body=photo.read_bytes(), content_type="image/jpeg")
    worker = start_worker("interactive", PROCESSING_MAX_RETRIES="1", PROCESSING_RETRY_BACKOFF_SECONDS="1")

    with stopped("s3"):
        job = final(job_create(asset_id=asset.pk, queue="interactive"), timeout=JOB_TIMEOUT_S, worker=worker)

    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert job.error == GAVE_UP_STORAGE
    asset.refresh_from_db()
    assert asset.status == Status.FAILED
    assert asset.processing_error == GAVE_UP_STORAGE
