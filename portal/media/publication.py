"""Publication: the public bucket's copy of an asset, kept in step with its status and visibility
by a task, never inside the editor's request.

The request changes only the asset (its status and visibility are the intent) and, after commit,
`publication_request` marks the asset's Publication pending and queues `media.publish`. The task
(`publication_run`) holds a per-asset lock, compares the intent with what is in the bucket and
copies or removes, writing its progress (n of m objects) on the Publication row the studio shows.
It is idempotent: a retry reuses the same target folder and skips objects already copied.

Last intent wins: a copy sets `public_key` only under the asset's row lock, after checking that the
asset may still be public and still has the files it copied; the studio's moves take the same lock.
A removal that fails raises, so the task retries it, and `publication_reconcile` (Celery beat)
removes the public objects of any asset that may not be public, whatever was lost on the way.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from portal.core.fragments import bump_generation
from portal.core.tasks import QUEUE_OF, TaskName
from portal.integrations import s3
from portal.jobs import broker
from portal.library.models import Asset, Status, Visibility
from portal.media.models import WORKING, Caption, Publication, PublicationState
from portal.media.services import cdn_purge_later, public_caption_key, public_prefix, public_rendition_key

log = logging.getLogger(__name__)
# Advisory lock keys: the asset id in the low bits, this namespace above any id we hand out.
LOCK_NAMESPACE = 0x5055 << 48
PROGRESS_SECONDS = 0.5  # at most two progress writes a second, whatever the number of objects


class PublicationBusy(Exception):
    """Another task holds this asset's lock; the task retries later (the holder may have read an
    older intent, so this one must still run)."""


def _should_be_public(asset: Asset) -> bool:
    return asset.has_file and asset.is_public_media


def _signature(asset: Asset) -> str:
    """What a public copy is made of: a new upload, a processing run or offering the original
    changes it (the reconciler computes the same text in SQL: see _stale_copies)."""
    return f"{asset.source_key}|{asset.renditions_prefix}|{'true' if asset.offer_original else 'false'}"


def _has_public_objects(asset: Asset, publication: Publication | None) -> bool:
    return bool(asset.public_key) or (publication is not None and (
        bool(publication.copied_from or publication.target_key) or publication.state in WORKING))


def publication_request(*, asset_id: int, deleted: bool = False) -> bool:
    """After commit of a change that may move the public copy: mark it pending and queue the task.
    One small write and one broker send; nothing when the bucket already matches the intent.
    A broker outage is logged and the row stays pending: the reconciler sends it again."""
    if not deleted:  # only what the decision reads: not the thousands of rendition paths
        asset = (Asset.objects.filter(pk=asset_id)
                 .only("status", "visibility", "source_key", "public_key", "renditions_prefix", "offer_original")
                 .first())
        if asset is None:
            deleted = True
        else:
            publication = Publication.objects.filter(asset_id=asset_id).first()
            if _should_be_public(asset):
                if asset.public_key and publication is not None and publication.copied_from == _signature(asset):
                    return False
            elif not _has_public_objects(asset, publication):
                return False
            Publication.objects.update_or_create(asset_id=asset_id,
                                                 defaults={"state": PublicationState.PENDING, "error": ""})
    task = TaskName.MEDIA_PUBLISH
    try:
        broker.send_each(name=str(task), queue=str(QUEUE_OF[task]), calls=[[asset_id]])
    except broker.SendFailed:
        log.warning("could not queue publication of asset %s; the reconciler will", asset_id, exc_info=True)
    return True


def publication_invalidate(*, asset_id: int) -> None:
    """The public copy lacks something its signature does not cover (captions added or removed): the
    next publication_request (the change's announcement) copies the asset again under a new token."""
    Publication.objects.filter(asset_id=asset_id).exclude(copied_from="").update(copied_from="")


@contextmanager
def _asset_lock(asset_id: int) -> Iterator[None]:
    """A PostgreSQL session advisory lock: one publication task per asset at a time, released
    even if the worker dies (its connection closes)."""
    key = LOCK_NAMESPACE | asset_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            raise PublicationBusy(asset_id)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def publication_run(*, asset_id: int) -> None:
    """What `media.publish` does. Raises PublicationBusy or a StorageError for the task to retry;
    the row then says "waiting to retry" with the reason."""
    with _asset_lock(asset_id):
        try:
            while True:  # until what is in the bucket matches the latest intent
                asset = Asset.objects.filter(pk=asset_id).first()
                if asset is None:
                    _remove(asset_id, publication=None)
                    for kind in ("originals", "renditions"):  # the private files of a deleted asset
                        s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=f"{kind}/{asset_id}/")
                    return
                publication, _ = Publication.objects.get_or_create(asset=asset)
                if not _should_be_public(asset):
                    Asset.objects.filter(pk=asset_id).exclude(public_key="").update(public_key="")
                    _remove(asset_id, publication=publication)
                    return
                if _publish(asset, publication):
                    return
        except s3.StorageError as error:
            Publication.objects.filter(asset_id=asset_id).update(
                state=PublicationState.RETRYING, error=str(error)[:2000], updated_at=timezone.now())
            raise


