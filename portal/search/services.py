"""Writes to the index: one asset, a collection's assets, the setup and the zero-downtime rebuild;
and assets' embeddings for related media (one asset after a change, or a backfill of all).

Each is idempotent (the document is rebuilt from PostgreSQL every time) and safe to run twice.
Called by the Celery tasks in workers/tasks/search.py and by the management commands. The engine
is whatever settings.SEARCH_BACKEND names, seen only through the SearchBackend protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from itertools import islice

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.core.fragments import bump_generation
from portal.core.tasks import QUEUE_OF, TaskName
from portal.jobs import broker
from portal.library.models import Asset
from portal.search import embeddings
from portal.search.backends import get_search_backend
from portal.search.backends.base import Progress
from portal.search.documents import all_assets, extracted_text, with_relations
from portal.search.models import AssetEmbedding, PendingIndex

log = logging.getLogger(__name__)
SWEEP_BATCH = 1000  # per run; the next run takes the rest


def search_index_asset(*, asset_id: int, refresh: bool = False) -> None:
    """Bring one asset's document in step with PostgreSQL: written if the asset exists, else deleted.
    Then its pending record is done, unless a newer change was recorded while this one ran."""
    engine = get_search_backend()
    # Read before the asset: the state written below is at least as new as this request.
    requested = PendingIndex.objects.filter(asset_id=asset_id).values_list("requested_at", flat=True).first()
    asset = with_relations(Asset.objects.filter(pk=asset_id)).first()
    if asset is None:
        engine.delete(asset_id, refresh=refresh)
    else:
        engine.index(asset, refresh=refresh)
    if requested is not None:
        PendingIndex.objects.filter(asset_id=asset_id, requested_at__lte=requested).delete()


def search_pending_record(*, asset_ids: Iterable[int]) -> None:
    """Record that these assets' documents must be rewritten (one upsert; a newer request moves the
    time on). Called inside the transaction of the change, so the record commits with it."""
    now = timezone.now()
    rows = [PendingIndex(asset_id=asset_id, requested_at=now) for asset_id in set(asset_ids)]
    PendingIndex.objects.bulk_create(rows, update_conflicts=True, unique_fields=["asset_id"],
                                     update_fields=["requested_at"])


def search_pending_sweep(*, grace_s: float) -> int:
    """Send `search.index_asset` again for every asset whose update has waited longer than `grace_s`
    (its message lost, or never sent while the broker was unreachable), at most once per grace
    period each. Idempotent tasks make a duplicate harmless. Returns how many were sent."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=grace_s)
    due = list(PendingIndex.objects.filter(Q(sent_at__isnull=True) | Q(sent_at__lte=cutoff), requested_at__lte=cutoff)
               .order_by("requested_at").values_list("asset_id", flat=True)[:SWEEP_BATCH])
    if not due:
        return 0
    task = TaskName.SEARCH_INDEX_ASSET
    try:
        broker.send_each(name=str(task), queue=str(QUEUE_OF[task]), calls=[[asset_id] for asset_id in due])
    except broker.SendFailed as failed:
        log.warning("pending-index sweep: the broker failed after %s of %s", failed.sent, len(due), exc_info=True)
        due = due[:failed.sent]
    PendingIndex.objects.filter(asset_id__in=due).update(sent_at=now)
    return len(due)


def search_index_collection(*, collection_id: int) -> int:
    """A collection was renamed or deleted: rewrite every asset that is, or was, in it."""
    engine = get_search_backend()
    in_db = set(Asset.objects.filter(collections__pk=collection_id).values_list("pk", flat=True))
    ids = in_db | set(engine.ids_in_collection(collection_id))
    written = engine.bulk_index(with_relations(Asset.objects.filter(pk__in=ids)))
    for gone in ids - set(Asset.objects.filter(pk__in=ids).values_list("pk", flat=True)):
        engine.delete(gone)
    return written


def search_setup() -> str | None:
    """Create the versioned index and its alias if missing (idempotent); returns the new index's name."""
    return get_search_backend().setup()


def search_reindex(*, progress: Progress | None = None) -> str:
    """Rebuild into a new versioned index and swap the alias atomically; searches keep answering."""
    return get_search_backend().rebuild(all_assets(), progress=progress)


def search_document_count() -> int:
    return Asset.objects.count()


def _embedding_text(asset: Asset) -> str:
    return embeddings.asset_text(title=asset.title, description=asset.description,
                                 tags=[tag.name for tag in asset.tags.all()], text=extracted_text(asset))


def embeddings_write(*, assets: Sequence[Asset]) -> int:
    """Embed these assets (tags loaded) whose text changed since their stored vector, in one batch
    through the model and one upsert; returns how many were written. Unchanged text costs no model run."""
    texts = {asset.pk: _embedding_text(asset) for asset in assets}
    stored = dict(AssetEmbedding.objects.filter(asset_id__in=texts).values_list("asset_id", "source_digest"))
    todo = {pk: text for pk, text in texts.items() if stored.get(pk) != embeddings.digest(text)}
    if not todo:
        return 0
    rows = [AssetEmbedding(asset_id=pk, embedding=vector, source_digest=embeddings.digest(text))
            for (pk, text), vector in zip(todo.items(), embeddings.encode(list(todo.values())), strict=True)]
    try:
        _upsert(rows)
    except IntegrityError:  # an asset deleted while the model ran: write the others
        existing = set(Asset.objects.filter(pk__in=todo).values_list("pk", flat=True))
        rows = [row for row in rows if row.asset_id in existing]
        _upsert(rows)
    return len(rows)


def _upsert(rows: list[AssetEmbedding]) -> None:
    with transaction.atomic():  # the foreign key is checked at commit: a failure undoes the batch
        AssetEmbedding.objects.bulk_create(rows, update_conflicts=True, unique_fields=["asset"],
                                           update_fields=["embedding", "source_digest", "updated_at"])


def embedding_update(*, asset_id: int) -> bool:
    """Bring one asset's embedding in step with its title, description, tags and extracted text
    (idempotent). A new vector changes other assets' related lists: the content generation moves."""
    asset = Asset.objects.prefetch_related("tags").filter(pk=asset_id).first()
    if asset is None:  # deleted: its embedding went with it (on delete cascade)
        return False
    written = embeddings_write(assets=[asset]) > 0
    if written:
        bump_generation()
    return written


def embeddings_backfill(*, batch_size: int = 64, progress: Progress | None = None) -> int:
    """Embed every asset whose vector is missing or stale (its digest differs), a batch at a time;
    returns how many were written. One generation bump at the end, not one per asset."""
    assets = all_assets(batch=batch_size)
    written = 0
    while chunk := list(islice(assets, batch_size)):
        written += embeddings_write(assets=chunk)
        if progress is not None:
            progress(len(chunk))
    if written:
        bump_generation()
    return written
