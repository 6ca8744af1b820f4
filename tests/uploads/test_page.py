"""The upload page: what it tells an editor before any script runs, and the uploader's configuration."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from django.test import Client

from portal.library.models import Kind, Status
from tests.factories import AssetFactory


def config_of(html: str) -> dict[str, object]:
    match = re.search(r'<script id="upload-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no uploader configuration in the page"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_page_lists_each_kinds_limit_says_javascript_is_needed_and_configures_the_uploader(api: Client) -> None:
    response = api.get("/studio/upload/")

    assert response.status_code == 200
    html = response.content.decode().replace("\xa0", " ")  # filesizeformat keeps number and unit together
    assert response.context["limits"]["image"] == 50 * 1024 * 1024
    for text in ("Video", "up to 4.0 GB", "Audio", "up to 512.0 MB", "Images", "up to 50.0 MB",
                 "Documents", "up to 200.0 MB"):
        assert text in html
    assert "<noscript>" in html
    assert "Uploading needs JavaScript" in html
    assert 'role="status"' in html
    config = config_of(html)
    assert config["startUrl"] == "/studio/uploads/"
    placeholder = config["placeholder"]  # a UUID: the session routes take nothing else
    assert str(uuid.UUID(placeholder)) == placeholder
    assert config["partsUrl"] == f"/studio/uploads/{placeholder}/parts/"
    assert config["finalizeUrl"] == f"/studio/uploads/{placeholder}/finalize/"
    assert config["asset"] is None
    assert config["csrfToken"]
    assert re.search(r'src="/static/vendor/uppy/uppy-6\.0\.1\.min(\.[0-9a-f]+)?\.js"', html)


def test_limits_follow_the_settings(api: Client, small_images: int) -> None:
    assert "up to 1.0\xa0MB" in api.get("/studio/upload/").content.decode()


def test_asset_parameter_uploads_into_that_asset(api: Client, editor: object) -> None:
    asset = AssetFactory(owner=editor, kind=Kind.AUDIO, status=Status.DRAFT, title="Dawn chorus")

    response = api.get(f"/studio/upload/?asset={asset.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Upload a file for “Dawn chorus”" in html
    assert config_of(html)["asset"] == asset.pk


def test_a_malformed_or_unknown_asset_is_not_found(api: Client) -> None:
    assert api.get("/studio/upload/?asset=abc").status_code == 404
    assert api.get("/studio/upload/?asset=999999999").status_code == 404


def test_visitors_are_sent_to_log_in_and_non_editors_refused(
    client: Client, client_as: Callable[[object], Client], visitor: object
) -> None:
    response = client.get("/studio/upload/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client_as(visitor).get("/studio/upload/").status_code == 403


def test_studio_links_to_the_upload_page(api: Client) -> None:
    html = api.get("/studio/").content.decode()
    assert 'href="/studio/upload/">Upload files</a>' in html
