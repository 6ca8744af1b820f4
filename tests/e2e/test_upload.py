"""Uploads in a real Chromium, straight to the real S3 server: an editor picks an image, a sound and
a video in Uppy's Dashboard, sees each file's progress and outcome, and Django never sees the bytes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.signals import request_started
from PIL import Image
from playwright.sync_api import Page, Request, Route, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.integrations import s3
from portal.library.models import Asset, Kind, Status, Visibility
from tests.factories import AssetFactory, UserFactory

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-tests"
MIN_FILE = 100 * 1024  # every file much bigger than anything our API should receive
MAX_API_BODY = 2 * 1024
UPLOAD_BYTES_PER_S = 400 * 1024  # throttled, so progress has time to show between 0 and 100 %


# --- files -----------------------------------------------------------------------------------
def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-v", "error", *args], check=True, timeout=60)


def _video_encoder() -> str:
    encoders = subprocess.run(["ffmpeg", "-v", "error", "-encoders"], capture_output=True, text=True, check=True)
    return "libx264" if " libx264 " in encoders.stdout else "mpeg4"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A random-noise PNG (noise does not compress), a 1 s stereo WAV tone and a 1 s noisy MP4."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: bin/stack installs it")
    folder = tmp_path_factory.mktemp("media")
    image = folder / "noise.png"
    Image.frombytes("RGB", (240, 240), os.urandom(240 * 240 * 3)).save(image)
    audio = folder / "tone.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-ac", "2", "-ar", "44100", str(audio))
    video = folder / "clip.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1", "-vf", "noise=alls=20:allf=t",
            "-c:v", _video_encoder(), "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(video))
    files = {"image": image, "audio": audio, "video": video}
    for path in files.values():
        assert path.stat().st_size >= MIN_FILE, (path.name, path.stat().st_size)
    return files


# --- the page --------------------------------------------------------------------------------
@pytest.fixture
def bucket(live_server: LiveServer, settings: Settings) -> Iterator[str]:
    """A private bucket of this test's own, whose CORS rule admits the live server's origin (its port
    is random; the shared bucket admits only :8000). The live server runs in this process, so it
    signs uploads for this bucket."""
    name = f"portal-e2e-{uuid.uuid4().hex[:12]}"
    s3.bucket_ensure(bucket=name, public_read=False, cors_origins=[live_server.url])
    settings.S3_PRIVATE_BUCKET = name
    yield name
    for upload in list(s3.multipart_list(bucket=name, prefix="")):  # a test that failed half-way
        s3.multipart_abort(bucket=name, key=upload.key, upload_id=upload.upload_id)
    s3.delete_prefix(bucket=name, prefix="")
    s3.client().delete_bucket(Bucket=name)


@pytest.fixture
def editor_user(transactional_db: None) -> User:
    return UserFactory(username="uploader", editor=True)  # type: ignore[no-any-return]


def open_upload_page(page: Page, live_server: LiveServer, user: User, *, query: str = "",
                     heading: str = "Upload files") -> None:
    """Log in through the real login page, land on the upload page, and wait for the Dashboard."""
    page.goto(f"{live_server.url}/accounts/login/?next=/studio/upload/{quote(query)}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("#uploader .uppy-Dashboard")).to_be_visible()


FILE_INPUT = "#uploader input.uppy-Dashboard-input[name='files[]']:not([webkitdirectory])"  # not the folder picker


def add_files(page: Page, *paths: Path) -> None:
    page.locator(FILE_INPUT).set_input_files([str(p) for p in paths])
    expect(page.locator(".uppy-Dashboard-Item")).to_have_count(len(paths))


def start_upload(page: Page, count: int) -> None:
    page.get_by_role("button", name=re.compile(rf"^Upload {count} files?$")).click()


def record_progress(page: Page) -> None:
    """Remember every value each file's progress bar shows, however briefly."""
    page.evaluate("""() => {
        window.seenProgress = {};
        new MutationObserver(() => {
            for (const row of document.querySelectorAll('#upload-results li')) {
                const name = row.querySelector('.upload-name').textContent;
                (window.seenProgress[name] ||= new Set()).add(Number(row.querySelector('progress').value));
            }
        }).observe(document.getElementById('upload-results'), {subtree: true, childList: true, attributes: true});
    }""")


def progress_seen(page: Page) -> dict[str, list[float]]:
    return page.evaluate(  # type: ignore[no-any-return]
        "() => Object.fromEntries(Object.entries(window.seenProgress).map(([k, v]) => [k, [...v]]))"
    )


