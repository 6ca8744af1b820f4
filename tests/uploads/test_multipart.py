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


def test_a_short_part_is_refused_before_assembly_and_sent_again(api, settings, film):
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    pieces = chunks(film, ticket["partSize"])
    urls = part_urls(api, ticket["session"], [1, 2, 3])
    for number in (1, 2):
        put_part(urls[number], pieces[number])
    put_part(urls[3], pieces[3][: MIB // 2])
    response = finalize(api, ticket["session"])
    assert response.status_code == 400
    assert response.json()["error"] == ("Parts of “film.mp4” with the wrong size: 3 (524,288 bytes instead of "
                                        "1,048,576). Resume the upload to send them again.")
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING
    assert stored_parts(api, ticket["session"]) == {1, 2}  # the uploader resends part 3
    put_part(part_urls(api, ticket["session"], [3])[3], pieces[3])
    assert finalize(api, ticket["session"]).status_code == 200
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]).size == len(film)


def oversized(api, film) -> tuple[dict, dict[int, bytes]]:
    """A multipart upload whose part 2 was sent with 3 MiB more than its presigned URL was for."""
    ticket = start(api, filename="film.mp4", size=len(film), type="video/mp4").json()
    pieces = chunks(film, ticket["partSize"])
    urls = part_urls(api, ticket["session"], [1, 2, 3])
    for number, body in pieces.items():
        assert put_part(urls[number], body + os.urandom(3 * MIB) if number == 2 else body).status_code == 200
    return ticket, pieces


def test_a_part_larger_than_declared_is_refused_before_assembly_and_the_upload_resumes(api, settings, film):
    ticket, pieces = oversized(api, film)
    response = finalize(api, ticket["session"])
    assert response.status_code == 400
    assert response.json()["error"] == ("Parts of “film.mp4” with the wrong size: 2 (8,388,608 bytes instead of "
                                        "5,242,880). Resume the upload to send them again.")
    # Nothing was assembled or lost: the session waits, the good parts stay, the bad one is to resend.
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]) is None
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.PENDING
    assert Asset.objects.get(pk=ticket["asset"]).status == Status.UPLOADING
    assert stored_parts(api, ticket["session"]) == {1, 3}
    assert put_part(part_urls(api, ticket["session"], [2])[2], pieces[2]).status_code == 200
    response = finalize(api, ticket["session"])
    assert response.status_code == 200, response.content
    info = s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"])
    assert info is not None
    assert info.size == len(film)
    assert Asset.objects.get(pk=ticket["asset"]).status == Status.PROCESSING


def test_an_upload_refused_for_an_oversized_part_can_be_cancelled(api, settings, film):
    ticket, _ = oversized(api, film)
    assert finalize(api, ticket["session"]).status_code == 400
    response = api.post(f"/studio/uploads/{ticket['session']}/cancel/")
    assert response.status_code == 200
    assert response.json()["cancelled"] is True
    assert UploadSession.objects.get(pk=ticket["session"]).status == UploadStatus.ABANDONED
    assert not list(s3.multipart_list(bucket=settings.S3_PRIVATE_BUCKET, prefix=ticket["key"]))


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
