"""The CDN in front of the public bucket: URLs and purges.

Locally it is nginx (deploy/nginx): a purge is a request from loopback with `X-Cdn-Purge: 1`,
which makes nginx refetch the object and cache the answer (a 404 once it is deleted).
A managed CDN swaps this module's purge for its invalidation API.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from portal.integrations import s3

log = logging.getLogger(__name__)


def url(key: str) -> str:
    """The CDN URL of a public-bucket object (CDN_BASE_URL + key), built by its storage."""
    return s3.public_url(key)


def purge(key: str) -> bool:
    """Best effort: a failed purge is logged, and the CDN's short TTL covers it."""
    request = urllib.request.Request(url(key), method="GET", headers={"X-Cdn-Purge": "1"})  # noqa: S310 - our own CDN URL
    try:
        with urllib.request.urlopen(request, timeout=3):  # noqa: S310
            pass
    except urllib.error.HTTPError:
        pass  # 403/404 is the expected answer for a deleted object: the cache now holds it
    except OSError as error:
        log.warning("CDN purge of %s failed: %s", key, error)
        return False
    return True
