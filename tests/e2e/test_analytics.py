"""A visitor plays an audio clip in Chromium; the editor's analytics page then shows that play."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.analytics.models import OutboxEntry
from portal.analytics.services import outbox_ship_all
from portal.integrations import mongo, s3
from portal.library.models import Asset, Kind
from tests.factories import AssetFactory, UserFactory
from tests.resets import reset_mongo_client

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests"  # tests/factories.py's UserFactory


@pytest.fixture
def clean_mongo() -> Iterator[None]:
    reset_mongo_client()
    mongo.drop_database()
    mongo.ensure_indexes()
    yield
    mongo.drop_database()


@pytest.fixture
def clip(transactional_db: None, tmp_path: Path) -> Asset:
    wav = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    str(wav)], check=True)
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=wav.read_bytes(), content_type="audio/wav")
    return AssetFactory(kind=Kind.AUDIO, title="Tuning tone", source_key=key, source_size=wav.stat().st_size,  # type: ignore[no-any-return]
                        source_type="audio/wav", original_filename="tone.wav",
                        offer_original=True)  # no AAC preview here: visitors hear the original the editor offers


def wait_for(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_analytics_page_shows_a_play_the_browser_just_made(page: Page, browser: Browser,
                                                               live_server: LiveServer, clip: Asset,
                                                               clean_mongo: None) -> None:
    page.goto(f"{live_server.url}{clip.get_absolute_url()}")  # an anonymous visitor: no CSRF token in the page
    audio = page.locator(".player audio")
    expect(audio).to_be_visible()
    audio.evaluate("a => { a.muted = true; return a.play() }")
    expect(audio).to_have_js_property("ended", True, timeout=30_000)  # no string predicate: the CSP forbids eval
    wait_for(lambda: OutboxEntry.objects.filter(payload__type="progress", payload__quartile=100).exists())
    events = sorted((row.payload["type"], row.payload.get("quartile") or 0)
                    for row in OutboxEntry.objects.filter(stream="event"))
    assert events == [("play", 0), ("progress", 25), ("progress", 50), ("progress", 75), ("progress", 100),
                      ("view", 0)]
    assert outbox_ship_all() == 6  # what the beat-driven `analytics.ship` task does every few seconds

    editor = UserFactory(username="analyst", editor=True)
    studio = browser.new_page()
    studio.goto(f"{live_server.url}/accounts/login/?next=/studio/analytics/")
    studio.fill("#id_username", editor.username)
    studio.fill("#id_password", PASSWORD)
    with studio.expect_navigation():
        studio.get_by_role("button", name="Log in").click()
    expect(studio.get_by_role("heading", level=1)).to_have_text("Analytics")
    expect(studio.get_by_text("Last 30 days: 1 view, 1 play.")).to_be_visible()
    row = studio.locator("#top-assets tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text("Tuning tone")
    expect(row.locator("td").nth(2)).to_have_text("1")
    today = studio.locator("svg.bar-chart rect.bar-plays").last  # the chart's last day is today
    assert float(today.get_attribute("height") or 0) > 0
    studio.close()
