"""The asset page's Related section in Chromium, without JavaScript: cards that link to the neighbours."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.library.models import Visibility
from portal.search.services import embeddings_backfill

pytestmark = pytest.mark.e2e


def test_related_cards_link_to_the_nearest_listed_assets(transactional_db, asset_factory, live_server,
                                                         page_without_js: Page, tmp_path):
    source = asset_factory(title="Red kite over the valley", description="A bird of prey circling on a thermal.")
    near = asset_factory(title="Buzzard on a fence post", description="A bird of prey watching the field.")
    asset_factory(title="Tax return deadline", description="Forms are due at the end of January.")
    asset_factory(title="Kestrel <i>hovering</i>", description="A falcon hunting over the verge.",
                  visibility=Visibility.PRIVATE)
    embeddings_backfill()

    page_without_js.goto(live_server.url + source.get_absolute_url())
    related = page_without_js.get_by_role("region", name="Related")
    expect(related.get_by_role("heading", name="Related")).to_be_visible()
    expect(related.locator(".card-title")).to_have_text(["Buzzard on a fence post"])  # not the tax return
    page_without_js.screenshot(path=str(tmp_path / "related.png"), full_page=True)
    related.get_by_role("link", name="Buzzard on a fence post").click()
    expect(page_without_js).to_have_url(live_server.url + near.get_absolute_url())
