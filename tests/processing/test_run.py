"""processing_run end to end in-process: real S3, real tools, the job and the asset recorded."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings

from portal.integrations import s3
from portal.jobs.models import Job
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.services import processing_run
from tests.processing.media import make_photo

pytestmark = pytest.mark.django_db


def uploaded(asset_factory, tmp_path: Path, *, kind: str, body: bytes, content_type: str):
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type=content_type)
    return asset_factory(kind=kind, status=Status.PROCESSING, published_at=None, source_key=key,
                         source_size=len(body), source_type=content_type, original_filename="x")


def test_an_image_is_processed_into_renditions_in_storage(asset_factory, tmp_path):
    path = make_photo(tmp_path / "photo.jpg", size=(640, 480), lat=52.37, lon=4.89)
    asset = uploaded(asset_factory, tmp_path, kind=Kind.IMAGE, body=path.read_bytes(), content_type="image/jpeg")
    job = job_create(asset_id=asset.pk, queue="interactive")

    processing_run(job_id=job.pk)

    asset.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, job.percent) == ("succeeded", 100)
    assert asset.status == Status.READY
    media = asset.media
    assert (media["width"], media["height"]) == (640, 480)
    assert media["gps"] == pytest.approx({"lat": 52.37, "lon": 4.89}, abs=1e-4)
    prefix = asset.renditions_prefix
    assert prefix == f"renditions/{asset.pk}/{job.pk}/"
    assert asset.renditions_job_id == job.pk  # the current run is a foreign key, never read out of the prefix
    assert asset.attributes == {}  # rendition state lives in typed fields only
    for relative in asset.renditions:
        assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative) is not None


def test_a_corrupt_file_fails_the_job_with_a_reason_and_the_asset_can_be_retried(asset_factory, tmp_path):
    asset = uploaded(asset_factory, tmp_path, kind=Kind.VIDEO, body=b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 4000,
                     content_type="video/mp4")
    job = job_create(asset_id=asset.pk, queue="media")

    processing_run(job_id=job.pk)

    job.refresh_from_db()
    asset.refresh_from_db()
    assert job.status == "failed"
    assert job.error
    assert asset.status == Status.FAILED
    assert asset.processing_error == job.error


def test_running_a_job_twice_records_one_set_of_outputs(asset_factory, tmp_path):
    path = make_photo(tmp_path / "photo.jpg", size=(320, 240))
    asset = uploaded(asset_factory, tmp_path, kind=Kind.IMAGE, body=path.read_bytes(), content_type="image/jpeg")
    job = job_create(asset_id=asset.pk, queue="interactive")
    processing_run(job_id=job.pk)
    # As if the broker redelivered it before the run's end (so before it queued its OCR job).
    Job.objects.filter(asset_id=asset.pk).exclude(pk=job.pk).delete()
    Job.objects.filter(pk=job.pk).update(status="running")
    processing_run(job_id=job.pk)
    asset.refresh_from_db()
    keys = [o.key for o in s3.list_objects(bucket=settings.S3_PRIVATE_BUCKET, prefix=f"renditions/{asset.pk}/")]
    assert len(keys) == len(asset.renditions)  # overwritten, not doubled
    assert Job.objects.get(pk=job.pk).attempts == 2
