"""Helpers and fixtures for tests that put real bytes into the real S3 server (versitygw).

Two things keep these tests apart from the developer's data and from other test runs that share
the same S3 server (`_isolated_storage`, autouse in tests/uploads and tests/media):
- uploads go to a private bucket of this test database's own (`test_bucket`): the orphan sweep of
  the cleanup is bucket-wide, so it must never see anybody else's originals;
- assets get random ids far above any other database's: the public copies the CDN serves live in
  the shared public bucket under `assets/<id>/`, and deleting an asset clears that whole prefix.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from portal.integrations import s3
from portal.library.signals import asset_changed

MIB = 1024 * 1024
TIMEOUT = 30


def browser_post(ticket: dict[str, Any], body: bytes, *, filename: str = "file.bin",
                 fields: dict[str, str] | None = None) -> requests.Response:
    """What the browser does with a "POST" ticket: the signed fields, then the file, last."""
    form = {**ticket["fields"], **(fields or {})}
    return requests.post(ticket["url"], data=form, files={"file": (filename, body)}, timeout=TIMEOUT)


def put_part(url: str, body: bytes) -> requests.Response:
    return requests.put(url, data=body, timeout=TIMEOUT)


def padded(prefix: bytes, size: int) -> bytes:
    """A file of exactly `size` bytes that starts like the real thing (libmagic reads the start)."""
    return (prefix + os.urandom(max(0, size - len(prefix))))[:size]


@pytest.fixture(scope="session")
def test_bucket() -> Iterator[str]:
    """The bucket is kept between runs (emptied at the end): each test directory that imports this
    fixture gets its own session-scoped instance, and both share the bucket."""
    name = re.sub(r"[^a-z0-9-]", "-", f"portal-{os.environ.get('DJANGO_TEST_DATABASE', 'test-portal')}".lower())
    s3.bucket_ensure(bucket=name, public_read=False, cors_origins=[])
    yield name
    for upload in list(s3.multipart_list(bucket=name, prefix="")):
        s3.multipart_abort(bucket=name, key=upload.key, upload_id=upload.upload_id)
    s3.delete_prefix(bucket=name, prefix="")


def _shift_asset_ids() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('library_asset', 'id'), %s)",
                       [random.randrange(10**12, 10**13)])


@pytest.fixture(autouse=True)
def _isolated_storage(request: pytest.FixtureRequest, settings: Any, test_bucket: str) -> None:
    settings.S3_PRIVATE_BUCKET = test_bucket
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")  # the marker decides: transactional or not
        _shift_asset_ids()


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real files made by ffmpeg (a PNG, a JPEG, an MP4, a WAV), plus a minimal PDF and an HTML page."""
    folder = tmp_path_factory.mktemp("media")
    recipes = {
        "png": ["-f", "lavfi", "-i", "testsrc=size=32x32", "-frames:v", "1"],
        "jpg": ["-f", "lavfi", "-i", "testsrc=size=32x32", "-frames:v", "1"],
        "mp4": ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-pix_fmt", "yuv420p"],
        "wav": ["-f", "lavfi", "-i", "sine=duration=0.2"],
    }
    files = {}
    for ext, args in recipes.items():
        path: Path = folder / f"sample.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(path)], check=True, timeout=60)
        files[ext] = path.read_bytes()
    files["pdf"] = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    files["html"] = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
    return files


def start(client: Client, **payload: Any) -> HttpResponse:
    """POST /studio/uploads/ as the uploader does: a small JSON body."""
    return client.post("/studio/uploads/", payload, content_type="application/json")  # type: ignore[return-value]


def finalize(client: Client, session: str) -> HttpResponse:
    return client.post(f"/studio/uploads/{session}/finalize/")  # type: ignore[return-value]


def sent(client: Client, body: bytes, *, filename: str, content_type: str, **extra: Any) -> dict[str, Any]:
    """Start an upload and send the bytes to S3 the browser's way; the ticket, not yet finalized."""
    response = start(client, filename=filename, size=len(body), type=content_type, **extra)
    assert response.status_code == 201, response.content
    ticket: dict[str, Any] = response.json()
    assert browser_post(ticket, body).status_code == 204  # the form part's own name is ignored by S3
    return ticket


@pytest.fixture
def announcements() -> Iterator[list[tuple[int, str]]]:
    """Every asset_changed sent during the test, as (asset_id, change)."""
    calls: list[tuple[int, str]] = []

    def receiver(sender: object, asset_id: int, change: str, **kwargs: object) -> None:
        calls.append((asset_id, change))

    asset_changed.connect(receiver, dispatch_uid="tests.announcements")
    yield calls
    asset_changed.disconnect(dispatch_uid="tests.announcements")
