"""The history, side-by-side and audit pages in Chromium, at desktop and phone widths: an editor
compares two revisions (titles with HTML shown as text), restores the older one, and finds it in
the history; the audit log filters. Screenshots under the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.library.models import Asset
from portal.library.services import AssetData, asset_update
from tests.e2e.test_publication import log_in
from tests.e2e.test_upload import editor_user  # noqa: F401 - fixture
from tests.factories import AssetFactory, TagFactory

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["desktop", "narrow"])
def test_history_compare_and_restore_in_chromium(browser: Browser, live_server: LiveServer, editor_user: User,
                                                 tmp_path: Path, width: int, height: int) -> None:
    TagFactory(name="harbour")
    asset = AssetFactory(title="<b>Harbour</b> at dawn", description="Boats leaving.\nGulls.")
    data = AssetData(title="Harbour at dusk <script>alert(1)</script>", kind=asset.kind,
                     description="Boats coming home.", tag_names=["harbour", "evening"])
    asset = asset_update(asset_id=asset.pk, expected_version=asset.version, data=data, editor=editor_user)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, editor_user, f"/studio/assets/{asset.pk}/history/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    page.screenshot(path=tmp_path / f"history-{width}.png", full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name="Compare", exact=True).click()
    rows = page.locator("table.diff tbody tr")
    expect(rows.filter(has_text="Title")).to_contain_text("<b>Harbour</b> at dawn")
    expect(page.locator("tr.changed")).to_have_count(3)  # title, description, tags
    page.screenshot(path=tmp_path / f"compare-{width}.png", full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name="Restore version 1").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Restored version 1 of “<b>Harbour</b> at dawn” as version 3.")
    expect(page.locator("table.history tbody tr")).to_have_count(3)
    page.screenshot(path=tmp_path / f"restored-{width}.png", full_page=True)
    asset = Asset.objects.get(pk=asset.pk)
    assert asset.title == "<b>Harbour</b> at dawn"

    page.goto(f"{live_server.url}/studio/audit/?actor=uploader")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("table.audit-log tbody tr").first).to_contain_text("Signed in")
    page.screenshot(path=tmp_path / f"audit-{width}.png", full_page=True)
    assert errors == []
    context.close()
