"""An editor publishes in Chromium: the page says "Publishing…" at once (the request only queued
the task), and the panel turns to "up to date" without a reload once the task has run; without
JavaScript a reload shows the same states. Real S3, the task run in this process as a worker would."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.integrations import s3
from portal.library.models import Asset, Kind, Status, Visibility
from portal.media.publication import publication_run
from tests.e2e.test_upload import PASSWORD, bucket, editor_user  # noqa: F401 - fixtures
from tests.factories import AssetFactory

pytestmark = pytest.mark.e2e
RENDITIONS = ["poster.jpg", "hls/master.m3u8", "hls/v0/seg0.ts"]


@pytest.fixture
def ready_video(bucket: str, editor_user: User) -> Asset:
    asset: Asset = AssetFactory(kind=Kind.VIDEO, status=Status.READY, visibility=Visibility.PUBLIC,
                                owner=editor_user, title="Harbour at dawn")
    key, prefix = f"originals/{asset.pk}/{uuid.uuid4().hex}", f"renditions/{asset.pk}/1/"
    s3.put(bucket=bucket, key=key, body=b"\0" * 1024, content_type="video/mp4")
    for relative in RENDITIONS:
        s3.put(bucket=bucket, key=prefix + relative, body=b"\0" * 188, content_type="application/octet-stream")
    Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=1024, source_type="video/mp4",
                                             renditions_prefix=prefix, renditions=RENDITIONS)
    return asset


def log_in(page: Page, live_server: LiveServer, user: User, path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_the_editor_sees_publishing_then_up_to_date(browser, live_server: LiveServer, editor_user: User,
                                                   ready_video: Asset, javascript: bool, tmp_path):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    edit = f"/studio/assets/{ready_video.pk}/edit/"
    log_in(page, live_server, editor_user, edit)
    page.get_by_role("button", name="Publish").click()
    panel = page.locator("#publication-panel")
    expect(panel).to_contain_text("Publishing… waiting for a worker.")
    page.screenshot(path=tmp_path / "publication-pending.png", full_page=True)

    publication_run(asset_id=ready_video.pk)  # the worker's part
    if not javascript:
        page.reload()
    expect(panel).to_contain_text("Public copy up to date", timeout=10_000)  # htmx polls once a second
    page.screenshot(path=tmp_path / "publication-done.png", full_page=True)
    ready_video.refresh_from_db()
    assert ready_video.public_key
    context.close()
