"""Captions in Chromium: the player carries the track (video.textTracks has it), and a search hit on
words said in the captions links to their moment, where the page starts the player."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.integrations import s3
from portal.library.models import Asset, Kind, Status, Visibility
from portal.media.captions import parse, to_webvtt
from portal.media.models import Caption
from portal.processing.samples import make_video
from portal.search.services import search_index_asset
from tests.e2e.test_publication import log_in
from tests.e2e.test_upload import bucket, editor_user  # noqa: F401 - fixtures
from tests.factories import AssetFactory
from tests.search.conftest import search_index  # noqa: F401 - fixture used by name

pytestmark = pytest.mark.e2e
SRT = b"1\n00:00:00,200 --> 00:00:01,000\nGood morning\n\n2\n00:00:02,500 --> 00:00:03,500\nThe otter dives here\n"


def until(page: Page, expression: str, deadline_s: float = 30.0) -> object:
    """The expression's value once truthy (or its last value at the deadline). Polled with evaluate:
    the page's CSP forbids the eval that wait_for_function's predicate needs. A deadline, not a speed claim."""
    end, value = time.monotonic() + deadline_s, None
    while time.monotonic() < end:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    return value


@pytest.fixture
def captioned_video(bucket: str, editor_user: User, tmp_path: Path) -> Asset:
    asset: Asset = AssetFactory(kind=Kind.VIDEO, status=Status.PUBLISHED, visibility=Visibility.PUBLIC,
                                owner=editor_user, title="Riverbank morning")
    key = f"originals/{asset.pk}/{uuid.uuid4().hex}"
    body = make_video(tmp_path / "clip.mp4", seconds=5, size="160x120", audio=False).read_bytes()
    s3.put(bucket=bucket, key=key, body=body, content_type="video/mp4")
    Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=len(body), source_type="video/mp4")
    cues = parse(SRT)
    caption_key = f"captions/{asset.pk}/{uuid.uuid4().hex}.vtt"
    s3.put(bucket=bucket, key=caption_key, body=to_webvtt(cues).encode(), content_type="text/vtt; charset=utf-8")
    Caption.objects.create(asset=asset, language="en", label="English", key=caption_key,
                           cues=[cue.as_dict() for cue in cues])
    return asset


def test_the_track_plays_and_a_caption_hit_seeks_to_its_moment(page: Page, live_server: LiveServer,
                                                               editor_user: User, captioned_video: Asset,
                                                               search_index, tmp_path):
    search_index_asset(asset_id=captioned_video.pk, refresh=True)
    log_in(page, live_server, editor_user, "/search/?q=otter")

    hit = page.get_by_role("link", name="Riverbank morning")
    expect(hit).to_have_attribute("href", f"/assets/{captioned_video.slug}/#t=2.5")
    expect(page.locator(".moment")).to_contain_text("The otter dives here")
    hit.click()

    video = page.locator(".player video")
    expect(video.locator("track[kind=subtitles][srclang=en]")).to_have_count(1)
    assert until(page, "document.querySelector('.player video').textTracks.length") == 1
    assert page.evaluate("document.querySelector('.player video').textTracks[0].language") == "en"
    # The page started the player at the moment (2.5 s) once it knew the video's length.
    assert until(page, "Math.abs(document.querySelector('.player video').currentTime - 2.5) < 0.3") is True
    # The track's cues arrived (it is on by default: the page's language is English).
    assert until(page, "(document.querySelector('.player video').textTracks[0].cues || []).length") == 2
    page.screenshot(path=tmp_path / "captions.png", full_page=True)
