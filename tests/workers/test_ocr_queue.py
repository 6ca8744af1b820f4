"""OCR through real workers: processing on `interactive` queues OCR on `bulk`, which a `bulk` worker
runs as `processing.ocr` while the other queues stay free."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.core.tasks import Queue, TaskName
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import job_create
from portal.library.models import Kind
from portal.processing.samples import make_scan
from tests.workers.conftest import final, uploaded

pytestmark = pytest.mark.django_db(transaction=True)
JOB_TIMEOUT_S = 180.0  # a deadline for polling on a loaded machine, not a speed claim (bench/ocr.py)


def test_a_scan_is_processed_on_interactive_then_read_by_ocr_on_bulk(start_worker, tmp_path: Path):
    body = make_scan(tmp_path / "scan.pdf", [["Quarterly zeppelin report"], ["Second page"]]).read_bytes()
    asset = uploaded(kind=Kind.DOCUMENT, body=body, content_type="application/pdf")
    worker = start_worker(f"{Queue.INTERACTIVE},{Queue.BULK}")
    job = final(job_create(asset_id=asset.pk, queue=Queue.INTERACTIVE), timeout=JOB_TIMEOUT_S, worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error

    ocr = Job.objects.for_asset(asset.pk).exclude(pk=job.pk).get()
    assert (ocr.task, ocr.queue) == (TaskName.PROCESSING_OCR, Queue.BULK)
    ocr = final(ocr, timeout=JOB_TIMEOUT_S, worker=worker)
    assert (ocr.status, ocr.attempts, ocr.percent) == (JobStatus.SUCCEEDED, 1, 100), ocr.error
    assert f"Task {TaskName.PROCESSING_OCR}[{ocr.task_id}] succeeded" in worker.log()
    asset.refresh_from_db()
    assert asset.media["ocr"]["pages_read"] == 2
    assert "ocr.txt" in asset.renditions
