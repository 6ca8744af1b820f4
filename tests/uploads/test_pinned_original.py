"""Processing reads only the bytes finalize checked. The upload's POST policy stays valid for
UPLOAD_POLICY_SECONDS after finalize, so the same ticket can put other bytes under the upload's key:
finalize copies the checked object (If-Match) to a key no policy covers and records its ETag, and
processing downloads with If-Match, so even bytes changed under the asset's own key are refused."""

from __future__ import annotations

import hashlib

import pytest

from portal.integrations import s3
from portal.jobs.models import JobStatus
from portal.jobs.services import job_create
from portal.library.models import Asset, Status
from portal.processing.services import ORIGINAL_CHANGED, processing_run
from tests.storage import MIB, browser_post, finalize, padded, put_part, sent, start

pytestmark = pytest.mark.django_db


def finalized(api, body: bytes, **kwargs) -> tuple[dict, Asset]:
    ticket = sent(api, body, **kwargs)
    assert finalize(api, ticket["session"]).status_code == 200
    return ticket, Asset.objects.get(pk=ticket["asset"])


def process(asset: Asset):
    job = job_create(asset_id=asset.pk, queue="interactive", enqueue=False)
    processing_run(job_id=job.pk)
    job.refresh_from_db()
    asset.refresh_from_db()
    return job


def test_finalize_records_the_checked_objects_etag(api, media_files):
    _, asset = finalized(api, media_files["png"], filename="checked.png", content_type="image/png")
    # S3 names a single-part object by the MD5 of its bytes (an identifier here, not a security hash).
    assert asset.source_etag == hashlib.md5(media_files["png"], usedforsecurity=False).hexdigest()


def test_bytes_posted_again_with_the_still_valid_policy_are_never_processed(api, media_files, settings):
    ticket, asset = finalized(api, media_files["png"], filename="checked.png", content_type="image/png")
    # The same ticket, a minute later: S3 accepts it (the policy has not expired) under the upload's key.
    assert browser_post(ticket, media_files["html"]).status_code == 204
    assert s3.read_prefix(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]).startswith(b"<!DOCTYPE html>")

    job = process(asset)

    assert job.status == JobStatus.SUCCEEDED, job.error  # the checked copy was processed
    assert asset.status == Status.READY
    assert asset.media["width"] == asset.media["height"] == 32  # the 32x32 PNG, not the HTML
    assert s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key) == media_files["png"]


def test_an_original_changed_under_the_assets_own_key_fails_its_job_with_the_reason(api, media_files, settings):
    _, asset = finalized(api, media_files["png"], filename="checked.png", content_type="image/png")
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, body=media_files["jpg"],
           content_type="image/png")  # a writer the checks never saw

    job = process(asset)

    assert (job.status, job.error) == (JobStatus.FAILED, ORIGINAL_CHANGED)
    assert (asset.status, asset.processing_error) == (Status.FAILED, ORIGINAL_CHANGED)
    assert asset.renditions == []


def test_the_checked_bytes_are_processed_as_before(api, media_files):
    _, asset = finalized(api, media_files["png"], filename="checked.png", content_type="image/png")
    job = process(asset)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert asset.status == Status.READY
    assert asset.renditions


def test_a_multipart_upload_is_pinned_by_its_multipart_etag(api, settings, media_files, multipart_settings,
                                                           tmp_path):
    film = padded(media_files["mp4"], 11 * MIB)
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    urls = api.post(f"/studio/uploads/{ticket['session']}/parts/", {"numbers": [1, 2, 3]},
                    content_type="application/json").json()["urls"]
    for number, url in urls.items():
        offset = (int(number) - 1) * multipart_settings
        assert put_part(url, film[offset:offset + multipart_settings]).status_code == 200
    assert finalize(api, ticket["session"]).status_code == 200
    asset = Asset.objects.get(pk=ticket["asset"])
    assert asset.source_etag.endswith("-3")  # S3's ETag of an object assembled from three parts

    copy = tmp_path / "film.mp4"
    s3.download_file(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, path=copy, if_match=asset.source_etag)
    assert copy.read_bytes() == film
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, body=b"other bytes", content_type="video/mp4")
    with pytest.raises(s3.ObjectChanged):
        s3.download_file(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, path=copy,
                         if_match=asset.source_etag)
