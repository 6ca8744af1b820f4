"""Cleanup of abandoned uploads and orphan originals, against the real S3 server.

Time moves by passing `now` far enough ahead, never by sleeping.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.integrations import s3
from portal.library.models import Asset, Status
from portal.uploads.cleanup import uploads_cleanup
from portal.uploads.models import UploadSession, UploadStatus
from tests.storage import MIB, browser_post, finalize, padded, put_part, sent, start

pytestmark = pytest.mark.django_db

LATER = timedelta(hours=25)  # past the default UPLOAD_ABANDONED_HOURS of 24
NOTHING = {"abandoned_sessions": 0, "orphan_objects": 0, "orphan_multipart_uploads": 0}


@pytest.fixture
def bucket(settings) -> str:
    return str(settings.S3_PRIVATE_BUCKET)


@pytest.fixture(autouse=True)
def _empty_bucket(bucket) -> None:
    """Every test here starts from an empty bucket, so its counts are its own: this run's bucket, which
    other suites leave objects in that the cleanup rightly never touches (captions, renditions)."""
    uploads_cleanup(now=timezone.now() + timedelta(days=3650))
    s3.delete_prefix(bucket=bucket, prefix="")
    assert not list(s3.list_objects(bucket=bucket, prefix=""))


def orphan(bucket: str) -> str:
    key = f"originals/{uuid.uuid4().hex}/{uuid.uuid4().hex}"
    s3.put(bucket=bucket, key=key, body=b"left behind", content_type="application/octet-stream")
    return key


def test_a_stale_post_upload_is_abandoned_its_object_deleted_and_its_asset_failed(api, bucket, media_files):
    ticket = sent(api, media_files["png"], filename="gone.png", content_type="image/png")
    report = uploads_cleanup(now=timezone.now() + LATER)
    session = UploadSession.objects.get(pk=ticket["session"])
    asset = Asset.objects.get(pk=ticket["asset"])
    reason = "The upload of “gone.png” was never finished. Upload the file again."
    assert report == {**NOTHING, "abandoned_sessions": 1}
    assert (session.status, session.error) == (UploadStatus.ABANDONED, reason)
    assert (asset.status, asset.upload_error) == (Status.FAILED, reason)
    assert s3.head(bucket=bucket, key=ticket["key"]) is None


def test_a_stale_multipart_upload_is_aborted(api, bucket, media_files, multipart_settings):
    ticket = start(api, filename="film.mp4", size=11 * MIB, type="video/mp4").json()
    url = api.post(f"/studio/uploads/{ticket['session']}/parts/", {"numbers": [1]},
                   content_type="application/json").json()["urls"]["1"]
    put_part(url, padded(media_files["mp4"], 5 * MIB))
    report = uploads_cleanup(now=timezone.now() + LATER)
    assert report == {**NOTHING, "abandoned_sessions": 1}
    assert not [u for u in s3.multipart_list(bucket=bucket, prefix="originals/") if u.key == ticket["key"]]
    assert Asset.objects.get(pk=ticket["asset"]).status == Status.FAILED


def test_finalize_after_the_upload_was_abandoned_is_refused_with_the_reason(api, media_files):
    ticket = sent(api, media_files["png"], filename="slow.png", content_type="image/png")
    uploads_cleanup(now=timezone.now() + LATER)
    response = finalize(api, ticket["session"])
    assert response.status_code == 422
    assert response.json()["error"] == "The upload of “slow.png” was never finished. Upload the file again."


def test_an_abandoned_asset_takes_a_new_upload(api, media_files):
    first = sent(api, media_files["png"], filename="again.png", content_type="image/png")
    uploads_cleanup(now=timezone.now() + LATER)
    second = sent(api, media_files["png"], filename="again.png", content_type="image/png", asset=first["asset"])
    assert finalize(api, second["session"]).status_code == 200
    assert Asset.objects.get(pk=first["asset"]).status == Status.PROCESSING


def test_an_upload_younger_than_the_age_is_left_alone(api, bucket, media_files):
    ticket = sent(api, media_files["png"], filename="busy.png", content_type="image/png")
    report = uploads_cleanup(now=timezone.now() + timedelta(hours=23))
    assert report == NOTHING
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING
    assert s3.head(bucket=bucket, key=ticket["key"]) is not None


def test_the_asset_stays_uploading_while_another_of_its_uploads_is_still_open(api, media_files):
    old = sent(api, media_files["png"], filename="a.png", content_type="image/png")
    uploads_cleanup(now=timezone.now())  # nothing is old yet
    UploadSession.objects.filter(pk=old["session"]).update(created_at=timezone.now() - LATER)
    new = start(api, filename="a.png", size=len(media_files["png"]), type="image/png", asset=old["asset"]).json()
    report = uploads_cleanup(now=timezone.now())
    assert report["abandoned_sessions"] == 1
    assert UploadSession.objects.get(pk=new["session"]).status == UploadStatus.PENDING
    assert Asset.objects.get(pk=old["asset"]).status == Status.UPLOADING


def test_an_orphan_object_older_than_the_age_is_deleted(bucket):
    key = orphan(bucket)
    assert uploads_cleanup(now=timezone.now() + LATER) == {**NOTHING, "orphan_objects": 1}
    assert s3.head(bucket=bucket, key=key) is None


def test_an_orphan_object_younger_than_the_age_is_kept(bucket):
    key = orphan(bucket)
    assert uploads_cleanup(now=timezone.now()) == NOTHING
    assert s3.head(bucket=bucket, key=key) is not None


def test_an_assets_original_is_never_an_orphan(api, bucket, media_files, django_capture_on_commit_callbacks):
    ticket = sent(api, media_files["png"], filename="keep.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        finalize(api, ticket["session"])
    original = Asset.objects.get(pk=ticket["asset"]).source_key
    assert uploads_cleanup(now=timezone.now() + timedelta(days=365)) == NOTHING
    assert s3.head(bucket=bucket, key=original) is not None


def test_the_spent_upload_key_left_by_a_failed_delete_is_an_orphan(api, bucket, media_files):
    ticket = sent(api, media_files["png"], filename="keep.png", content_type="image/png")
    finalize(api, ticket["session"])  # its after-commit delete of the upload's key never ran
    original = Asset.objects.get(pk=ticket["asset"]).source_key
    assert uploads_cleanup(now=timezone.now() + timedelta(days=365)) == {**NOTHING, "orphan_objects": 1}
    assert s3.head(bucket=bucket, key=ticket["key"]) is None
    assert s3.head(bucket=bucket, key=original) is not None


def test_the_object_of_a_pending_upload_is_never_an_orphan(api, bucket, media_files):
    ticket = sent(api, media_files["png"], filename="open.png", content_type="image/png")
    later = timezone.now() + LATER
    UploadSession.objects.filter(pk=ticket["session"]).update(created_at=later)  # young at `later`
    assert uploads_cleanup(now=later) == NOTHING
    assert s3.head(bucket=bucket, key=ticket["key"]) is not None


def test_a_multipart_upload_no_session_owns_is_aborted(bucket):
    key = f"originals/{uuid.uuid4().hex}/{uuid.uuid4().hex}"
    s3.multipart_create(bucket=bucket, key=key, content_type="video/mp4")
    assert uploads_cleanup(now=timezone.now() + LATER) == {**NOTHING, "orphan_multipart_uploads": 1}
    assert not list(s3.multipart_list(bucket=bucket, prefix=key))


def test_objects_outside_originals_are_not_touched(bucket):
    key = f"elsewhere/{uuid.uuid4().hex}"
    s3.put(bucket=bucket, key=key, body=b"not ours to judge", content_type="text/plain")
    assert uploads_cleanup(now=timezone.now() + LATER) == NOTHING
    assert s3.head(bucket=bucket, key=key) is not None
    s3.delete(bucket=bucket, key=key)


def test_a_second_run_finds_nothing_left_to_do(api, bucket, media_files):
    sent(api, media_files["png"], filename="once.png", content_type="image/png")
    orphan(bucket)
    later = timezone.now() + LATER
    assert uploads_cleanup(now=later) == {**NOTHING, "abandoned_sessions": 1, "orphan_objects": 1}
    assert uploads_cleanup(now=later) == NOTHING


def test_the_command_runs_the_cleanup_and_says_what_it_did(api, settings, bucket, media_files):
    settings.UPLOAD_ABANDONED_HOURS = 0  # everything that exists is old enough at the command's "now"
    ticket = start(api, filename="cmd.png", size=len(media_files["png"]), type="image/png").json()
    browser_post(ticket, media_files["png"])
    out = io.StringIO()
    call_command("cleanup_uploads", stdout=out)
    assert out.getvalue().strip() == ("Abandoned 1 upload sessions, deleted 0 orphan objects, "
                                      "aborted 0 orphan multipart uploads.")
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.ABANDONED
