"""The header search box in a real Chromium: suggestions update as one types (HTMX), the list is
an ARIA combobox driven by the keyboard, and arrow-down + Enter lands on the item's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.factories import AssetFactory
from tests.search.conftest import indexed, search_index  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.e2e


@pytest.fixture
def birds(transactional_db: None, indexed) -> None:
    now = timezone.now()
    indexed(
        AssetFactory(title="Pelican dive", published_at=now - timedelta(days=3)),
        AssetFactory(title="Puffin burrows", published_at=now - timedelta(days=2)),
        AssetFactory(title="Puffin colony", published_at=now - timedelta(days=1)),
    )


def test_typing_suggests_and_the_keyboard_picks_one(page: Page, live_server: LiveServer, birds: None) -> None:
    page.goto(f"{live_server.url}/about/")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    box = page.get_by_role("combobox", name="Search the portal")
    listbox = page.locator("#site-search-listbox")
    options = listbox.locator('[role="option"]:not(.suggestion-all)')
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("p", delay=50)
    expect(options).to_have_count(3)
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#site-search-status")).to_have_text("3 suggestions, use the up and down arrows to choose")

    box.press_sequentially("uf", delay=50)  # the list follows the typing: the pelican goes
    expect(options).to_have_count(2)
    expect(options).to_contain_text(["Puffin", "Puffin"])
    expect(listbox.locator("mark").first).to_have_text("Puffin")

    box.press("ArrowDown")
    box.press("ArrowDown")
    second = options.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id") or "missing")
    box.press("ArrowUp")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()

    box.press("ArrowDown")  # reopens on the first option
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    chosen = options.nth(1).locator(".suggestion-title").inner_text()
    box.press("Enter")
    page.wait_for_url("**/assets/puffin-*/")
    expect(page.locator("h1")).to_have_text(chosen)


def test_enter_without_a_choice_submits_the_search(page: Page, live_server: LiveServer, birds: None) -> None:
    page.goto(f"{live_server.url}/about/")
    box = page.get_by_role("combobox", name="Search the portal")
    box.fill("puffin")
    box.press("Enter")
    page.wait_for_url("**/search/?q=puffin")
    expect(page.locator("#results-count")).to_have_text("2 results for “puffin”")


def test_without_javascript_the_header_form_and_the_filters_still_work(
    page_without_js: Page, live_server: LiveServer, birds: None
) -> None:
    page = page_without_js
    page.goto(f"{live_server.url}/about/")
    page.get_by_role("combobox", name="Search the portal").fill("p")
    page.get_by_role("button", name="Search", exact=True).first.click()
    page.wait_for_url("**/search/?q=p")
    expect(page.locator("#results-count")).to_have_text("3 results for “p”")
    page.locator('input[name="kind"][value="video"]').check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(lambda url: "/search/?" in url and "kind=video" in url)
    expect(page.locator(".search-hit")).to_have_count(3)


def test_a_facet_swaps_only_the_results_and_pushes_the_url(page: Page, live_server: LiveServer, birds: None) -> None:
    page.goto(f"{live_server.url}/search/?q=puffin")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    page.evaluate("() => { window.portalMarker = 'kept'; }")
    expect(page.locator("#results-count")).to_have_text("2 results for “puffin”")
    page.locator('input[name="year"]').nth(1).check()  # the first year with a count
    page.wait_for_url(lambda url: "year=" in url and "year=&" not in url)
    expect(page.locator("#results-count")).to_contain_text("for “puffin”")
    assert page.evaluate("() => window.portalMarker") == "kept"  # swapped, not reloaded
    # The new count reaches the live region that was on the page all along (screen readers hear it).
    expect(page.locator("#search-announce")).to_have_attribute("role", "status")
    expect(page.locator("#search-announce")).to_have_text(re.compile(r"^\d+ results?$"))
