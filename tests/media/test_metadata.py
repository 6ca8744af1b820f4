"""Visitors get a copy without metadata: a photo's original (GPS, camera make and model) never
reaches the public bucket or a visitor's download unless the editor offers it; editors and the
owner still get the original."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import requests
from PIL import ExifTags, Image

from portal.integrations import cdn, s3
from portal.library.models import Asset, Kind, Status, Visibility
from portal.library.services import asset_set_published
from portal.media.models import Publication
from portal.media.publication import publication_reconcile, publication_run
from portal.media.services import public_prefix
from portal.processing.images import process_image
from portal.processing.samples import make_photo
from tests.factories import AssetFactory

pytestmark = pytest.mark.django_db
TIMEOUT = 10


@pytest.fixture
def photo(settings, tmp_path, editor):
    """A published-ready photo with GPS in its EXIF, and the renditions the real image pipeline makes."""

    def make(*, offer_original: bool = False) -> Asset:
        original = make_photo(tmp_path / f"{uuid.uuid4().hex}.jpg", size=(1200, 800), lat=52.3676, lon=4.9041)
        asset: Asset = AssetFactory(kind=Kind.IMAGE, status=Status.READY, visibility=Visibility.PUBLIC,
                                    offer_original=offer_original, owner=editor)
        key, prefix = f"originals/{asset.pk}/{uuid.uuid4().hex}", f"renditions/{asset.pk}/1/"
        s3.upload_file(bucket=settings.S3_PRIVATE_BUCKET, key=key, path=original, content_type="image/jpeg")
        result = process_image(original, tmp_path / f"out-{asset.pk}")
        for relative, content_type in result.outputs:
            s3.upload_file(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative,
                           path=Path(tmp_path / f"out-{asset.pk}" / relative), content_type=content_type)
        Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=original.stat().st_size,
                                                 source_type="image/jpeg", original_filename="canal.jpg",
                                                 renditions_prefix=prefix, renditions=[r for r, _ in result.outputs])
        asset.refresh_from_db()
        return asset

    return make


def exif_of(body: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(body)) as image:
        exif = image.getexif()
        return {**dict(exif), **dict(exif.get_ifd(ExifTags.IFD.GPSInfo))}


def published(asset: Asset, editor) -> Asset:
    asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    publication_run(asset_id=asset.pk)  # what the queued media.publish does
    asset.refresh_from_db()
    return asset


def public_bodies(settings, asset: Asset) -> dict[str, bytes]:
    return {info.key: s3.read(bucket=settings.S3_PUBLIC_BUCKET, key=info.key, max_bytes=10 * 1024 * 1024)
            for info in s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=public_prefix(asset.pk))}


def test_the_original_and_its_gps_never_reach_the_public_bucket_unless_offered(settings, photo, editor):
    asset = published(photo(), editor)
    original = s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, max_bytes=10 * 1024 * 1024)
    assert ExifTags.GPS.GPSLatitude in exif_of(original)  # the photo really carries a position
    bodies = public_bodies(settings, asset)
    assert bodies, "the renditions are public"
    assert original not in bodies.values()
    for key, body in bodies.items():
        if key.endswith(".jpg"):
            assert exif_of(body) == {}, f"{key} carries EXIF"
        assert b"Portal Camera Co" not in body, key
    assert s3.head(bucket=settings.S3_PUBLIC_BUCKET, key=asset.public_key) is None


def test_visitors_download_a_copy_without_metadata_and_editors_the_original(settings, client, client_as, photo,
                                                                           editor):
    asset = published(photo(), editor)
    location = client.get(f"/assets/{asset.slug}/download/")["Location"]
    assert location.startswith(settings.CDN_BASE_URL)
    body = requests.get(location, timeout=TIMEOUT).content
    assert exif_of(body) == {}
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (1200, 800)  # the largest rendition: the whole picture
    page = client.get(asset.get_absolute_url()).content.decode()
    assert cdn.url(asset.public_key) not in page
    location = client_as(editor).get(f"/assets/{asset.slug}/download/")["Location"]
    assert ExifTags.GPS.GPSLatitude in exif_of(requests.get(location, timeout=TIMEOUT).content)


def test_offering_the_original_in_the_studio_publishes_it_for_visitors(settings, client, client_as, photo, editor,
                                                                      django_capture_on_commit_callbacks):
    asset = published(photo(), editor)
    form = {"title": asset.title, "kind": asset.kind, "description": "", "visibility": asset.visibility,
            "tags": "", "version": asset.version, "offer_original": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client_as(editor).post(f"/studio/assets/{asset.pk}/edit/", form).status_code == 302
    publication_run(asset_id=asset.pk)
    asset.refresh_from_db()
    assert asset.offer_original
    assert asset.public_key.endswith("/original.jpg")
    location = client.get(f"/assets/{asset.slug}/download/")["Location"]
    assert ExifTags.GPS.GPSLatitude in exif_of(requests.get(location, timeout=TIMEOUT).content)


def test_a_copy_made_before_the_choice_existed_is_replaced_by_the_reconciler(settings, photo, editor):
    """Published before offer_original: its public folder holds the original. The reconciler sees the
    copy was made for another choice and publishes again, which removes the original."""
    asset = published(photo(offer_original=True), editor)
    Asset.objects.filter(pk=asset.pk).update(offer_original=False)  # as the migration leaves old rows
    assert publication_reconcile()["republished"] >= 1
    publication_run(asset_id=asset.pk)  # the queued media.publish
    asset.refresh_from_db()
    original = s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, max_bytes=10 * 1024 * 1024)
    assert original not in public_bodies(settings, asset).values()
    assert Publication.objects.get(asset=asset).copied_from.endswith("|false")


def test_a_visitor_streams_a_video_from_its_renditions_and_never_gets_the_original(
        settings, client, editor, asset_with_file):
    asset = asset_with_file(offer_original=False, owner=editor)
    prefix = f"renditions/{asset.pk}/1/"
    for relative in ("hls/master.m3u8", "hls/v0/seg0.ts"):
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative, body=b"#EXTM3U\n", content_type="text/plain")
    Asset.objects.filter(pk=asset.pk).update(renditions_prefix=prefix, renditions=["hls/master.m3u8", "hls/v0/seg0.ts"],
                                             media={"hls": {"master": "hls/master.m3u8"}})
    asset = published(Asset.objects.get(pk=asset.pk), editor)
    page = client.get(asset.get_absolute_url()).content.decode()
    master = cdn.url(asset.public_key.rsplit("/", 1)[0] + "/r/hls/master.m3u8")
    assert f'<source src="{master}" type="application/vnd.apple.mpegurl">' in page
    assert asset.source_key not in page
    assert "/download/" not in page  # no original to download, and no copy of a video
    assert client.get(f"/assets/{asset.slug}/download/").status_code == 404
