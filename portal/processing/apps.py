import logging
from typing import Any

from django.apps import AppConfig

log = logging.getLogger(__name__)


def _on_asset_changed(sender: Any, asset_id: int, change: str, **kwargs: Any) -> None:
    if change != "uploaded":
        return
    from portal.processing.services import processing_request  # noqa: PLC0415 - models not ready at import

    # After commit of the finalize: queue the job. A failure here must not fail the editor's upload;
    # the asset stays "processing" and the editor can re-run it from the studio.
    try:
        processing_request(asset_id=asset_id)
    except Exception:
        log.exception("could not queue processing for asset %s", asset_id)


class ProcessingConfig(AppConfig):
    name = "portal.processing"
    label = "processing"

    def ready(self) -> None:
        from portal.library.signals import asset_changed  # noqa: PLC0415

        asset_changed.connect(_on_asset_changed, dispatch_uid="processing.request_on_upload")
