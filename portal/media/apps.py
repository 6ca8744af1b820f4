from typing import Any

from django.apps import AppConfig


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    from portal.media.services import media_publication_sync  # noqa: PLC0415 - models not ready at import

    media_publication_sync(asset_id=asset_id, deleted=change == "deleted")


class MediaConfig(AppConfig):
    name = "portal.media"
    label = "media"

    def ready(self) -> None:
        from portal.library.signals import asset_changed  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="media.publication_sync")
