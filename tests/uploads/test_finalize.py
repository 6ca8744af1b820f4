"""Finalize checks what really reached S3: size, then the bytes' own type; replays change nothing."""

from __future__ import annotations

import uuid

import pytest
from django.urls import Resolver404, resolve

from portal.integrations import s3
from portal.library.models import Asset, Status
from portal.uploads.models import UploadSession, UploadStatus
from tests.storage import browser_post, finalize, padded, sent, start

pytestmark = pytest.mark.django_db


def stored(settings, key: str) -> bool:
    return s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=key) is not None


def test_a_real_png_completes_and_the_asset_moves_to_processing(api, settings, media_files, announcements,
                                                              django_capture_on_commit_callbacks):
    ticket = sent(api, media_files["png"], filename="sunset.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, ticket["session"])
    asset = Asset.objects.get(pk=ticket["asset"])
    assert response.status_code == 200
    assert response.json()["status"] == UploadStatus.COMPLETE
    assert (asset.status, asset.source_size, asset.source_type, asset.original_filename) == (
        Status.PROCESSING, len(media_files["png"]), "image/png", "sunset.png")
    assert announcements == [(asset.pk, "uploaded")]
    # The checked bytes were moved to a key of ours that no upload policy can write; the upload's is freed.
    assert asset.source_key.startswith(f"originals/{asset.pk}/")
    assert asset.source_key != ticket["key"]
    assert s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key) == media_files["png"]
    assert not stored(settings, ticket["key"])


def test_fewer_bytes_than_declared_fail_the_asset_and_delete_the_object(api, settings, media_files,
                                                                       django_capture_on_commit_callbacks):
    ticket = start(api, filename="cut.png", size=2000, type="image/png").json()
    assert browser_post(ticket, padded(media_files["png"], 1000)).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, ticket["session"])
    asset = Asset.objects.get(pk=ticket["asset"])
    reason = "“cut.png” arrived with 1,000 bytes instead of 2,000: the upload was cut short. Try again."
    assert response.status_code == 422
    assert response.json()["error"] == reason
    assert (asset.status, asset.upload_error, asset.source_key) == (Status.FAILED, reason, "")
    assert not stored(settings, ticket["key"])


def test_html_named_png_is_refused_as_not_really_an_image(api, settings, media_files,
                                                          django_capture_on_commit_callbacks):
    ticket = sent(api, media_files["html"], filename="photo.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, ticket["session"])
    asset = Asset.objects.get(pk=ticket["asset"])
    assert response.status_code == 422
    assert response.json()["error"] == "“photo.png” is not really an image: its content is text/html."
    assert (asset.status, asset.source_key) == (Status.FAILED, "")
    assert "is not really an image" in asset.upload_error
    assert not stored(settings, ticket["key"])


def test_a_failed_asset_takes_a_new_upload_and_completes(api, media_files, django_capture_on_commit_callbacks):
    first = sent(api, media_files["html"], filename="photo.png", content_type="image/png")
    finalize(api, first["session"])
    second = sent(api, media_files["png"], filename="photo.png", content_type="image/png", asset=first["asset"])
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, second["session"])
    asset = Asset.objects.get(pk=first["asset"])
    assert response.status_code == 200
    assert second["asset"] == first["asset"]
    assert second["key"] != first["key"]
    assert asset.status == Status.PROCESSING
    assert asset.source_key.startswith(f"originals/{asset.pk}/")
    assert asset.source_key not in (first["key"], second["key"])
    assert asset.upload_error == ""


def test_finalize_before_the_file_arrived_is_a_400_and_the_upload_stays_open(api, media_files):
    ticket = start(api, filename="later.png", size=len(media_files["png"]), type="image/png").json()
    response = finalize(api, ticket["session"])
    assert response.status_code == 400
    assert response.json() == {"error": "“later.png” has not reached storage yet. Upload it, then finish again."}
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING
    assert Asset.objects.get(pk=ticket["asset"]).status == Status.UPLOADING
    assert browser_post(ticket, media_files["png"]).status_code == 204
    assert finalize(api, ticket["session"]).status_code == 200


def test_a_replayed_finalize_answers_the_same_and_announces_once(api, media_files, announcements,
                                                                django_capture_on_commit_callbacks):
    ticket = sent(api, media_files["png"], filename="twice.png", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        first = finalize(api, ticket["session"])
    version = Asset.objects.get(pk=ticket["asset"]).version
    with django_capture_on_commit_callbacks(execute=True):
        second = finalize(api, ticket["session"])
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert Asset.objects.get(pk=ticket["asset"]).version == version
    assert announcements == [(ticket["asset"], "uploaded")]


def test_a_replayed_refusal_is_the_same_refusal(api, media_files):
    ticket = sent(api, media_files["html"], filename="photo.png", content_type="image/png")
    first, second = finalize(api, ticket["session"]), finalize(api, ticket["session"])
    assert (first.status_code, second.status_code) == (422, 422)
    assert first.json() == second.json()


def test_a_second_upload_finishing_after_the_first_leaves_the_asset_alone(api, settings, media_files,
                                                                         django_capture_on_commit_callbacks):
    first = sent(api, media_files["png"], filename="a.png", content_type="image/png")
    second = sent(api, media_files["jpg"], filename="b.jpg", content_type="image/jpeg", asset=first["asset"])
    assert finalize(api, first["session"]).status_code == 200
    kept = Asset.objects.get(pk=first["asset"]).source_key
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, second["session"])
    asset = Asset.objects.get(pk=first["asset"])
    assert response.status_code == 422
    assert response.json()["error"] == "Another upload of this asset finished first, so “b.jpg” was not used."
    assert (asset.status, asset.source_key) == (Status.PROCESSING, kept)
    assert not stored(settings, second["key"])
    assert stored(settings, kept)


def test_another_editor_gets_404_on_someone_elses_session(api, client_as, other_editor, media_files):
    ticket = sent(api, media_files["png"], filename="mine.png", content_type="image/png")
    theirs = client_as(other_editor)
    parts = f"/studio/uploads/{ticket['session']}/parts/"
    assert theirs.get(parts).status_code == 404
    assert theirs.post(parts, {"numbers": [1]}, content_type="application/json").status_code == 404
    assert finalize(theirs, ticket["session"]).status_code == 404
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING


def test_visitors_cannot_touch_a_session(api, client, client_as, visitor, media_files):
    ticket = sent(api, media_files["png"], filename="mine.png", content_type="image/png")
    assert finalize(client_as(visitor), ticket["session"]).status_code == 403
    assert finalize(client, ticket["session"]).status_code == 302
    assert client.get(f"/studio/uploads/{ticket['session']}/parts/").status_code == 302
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING


def test_an_unknown_session_id_is_a_404_json_answer(api):
    response = finalize(api, "00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"error": "No such upload."}


@pytest.mark.parametrize("session", ["not-a-uuid", "0", "%2e%2e", "00000000-0000-0000-0000-00000000000g"])
def test_a_malformed_session_id_matches_no_route(api, session):
    for action in ("finalize", "parts", "cancel"):
        with pytest.raises(Resolver404):
            resolve(f"/studio/uploads/{session}/{action}/")
    assert finalize(api, session).status_code == 404


def test_the_views_get_the_session_id_as_a_uuid():
    session = uuid.uuid4()
    for action in ("finalize", "parts", "cancel"):
        match = resolve(f"/studio/uploads/{session}/{action}/")
        assert match.kwargs == {"session_id": session}
        assert isinstance(match.kwargs["session_id"], uuid.UUID)
