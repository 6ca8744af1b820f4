"""What S3 itself refuses, whatever the client claims: the signed policy is the last word."""

from __future__ import annotations

import time

import pytest

from portal.integrations import s3
from tests.storage import MIB, browser_post, padded, start

pytestmark = pytest.mark.django_db


def test_s3_refuses_more_bytes_than_the_kinds_maximum_from_a_client_that_lied(api, settings, small_images,
                                                                           media_files):
    ticket = start(api, filename="small.png", size=500_000, type="image/png").json()
    response = browser_post(ticket, padded(media_files["png"], 2 * MIB), filename="small.png")
    assert response.status_code == 400
    assert "EntityTooLarge" in response.text
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]) is None


def test_s3_refuses_a_post_after_the_policy_expired(api, settings, media_files):
    settings.UPLOAD_POLICY_SECONDS = 1
    ticket = start(api, filename="late.png", size=len(media_files["png"]), type="image/png").json()
    time.sleep(2)  # let the signed policy expire; not a timing assertion
    response = browser_post(ticket, media_files["png"], filename="late.png")
    assert response.status_code == 403
    assert "expired" in response.text.lower()
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]) is None


@pytest.mark.parametrize("other_key", ["originals/1/someone-elses-file", "public/index.html", "{key}-2", "{key}/x"])
def test_s3_refuses_a_key_other_than_the_signed_one(api, settings, media_files, other_key):
    ticket = start(api, filename="a.png", size=len(media_files["png"]), type="image/png").json()
    key = other_key.format(key=ticket["key"])
    response = browser_post(ticket, media_files["png"], fields={"key": key})
    assert response.status_code == 403
    assert "Policy Condition failed" in response.text
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=key) is None


def test_s3_refuses_a_content_type_other_than_the_signed_one(api, settings, media_files):
    ticket = start(api, filename="a.png", size=len(media_files["html"]), type="image/png").json()
    response = browser_post(ticket, media_files["html"], fields={"Content-Type": "text/html"})
    assert response.status_code == 403
    assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"]) is None


def test_s3_stores_a_post_within_the_policy_with_the_signed_type(api, settings, media_files):
    ticket = start(api, filename="a.png", size=len(media_files["png"]), type="image/png").json()
    assert browser_post(ticket, media_files["png"]).status_code == 204
    info = s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=ticket["key"])
    assert info is not None
    assert (info.size, info.content_type) == (len(media_files["png"]), "image/png")
