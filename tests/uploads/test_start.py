"""Starting an upload: who may, what is refused up front, and what the browser is given."""

from __future__ import annotations

import pytest

from portal.library.models import Asset, Kind, Status
from portal.uploads.models import UploadSession
from tests.storage import MIB, start

pytestmark = pytest.mark.django_db


def test_editor_gets_a_post_ticket_for_a_key_of_ours(api, editor):
    response = start(api, filename="Summer trip.png", size=1234, type="image/png")
    ticket = response.json()
    asset = Asset.objects.get(pk=ticket["asset"])
    assert response.status_code == 201
    assert ticket["method"] == "POST"
    assert ticket["key"].startswith(f"originals/{asset.pk}/")
    assert "Summer" not in ticket["key"]
    assert ticket["fields"]["key"] == ticket["key"]
    assert ticket["fields"]["Content-Type"] == "image/png"
    assert (asset.title, asset.kind, asset.status, asset.owner) == ("Summer trip", Kind.IMAGE, Status.UPLOADING, editor)


def test_a_large_file_gets_a_multipart_ticket(api, multipart_settings):
    ticket = start(api, filename="film.mp4", size=11 * MIB, type="video/mp4").json()
    assert (ticket["method"], ticket["partSize"], ticket["parts"]) == ("multipart", 5 * MIB, 3)
    assert ticket["uploadId"]


def test_an_oversize_file_is_refused_at_start_with_the_limit(api, small_images):
    response = start(api, filename="huge.png", size=2 * MIB, type="image/png")
    assert response.status_code == 400
    message = response.json()["error"].replace("\xa0", " ")  # filesizeformat keeps number and unit together
    assert message == "“huge.png” is 2.0 MB; the largest image we accept is 1.0 MB."
    assert not Asset.objects.exists()


def test_a_type_we_do_not_accept_is_refused_at_start(api):
    response = start(api, filename="page.html", size=100, type="text/html")
    assert response.status_code == 400
    assert "is not a type we accept (text/html)" in response.json()["error"]
    assert not UploadSession.objects.exists()


def test_an_empty_file_is_refused_at_start(api):
    response = start(api, filename="empty.png", size=0, type="image/png")
    assert response.status_code == 400
    assert response.json()["error"] == "“empty.png” is empty."


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"just a string"'])
def test_malformed_json_is_a_400_json_error(api, body):
    response = api.post("/studio/uploads/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("The request was not")


@pytest.mark.parametrize("size", ["twelve", "1.5", "", [3], {"n": 3}, None])
def test_a_non_numeric_size_is_a_400_json_error(api, size):
    response = start(api, filename="a.png", size=size, type="image/png")
    assert response.status_code == 400
    assert response.json() == {"error": "Size and asset must be numbers."}


@pytest.mark.parametrize("literal", [b"Infinity", b"-Infinity", b"NaN", b"1e999"])
def test_json_infinity_or_nan_as_size_is_a_400_not_a_500(api, literal):
    body = b'{"filename": "a.png", "type": "image/png", "size": ' + literal + b"}"
    response = api.post("/studio/uploads/", body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_a_non_numeric_asset_is_a_400_json_error(api):
    response = start(api, filename="a.png", size=10, type="image/png", asset="../1")
    assert response.status_code == 400


def test_a_body_larger_than_any_real_request_is_refused(api):
    response = start(api, filename="a" * 20_000 + ".png", size=10, type="image/png")
    assert response.status_code == 400
    assert response.json() == {"error": "Request too large."}


def test_an_editor_may_retry_the_upload_of_a_colleagues_asset(api, other_editor, asset_factory):
    theirs = asset_factory(owner=other_editor, kind=Kind.IMAGE, status=Status.FAILED)
    response = start(api, filename="a.png", size=10, type="image/png", asset=theirs.pk)
    assert response.status_code == 201
    theirs.refresh_from_db()
    assert theirs.status == Status.UPLOADING


def test_a_retry_on_an_asset_that_does_not_exist_is_not_found(api):
    response = start(api, filename="a.png", size=10, type="image/png", asset=987654321)
    assert response.status_code == 404
    assert not UploadSession.objects.exists()


def test_a_file_the_browser_gave_no_type_is_typed_by_its_extension(api):
    response = start(api, filename="Scan.PDF", size=10, type="")
    assert response.status_code == 201
    assert UploadSession.objects.get().declared_type == "application/pdf"


def test_cancelling_frees_the_asset_at_once(api, editor):
    ticket = start(api, filename="clip.mp4", size=10, type="video/mp4").json()
    response = api.post(f"/studio/uploads/{ticket['session']}/cancel/")
    assert response.json()["cancelled"] is True
    asset = Asset.objects.get(pk=ticket["asset"])
    assert asset.status == Status.FAILED
    assert "was cancelled" in asset.upload_error
    assert UploadSession.objects.get().status == "abandoned"


def test_another_users_session_cannot_be_cancelled(api, client_as, other_editor):
    ticket = start(api, filename="clip.mp4", size=10, type="video/mp4").json()
    response = client_as(other_editor).post(f"/studio/uploads/{ticket['session']}/cancel/")
    assert response.status_code == 404
    assert UploadSession.objects.get().status == "pending"


def test_a_file_of_another_kind_than_the_asset_is_refused(api, editor, asset_factory):
    asset = asset_factory(owner=editor, kind=Kind.IMAGE, status=Status.DRAFT)
    response = start(api, filename="clip.mp4", size=10, type="video/mp4", asset=asset.pk)
    assert response.status_code == 400
    assert response.json()["error"] == "“clip.mp4” is not an image, like this asset."


def test_a_published_asset_cannot_take_a_new_file(api, editor, asset_factory):
    asset = asset_factory(owner=editor, kind=Kind.IMAGE, status=Status.PUBLISHED)
    response = start(api, filename="a.png", size=10, type="image/png", asset=asset.pk)
    assert response.status_code == 400
    assert response.json()["error"] == "A file cannot be uploaded to an asset that is published."


def test_a_signed_in_non_editor_cannot_start_an_upload(client_as, visitor):
    response = start(client_as(visitor), filename="a.png", size=10, type="image/png")
    assert response.status_code == 403
    assert not Asset.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = start(client, filename="a.png", size=10, type="image/png")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Asset.objects.exists()
