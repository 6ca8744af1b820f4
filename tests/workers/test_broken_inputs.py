"""Broken files fail fast, once, with a reason an editor can read; the worker keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.integrations import s3
from portal.jobs.models import JobStatus
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.services import QUEUE_FOR_KIND
from tests.processing.media import make_pdf, make_photo, make_png_bomb
from tests.workers.conftest import final, rendition_keys, uploaded

pytestmark = pytest.mark.django_db(transaction=True)

JOB_TIMEOUT_S = 180.0


def test_broken_inputs_fail_once_with_a_readable_reason_and_the_worker_keeps_serving(start_worker, tmp_path: Path):
    worker = start_worker("interactive,media")
    pdf = make_pdf(["Quarterly report", "Page two"])
    broken = {
        # name: (kind, bytes, content type, what the editor reads)
        "corrupt video": (Kind.VIDEO, b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 4000, "video/mp4",
                          "The video could not be read"),
        "truncated PDF": (Kind.DOCUMENT, pdf[: len(pdf) // 2], "application/pdf", "The PDF could not be read"),
        "PNG bomb": (Kind.IMAGE, make_png_bomb(tmp_path / "bomb.png", 30_000, 30_000).read_bytes(), "image/png",
                     "the limit is 60 megapixels"),
        "zero-byte file": (Kind.IMAGE, b"", "image/jpeg", "is empty (0 bytes)"),
    }
    jobs = {}
    for name, (kind, body, content_type, _) in broken.items():
        asset = uploaded(kind=kind, body=body, content_type=content_type)
        jobs[name] = job_create(asset_id=asset.pk, queue=QUEUE_FOR_KIND[kind])

    for name, (_, _, _, reason) in broken.items():
        job = final(jobs[name], timeout=JOB_TIMEOUT_S, worker=worker)
        assert job.status == JobStatus.FAILED, name
        assert job.attempts == 1, f"{name}: a broken file must not be retried"
        assert reason in job.error, f"{name}: {job.error!r}"
        assert "Traceback" not in job.error, f"{name}: {job.error!r}"
        assert len(job.error) < 400, f"{name}: {job.error!r}"
        job.asset.refresh_from_db()
        assert job.asset.status == Status.FAILED, name
        assert job.asset.processing_error == job.error
        assert not rendition_keys(job.asset), name

    good = uploaded(kind=Kind.IMAGE, body=make_photo(tmp_path / "ok.jpg", size=(640, 480)).read_bytes(),
                    content_type="image/jpeg")
    job = final(job_create(asset_id=good.pk, queue="interactive"), timeout=JOB_TIMEOUT_S, worker=worker)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    good.refresh_from_db()
    assert good.status == Status.READY
    assert worker.alive(), "the worker must survive every broken file"
    assert "Traceback" not in worker.log(), "a broken file is the file's fault, not a crash of ours"


def test_an_original_gone_from_storage_fails_the_job_instead_of_leaving_it_running(start_worker, settings):
    """Before the fix the task raised ObjectMissing: not retried, not a ProcessingError, so the job
    stayed "running" (and the asset "processing") with no worker on it, forever."""
    worker = start_worker("interactive")
    asset = uploaded(kind=Kind.DOCUMENT, body=make_pdf(["gone"]), content_type="application/pdf")
    s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key)

    job = final(job_create(asset_id=asset.pk, queue="interactive"), timeout=JOB_TIMEOUT_S, worker=worker)

    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "no longer in storage" in job.error
    asset.refresh_from_db()
    assert asset.status == Status.FAILED
