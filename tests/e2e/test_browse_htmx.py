"""Browse in a real Chromium: filters and pagination swap only the results and push the URL;
the same form works without JavaScript; the keyboard reaches the skip link first."""

from __future__ import annotations

import re
from itertools import cycle, islice

import pytest
from playwright.sync_api import Page, Request, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from portal.library.models import Kind
from tests.factories import AssetFactory

pytestmark = pytest.mark.e2e

PAGE_SIZE = 24
ASSET_COUNT = 30  # more than one page, a handful of each kind
CARDS = "#results article.card"


@pytest.fixture
def assets(transactional_db: None, settings: Settings) -> dict[str, int]:
    """Published assets of every kind, created in committed transactions the live server can see."""
    settings.PAGE_SIZE = PAGE_SIZE  # the views read it per request, so the live server sees this too
    kinds = list(islice(cycle(Kind.values), ASSET_COUNT))
    for kind in kinds:
        AssetFactory(kind=kind)
    return {kind: kinds.count(kind) for kind in Kind.values}


def open_browse(page: Page, live_server: LiveServer, query: str = "") -> None:
    """Open /browse/ and insist htmx really loaded: otherwise the HTMX tests would pass as plain links."""
    response = page.goto(f"{live_server.url}/browse/{query}")
    assert response is not None
    assert response.ok, response.status
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")


def mark_page(page: Page) -> None:
    """Leave markers that only survive if the page is not reloaded."""
    page.evaluate("() => { document.querySelector('h1').dataset.marker = 'kept'; window.portalMarker = 'kept'; }")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => document.querySelector('h1').dataset.marker") == "kept"
    assert page.evaluate("() => window.portalMarker") == "kept"


def htmx_requests(page: Page) -> list[Request]:
    """Every request the page makes from now on that carries htmx's HX-Request header."""
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if request.headers.get("hx-request") == "true" else None)
    return seen


def test_kind_filter_swaps_only_the_results_and_pushes_the_url(
    page: Page, live_server: LiveServer, assets: dict[str, int]
) -> None:
    open_browse(page, live_server)
    expect(page.locator(CARDS)).to_have_count(PAGE_SIZE)
    mark_page(page)
    sent = htmx_requests(page)

    with page.expect_response(lambda r: "kind=audio" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Kind").select_option("audio")

    expect(page).to_have_url(re.compile(r"/browse/\?.*kind=audio"))
    expect(page.locator(CARDS)).to_have_count(assets["audio"])
    expect(page.locator(f"{CARDS} .kind-label")).to_have_text(["Audio"] * assets["audio"])
    assert_not_reloaded(page)

    filtered = [r for r in sent if "kind=audio" in r.url]
    assert filtered, [r.url for r in sent]
    response = filtered[-1].response()
    assert response is not None
    assert response.status == 200
    body = response.text()
    assert "<html" not in body.lower()
    assert "kind-label" in body


def test_pagination_link_swaps_the_results_and_pushes_page_2(
    page: Page, live_server: LiveServer, assets: dict[str, int]
) -> None:
    open_browse(page, live_server)
    expect(page.locator(CARDS)).to_have_count(PAGE_SIZE)
    mark_page(page)
    sent = htmx_requests(page)

    page.locator("#results nav.pagination a[rel=next]").click()

    expect(page).to_have_url(re.compile(r"/browse/\?(.*&)?page=2\b"))
    expect(page.locator(CARDS)).to_have_count(ASSET_COUNT - PAGE_SIZE)
    expect(page.locator("#results nav.pagination")).to_contain_text("Page 2 of 2")
    assert_not_reloaded(page)
    assert any("page=2" in r.url for r in sent), [r.url for r in sent]


def test_kind_filter_works_without_javascript(
    page_without_js: Page, live_server: LiveServer, assets: dict[str, int]
) -> None:
    page = page_without_js
    page.goto(f"{live_server.url}/browse/")
    page.get_by_label("Kind").select_option("audio")

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Apply filters").click()

    response = navigation.value
    assert response is not None
    assert response.ok, response.status
    assert "<html" in response.text().lower()  # a whole page: no htmx did this
    assert "kind=audio" in page.url
    expect(page.locator("h1")).to_have_text("Browse")
    expect(page.locator(CARDS)).to_have_count(assets["audio"])
    expect(page.locator(f"{CARDS} .kind-label")).to_have_text(["Audio"] * assets["audio"])


def test_first_tab_reaches_the_skip_link_and_it_moves_focus_to_main(
    page: Page, live_server: LiveServer, assets: dict[str, int]
) -> None:
    open_browse(page, live_server)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
