"""Large files go up in parts through presigned URLs, and an interrupted upload resumes."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from portal.integrations import s3
from portal.library.models import Asset, Status
from portal.uploads.models import UploadSession, UploadStatus
from tests.storage import MIB, finalize, padded, put_part, start

pytestmark = pytest.mark.django_db


def part_urls(client: Client, session: str, numbers: list[int]) -> dict[int, str]:
    response = client.post(f"/studio/uploads/{session}/parts/", {"numbers": numbers}, content_type="application/json")
    assert response.status_code == 200, response.content
    return {int(n): url for n, url in response.json()["urls"].items()}


def stored_parts(client: Client, session: str) -> set[int]:
    response = client.get(f"/studio/uploads/{session}/parts/")
    assert response.status_code == 200
    return {p["PartNumber"] for p in response.json()["parts"]}


@pytest.fixture
def film(media_files, multipart_settings) -> bytes:
    """An MP4 made by ffmpeg, padded to 11 MiB: three 5 MiB parts, the last one 1 MiB."""
    return padded(media_files["mp4"], 11 * MIB)


def chunks(body: bytes, size: int) -> dict[int, bytes]:
    return {n + 1: body[offset:offset + size] for n, offset in enumerate(range(0, len(body), size))}


def test_an_interrupted_upload_resumes_with_only_the_missing_part(api, settings, film, multipart_settings):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    pieces = chunks(film, ticket["partSize"])
    urls = part_urls(api, ticket["session"], [1, 2, 3])
    for number in (1, 2):
        assert put_part(urls[number], pieces[number]).status_code == 200
    # The connection drops here. The page is reloaded: the uploader asks what S3 already holds ...
    present = stored_parts(api, ticket["session"])
    missing = sorted(set(pieces) - present)
    assert (present, missing) == ({1, 2}, [3])
    # ... signs and sends only what is missing, then finishes.
    for number, url in part_urls(api, ticket["session"], missing).items():
        assert put_part(url, pieces[number]).status_code == 200
    response = finalize(api, ticket["session"])
    info = s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"])
    asset = Asset.objects.get(pk=ticket["asset"])
    assert response.status_code == 200
    assert info is not None
    assert info.size == 11 * MIB
    assert (asset.status, asset.source_size, asset.source_type) == (Status.PROCESSING, 11 * MIB, "video/mp4")


def test_finalize_with_a_part_missing_says_so_and_the_upload_stays_open(api, film):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    put_part(part_urls(api, ticket["session"], [1])[1], chunks(film, ticket["partSize"])[1])
    response = finalize(api, ticket["session"])
    assert response.status_code == 400
    assert response.json()["error"] == ("Only 1 of 3 parts of “film.mp4” have arrived; "
                                        "resume the upload to send the rest.")
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING
    assert stored_parts(api, ticket["session"]) == {1}


def test_parts_that_add_up_to_less_than_declared_fail_the_upload(api, settings, film,
                                                                 django_capture_on_commit_callbacks):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    pieces = chunks(film, ticket["partSize"])
    pieces[3] = pieces[3][: MIB // 2]
    for number, url in part_urls(api, ticket["session"], [1, 2, 3]).items():
        put_part(url, pieces[number])
    with django_capture_on_commit_callbacks(execute=True):
        response = finalize(api, ticket["session"])
    assert response.status_code == 422
    assert "the upload was cut short" in response.json()["error"]
    assert Asset.objects.get(pk=ticket["asset"]).status == Status.FAILED
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]) is None


@pytest.mark.parametrize("numbers", [[0], [4], [-1], ["1"], "1", [1] * 101])
def test_part_numbers_outside_the_upload_are_refused(api, film, numbers):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    response = api.post(f"/studio/uploads/{ticket['session']}/parts/", {"numbers": numbers},
                        content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_a_part_url_is_signed_for_its_own_part_only(api, settings, film):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    url = part_urls(api, ticket["session"], [1])[1]
    assert put_part(url.replace("partNumber=1", "partNumber=2"), os.urandom(5 * MIB)).status_code == 403
    assert stored_parts(api, ticket["session"]) == set()
