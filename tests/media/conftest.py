"""Media tests: originals in this run's private bucket, public copies in the CDN's public bucket."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from portal.integrations import s3
from portal.library.models import Asset, Kind, Status, Visibility
from tests.factories import AssetFactory
from tests.storage import MIB, _isolated_storage, media_files, padded, test_bucket  # noqa: F401

FileAsset = Callable[..., Asset]


@pytest.fixture
def video(media_files) -> bytes:  # noqa: F811
    """A real MP4 padded to 1 MiB: big enough for Range requests to mean something."""
    return padded(media_files["mp4"], MIB)


@pytest.fixture
def asset_with_file(settings: Any, video: bytes) -> FileAsset:
    """An asset whose original is really in the private bucket (as a finalized upload leaves it)."""

    def make(*, status: str = Status.READY, visibility: str = Visibility.PUBLIC, body: bytes = video,
             filename: str = "film.mp4", **fields: Any) -> Asset:
        asset: Asset = AssetFactory(kind=Kind.VIDEO, status=status, visibility=visibility, **fields)
        key = f"originals/{asset.pk}/{uuid.uuid4().hex}"
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type="video/mp4")
        Asset.objects.filter(pk=asset.pk).update(source_key=key, source_size=len(body), source_type="video/mp4",
                                                 original_filename=filename)
        asset.refresh_from_db()
        return asset

    return make
