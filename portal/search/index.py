"""Index names (a versioned index behind an alias) and the highlight markers, shared by every
engine. Pure data, no client and no models, so every layer can read it. The OpenSearch mapping and
analyzers are declared in backends/opensearch_index.py (django-opensearch-dsl)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

# Highlight markers: private-use characters that cannot come from an editor (documents strip them),
# so a fragment can be HTML-escaped whole and then only these turned into <mark>.
MARK_START, MARK_END = "\ue000", "\ue001"


def alias_name() -> str:
    """What every search and write goes through; points at exactly one versioned index."""
    return f"{settings.SEARCH_INDEX_PREFIX}-assets"


def building_alias_name() -> str:
    """Points at the index a reindex is filling, so live writes reach it too until the swap."""
    return f"{alias_name()}-building"


def new_index_name() -> str:
    return f"{alias_name()}-v{datetime.now(UTC):%Y%m%d%H%M%S%f}"
