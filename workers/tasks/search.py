"""Search indexing tasks. Thin: the document and the engine calls live in portal.search.services.

`search.index_asset` runs on `interactive` (near real time: an edit is searchable within seconds);
collection rewrites, the full rebuild and embeddings (related media) run on `bulk`. All are
idempotent: each rebuilds from PostgreSQL, so running one twice, or late, writes the current truth.
"""

from __future__ import annotations

from django.conf import settings

from portal.core.tasks import TaskName
from portal.search.backends.base import SearchUnavailable
from portal.search.services import (
    embedding_update,
    search_index_asset,
    search_index_collection,
    search_pending_sweep,
    search_reindex,
)
from workers.celery import app

# An engine outage is waited out, however long: retries with exponential backoff and full jitter,
# each wait at most RETRY_BACKOFF_MAX_S. Giving up would leave an unpublished, private or deleted
# asset findable (visibility is filtered on the indexed document) until someone reindexed.
RETRY_BACKOFF_MAX_S = 300


@app.task(name=TaskName.SEARCH_INDEX_ASSET, acks_late=True, ignore_result=True, soft_time_limit=30, time_limit=60,
          autoretry_for=(SearchUnavailable,), retry_backoff=2, retry_backoff_max=RETRY_BACKOFF_MAX_S,
          retry_jitter=True, max_retries=None)
def index_asset(asset_id: int) -> None:
    search_index_asset(asset_id=asset_id)


@app.task(name=TaskName.SEARCH_INDEX_COLLECTION, acks_late=True, ignore_result=True, time_limit=600,
          autoretry_for=(SearchUnavailable,), retry_backoff=2, retry_backoff_max=RETRY_BACKOFF_MAX_S,
          retry_jitter=True, max_retries=None)
def index_collection(collection_id: int) -> None:
    search_index_collection(collection_id=collection_id)


@app.task(name=TaskName.SEARCH_REINDEX, acks_late=True, ignore_result=True, time_limit=3600)
def reindex() -> None:
    search_reindex()


@app.task(name=TaskName.SEARCH_SWEEP_PENDING, acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def sweep_pending() -> None:
    """Send again index updates PostgreSQL recorded that have waited too long (beat). Idempotent."""
    search_pending_sweep(grace_s=settings.SEARCH_PENDING_GRACE_SECONDS)


@app.task(name=TaskName.SEARCH_EMBED_ASSET, acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=180)
def embed_asset(asset_id: int) -> None:
    """The asset's embedding from its current text (idempotent; unchanged text runs no model)."""
    embedding_update(asset_id=asset_id)
