"""Files go through django-storages' S3Storage against the real S3 server; URLs keep their promises."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from django.conf import settings
from storages.backends.s3 import S3Storage

from portal.integrations import cdn, s3


@pytest.fixture
def key():
    name = f"tests/storage-{uuid.uuid4().hex}/caf\u00e9 menu.txt"
    yield name
    s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=name)
    s3.delete(bucket=settings.S3_PUBLIC_BUCKET, key=name)


def test_saved_files_are_read_back_through_the_buckets_storage(key):
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=b"soup of the day", content_type="text/plain")

    storage = s3.storage(settings.S3_PRIVATE_BUCKET)
    assert isinstance(storage, S3Storage)
    assert storage.bucket_name == settings.S3_PRIVATE_BUCKET
    assert storage.exists(key)
    with storage.open(key) as fp:
        assert fp.read() == b"soup of the day"
    assert s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=key, max_bytes=7) == b"soup of"
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=key).content_type == "text/plain"

    s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=key)
    assert not s3.exists(bucket=settings.S3_PRIVATE_BUCKET, key=key)
    s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=key)  # deleting what is gone is no error
    with pytest.raises(s3.ObjectMissing):
        s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=key)


def test_a_private_url_never_lasts_longer_than_private_url_seconds_and_opens_the_file(key):
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=b"private", content_type="text/plain")

    url = s3.presigned_get(bucket=settings.S3_PRIVATE_BUCKET, key=key, expires_s=24 * 3600,
                           filename="café menu.txt", inline=False)

    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) == settings.PRIVATE_URL_SECONDS <= 300
    answer = requests.get(url, timeout=5)
    assert (answer.status_code, answer.content) == (200, b"private")
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"caf menu.txt\"; filename*=UTF-8''caf%C3%A9%20menu.txt")
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403  # unsigned: refused


def test_cdn_urls_are_the_cdn_base_plus_the_quoted_key_and_serve_the_public_copy(key):
    s3.put(bucket=settings.S3_PUBLIC_BUCKET, key=key, body=b"public", content_type="text/plain")

    url = cdn.url(key)

    assert url == f"{settings.CDN_BASE_URL.rstrip('/')}/{quote(key)}"  # as before storages built it
    assert "X-Amz" not in url
    assert requests.get(url, timeout=5).content == b"public"


def test_an_unreachable_s3_is_storage_unavailable_for_storages_and_boto3_calls_alike(key, settings):
    dead = {alias: {**config, "OPTIONS": {**config["OPTIONS"], "endpoint_url": "http://127.0.0.1:9"}}
            for alias, config in settings.STORAGES.items() if alias in ("default", "public")}
    settings.STORAGES = {**settings.STORAGES, **dead}

    with pytest.raises(s3.StorageUnavailable):
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=b"x", content_type="text/plain")
    with pytest.raises(s3.StorageUnavailable):
        s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=key)
    with pytest.raises(s3.StorageUnavailable):
        s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=key)  # boto3, through the same configuration
