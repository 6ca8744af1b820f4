"""The Content-Security-Policy breaks nothing: Chromium raises no violation and logs no error on the
studio (its status filter submits itself from static JS), the upload page (Uppy, a file's preview)
and an asset page whose player streams from a signed S3 URL and reports the play."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.integrations import s3
from portal.library.models import Asset, Kind
from tests.factories import AssetFactory, UserFactory

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests"  # tests/factories.py's UserFactory
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def clip(transactional_db: None, tmp_path: Path) -> Iterator[Asset]:
    wav = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    str(wav)], check=True)
    key = f"originals/test-csp-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=wav.read_bytes(), content_type="audio/wav")
    yield AssetFactory(kind=Kind.AUDIO, title="Policy tone", source_key=key, source_size=wav.stat().st_size,
                       source_type="audio/wav", original_filename="tone.wav")
    s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=key)


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    errors: list[str] = []  # console errors about the policy, and uncaught script errors
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")  # type: ignore[no-any-return]


def test_studio_upload_and_asset_pages_raise_no_csp_violation(watched, live_server: LiveServer, clip: Asset,
                                                              tmp_path: Path) -> None:
    page, errors = watched
    UserFactory(username="csp-editor", editor=True)
    page.goto(f"{live_server.url}/accounts/login/?next=/studio/")
    page.fill("#id_username", "csp-editor")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    with page.expect_navigation():
        page.select_option("#s-status", "published")  # submits itself: static/js/forms.js
    assert "status=published" in page.url
    assert violations(page) == []

    page.goto(f"{live_server.url}/studio/upload/")
    expect(page.locator("#uploader .uppy-Dashboard")).to_be_visible()
    picture = tmp_path / "dot.png"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=64x64",
                    "-frames:v", "1", str(picture)], check=True)
    page.locator("#uploader input.uppy-Dashboard-input[name='files[]']:not([webkitdirectory])").set_input_files(
        str(picture))
    expect(page.locator(".uppy-Dashboard-Item")).to_have_count(1)
    assert violations(page) == []

    page.goto(f"{live_server.url}{clip.get_absolute_url()}")
    audio = page.locator(".player audio")
    expect(audio).to_be_visible()
    with page.expect_response(lambda response: "/analytics/plays/" in response.url) as report:
        audio.evaluate("a => { a.muted = true; return a.play() }")
    assert report.value.status == 204
    assert violations(page) == []
    assert errors == []
    header = page.goto(f"{live_server.url}/").headers["content-security-policy"]  # type: ignore[union-attr]
    assert "script-src 'self';" in header
