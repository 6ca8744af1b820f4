"""What analytics hears from the other apps (connected in AnalyticsConfig.ready). They import
nothing of analytics; a failure here is logged, never passed back to the sender."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest

from portal.analytics.services import event_record

log = logging.getLogger(__name__)


def on_search_performed(sender: object, *, query: str, result_count: int, request: HttpRequest | None = None,
                        source: str = "results", **kwargs: Any) -> None:
    # Suggestions are keystrokes ("ha", "har", "harb"): counting them would fill "searches with no
    # results" with prefixes and add an insert to every keystroke. Submitted searches only.
    if source == "suggest" or not str(query).strip():
        return
    try:
        event_record(kind="search", request=request, query=query, result_count=int(result_count), source=source)
    except DatabaseError:
        log.exception("search event not recorded")


def on_asset_changed(sender: object, *, asset_id: int, change: str, **kwargs: Any) -> None:
    try:
        event_record(kind="editor", asset_id=asset_id, change=change)
    except DatabaseError:
        log.exception("editor event not recorded")


def on_collection_changed(sender: object, *, collection_id: int, change: str, **kwargs: Any) -> None:
    try:
        event_record(kind="editor", collection_id=collection_id, change=change)
    except DatabaseError:
        log.exception("editor event not recorded")
