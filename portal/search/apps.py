import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)

INDEX_ASSET_TASK = "search.index_asset"
INDEX_COLLECTION_TASK = "search.index_collection"


def _send(name: str, queue: str, object_id: int) -> None:
    from portal.jobs import broker  # noqa: PLC0415 - models not ready at import

    # Already after commit (the library sends its signals then). The index is derived: a broker
    # outage must not fail the editor's save; the next change or `search_reindex` catches up.
    try:
        broker.send_each(name=name, queue=queue, calls=[[object_id]])
    except broker.SendFailed:
        log.warning("could not queue %s(%s); the index stays stale until the next change or reindex",
                    name, object_id, exc_info=True)


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    _send(INDEX_ASSET_TASK, "interactive", asset_id)  # every change: the task rebuilds the document


def _on_collection_changed(sender: Any, collection_id: int, change: str, **kwargs: Any) -> None:
    if change != "created":  # an empty new collection changes no asset's document
        _send(INDEX_COLLECTION_TASK, "bulk", collection_id)


class SearchConfig(AppConfig):
    name = "portal.search"
    label = "search"

    def ready(self) -> None:
        from portal.library.signals import asset_changed, collection_changed  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="search.index_asset")
        collection_changed.connect(_on_collection_changed, dispatch_uid="search.index_collection")
