"""Every stage a real processing job reports has words on the page, and no label waits for a stage
that nothing reports (they drifted apart: labels for stages the pipeline never had)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portal.core.tasks import TaskName
from portal.jobs import progress
from portal.jobs.models import Job, JobStatus
from portal.jobs.presentation import STAGE_LABELS
from portal.jobs.services import job_create
from portal.library.models import Kind
from portal.processing.ocr_services import ocr_run
from portal.processing.samples import make_audio, make_pdf, make_photo, make_scan, make_video
from portal.processing.services import processing_run
from tests.storage import _isolated_storage, test_bucket  # noqa: F401 - autouse fixture and its bucket
from tests.workers.conftest import uploaded

pytestmark = pytest.mark.django_db(transaction=True)


def _stages_reported(subscribe: Callable[[str], Any], *, kind: str, body: bytes, content_type: str) -> set[str]:
    asset = uploaded(kind=kind, body=body, content_type=content_type)
    events = subscribe(progress.asset_channel(asset.pk))
    job = job_create(asset_id=asset.pk, enqueue=False)  # run here, in this process
    processing_run(job_id=job.pk)
    jobs = [job]
    follow_up = Job.objects.for_asset(asset.pk).exclude(pk=job.pk).first()
    if follow_up is not None:  # OCR, queued by processing once its job finished: its stages count too
        assert follow_up.task == TaskName.PROCESSING_OCR
        ocr_run(job_id=follow_up.pk)
        jobs.append(follow_up)
    stages: set[str] = set()
    for each in jobs:
        each.refresh_from_db()
        assert each.status == JobStatus.SUCCEEDED, each.error
        status = ""
        while status != JobStatus.SUCCEEDED:  # the job's last event; every other came before it
            event = events.next(timeout=5)
            stages.add(event["stage"])
            status = event["status"]
    return stages


def test_the_labels_are_exactly_the_stages_real_jobs_report(subscribe, tmp_path: Path):
    files = {
        Kind.VIDEO: (make_video(tmp_path / "v.mp4", seconds=1, size="160x120").read_bytes(), "video/mp4"),
        Kind.AUDIO: (make_audio(tmp_path / "a.m4a").read_bytes(), "audio/mp4"),
        Kind.IMAGE: (make_photo(tmp_path / "i.jpg", size=(320, 240)).read_bytes(), "image/jpeg"),
        Kind.DOCUMENT: (make_pdf(["one page of words"]), "application/pdf"),
        "scan": (make_scan(tmp_path / "s.pdf", [["Scanned words"]]).read_bytes(), "application/pdf"),
    }
    reported: set[str] = set()
    for kind, (body, content_type) in files.items():
        kind = Kind.DOCUMENT if kind == "scan" else kind
        reported |= _stages_reported(subscribe, kind=kind, body=body, content_type=content_type)
    assert set(STAGE_LABELS) == reported
