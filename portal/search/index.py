"""The index design: names (versioned index behind an alias), analyzers and the mapping.

Pure data, no client and no models, so every layer can read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,  # one node here; production's domain sets its own
    "refresh_interval": "1s",  # near real time: a write is searchable within a second
    "max_result_window": 10_000,
    "analysis": {
        "filter": {
            "english_stemmer": {"type": "stemmer", "language": "english"},
            "english_possessive": {"type": "stemmer", "language": "possessive_english"},
            "autocomplete_edge": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
        },
        "analyzer": {
            # Full text: "Cafés" and "cafe", "gardens" and "garden" meet on the same token.
            "folded_english": {
                "tokenizer": "standard",
                "filter": ["english_possessive", "lowercase", "asciifolding", "english_stemmer"],
            },
            # Search-as-you-type: every word's prefixes are indexed ("vol", "volc"...), folded.
            "autocomplete": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", "autocomplete_edge"]},
            "autocomplete_search": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
        },
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
    },
}

_TEXT = {"type": "text", "analyzer": "folded_english"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "slug": {"type": "keyword", "index": False},
        "title": {
            **_TEXT,
            "fields": {
                "prefix": {"type": "text", "analyzer": "autocomplete", "search_analyzer": "autocomplete_search"},
                "sort": {"type": "keyword", "normalizer": "folded", "ignore_above": 256},
            },
        },
        "description": _TEXT,
        "text": _TEXT,  # extracted document text (processing's text.txt)
        "tags": {"type": "keyword"},  # slugs: facets and filters
        "tag_names": {**_TEXT, "fields": {"prefix": {"type": "text", "analyzer": "autocomplete",
                                                     "search_analyzer": "autocomplete_search"}}},
        "collections": {"type": "keyword"},  # slugs
        "collection_ids": {"type": "long"},  # finds the assets of a deleted collection
        "collection_titles": _TEXT,
        "kind": {"type": "keyword"},
        "owner": {"type": "keyword"},
        "visibility": {"type": "keyword"},
        "status": {"type": "keyword"},
        "featured": {"type": "boolean"},
        "published_at": {"type": "date"},
        "updated_at": {"type": "date"},  # also the document's external version: a stale write loses
        "year": {"type": "short"},
        "duration": {"type": "float"},
        "page_count": {"type": "integer"},
        "location": {"type": "geo_point"},
    },
}


def index_body() -> dict[str, Any]:
    return {"settings": {"index": SETTINGS}, "mappings": MAPPINGS}
