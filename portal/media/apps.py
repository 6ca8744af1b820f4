import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    from portal.integrations.s3 import StorageError  # noqa: PLC0415 - models not ready at import
    from portal.media.services import media_publication_sync  # noqa: PLC0415

    # Runs after commit: a storage failure must not turn the editor's saved change into an error page.
    # The asset keeps its state, and the next change (or a re-run) brings the public copy in step.
    try:
        media_publication_sync(asset_id=asset_id, deleted=change == "deleted", reprocessed=change == "processed")
    except StorageError:
        log.exception("media publication sync failed for asset %s (%s)", asset_id, change)


class MediaConfig(AppConfig):
    name = "portal.media"
    label = "media"

    def ready(self) -> None:
        from portal.library.signals import asset_changed  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="media.publication_sync")
