"""Private HLS: the portal serves the playlists after the permission check and signs every
segment for a few minutes, so a private video never goes through the CDN."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from django.conf import settings

from portal.integrations import s3
from portal.library.models import Asset


def playlist_for_viewer(*, asset: Asset, relative: str, playlist_url: Callable[[str], str]) -> str | None:
    """The playlist at `relative` with its URIs rewritten: sub-playlists to `playlist_url(relative)`
    (served by us again), segments to presigned GETs. None when it is not one of the asset's playlists."""
    key = asset.rendition_key(relative)
    if key is None or not relative.endswith(".m3u8"):
        return None
    prefix = asset.renditions_prefix
    text = s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=key).decode("utf-8", "replace")
    base = posixpath.dirname(relative)
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            target = posixpath.normpath(posixpath.join(base, line))
            if target.endswith(".m3u8"):
                line = playlist_url(target)
            else:
                line = s3.presigned_get(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + target,
                                        expires_s=settings.PRIVATE_URL_SECONDS,
                                        filename=posixpath.basename(target), inline=True)
        lines.append(line)
    return "\n".join(lines) + "\n"
