"""Re-running processing from the studio, and a private video's HLS served by the portal."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

from portal.integrations import s3
from portal.jobs.models import Job
from portal.jobs.services import job_create
from portal.library.models import Kind, Status, Visibility
from portal.processing.samples import make_video
from portal.processing.services import processing_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_video(asset_factory, editor, tmp_path: Path):
    body = make_video(tmp_path / "v.mp4", seconds=2).read_bytes()
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type="video/mp4")
    asset = asset_factory(kind=Kind.VIDEO, status=Status.PROCESSING, visibility=Visibility.PRIVATE, owner=editor,
                          published_at=None, source_key=key, source_size=len(body), source_type="video/mp4")
    processing_run(job_id=job_create(asset_id=asset.pk, queue="media", enqueue=False).pk)
    asset.refresh_from_db()
    assert asset.status == Status.READY
    return asset


def test_a_private_videos_playlists_are_served_by_the_portal_with_signed_segments(client, client_as, editor,
                                                                                 private_video):
    master_url = f"/assets/{private_video.slug}/media/hls/master.m3u8"
    assert client.get(master_url).status_code == 404  # a visitor may not see the asset
    owner = client_as(editor)
    master = owner.get(master_url)
    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    variants = [line for line in master.content.decode().splitlines() if line and not line.startswith("#")]
    assert len(variants) >= 2
    assert all(v.startswith(f"/assets/{private_video.slug}/media/hls/") for v in variants)  # never the CDN
    playlist = owner.get(variants[0]).content.decode()
    segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert segments
    assert all("X-Amz-Signature=" in s and "X-Amz-Expires=300" in s for s in segments)
    assert requests.get(segments[0], timeout=10).status_code == 200
    assert owner.get(f"/assets/{private_video.slug}/media/hls/v0/seg_00000.ts").status_code == 404  # playlists only


def test_an_editor_can_process_a_ready_file_again(client_as, editor, private_video):
    response = client_as(editor).post(f"/studio/assets/{private_video.pk}/reprocess/")
    assert response.status_code == 302
    jobs = Job.objects.filter(asset=private_video).order_by("pk")
    assert [j.status for j in jobs] == ["succeeded", "queued"]
    private_video.refresh_from_db()
    assert private_video.status == Status.READY  # stays usable while the new run is queued


def test_the_edit_page_offers_to_process_again(client_as, editor, private_video):
    html = client_as(editor).get(f"/studio/assets/{private_video.pk}/edit/").content.decode()
    assert re.search(r"Process the file again", html)