class _Progress:
    def __init__(self, publication: Publication, state: str, total: int) -> None:
        self.publication, self.done, self.written_at = publication, 0, 0.0
        Publication.objects.filter(pk=publication.pk).update(state=state, done=0, total=total, error="",
                                                             updated_at=timezone.now())

    def add(self, count: int, *, final: bool = False) -> None:
        self.done += count
        if final or time.monotonic() - self.written_at >= PROGRESS_SECONDS:
            self.written_at = time.monotonic()
            Publication.objects.filter(pk=self.publication.pk).update(done=self.done, updated_at=timezone.now())


def _download_name(asset: Asset) -> str:
    """The original's name in the public folder, when the editor offers it. Otherwise no original is
    copied (it carries the camera's metadata: GPS, serial number) and the name only anchors the folder;
    visitors get processing's metadata-free renditions (portal.media.services.VISITOR_FILE)."""
    return f"original{mimetypes.guess_extension(asset.source_type) or ''}" if asset.offer_original else "file"


def _publish(asset: Asset, publication: Publication) -> bool:
    """Copy the asset's files under a new token, then switch `public_key` to them. False when the
    intent changed while copying (the caller looks again); the copy is then removed as a leftover."""
    signature = _signature(asset)
    if asset.public_key and publication.copied_from == signature:
        _remove(asset.pk, publication=publication, keep=asset.public_key.rsplit("/", 1)[0] + "/")
        return True
    if not publication.target_key or publication.target_from != signature:
        directory = f"{public_prefix(asset.pk)}{secrets.token_urlsafe(12)}/"
        publication.target_key, publication.target_from = directory + _download_name(asset), signature
        publication.save(update_fields=["target_key", "target_from", "updated_at"])
    target = publication.target_key
    directory = target.rsplit("/", 1)[0] + "/"
    # Renditions keep their relative layout, so HLS playlists' relative URIs work from the CDN.
    pairs = [(asset.source_key, target)] if asset.offer_original else []
    pairs += [(asset.renditions_prefix + relative, public_rendition_key(target, relative))
              for relative in (asset.renditions if asset.renditions_prefix else [])]
    pairs += [(key, public_caption_key(target, language))
              for key, language in Caption.objects.filter(asset=asset).values_list("key", "language")]
    there = {info.key for info in s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=directory)}
    progress = _Progress(publication, PublicationState.COPYING, len(pairs))
    for source, key in pairs:
        if key not in there:  # a retry goes on where the last attempt stopped
            s3.copy(source_bucket=settings.S3_PRIVATE_BUCKET, source_key=source, bucket=settings.S3_PUBLIC_BUCKET,
                    key=key)
        progress.add(1)
    progress.add(0, final=True)
    with transaction.atomic():
        current = Asset.objects.select_for_update().filter(pk=asset.pk).first()
        if current is None or not _should_be_public(current) or _signature(current) != signature:
            return False  # made private, unpublished, re-uploaded or deleted meanwhile: never switch
        Asset.objects.filter(pk=asset.pk).update(public_key=target)  # not an edit: no version bump
        Publication.objects.filter(pk=publication.pk).update(
            copied_from=signature, target_key="", target_from="", updated_at=timezone.now())
        transaction.on_commit(bump_generation)  # cached cards and pages pick up the CDN URLs
    _remove(asset.pk, publication=publication, keep=directory)  # an earlier token's copy
    return True


