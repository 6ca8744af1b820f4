"""Media delivery tasks. Thin: the CDN call lives in portal.integrations.cdn."""

from __future__ import annotations

from celery import Task
from django.conf import settings

from portal.integrations import cdn
from workers.celery import app

PURGE_RETRY_DELAY_S = 30


@app.task(bind=True, name="media.purge_cdn", rate_limit=settings.CDN_PURGE_RATE_LIMIT,
          acks_late=True, ignore_result=True, max_retries=3, default_retry_delay=PURGE_RETRY_DELAY_S,
          soft_time_limit=30, time_limit=60)
def purge_cdn(self: Task[[str], None], key: str) -> None:
    """Purge one object's URL from the CDN (sent by portal.media.services.cdn_purge_later).
    Idempotent. Rate-limited per worker by CDN_PURGE_RATE_LIMIT; a failed purge is retried a few
    times, and past that the CDN's own expiry of the cached copy covers it."""
    if not cdn.purge(key):
        raise self.retry()
