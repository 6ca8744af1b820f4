"""When OCR follows processing, and queueing it (its own job on `bulk`: portal.processing.ocr_services)."""

from __future__ import annotations

from portal.core.tasks import QUEUE_OF, TaskName
from portal.jobs.models import Job
from portal.jobs.services import job_create
from portal.library.models import Asset, Kind


def ocr_wanted(asset: Asset) -> bool:
    """Images (any may show text) and PDFs with pages that have no text; other kinds never."""
    media = asset.media or {}
    if asset.kind == Kind.IMAGE:
        return bool(media.get("width"))
    return asset.kind == Kind.DOCUMENT and media.get("format") == "pdf" and bool(media.get("pages_without_text"))


def ocr_request(*, asset_id: int) -> Job | None:
    """Queue OCR of the asset's current files, if they need it, on `bulk`: a 300-page scan must not hold
    up `media`. Call once its processing job is final (one active job per asset). Returns the job, or
    None when there is nothing to read."""
    asset = Asset.objects.only("kind", "media", "source_key").get(pk=asset_id)
    if not asset.source_key or not ocr_wanted(asset):
        return None
    return job_create(asset_id=asset_id, queue=str(QUEUE_OF[TaskName.PROCESSING_OCR]),
                      task=str(TaskName.PROCESSING_OCR))
