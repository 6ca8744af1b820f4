import logging
from typing import Any

from django.apps import AppConfig

from portal.core.tasks import QUEUE_OF, TaskName

log = logging.getLogger(__name__)
# The changes after which an asset's text may differ (edits; processing's extracted text), and
# publication (an asset published before embeddings existed gets one; unchanged text is a no-op).
EMBED_ON = frozenset({"created", "updated", "processed", "published"})


def _send(name: TaskName, object_id: int) -> None:
    from portal.jobs import broker  # noqa: PLC0415 - models not ready at import

    # Already after commit (the library sends its signals then). The index is derived: a broker
    # outage must not fail the editor's save. An asset's update is also recorded in PostgreSQL
    # (PendingIndex), so `search.sweep_pending` sends it again once the broker is back.
    try:
        broker.send_each(name=str(name), queue=str(QUEUE_OF[name]), calls=[[object_id]])
    except broker.SendFailed:
        log.warning("could not queue %s(%s); recorded for the pending-index sweep", name, object_id, exc_info=True)


def _record(asset_ids: Any) -> None:
    from portal.search.services import search_pending_record  # noqa: PLC0415 - models not ready at import

    search_pending_record(asset_ids=asset_ids)


def _on_asset_saved_or_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _record([instance.pk])  # inside the change's own transaction: committed with it or not at all


def _on_asset_relations_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any,
                                **kwargs: Any) -> None:
    if action == "pre_clear" and reverse:  # a tag or collection emptied: post_clear names no assets
        _record(list(instance.assets.values_list("pk", flat=True)))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        _record([instance.pk])
    elif pk_set:  # a tag or collection gained or lost these assets
        _record(pk_set)


def _on_group_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Deleting a tag or collection removes its link rows without an m2m_changed signal.
    _record(list(instance.assets.values_list("pk", flat=True)))


def _on_tags_merged(sender: Any, asset_ids: list[int], **kwargs: Any) -> None:
    _record(asset_ids)  # sent inside the merge's transaction: the records commit with it


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    # Recorded again before sending: covers changes written without save() (queryset updates).
    _record([asset_id])
    _send(TaskName.SEARCH_INDEX_ASSET, asset_id)  # every change: the task rebuilds the document
    if change in EMBED_ON:
        _send(TaskName.SEARCH_EMBED_ASSET, asset_id)


def _on_collection_changed(sender: Any, collection_id: int, change: str, **kwargs: Any) -> None:
    if change != "created":  # an empty new collection changes no asset's document
        _send(TaskName.SEARCH_INDEX_COLLECTION, collection_id)


class SearchConfig(AppConfig):
    name = "portal.search"
    label = "search"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete  # noqa: PLC0415

        from portal.library.models import Asset, Collection, Tag  # noqa: PLC0415
        from portal.library.signals import asset_changed, collection_changed, tags_merged  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="search.index_asset")
        collection_changed.connect(_on_collection_changed, dispatch_uid="search.index_collection")
        tags_merged.connect(_on_tags_merged, dispatch_uid="search.pending_tags_merged")
        post_save.connect(_on_asset_saved_or_deleted, sender=Asset, dispatch_uid="search.pending_saved")
        post_delete.connect(_on_asset_saved_or_deleted, sender=Asset, dispatch_uid="search.pending_deleted")
        for through in (Asset.tags.through, Asset.collections.through):
            m2m_changed.connect(_on_asset_relations_changed, sender=through,
                                dispatch_uid=f"search.pending_{through._meta.model_name}")
        for group in (Tag, Collection):
            pre_delete.connect(_on_group_deleted, sender=group,
                               dispatch_uid=f"search.pending_{group._meta.model_name}_deleted")
