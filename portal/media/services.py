"""Where an asset's media is served from, kept in step with its status and visibility.

Originals always live in the private bucket. While an asset is published and not private,
a copy sits in the public bucket under an unguessable key, and the CDN serves it. When the
asset goes private, is unpublished or deleted, the copy is deleted and purged from the CDN.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets

from django.conf import settings

from portal.integrations import cdn, s3
from portal.jobs import broker
from portal.library.models import Asset

log = logging.getLogger(__name__)
PURGE_TASK = "media.purge_cdn"  # workers/tasks/media.py
PURGE_QUEUE = "interactive"


def public_prefix(asset_id: int) -> str:
    return f"assets/{asset_id}/"


def public_rendition_key(public_key: str, relative: str) -> str:
    """Where a rendition's public copy lives: beside the published original, under `r/`, keeping
    the renditions' relative layout (so HLS playlists' relative URIs work from the CDN)."""
    return f"{public_key.rsplit('/', 1)[0]}/r/{relative}"


def media_publication_sync(*, asset_id: int, deleted: bool = False, reprocessed: bool = False) -> None:
    asset = None if deleted else Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        _unpublish_all(asset_id)
        s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=f"originals/{asset_id}/")
        s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=f"renditions/{asset_id}/")
        return
    should_be_public = asset.has_file and asset.is_public_media
    if should_be_public and asset.public_key and reprocessed:
        # New renditions: publish them under a new token, so no cache can mix old and new files.
        _unpublish_all(asset.pk)
        asset.public_key = ""
    if should_be_public and not asset.public_key:
        directory = f"{public_prefix(asset.pk)}{secrets.token_urlsafe(12)}/"
        extension = mimetypes.guess_extension(asset.source_type) or ""
        key = f"{directory}original{extension}"
        s3.copy(source_bucket=settings.S3_PRIVATE_BUCKET, source_key=asset.source_key,
                bucket=settings.S3_PUBLIC_BUCKET, key=key)
        # Renditions keep their relative layout, so HLS playlists' relative URIs work from the CDN.
        prefix = asset.renditions_prefix
        for relative in asset.renditions if prefix else []:
            s3.copy(source_bucket=settings.S3_PRIVATE_BUCKET, source_key=prefix + relative,
                    bucket=settings.S3_PUBLIC_BUCKET, key=public_rendition_key(key, relative))
        Asset.objects.filter(pk=asset.pk).update(public_key=key)  # not an edit: no version bump
    elif not should_be_public and asset.public_key:
        _unpublish_all(asset.pk)
        Asset.objects.filter(pk=asset.pk).update(public_key="")


def _unpublish_all(asset_id: int) -> None:
    deleted: list[str] = []
    try:
        for info in list(s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=public_prefix(asset_id))):
            s3.delete(bucket=settings.S3_PUBLIC_BUCKET, key=info.key)
            deleted.append(info.key)
    finally:  # what is gone from the bucket must leave the CDN too, even if a later delete failed
        cdn_purge_later(keys=deleted)


def cdn_purge_later(*, keys: list[str]) -> None:
    """Queue one `media.purge_cdn` task per key on the interactive queue: the workers pace them
    (CDN_PURGE_RATE_LIMIT), so a video's hundreds of segments never flood the CDN's purge API, and
    the editor's request does not wait on it. If the broker is down, the rest are purged here."""
    if not keys:
        return
    try:
        broker.send_each(name=PURGE_TASK, queue=PURGE_QUEUE, calls=[[key] for key in keys])
    except broker.SendFailed as error:
        log.warning("CDN purges could not be queued; purging %d key(s) now", len(keys) - error.sent, exc_info=True)
        for key in keys[error.sent:]:
            cdn.purge(key)


def media_url(*, asset: Asset, download: bool = False) -> str | None:
    """The URL to play or download an asset's file. Call only after the viewer's permission check."""
    if not asset.has_file:
        return None
    if asset.is_public_media and asset.public_key and not download:
        return cdn.url(asset.public_key)
    return s3.presigned_get(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key,
                            expires_s=settings.PRIVATE_URL_SECONDS,
                            filename=asset.original_filename or "download", inline=not download)


def rendition_url(*, asset: Asset, relative: str) -> str | None:
    """A rendition's URL (poster, thumbnail, preview…): the CDN for public media, else a short-lived
    signed URL. Call only after the viewer's permission check (or for listed assets)."""
    key = asset.rendition_key(relative)
    if key is None:
        return None
    if asset.is_public_media and asset.public_key:
        return cdn.url(public_rendition_key(asset.public_key, relative))
    return s3.presigned_get(bucket=settings.S3_PRIVATE_BUCKET, key=key,
                            expires_s=settings.PRIVATE_URL_SECONDS, filename=relative.rsplit("/", 1)[-1],
                            inline=True)
