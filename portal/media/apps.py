import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    from portal.media.publication import publication_request  # noqa: PLC0415 - models not ready at import

    # After commit: only records the intent and queues `media.publish` (no S3 call here). A failure
    # must not turn the editor's saved change into an error page: the reconciler catches up.
    try:
        publication_request(asset_id=asset_id, deleted=change == "deleted")
    except Exception:
        log.exception("could not request publication of asset %s (%s)", asset_id, change)


class MediaConfig(AppConfig):
    name = "portal.media"
    label = "media"

    def ready(self) -> None:
        from portal.library.signals import asset_changed  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="media.publication_request")
