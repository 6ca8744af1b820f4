"""Processing an asset: fetch the original, run the pipeline, store the outputs, record the results.

Idempotent by construction, so a redelivered task (a worker killed mid-run, on this host or another)
is harmless: outputs go under a prefix owned by the job (`renditions/<asset>/<job>/`), so a second
run overwrites the first one's files instead of adding to them, and the asset switches to them in one
transaction; the dead run's working directory is removed by the next run on its host (workdir.py).
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from portal.analytics.services import raw_metadata_enqueue
from portal.core.tasks import Queue
from portal.integrations import s3
from portal.jobs.errors import IllegalJobTransition
from portal.jobs.models import Job
from portal.jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from portal.library.lifecycle import announce_asset, asset_transition
from portal.library.models import Asset, Kind, Status
from portal.processing.common import RawMetadata
from portal.processing.dispatch import process
from portal.processing.errors import ProcessingError
from portal.processing.ocr_queue import ocr_request
from portal.processing.rawmeta import build_document
from portal.processing.workdir import job_work_dir

log = logging.getLogger(__name__)
# Quick work someone is waiting for goes to `interactive`; transcoding to `media`.
QUEUE_FOR_KIND: dict[str, str] = {
    Kind.IMAGE: Queue.INTERACTIVE, Kind.DOCUMENT: Queue.INTERACTIVE, Kind.VIDEO: Queue.MEDIA, Kind.AUDIO: Queue.MEDIA,
}


# The asset's fields this module owns: written here only, read by media, search and analytics.
RENDITION_FIELDS = ("renditions_job", "renditions_prefix", "renditions", "media", "processing_error")

ORIGINAL_MISSING = "The uploaded file is no longer in storage, so it cannot be processed: upload it again."
ORIGINAL_CHANGED = ("The file in storage is no longer the one checked when its upload finished (it was replaced "
                    "afterwards), so it was not processed: upload it again.")
GAVE_UP_STORAGE = "Storage could not be reached, so processing stopped after several tries. Retry when it is back."
GAVE_UP_TOOL = "A processing tool is missing on our workers, so processing stopped. Retry once it is installed."
GAVE_UP_TIME = "Processing took longer than the time limit and was stopped."
GAVE_UP_UNEXPECTED = ("Processing stopped on an unexpected error on our side, not the file's. Retry; if it "
                      "happens again, tell the developers.")


class JobStopped(Exception):
    """The job was cancelled (or finished elsewhere) while running: stop quietly."""


def processing_request(*, asset_id: int) -> None:
    """Queue processing of an asset's current file (after an upload, or an editor's re-run)."""
    kind = Asset.objects.values_list("kind", flat=True).get(pk=asset_id)
    job_create(asset_id=asset_id, queue=QUEUE_FOR_KIND[kind])


def processing_rerun(*, asset_id: int) -> None:
    """An editor asks for processing again. A failed asset goes back to "processing"; a ready or
    published one keeps its state (and stays visible) while the new run replaces its outputs."""
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        if not asset.has_file:
            raise ProcessingError("This asset has no file to process yet: upload one first.")
        asset_transition(asset_id=asset.pk, to=Status.PROCESSING, actor=None, reason="processing run again",
                         only_from={Status.FAILED})
        processing_request(asset_id=asset.pk)


def processing_run(*, job_id: int) -> None:
    """What the `processing.run` task does. Transient storage errors propagate (the task retries);
    a ProcessingError fails the job with its readable reason and leaves earlier outputs intact."""
    try:
        job = job_start(job_id=job_id)
    except IllegalJobTransition:
        return  # cancelled or already finished: nothing to do
    asset = Asset.objects.get(pk=job.asset_id)

    def progress(stage: str, percent: int) -> None:
        if not job_progress(job_id=job_id, stage=stage, percent=percent):
            raise JobStopped(stage)  # the pipeline kills its running tool when the callback raises

    try:
        if not asset.source_key:
            raise ProcessingError("This asset has no file to process.")
        prefix = f"renditions/{asset.pk}/{job.pk}/"
        # By task id: the same for a redelivery or a retry of this attempt, unique across databases.
        with job_work_dir(job.task_id or str(job.pk)) as tmp:
            source, out = Path(tmp, "source"), Path(tmp, "out")
            out.mkdir()
            progress("download", 0)
            try:
                s3.download_file(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, path=source,
                                 if_match=asset.source_etag)  # only the bytes finalize checked
            except s3.ObjectMissing:
                raise ProcessingError(ORIGINAL_MISSING) from None
            except s3.ObjectChanged:
                raise ProcessingError(ORIGINAL_CHANGED) from None
            # One bar for the whole job: the pipeline's own 0–100 fills 5–90 %, storing the rest.
            result = process(asset.kind, source, out, lambda stage, pct: progress(stage, 5 + pct * 85 // 100))
            outputs = result.outputs
            raw_document = _raw_metadata(asset, job, result.raw_metadata())
            for index, (relative, content_type) in enumerate(outputs):
                s3.upload_file(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative, path=out / relative,
                               content_type=content_type)
                progress("store", 90 + 10 * (index + 1) // max(len(outputs), 1))
        _record(asset_id=asset.pk, job_id=job.pk, prefix=prefix, metadata=result.metadata(),
                outputs=[r for r, _ in outputs], raw_document=raw_document)
    except JobStopped:
        log.info("processing job %s stopped: it was cancelled", job_id)
        return
    except ProcessingError as error:
        with transaction.atomic():  # job and asset fail together: no one sees one without the other
            _mark_failed(asset_id=asset.pk, reason=error.reason)
            job_fail(job_id=job_id, reason=error.reason)
        return
    # One transaction, the asset's row locked first (job_create's lock order): whoever sees the job
    # succeeded also sees the OCR job that follows it, never a moment in between with neither active.
    with transaction.atomic():
        Asset.objects.select_for_update().only("pk").get(pk=asset.pk)
        job_succeed(job_id=job_id)
        ocr_request(asset_id=asset.pk)  # only now: one active job per asset


def processing_give_up(*, job_id: int, reason: str) -> None:
    """The task gave up on a job (its retries ran out, or an unexpected error): fail the job and
    the asset with the reason, so neither stays "running"/"processing" with no worker on it.
    A job that finished or was cancelled meanwhile, or was deleted with its asset, is left alone."""
    try:
        with transaction.atomic():  # job and asset fail together: no one sees one without the other
            job = job_fail(job_id=job_id, reason=reason)
            with contextlib.suppress(Asset.DoesNotExist):  # deleted meanwhile
                _mark_failed(asset_id=job.asset_id, reason=reason)
    except (IllegalJobTransition, Job.DoesNotExist):
        return
    log.error("processing job %s failed for good: %s", job_id, reason)


def _raw_metadata(asset: Asset, job: Job, raw: RawMetadata) -> dict[str, Any] | None:
    """The complete raw metadata as a validated document (version = the job that read it), from
    what the pipeline's tools already said. Never fails the job: a reader that choked is a note in
    the document, and a bug here is logged."""
    try:
        return build_document(asset_id=asset.pk, version=job.pk, kind=asset.kind, raw=raw.sections, text=raw.text,
                              notes=raw.notes,
                              source={"key": asset.source_key, "size": asset.source_size, "type": asset.source_type,
                                      "filename": asset.original_filename})
    except Exception:  # the job's real work is done; losing the raw copy must not undo it
        log.exception("raw metadata of asset %s (job %s) not kept", asset.pk, job.pk)
        return None


def _record(*, asset_id: int, job_id: int, prefix: str, metadata: dict[str, object], outputs: list[str],
            raw_document: dict[str, Any] | None = None) -> None:
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        previous = asset.renditions_prefix
        asset.renditions_job_id, asset.renditions_prefix, asset.renditions = job_id, prefix, outputs
        asset.media, asset.processing_error = metadata, ""
        asset.save(update_fields=[*RENDITION_FIELDS, "updated_at"])
        if raw_document is not None:  # to MongoDB through the outbox: an outage there cannot fail the job
            raw_metadata_enqueue(document=raw_document)
        if asset.status == Status.PROCESSING:  # a re-run of a ready or published asset keeps its state
            asset_transition(asset_id=asset.pk, to=Status.READY, actor=None, reason="processing finished",
                             change="processed")
        else:
            transaction.on_commit(partial(announce_asset, asset.pk, "processed"))
        if previous and previous != prefix:  # the old run's files, once nothing points at them
            transaction.on_commit(partial(_delete_prefix, previous))


def _delete_prefix(prefix: str) -> None:
    try:
        s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=prefix)
    except s3.StorageError:
        log.warning("could not delete old renditions under %s; the orphan sweep will", prefix)


def _mark_failed(*, asset_id: int, reason: str) -> None:
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        asset.processing_error = reason
        asset.save(update_fields=["processing_error", "updated_at"])
        if asset.status == Status.PROCESSING:
            asset_transition(asset_id=asset.pk, to=Status.FAILED, actor=None, reason=reason, change="failed")
        else:  # a failed re-run leaves a ready or published asset as it was
            transaction.on_commit(partial(announce_asset, asset.pk, "failed"))
