"""Each tool runs once per job, counted by logging shims put first on PATH around the real tools,
and reading a file's metadata changes no process-wide state of Pillow."""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from portal.analytics.models import OutboxEntry
from portal.integrations import s3
from portal.jobs.models import Job
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.images import process_image
from portal.processing.rawmeta import extract_raw
from portal.processing.services import processing_run
from tests.processing.media import make_audio, make_pdf, make_photo, make_video

TOOLS = ("ffprobe", "ffmpeg", "pdfinfo", "pdftotext", "pdftoppm")


@pytest.fixture
def tool_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of shims, first on PATH: each appends its name to the log, then runs the real tool."""
    shims, log = tmp_path / "shims", tmp_path / "tools.log"
    shims.mkdir()
    for tool in TOOLS:
        real = shutil.which(tool)
        assert real, f"{tool} is not installed"
        shim = shims / tool
        shim.write_text(f'#!/bin/sh\necho {tool} >> "{log}"\nexec "{real}" "$@"\n')
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}:{os.environ['PATH']}")
    return log


def run_job(asset_factory, *, kind: str, body: bytes, content_type: str) -> Job:
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type=content_type)
    asset = asset_factory(kind=kind, status=Status.PROCESSING, published_at=None, source_key=key,
                          source_size=len(body), source_type=content_type, original_filename="x")
    job = job_create(asset_id=asset.pk, queue="media", enqueue=False)
    processing_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


def runs(log: Path) -> Counter[str]:
    return Counter(log.read_text().split()) if log.exists() else Counter()


def raw_document(job: Job) -> dict:
    entry = OutboxEntry.objects.filter(payload__asset_id=job.asset_id).get()
    return entry.payload


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Kind.VIDEO, Kind.AUDIO])
def test_ffprobe_runs_once_per_media_job_and_its_answer_is_the_raw_metadata(asset_factory, tool_log, tmp_path, kind):
    made = make_video(tmp_path / "in.mp4", seconds=1) if kind == Kind.VIDEO else make_audio(tmp_path / "in.m4a")
    tool_log.unlink(missing_ok=True)  # making the sample ran ffmpeg too

    job = run_job(asset_factory, kind=kind, body=made.read_bytes(), content_type="video/mp4")

    assert runs(tool_log)["ffprobe"] == 1
    assert raw_document(job)["raw"]["ffprobe"]["format"]["format_name"].startswith("mov,mp4")


@pytest.mark.django_db
def test_pdfinfo_and_pdftotext_run_once_per_document_job(asset_factory, tool_log):
    job = run_job(asset_factory, kind=Kind.DOCUMENT, body=make_pdf(["Harbour report", "Tonnage"]),
                  content_type="application/pdf")

    counted = runs(tool_log)
    assert (counted["pdfinfo"], counted["pdftotext"], counted["pdftoppm"]) == (1, 1, 1)
    document = raw_document(job)
    assert document["raw"]["pdfinfo"]["Pages"] == "2"
    assert "Tonnage" in document["text"]


def test_reading_an_images_metadata_leaves_pillows_pixel_limit_as_it_was(tmp_path, settings):
    before = Image.MAX_IMAGE_PIXELS
    settings.PROCESSING_MAX_IMAGE_PIXELS = 1_000_000  # ours, applied per call
    photo = make_photo(tmp_path / "p.jpg", size=(640, 480), lat=52.37, lon=4.89)

    raw, _, notes = extract_raw("image", photo)
    result = process_image(photo, tmp_path / "out")

    assert before == Image.MAX_IMAGE_PIXELS
    assert raw["image"]["exif"]["gpsinfo"]["GPSLatitudeRef"] == "N"
    assert notes == []
    assert result.raw_metadata().sections == raw  # the pipeline's copy is the same reading
