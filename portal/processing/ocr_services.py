"""OCR after processing: its own job (`processing.ocr` on the `bulk` queue), so a 300-page scan never
holds up the `media` queue, and the asset is usable (ready, publishable) before its scan is read.

The job writes a new renditions folder, `renditions/<asset>/<ocr job>/`: the current run's files
copied server-side (a thumbnail, a text file, image sizes: a few small objects) plus `ocr.pdf` and
`ocr.txt`, then switches the asset to it in one transaction, as a processing run does. A new folder
changes what publication compares, so a public asset's copy is republished with the searchable PDF,
and the announcement reindexes the text. If processing ran again meanwhile, the OCR result belongs
to files that are no longer current: it is dropped (the new run queues its own OCR).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from portal.integrations import s3
from portal.jobs.errors import IllegalJobTransition
from portal.jobs.models import Job
from portal.jobs.services import job_fail, job_progress, job_start, job_succeed
from portal.library.lifecycle import announce_asset
from portal.library.models import Asset, Kind
from portal.processing.common import Progress
from portal.processing.errors import ProcessingError
from portal.processing.models import OcrOptions
from portal.processing.ocr import OCR_PDF, OCR_TEXT, OcrResult, languages_for, ocr_image, ocr_pdf
from portal.processing.ocr_queue import ocr_request
from portal.processing.services import JobStopped, _delete_prefix
from portal.processing.workdir import job_work_dir

log = logging.getLogger(__name__)
OCR_FILES = (OCR_PDF, OCR_TEXT)


def ocr_languages_set(*, asset_id: int, languages: list[str]) -> list[str]:
    """The editor's languages for this asset's OCR (unknown or uninstalled codes refused), then OCR
    again with them if it had already run or would run. Returns what was stored."""
    unknown = sorted(set(languages) - set(settings.OCR_LANGUAGES))
    if unknown:
        raise ProcessingError(f"OCR cannot read these languages on our workers: {', '.join(unknown)}.")
    stored = [code for code in languages_for(languages) if code != "eng"]
    with transaction.atomic():
        Asset.objects.select_for_update().only("pk").get(pk=asset_id)
        OcrOptions.objects.update_or_create(asset_id=asset_id, defaults={"languages": stored})
        transaction.on_commit(partial(_request_quietly, asset_id))
    return stored


def _request_quietly(asset_id: int) -> None:
    try:
        ocr_request(asset_id=asset_id)
    except Exception:  # the choice is saved; "process again" also reads it
        log.exception("could not queue OCR for asset %s", asset_id)


def ocr_run(*, job_id: int) -> None:
    """What the `processing.ocr` task does. A file OCR cannot read fails this job with the reason;
    the asset itself stays as processing left it (ready or published, with its other renditions)."""
    try:
        job = job_start(job_id=job_id)
    except IllegalJobTransition:
        return
    asset = Asset.objects.get(pk=job.asset_id)
    base_prefix, base_files = asset.renditions_prefix, [r for r in asset.renditions if r not in OCR_FILES]

    def progress(stage: str, percent: int) -> None:
        if not job_progress(job_id=job_id, stage=stage, percent=percent):
            raise JobStopped(stage)

    options = OcrOptions.objects.filter(asset_id=asset.pk).first()
    languages = languages_for(options.languages if options else [])
    prefix = f"renditions/{asset.pk}/{job.pk}/"
    try:
        if not asset.source_key or not base_prefix:
            raise ProcessingError("This asset has no processed file to read.")
        with job_work_dir(job.task_id or str(job.pk)) as tmp:
            source, out = Path(tmp, "source"), Path(tmp, "out")
            progress("download", 0)
            try:
                s3.download_file(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, path=source,
                                 if_match=asset.source_etag)
            except (s3.ObjectMissing, s3.ObjectChanged):
                raise ProcessingError("The uploaded file changed or is gone: process it again.") from None
            reader = ocr_image if asset.kind == Kind.IMAGE else ocr_pdf
            result = reader(source, out, languages=languages,
                            progress=lambda stage, pct: progress(stage, 5 + pct * 85 // 100))
            if result.outputs:
                _store(result, out, base_prefix, base_files, prefix, progress)
        _record(asset_id=asset.pk, result=result, base_prefix=base_prefix, prefix=prefix, files=base_files)
    except JobStopped:
        log.info("OCR job %s stopped: it was cancelled", job_id)
        return
    except ProcessingError as error:
        job_fail(job_id=job_id, reason=error.reason)
        return
    job_succeed(job_id=job_id)


def _store(result: OcrResult, out: Path, base_prefix: str, base_files: list[str], prefix: str,
           progress: Progress) -> None:
    total = len(base_files) + len(result.outputs)
    for index, relative in enumerate(base_files):
        s3.copy(source_bucket=settings.S3_PRIVATE_BUCKET, source_key=base_prefix + relative,
                bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative)
        progress("store", 90 + 10 * (index + 1) // total)
    for index, (relative, content_type) in enumerate(result.outputs, start=len(base_files)):
        s3.upload_file(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + relative, path=out / relative,
                       content_type=content_type)
        progress("store", 90 + 10 * (index + 1) // total)


def _record(*, asset_id: int, result: OcrResult, base_prefix: str, prefix: str, files: list[str]) -> None:
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        media = {**(asset.media or {}), "ocr": result.metadata()}
        if asset.renditions_prefix != base_prefix:  # processed again meanwhile: these files are stale
            if result.outputs:
                transaction.on_commit(partial(_delete_prefix, prefix))
            return
        if result.outputs:
            asset.renditions_prefix, asset.renditions = prefix, [*files, *(r for r, _ in result.outputs)]
            transaction.on_commit(partial(_delete_prefix, base_prefix))
        asset.media = media
        asset.save(update_fields=["renditions_prefix", "renditions", "media", "updated_at"])
        transaction.on_commit(partial(announce_asset, asset.pk, "processed"))


def ocr_give_up(*, job_id: int, reason: str) -> None:
    """The OCR task gave up (retries ran out, a time limit): fail its job only; the asset keeps its
    other renditions and its state."""
    try:
        job_fail(job_id=job_id, reason=reason)
    except (IllegalJobTransition, Job.DoesNotExist):
        return
    log.error("OCR job %s failed for good: %s", job_id, reason)
