"""Where an asset's media is served from: the CDN for its public copy, else short-lived signed URLs.

Originals always live in the private bucket. While an asset is published and not private, a copy
sits in the public bucket under an unguessable key, and the CDN serves it; portal.media.publication
(a task) makes and removes that copy.
"""

from __future__ import annotations

import logging

from django.conf import settings

from portal.core.tasks import QUEUE_OF, TaskName
from portal.integrations import cdn, s3
from portal.jobs import broker
from portal.library.models import Asset, Kind
from portal.library.policy import can_edit

log = logging.getLogger(__name__)
PURGE_TASK = str(TaskName.PURGE_CDN)
PURGE_QUEUE = str(QUEUE_OF[TaskName.PURGE_CDN])


def public_prefix(asset_id: int) -> str:
    return f"{settings.MEDIA_PUBLIC_PREFIX}{asset_id}/"


def public_rendition_key(public_key: str, relative: str) -> str:
    """Where a rendition's public copy lives: beside the published original, under `r/`, keeping
    the renditions' relative layout (so HLS playlists' relative URIs work from the CDN)."""
    return f"{public_key.rsplit('/', 1)[0]}/r/{relative}"


def public_caption_key(public_key: str, language: str) -> str:
    """Where a caption's public copy lives: beside the published original, under `captions/`."""
    return f"{public_key.rsplit('/', 1)[0]}/captions/{language}.vtt"


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


# What visitors get as "the file" when the editor does not offer the original: processing's own
# re-encodes, written without metadata (Pillow saves no EXIF or XMP; ffmpeg runs with
# -map_metadata -1). Video has none (visitors stream its HLS renditions, also without metadata),
# documents neither (offered, or not downloadable by visitors).
VISITOR_FILE: dict[str, str] = {Kind.IMAGE: "large.jpg", Kind.AUDIO: "preview.m4a"}


def visitor_file(asset: Asset) -> str | None:
    relative = VISITOR_FILE.get(asset.kind)
    return relative if relative and asset.rendition_key(relative) else None


def sees_original(user: object, asset: Asset) -> bool:
    """Editors and the asset's owner get the original itself; visitors only when the editor offers it."""
    return can_edit(user, asset) or getattr(user, "pk", None) == asset.owner_id  # type: ignore[arg-type]


def can_download(*, asset: Asset, full: bool) -> bool:
    return asset.has_file and (full or asset.offer_original or visitor_file(asset) is not None)


def media_url(*, asset: Asset, download: bool = False, full: bool = False) -> str | None:
    """The URL to play or download an asset's file. Call only after the viewer's permission check.
    `full`: the viewer may have the original (editors); visitors get it only if the editor offers
    it, else the metadata-free copy (VISITOR_FILE), or None."""
    if not asset.has_file:
        return None
    if full or asset.offer_original:
        if asset.is_public_media and asset.public_key and asset.offer_original and not download:
            return cdn.url(asset.public_key)
        return s3.presigned_get(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key,
                                expires_s=settings.PRIVATE_URL_SECONDS,
                                filename=asset.original_filename or "download", inline=not download)
    relative = visitor_file(asset)
    return rendition_url(asset=asset, relative=relative) if relative else None


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
