"""An editor uploads a video and watches it being processed live: the progress bar moves to 100 %
and the player appears, without reloading the page. Real Chromium, real S3, a real Celery worker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.library.models import Asset, Kind, Status
from portal.processing.samples import make_photo, make_video
from portal.processing.services import processing_request

# Fixtures borrowed by name (pytest finds them in this module's namespace): the upload page's own
# bucket and editor, and a real worker for this test's database from tests/workers.
from tests.e2e.test_upload import PASSWORD, add_files, bucket, editor_user, open_upload_page, start_upload  # noqa: F401
from tests.workers.conftest import (  # noqa: F401
    broker_redis,
    progress_redis,
    start_process,
    start_worker,
    uploaded,
    work_dir,
    worker_env,
)

pytestmark = pytest.mark.e2e
PROCESSING_TIMEOUT_MS = 240_000


def test_an_editor_watches_a_video_process_live_and_the_player_appears(
        page: Page, live_server: LiveServer, bucket: str, editor_user: User, start_worker, tmp_path: Path):
    # Long enough at 720p that HLS takes a while on two cores: the bar has time to move.
    video = make_video(tmp_path / "harbour.mp4", seconds=45, size="1280x720", source="testsrc2")
    start_worker("interactive,media")
    open_upload_page(page, live_server, editor_user)
    add_files(page, video)
    start_upload(page, 1)
    edit = page.get_by_role("link", name=re.compile("Edit details"))
    expect(edit).to_be_visible(timeout=60_000)
    edit.click()
    expect(page.locator(".job-panel")).to_be_visible()

    # Record every value the bar shows (the stream replaces the bar's element on each event), and mark
    # the page: a reload would lose both.
    page.evaluate("""() => {
        window.__seen = []; window.__marker = 'same page'
        const note = () => document.querySelectorAll('.job-panel progress').forEach(
            (bar) => window.__seen.push(Number(bar.value)))
        note()
        new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true})
    }""")

    expect(page.locator("#asset-preview video")).to_be_visible(timeout=PROCESSING_TIMEOUT_MS)
    seen = page.evaluate("window.__seen")
    assert page.evaluate("window.__marker") == "same page"
    assert 100 in seen
    assert any(0 < value < 100 for value in seen), seen  # it moved live, not just 0 then done
    assert seen == sorted(seen)  # and never went backwards
    asset = Asset.objects.get()
    assert asset.status == Status.READY
    assert page.locator("#asset-preview video").get_attribute("data-hls")


def test_publish_appears_the_moment_processing_ends_without_a_reload(
        page: Page, live_server: LiveServer, bucket: str, editor_user: User, start_worker, tmp_path: Path):
    photo = make_photo(tmp_path / "pier.jpg", size=(1600, 1200))
    asset = uploaded(kind=Kind.IMAGE, body=photo.read_bytes(), content_type="image/jpeg", filename="pier.jpg")
    processing_request(asset_id=asset.pk)  # queued; no worker yet, so the editor sees it still processing
    page.goto(f"{live_server.url}/accounts/login/?next=/studio/assets/{asset.pk}/edit/")
    page.fill("#id_username", editor_user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    badge = page.locator(f"#asset-status-{asset.pk}")
    publish = page.get_by_role("button", name="Publish", exact=True)
    expect(badge).to_have_text("Processing")
    expect(page.get_by_text("The file is being processed")).to_be_visible()
    expect(publish).to_have_count(0)
    page.evaluate("window.__marker = 'same page'")

    start_worker("interactive,media")
    expect(badge).to_have_text("Ready", timeout=PROCESSING_TIMEOUT_MS)
    expect(page.get_by_text("The file is being processed")).to_have_count(0)
    expect(publish).to_be_visible()
    assert page.evaluate("window.__marker") == "same page"
    page.screenshot(path=str(tmp_path / "processing-finished.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'processing-finished.png'}")
    with page.expect_navigation():
        publish.click()
    expect(badge).to_have_text("Published")
    asset.refresh_from_db()
    assert asset.status == Status.PUBLISHED
