"""Housekeeping for uploads that never finished, and for bytes nothing refers to any more.

Run hourly by Celery beat (`uploads-cleanup` in CELERY_BEAT_SCHEDULE → the `uploads.cleanup` task in
workers/tasks/uploads.py) and by hand with `manage.py cleanup_uploads`. Idempotent, and safe while
editors upload: a session being finalized is skipped, and only objects older than the abandon age
that no asset and no pending session refers to are deleted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import TypeVar

from django.conf import settings
from django.db import transaction

from portal.integrations import s3
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Status
from portal.uploads.models import UploadSession, UploadStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

ORIGINALS = "originals/"  # where upload_start puts every upload (private bucket)
BATCH = 500


def _bucket() -> str:
    return str(settings.S3_PRIVATE_BUCKET)


def uploads_cleanup(*, now: datetime) -> dict[str, int]:
    """Abandon pending sessions older than UPLOAD_ABANDONED_HOURS (their asset becomes "failed" with
    the reason, so the studio offers "Upload again"), then delete orphan objects and abort orphan
    multipart uploads under originals/ older than that age. Returns what it did, by count."""
    cutoff = now - timedelta(hours=settings.UPLOAD_ABANDONED_HOURS)
    stale = list(UploadSession.objects.filter(status=UploadStatus.PENDING, created_at__lt=cutoff)
                 .order_by("created_at").values_list("pk", flat=True))
    abandoned = sum(upload_abandon(session_id=pk, now=now) for pk in stale)
    return {
        "abandoned_sessions": abandoned,
        "orphan_objects": _sweep_objects(cutoff=cutoff),
        "orphan_multipart_uploads": _sweep_multipart(cutoff=cutoff),
    }


def upload_abandon(*, session_id: uuid.UUID, now: datetime, reason: str = "") -> bool:
    """Give up on one pending session: record why, move its asset from uploading to failed (unless
    another of its uploads is still pending), then free the storage. False if it was not pending."""
    with transaction.atomic():
        # skip_locked: a finalize holding the row right now wins; the next run looks again.
        session = (UploadSession.objects.select_for_update(skip_locked=True)
                   .filter(pk=session_id, status=UploadStatus.PENDING).first())
        if session is None:
            return False
        reason = reason or f"The upload of “{session.original_filename}” was never finished. Upload the file again."
        session.status, session.error, session.finalized_at = UploadStatus.ABANDONED, reason, now
        session.save(update_fields=["status", "error", "finalized_at"])
        asset = Asset.objects.select_for_update().get(pk=session.asset_id)
        still_pending = UploadSession.objects.filter(asset_id=asset.pk, status=UploadStatus.PENDING).exists()
        if asset.status == Status.UPLOADING and not still_pending:
            asset.upload_error = reason
            asset.save(update_fields=["upload_error", "updated_at"])
            asset_transition(asset_id=asset.pk, to=Status.FAILED, actor=None, reason=reason)
    _free_storage(session)
    return True


def _free_storage(session: UploadSession) -> None:
    """Best effort: whatever is left (a storage error) is an orphan now, and the sweeps remove it."""
    try:
        if session.is_multipart:
            s3.multipart_abort(bucket=_bucket(), key=session.key, upload_id=session.multipart_upload_id)
        s3.delete(bucket=_bucket(), key=session.key)
    except s3.StorageError as error:
        log.warning("could not free %s of abandoned upload %s: %s", session.key, session.pk, error)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _sweep_objects(*, cutoff: datetime) -> int:
    deleted = 0
    for batch in _batched(s3.list_objects(bucket=_bucket(), prefix=ORIGINALS), BATCH):
        old = [o.key for o in batch if o.modified is not None and o.modified < cutoff]
        if not old:
            continue
        # Sessions first, assets second: a finalize committing in between has already set the
        # asset's source_key by the time the second query runs, so its object is never taken.
        pending = set(UploadSession.objects.filter(key__in=old, status=UploadStatus.PENDING)
                      .values_list("key", flat=True))
        kept = set(Asset.objects.filter(source_key__in=old).values_list("source_key", flat=True))
        for key in old:
            if key not in pending and key not in kept:
                s3.delete(bucket=_bucket(), key=key)
                deleted += 1
    return deleted


def _sweep_multipart(*, cutoff: datetime) -> int:
    """Multipart uploads no pending session owns (e.g. their asset was deleted mid-upload)."""
    aborted = 0
    for batch in _batched(s3.multipart_list(bucket=_bucket(), prefix=ORIGINALS), BATCH):
        old = [u for u in batch if u.initiated < cutoff]
        pending = set(UploadSession.objects.filter(status=UploadStatus.PENDING,
                                                   multipart_upload_id__in=[u.upload_id for u in old])
                      .values_list("multipart_upload_id", flat=True))
        for upload in old:
            if upload.upload_id not in pending:
                s3.multipart_abort(bucket=_bucket(), key=upload.key, upload_id=upload.upload_id)
                aborted += 1
    return aborted
