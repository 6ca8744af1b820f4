"""Media delivery tasks. Thin: the work is in portal.media.publication and portal.integrations.cdn."""

from __future__ import annotations

from celery import Task
from django.conf import settings

from portal.core.tasks import TaskName
from portal.integrations import cdn
from portal.integrations.s3 import StorageError
from portal.media.publication import PublicationBusy, publication_reconcile, publication_run
from workers.celery import app

PURGE_RETRY_DELAY_S = 30


@app.task(bind=True, name=TaskName.PURGE_CDN, rate_limit=settings.CDN_PURGE_RATE_LIMIT,
          acks_late=True, ignore_result=True, max_retries=3, default_retry_delay=PURGE_RETRY_DELAY_S,
          soft_time_limit=30, time_limit=60)
def purge_cdn(self: Task[[str], None], key: str) -> None:
    """Purge one object's URL from the CDN (sent by portal.media.services.cdn_purge_later).
    Idempotent. Rate-limited per worker by CDN_PURGE_RATE_LIMIT; a failed purge is retried a few
    times, and past that the CDN's own expiry of the cached copy covers it."""
    if not cdn.purge(key):
        raise self.retry()


@app.task(
    name=TaskName.MEDIA_PUBLISH,
    acks_late=True,  # a worker that dies mid-copy: the task is redelivered...
    reject_on_worker_lost=True,  # ...and publication_run is idempotent (same folder, copies skipped)
    autoretry_for=(StorageError, PublicationBusy),  # S3 down, or another task on this asset
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=20,  # about 1.5 h of tries; past that the reconciler takes over, so nothing is dropped
    soft_time_limit=3600,
    time_limit=3660,
    ignore_result=True,
)
def publish(asset_id: int) -> None:
    """Bring the asset's public copy in step with its status and visibility (copy or remove)."""
    publication_run(asset_id=asset_id)


@app.task(name=TaskName.MEDIA_RECONCILE, acks_late=True, ignore_result=True, soft_time_limit=1800, time_limit=1860)
def reconcile() -> dict[str, int]:
    """Celery beat, every MEDIA_RECONCILE_SECONDS: no public object outlives its asset's publicity."""
    return publication_reconcile()
