"""Writes to the index: one asset, a collection's assets, the setup and the zero-downtime rebuild.

Each is idempotent (the document is rebuilt from PostgreSQL every time) and safe to run twice.
Called by the Celery tasks in workers/tasks/search.py and by the management commands.
"""

from __future__ import annotations

from portal.library.models import Asset
from portal.search.backends.base import Progress
from portal.search.backends.opensearch import OpenSearchBackend
from portal.search.documents import all_documents, asset_document, with_relations

engine = OpenSearchBackend()


def search_index_asset(*, asset_id: int, refresh: bool = False) -> None:
    """Bring one asset's document in step with PostgreSQL: written if the asset exists, else deleted."""
    asset = with_relations(Asset.objects.filter(pk=asset_id)).first()
    if asset is None:
        engine.delete(asset_id, refresh=refresh)
    else:
        engine.index(asset_document(asset), refresh=refresh)


def search_index_collection(*, collection_id: int) -> int:
    """A collection was renamed or deleted: rewrite every asset that is, or was, in it."""
    in_db = set(Asset.objects.filter(collections__pk=collection_id).values_list("pk", flat=True))
    ids = in_db | set(engine.ids_in_collection(collection_id))
    documents = (asset_document(asset) for asset in with_relations(Asset.objects.filter(pk__in=ids)))
    written = engine.bulk_index(documents)
    for gone in ids - set(Asset.objects.filter(pk__in=ids).values_list("pk", flat=True)):
        engine.delete(gone)
    return written


def search_setup() -> str | None:
    """Create the versioned index and its alias if missing (idempotent); returns the new index's name."""
    return engine.setup()


def search_reindex(*, progress: Progress | None = None) -> str:
    """Rebuild into a new versioned index and swap the alias atomically; searches keep answering."""
    return engine.rebuild(all_documents(), progress=progress)


def search_document_count() -> int:
    return Asset.objects.count()
