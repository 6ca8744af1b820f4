"""The whole site in a real Chromium, on demo content made by the seed commands (processed by the
real pipeline, published to the public bucket) and served through an nginx CDN of this run's own
with this checkout's config: a visitor plays a published video and sees the storyboard preview
when hovering the seek bar; a crawl of every page reachable from `/` (anonymous) and from
`/studio/` (editor) meets no console error, no failed request and no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect
from pytest_django.live_server_helper import LiveServer

from portal.library.models import Asset, Kind, Status
from portal.media.publication import publication_run
from tests.cdn import own_cdn  # noqa: F401 - a fixture
from tests.e2e.conftest import LIVE_HOST, TIMEOUT_MS, _app_serves_static
from tests.e2e.watch import Watch, crawl
from tests.storage import test_bucket  # noqa: F401 - a fixture

# Not transactional: each test's own writes (none) roll back, the module's content stays until the
# fixture flushes it; the live server's threads commit their own (sessions).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
EDITOR, EDITOR_PASSWORD = "editor", "portal-demo"  # made by seed_demo


@dataclass(frozen=True)
class Demo:
    base: str  # the portal
    cdn: str
    video_path: str  # a published, processed video's page


@pytest.fixture(scope="module")
def demo(own_cdn: str, test_bucket: str, django_db_setup: None, django_db_blocker: Any,
         _collected_static: None) -> Iterator[Demo]:
    """A live portal whose public media URLs name our CDN (its Content-Security-Policy, built
    when the server starts, allows that CDN), with the demo content; all removed at the end."""
    # Module-wide content, committed here for the live server's threads to see: the tests' marker
    # makes the session create the test database; never write anywhere else.
    assert connection.settings_dict["NAME"] == settings.DATABASES["default"]["TEST"]["NAME"]
    public = settings.STORAGES["public"]
    storages = {**settings.STORAGES, "public": {**public, "OPTIONS": {
        **public["OPTIONS"], "custom_domain": own_cdn.removeprefix("http://")}}}  # type: ignore[dict-item]
    with override_settings(CDN_BASE_URL=own_cdn, STORAGES=storages, S3_PRIVATE_BUCKET=test_bucket), \
            django_db_blocker.unblock():
        server = LiveServer(LIVE_HOST, start=False)
        server.thread = LiveServerThread(LIVE_HOST, static_handler=_app_serves_static,  # type: ignore[arg-type]
                                         connections_override=server.thread.connections_override)
        server.thread.daemon = True
        server.start()
        try:
            call_command("seed_demo", count=24, verbosity=0)
            call_command("seed_demo_media", video_seconds=4, verbosity=0)
            processed = Asset.objects.filter(seeded_by="seed_demo_media")
            assert set(processed.values_list("status", flat=True)) == {Status.PUBLISHED}
            for asset in processed:  # what the queued `media.publish` tasks would do in a worker
                publication_run(asset_id=asset.pk)
            video = processed.filter(kind=Kind.VIDEO).order_by("pk").first()
            assert video is not None
            yield Demo(base=server.url, cdn=own_cdn, video_path=video.get_absolute_url())
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            # Playwright's greenlets give this code a connection of its own: close it, or the test
            # database cannot be dropped at the end of the session.
            connection.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS * 2)
    yield context
    context.close()


def test_a_visitor_plays_a_published_video_from_the_cdn_and_sees_its_storyboard(demo: Demo,
                                                                               context: BrowserContext) -> None:
    page = context.new_page()
    watch = Watch().attach(page)
    with page.expect_response(lambda r: r.url.endswith("/storyboard.vtt")) as storyboard:
        page.goto(f"{demo.base}{demo.video_path}")
    assert storyboard.value.status == 200
    assert storyboard.value.url.startswith(demo.cdn)
    # The player's fetch() is cross-origin: one Access-Control-Allow-Origin, or the browser refuses it.
    assert storyboard.value.header_values("access-control-allow-origin") == ["*"]

    video = page.locator(".player video")
    assert (video.get_attribute("data-hls") or "").startswith(demo.cdn)
    video.evaluate("v => { v.muted = true; return v.play() }")
    page.wait_for_function("() => document.querySelector('.player video').currentTime > 0.5")

    box = video.bounding_box()
    assert box is not None
    with page.expect_response(lambda r: "/storyboard/" in r.url and not r.url.endswith(".vtt")) as sprite:
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] - 20)  # over the seek bar
    preview = page.locator(".storyboard-preview")
    expect(preview).to_be_visible()
    assert sprite.value.status == 200
    assert sprite.value.url.startswith(demo.cdn)
    assert demo.cdn in preview.evaluate("el => el.style.backgroundImage")
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 10)  # away from the controls
    expect(preview).to_be_hidden()
    assert watch.problems == []


def check(page: Page, problems: list[str]) -> Any:
    def visit(url: str, response: Response | None) -> None:
        if response is None or response.status >= 400:
            problems.append(f"{response.status if response else 'no answer'} for the page {url}")

    return visit


def test_every_page_reachable_from_home_and_from_the_studio_loads_cleanly(demo: Demo,
                                                                          context: BrowserContext) -> None:
    page = context.new_page()
    watch = Watch().attach(page)
    # The search page is a form's answer, not a link: it is a start of its own.
    starts = [f"{demo.base}/", f"{demo.base}/search/?q=harbour"]
    anonymous = crawl(page, watch, origin=demo.base, starts=starts, max_pages=100, per_shape=16,
                      visit=check(page, watch.problems))

    page.goto(f"{demo.base}/accounts/login/?next=/studio/")
    page.fill("#id_username", EDITOR)
    page.fill("#id_password", EDITOR_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url == f"{demo.base}/studio/"
    studio = crawl(page, watch, origin=demo.base, starts=[f"{demo.base}/studio/"], max_pages=70, per_shape=16,
                   visit=check(page, watch.problems))

    assert watch.problems == [], "\n".join(watch.problems)
    assert len(anonymous) >= 40, len(anonymous)
    assert len(studio) >= 25, len(studio)
    # The crawl reached every kind of page, not just the first few.
    visited = {url.removeprefix(demo.base) for url in anonymous + studio}
    for prefix in ("/browse/", "/assets/", "/collections/", "/about/", "/help/", "/search/", "/studio/assets/"):
        assert any(path.startswith(prefix) for path in visited), prefix
    assert demo.video_path in visited
