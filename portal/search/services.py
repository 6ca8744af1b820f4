"""Writes to the index: one asset, a collection's assets, the setup and the zero-downtime rebuild.

Each is idempotent (the document is rebuilt from PostgreSQL every time) and safe to run twice.
Called by the Celery tasks in workers/tasks/search.py and by the management commands. The engine
is whatever settings.SEARCH_BACKEND names, seen only through the SearchBackend protocol.
"""

from __future__ import annotations

from portal.library.models import Asset
from portal.search.backends import get_search_backend
from portal.search.backends.base import Progress
from portal.search.documents import all_assets, with_relations


def search_index_asset(*, asset_id: int, refresh: bool = False) -> None:
    """Bring one asset's document in step with PostgreSQL: written if the asset exists, else deleted."""
    engine = get_search_backend()
    asset = with_relations(Asset.objects.filter(pk=asset_id)).first()
    if asset is None:
        engine.delete(asset_id, refresh=refresh)
    else:
        engine.index(asset, refresh=refresh)


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
