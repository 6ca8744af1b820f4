"""The Content-Security-Policy header, and templates that need nothing it forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_sends_the_policy_cached_pages_and_partials_too(client_as, editor):
    anonymous = Client()
    for response in (anonymous.get("/"), anonymous.get("/"), anonymous.get("/browse/", headers={"HX-Request": "true"}),
                     client_as(editor).get("/studio/"), anonymous.get("/no-such-page/")):
        policy = directives(response)
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]


def test_media_and_uploads_may_come_from_the_s3_endpoint_and_the_cdn_only():
    policy = directives(Client().get("/"))
    s3, cdn = settings.S3_ENDPOINT_URL.rstrip("/"), settings.CDN_BASE_URL.rstrip("/")
    assert policy["connect-src"] == ["'self'", s3, cdn]
    assert policy["media-src"] == ["'self'", "blob:", s3, cdn]
    assert policy["img-src"] == ["'self'", "data:", "blob:", s3, cdn]


def test_no_template_has_an_inline_handler_or_an_inline_script():
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    inline_script = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
    offenders = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if handler.search(path.read_text()) or inline_script.search(path.read_text())]
    assert offenders == []
