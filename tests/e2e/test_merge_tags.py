"""An editor merges two tags in Chromium without JavaScript: a plain form (with its CSRF token)
posts, the page comes back with the merged count, and the source tag is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.library.models import Tag
from tests.e2e.test_publication import log_in
from tests.e2e.test_upload import editor_user  # noqa: F401 - fixture
from tests.factories import AssetFactory, TagFactory

pytestmark = pytest.mark.e2e


def test_editor_merges_two_tags_without_javascript(page_without_js: Page, live_server: LiveServer,
                                                   editor_user: User, tmp_path: Path) -> None:
    colour, color = TagFactory(name="colour"), TagFactory(name="color")
    for asset in AssetFactory.create_batch(3):
        asset.tags.set([colour])
    AssetFactory().tags.set([colour, color])
    page = page_without_js
    log_in(page, live_server, editor_user, "/studio/tags/")
    page.screenshot(path=tmp_path / "tags.png", full_page=True)
    page.get_by_label("Merge the tag").select_option(label="colour")
    page.get_by_label("into the tag").select_option(label="color")
    with page.expect_navigation():
        page.get_by_role("button", name="Merge").click()

    expect(page.get_by_text("Merged “colour” into “color” (4 assets).")).to_be_visible()
    expect(page.locator("table")).to_contain_text("color")
    page.screenshot(path=tmp_path / "merged.png", full_page=True)
    assert list(Tag.objects.values_list("name", flat=True)) == ["color"]