def throttle_uploads(page: Page) -> None:
    """Chromium's own network throttling (DevTools protocol) on the bytes the page sends."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_BYTES_PER_S,
    })


def body_size(request: Request) -> int:
    """What the request carried: its Content-Length on the wire (a file body is not readable through
    the DevTools protocol, so post_data_buffer is None for it), or the body itself."""
    length = request.header_value("content-length")
    body = request.post_data_buffer
    return max(int(length or 0), len(body or b""))


@pytest.fixture
def django_received() -> Iterator[list[tuple[str, int]]]:
    """(path, Content-Length) of every request the live server (in this process) began to handle."""
    seen: list[tuple[str, int]] = []

    def record(sender: object, environ: dict[str, str], **kwargs: object) -> None:
        seen.append((environ.get("PATH_INFO", ""), int(environ.get("CONTENT_LENGTH") or 0)))

    request_started.connect(record, dispatch_uid="tests.e2e.django_received")
    yield seen
    request_started.disconnect(dispatch_uid="tests.e2e.django_received")


# --- tests -----------------------------------------------------------------------------------
def test_image_audio_and_video_go_straight_to_s3_and_their_assets_reach_processing(
    page: Page, live_server: LiveServer, bucket: str, editor_user: User, media: dict[str, Path],
    django_received: list[tuple[str, int]],
) -> None:
    open_upload_page(page, live_server, editor_user)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    throttle_uploads(page)
    record_progress(page)

    add_files(page, media["image"], media["audio"], media["video"])
    start_upload(page, 3)

    for path in media.values():
        row = page.locator("#upload-results li").filter(has_text=path.name)
        expect(row).to_contain_text("Uploaded — processing.", timeout=60_000)
        expect(row.get_by_role("link", name=f"Edit details of {path.name}")).to_be_visible()
    expect(page.get_by_role("region", name="Uploads").get_by_role("status")).to_contain_text("Uploaded — processing.")

    # Each file's own progress bar moved through values between 0 and 100 %, and ended full.
    seen = progress_seen(page)
    for path in media.values():
        values = seen[path.name]
        assert any(0 < v < 100 for v in values), (path.name, sorted(values))
        assert max(values) == 100

    # The database and the storage agree with the page.
    assets = {asset.kind: asset for asset in Asset.objects.filter(owner=editor_user)}
    assert set(assets) == {Kind.IMAGE, Kind.AUDIO, Kind.VIDEO}
    for kind, path in media.items():
        asset = assets[kind]
        size = path.stat().st_size
        assert asset.status == Status.PROCESSING
        assert asset.original_filename == path.name
        assert asset.source_size == size
        info = s3.head(bucket=bucket, key=asset.source_key)
        assert info is not None
        assert info.size == size
        edit = page.get_by_role("link", name=f"Edit details of {path.name}")
        assert edit.get_attribute("href") == f"/studio/assets/{asset.pk}/edit/"

    # Django only ever received small JSON; each file went to S3 in a POST that carried it.
    ours = [r for r in requests if r.url.startswith(live_server.url)]
    assert any(r.url.endswith("/finalize/") for r in ours)
    for request in ours:
        assert body_size(request) < MAX_API_BODY, (request.method, request.url, body_size(request))
    assert any(path.endswith("/finalize/") for path, _ in django_received)
    assert max(length for _, length in django_received) < MAX_API_BODY, django_received
    s3_origin = django_settings.S3_ENDPOINT_URL.rstrip("/")
    posts_to_s3 = [r for r in requests if r.url.startswith(s3_origin) and r.method == "POST"]
    assert len(posts_to_s3) == 3
    assert all(urlsplit(r.url).path.rstrip("/") == f"/{bucket}" for r in posts_to_s3)
    sent = sorted(body_size(r) for r in posts_to_s3)
    for size, path in zip(sent, sorted(media.values(), key=lambda p: p.stat().st_size), strict=True):
        assert size > path.stat().st_size  # the file, plus the policy's form fields


def test_a_file_over_its_kinds_limit_is_refused_with_a_clear_message_before_any_byte_is_sent(
    page: Page, live_server: LiveServer, bucket: str, editor_user: User, settings: Settings,
    tmp_path: Path,
) -> None:
    settings.UPLOAD_MAX_MB = {**settings.UPLOAD_MAX_MB, "image": 1}
    big = tmp_path / "huge photo.png"
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(big)  # about 1.4 MB of noise
    assert big.stat().st_size > 1024 * 1024
    open_upload_page(page, live_server, editor_user)
    expect(page.locator(".upload-limits")).to_contain_text("up to 1.0 MB")
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    add_files(page, big)
    start_upload(page, 1)

    row = page.locator("#upload-results li").filter(has_text=big.name)
    expect(row).to_contain_text("“huge photo.png” is 1.4 MB; the largest image we accept is 1.0 MB.")
    expect(row).to_have_attribute("data-state", "failed")
    expect(page.locator(".uppy-Dashboard-Item.is-error")).to_have_count(1)
    assert not [r for r in requests if r.url.startswith(django_settings.S3_ENDPOINT_URL.rstrip("/"))]
    assert list(s3.list_objects(bucket=bucket, prefix="")) == []
    assert not Asset.objects.exists()  # refused before anything was created


def test_a_file_that_is_not_what_its_name_says_is_refused_after_upload_in_the_servers_words(
    page: Page, live_server: LiveServer, bucket: str, editor_user: User, tmp_path: Path,
) -> None:
    fake = tmp_path / "holiday snap.png"
    fake.write_text("not an image at all\n" * 100)
    open_upload_page(page, live_server, editor_user)

    add_files(page, fake)
    start_upload(page, 1)

    row = page.locator("#upload-results li").filter(has_text=fake.name)
    expect(row).to_contain_text("“holiday snap.png” is not really an image: its content is text/plain.")
    expect(row).to_have_attribute("data-state", "failed")
    asset = Asset.objects.get(owner=editor_user)
    assert asset.status == Status.FAILED
    assert list(s3.list_objects(bucket=bucket, prefix="")) == []  # the refused bytes were deleted


def test_the_edit_pages_upload_link_puts_one_file_into_that_asset(
    page: Page, live_server: LiveServer, bucket: str, editor_user: User, media: dict[str, Path],
) -> None:
    draft = AssetFactory(owner=editor_user, kind=Kind.AUDIO, status=Status.DRAFT, visibility=Visibility.PRIVATE,
                         published_at=None, title="Dawn chorus")
    open_upload_page(page, live_server, editor_user, query=f"?asset={draft.pk}",
                     heading="Upload a file for “Dawn chorus”")

    expect(page.locator(FILE_INPUT)).not_to_have_attribute("multiple", "")  # one file for one asset
    add_files(page, media["audio"])
    start_upload(page, 1)

    expect(page.locator("#upload-results li").filter(has_text="tone.wav")).to_contain_text("Uploaded — processing.")
    draft.refresh_from_db()
    assert draft.status == Status.PROCESSING
    assert draft.original_filename == "tone.wav"
    assert Asset.objects.count() == 1  # no new asset


def test_a_large_file_goes_in_parts_and_a_retry_sends_only_the_part_that_failed(
    page: Page, live_server: LiveServer, bucket: str, editor_user: User, settings: Settings, tmp_path: Path,
) -> None:
    settings.UPLOAD_MULTIPART_THRESHOLD_MB = 1
    settings.UPLOAD_PART_SIZE_MB = 5  # S3's smallest part
    big = tmp_path / "poster.png"
    side = 1950  # about 11.4 MB of noise: three parts
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(big)
    size = big.stat().st_size
    open_upload_page(page, live_server, editor_user)
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)

    # The network drops part 2 the first time.
    dropped: list[str] = []

    def drop_part_2_once(route: Route) -> None:
        if "partNumber=2" in route.request.url and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(lambda url: url.startswith(django_settings.S3_ENDPOINT_URL.rstrip("/")), drop_part_2_once)
    add_files(page, big)
    start_upload(page, 1)

    row = page.locator("#upload-results li").filter(has_text=big.name)
    expect(row).to_contain_text("The connection to storage failed. Retry to continue.")
    assert sorted(part_numbers(puts)) == [1, 2, 3]
    puts.clear()

    page.get_by_role("button", name="Retry upload").last.click()

    expect(row).to_contain_text("Uploaded — processing.")
    assert part_numbers(puts) == [2]  # parts 1 and 3 were already in S3: not sent again
    asset = Asset.objects.get(owner=editor_user)
    assert asset.status == Status.PROCESSING
    assert asset.upload_sessions.count() == 1  # the retry resumed the same session
    info = s3.head(bucket=bucket, key=asset.source_key)
    assert info is not None
    assert info.size == size


def part_numbers(urls: list[str]) -> list[int]:
    return [int(n) for url in urls for n in re.findall(r"[?&]partNumber=(\d+)", url)]