def _remove(asset_id: int, *, publication: Publication | None, keep: str = "") -> None:
    """Delete the asset's public objects (all, or all but the `keep` folder) in DeleteObjects batches,
    then queue their CDN purges. A failed delete raises: the task retries, nothing is dropped."""
    keys = [info.key for info in s3.list_objects(bucket=settings.S3_PUBLIC_BUCKET, prefix=public_prefix(asset_id))
            if not (keep and info.key.startswith(keep))]
    progress = _Progress(publication, PublicationState.REMOVING, len(keys)) if publication and keys else None
    deleted: list[str] = []

    def batch_done(count: int) -> None:
        deleted.extend(keys[len(deleted):len(deleted) + count])
        if progress is not None:
            progress.add(count)

    try:
        s3.delete_many(bucket=settings.S3_PUBLIC_BUCKET, keys=keys, done=batch_done)
    finally:  # what is gone from the bucket must leave the CDN too, even if a later batch failed
        cdn_purge_later(keys=deleted)
    if publication is not None:
        fields: dict[str, object] = {"state": PublicationState.DONE, "error": "", "updated_at": timezone.now()}
        if not keep:
            fields.update(copied_from="", target_key="", target_from="")
        if progress is not None:
            fields["done"] = progress.done
        Publication.objects.filter(pk=publication.pk).update(**fields)


def _listed_asset_ids() -> set[int]:
    """Asset ids that have objects in the public bucket (its folders under MEDIA_PUBLIC_PREFIX)."""
    ids = set()
    for folder in s3.list_prefixes(bucket=settings.S3_PUBLIC_BUCKET, prefix=settings.MEDIA_PUBLIC_PREFIX):
        name = folder[len(settings.MEDIA_PUBLIC_PREFIX):].strip("/")
        if name.isdigit():
            ids.add(int(name))
    return ids


def publication_reconcile() -> dict[str, int]:
    """What `media.reconcile` does every MEDIA_RECONCILE_SECONDS: remove the public objects (and
    purge the CDN) of every asset that may not be public, deleted ones included, and queue again
    any publication left pending or waiting longer than a period. Returns counts."""
    in_bucket = _listed_asset_ids()
    public = set(Asset.objects.filter(pk__in=in_bucket, status=Status.PUBLISHED,
                                      visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
                 .exclude(source_key="").values_list("pk", flat=True))
    removed = busy = failed = 0
    for asset_id in sorted(in_bucket - public):
        try:
            publication_run(asset_id=asset_id)
            removed += 1
        except PublicationBusy:
            busy += 1  # its own task is on it
        except s3.StorageError:
            failed += 1
            log.warning("reconcile: could not remove the public copy of asset %s; next run", asset_id, exc_info=True)
    stale = timezone.now() - timedelta(seconds=settings.MEDIA_RECONCILE_SECONDS)
    waiting = list(Publication.objects.filter(state__in=WORKING, updated_at__lt=stale)
                   .values_list("asset_id", flat=True))
    for asset_id in waiting:
        publication_request(asset_id=asset_id)
    outdated = _stale_copies()
    for asset_id in outdated:
        publication_request(asset_id=asset_id)
    return {"removed": removed, "busy": busy, "failed": failed, "requeued": len(waiting),
            "republished": len(outdated)}


def _stale_copies(limit: int = 1000) -> list[int]:
    """Public assets whose public copy was made from other files, or before the editor's choice about
    the original (a copy made before `offer_original` existed holds the original and its metadata):
    published again, a batch per run. The same text as _signature, in SQL."""
    signature = Concat("source_key", Value("|"), "renditions_prefix", Value("|"),
                       Cast("offer_original", CharField()), output_field=CharField())
    return list(Asset.objects.filter(status=Status.PUBLISHED, visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
                .exclude(source_key="").exclude(public_key="").annotate(signature=signature)
                .exclude(publication__copied_from=F("signature")).order_by("pk").values_list("pk", flat=True)[:limit])
