"""The CDN stand-in (deploy/nginx/stack.conf.template) in front of the real S3's public bucket:
one CORS answer of its own, nosniff on everything, documents sandboxed, the query string never
reaching S3; and the public bucket's CORS rule allows reading only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings

from portal.integrations import s3
from tests.cdn import own_cdn  # noqa: F401 - a fixture

PAGE_ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"cdn-test/{uuid.uuid4().hex}/"
    yield name
    s3.delete_prefix(bucket=settings.S3_PUBLIC_BUCKET, prefix=name)


def put(key: str, body: bytes, content_type: str) -> None:
    s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=key, body=body, content_type=content_type)


def test_a_storyboard_fetched_cross_origin_gets_one_allow_origin(own_cdn: str, prefix: str) -> None:
    put(f"{prefix}storyboard.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nsprite.jpg#xywh=0,0,160,90\n", "text/vtt")
    # The browser sends Origin; S3 answers it with CORS headers of its own, which must not pass.
    for cache in ("MISS", "HIT"):
        response = requests.get(f"{own_cdn}/{prefix}storyboard.vtt", headers={"Origin": PAGE_ORIGIN}, timeout=10)
        assert response.headers["X-Cache-Status"] == cache
        assert response.raw.headers.getlist("Access-Control-Allow-Origin") == ["*"]
        assert "Access-Control-Allow-Methods" not in response.headers
        assert "Vary" not in response.headers


@pytest.mark.parametrize(("name", "content_type", "csp"), [
    ("report.pdf", "application/pdf", "sandbox"),
    ("drawing.svg", "image/svg+xml", "sandbox"),
    ("page.html", "text/html", "sandbox"),
    ("notes.txt", "text/plain", "sandbox"),
    ("poster.jpg", "image/jpeg", None),
    ("clip.mp4", "video/mp4", None),
    ("song.m4a", "audio/mp4", None),
    ("index.m3u8", "application/vnd.apple.mpegurl", None),
    ("segment.ts", "video/mp2t", None),
    ("storyboard.vtt", "text/vtt", None),
])
def test_every_answer_is_nosniff_and_documents_are_sandboxed(own_cdn: str, prefix: str, name: str,
                                                             content_type: str, csp: str | None) -> None:
    put(f"{prefix}{name}", b"bytes", content_type)
    response = requests.get(f"{own_cdn}/{prefix}{name}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Content-Security-Policy") == csp


def test_a_missing_object_is_nosniff_and_sandboxed_too(own_cdn: str, prefix: str) -> None:
    response = requests.get(f"{own_cdn}/{prefix}missing.pdf", timeout=10)
    assert response.status_code in (403, 404)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("query", ["acl", "versionId=forged", "response-content-type=text/html"])
def test_the_query_string_never_reaches_s3_so_it_cannot_poison_the_path(own_cdn: str, prefix: str,
                                                                       query: str) -> None:
    put(f"{prefix}poster.jpg", b"jpeg bytes", "image/jpeg")
    first = requests.get(f"{own_cdn}/{prefix}poster.jpg?{query}", timeout=10)  # the first caller fills the cache
    assert (first.status_code, first.content, first.headers["Content-Type"]) == (200, b"jpeg bytes", "image/jpeg")
    plain = requests.get(f"{own_cdn}/{prefix}poster.jpg", timeout=10)
    assert (plain.status_code, plain.content, plain.headers["X-Cache-Status"]) == (200, b"jpeg bytes", "HIT")


def test_the_public_buckets_cors_rule_allows_reading_only() -> None:
    bucket = f"portal-cors-{uuid.uuid4().hex[:12]}"
    s3.bucket_ensure(bucket=bucket, public_read=True, cors_origins=["*"])  # as setup_storage does
    try:
        s3.put(bucket=bucket, key="a.txt", body=b"x", content_type="text/plain")
        url = f"{s3.client().meta.endpoint_url}/{bucket}/a.txt"

        def preflight(method: str) -> requests.Response:
            return requests.options(url, headers={"Origin": PAGE_ORIGIN, "Access-Control-Request-Method": method},
                                    timeout=10)

        allowed = preflight("GET")
        assert allowed.headers.get("Access-Control-Allow-Origin") == "*"
        assert set(allowed.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) == {"GET", "HEAD"}
        for method in ("PUT", "POST", "DELETE"):
            assert "Access-Control-Allow-Origin" not in preflight(method).headers, method
    finally:
        s3.delete_prefix(bucket=bucket, prefix="")
        s3.client().delete_bucket(Bucket=bucket)
