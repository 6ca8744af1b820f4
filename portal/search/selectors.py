"""Reads: a search or a suggestion, from OpenSearch, or from PostgreSQL while it is unreachable."""

from __future__ import annotations

import logging
from dataclasses import replace

from portal.library.models import Collection, Kind, Tag
from portal.search.backends.base import Bucket, Hit, SearchQuery, SearchResults, SearchUnavailable
from portal.search.backends.database import DatabaseBackend
from portal.search.backends.opensearch import OpenSearchBackend

log = logging.getLogger(__name__)

engine = OpenSearchBackend()
fallback = DatabaseBackend()
KIND_LABELS = dict(Kind.choices)


def _labelled(facets: dict[str, list[Bucket]]) -> dict[str, list[Bucket]]:
    """Facet values are slugs and codes; show names (two small queries, only for what is shown)."""
    tag_names = dict(Tag.objects.filter(slug__in=[b.value for b in facets.get("tags", [])]).values_list("slug", "name"))
    collection_titles = dict(Collection.objects.filter(slug__in=[b.value for b in facets.get("collections", [])])
                             .values_list("slug", "title"))
    names = {"kind": KIND_LABELS, "tags": tag_names, "collections": collection_titles}
    return {
        facet: [replace(b, label=str(names.get(facet, {}).get(b.value, b.value))) for b in buckets]
        for facet, buckets in facets.items()
    }


def search_run(*, query: SearchQuery) -> SearchResults:
    try:
        results = engine.search(query)
    except SearchUnavailable as error:
        log.warning("search answered from PostgreSQL: %s", error)
        results = fallback.search(query)
    results.facets = _labelled(results.facets)
    return results


def search_suggest(*, text: str, limit: int = 8) -> tuple[list[Hit], str]:
    """Suggestions for what was typed so far, and where they came from ("opensearch" or "database")."""
    if not text.strip():
        return [], engine.name
    try:
        return engine.suggest(text, limit=limit), engine.name
    except SearchUnavailable as error:
        log.warning("suggestions answered from PostgreSQL: %s", error)
        return fallback.suggest(text, limit=limit), fallback.name
