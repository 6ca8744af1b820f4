"""Every Celery task's name and queue, declared once.

Workers register their tasks under these names (workers/tasks/), the domain sends by name through
portal.jobs.broker without importing workers, and the Celery routes and beat schedule are built from
this table. Queues are partitioned by cost: `interactive` (someone is waiting), `media` (transcoding),
`bulk` (cleanups, reindexing, shipping events).
"""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    INTERACTIVE = "interactive"
    MEDIA = "media"
    BULK = "bulk"


class TaskName(StrEnum):
    PROCESSING_RUN = "processing.run"  # no fixed queue: portal.processing picks one by the asset's kind
    PROCESSING_OCR = "processing.ocr"  # after processing.run; a 300-page scan must not hold up `media`
    PURGE_CDN = "media.purge_cdn"
    MEDIA_PUBLISH = "media.publish"
    MEDIA_RECONCILE = "media.reconcile"
    UPLOADS_CLEANUP = "uploads.cleanup"
    SEARCH_INDEX_ASSET = "search.index_asset"
    SEARCH_INDEX_COLLECTION = "search.index_collection"
    SEARCH_REINDEX = "search.reindex"
    SEARCH_SWEEP_PENDING = "search.sweep_pending"
    SEARCH_EMBED_ASSET = "search.embed_asset"
    ANALYTICS_SHIP = "analytics.ship"
    ANALYTICS_EXPIRE = "analytics.expire"
    ANALYTICS_REFRESH = "analytics.refresh"
    OPS_NOOP = "ops.noop"
    JOBS_SWEEP = "jobs.sweep"
    AUDIT_EXPIRE = "audit.expire"


# Where each task goes when it is sent without an explicit queue.
QUEUE_OF: dict[TaskName, Queue] = {
    TaskName.PROCESSING_OCR: Queue.BULK,
    TaskName.PURGE_CDN: Queue.INTERACTIVE,
    TaskName.MEDIA_PUBLISH: Queue.INTERACTIVE,  # an editor watches it; copies run at S3's pace
    TaskName.MEDIA_RECONCILE: Queue.BULK,
    TaskName.UPLOADS_CLEANUP: Queue.BULK,
    TaskName.SEARCH_INDEX_ASSET: Queue.INTERACTIVE,
    TaskName.SEARCH_INDEX_COLLECTION: Queue.BULK,
    TaskName.SEARCH_REINDEX: Queue.BULK,
    TaskName.SEARCH_SWEEP_PENDING: Queue.INTERACTIVE,  # light; must not wait behind a reindex on bulk
    TaskName.SEARCH_EMBED_ASSET: Queue.BULK,  # the model: seconds to load, a gigabyte per process
    TaskName.ANALYTICS_SHIP: Queue.BULK,
    TaskName.ANALYTICS_EXPIRE: Queue.BULK,
    TaskName.ANALYTICS_REFRESH: Queue.BULK,
    TaskName.OPS_NOOP: Queue.INTERACTIVE,
    # Short, and never behind a backfill on `bulk`: recovering lost work should not wait an hour.
    TaskName.JOBS_SWEEP: Queue.INTERACTIVE,
    TaskName.AUDIT_EXPIRE: Queue.BULK,
}


def periodic(task: TaskName, every_seconds: float, *, expires: float | None = None) -> dict[str, object]:
    """One beat schedule entry, on the task's own queue. `expires`: a run still queued after this long
    is dropped rather than piled up behind a long task (the next one catches up)."""
    options: dict[str, object] = {"queue": str(QUEUE_OF[task])}
    if expires is not None:
        options["expires"] = expires
    return {"task": str(task), "schedule": every_seconds, "options": options}
