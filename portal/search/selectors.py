"""Reads: a search or a suggestion, answered by the first backend of the chain that can: the
engine (settings.SEARCH_BACKEND), else PostgreSQL while the engine fails or its breaker is open;
and related media, nearest by embedding in PostgreSQL (pgvector)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from pgvector.django import CosineDistance

from portal.library.models import Asset, Collection, Kind, Tag
from portal.search.backends import get_search_backend, search_chain
from portal.search.backends.base import Bucket, Hit, SearchQuery, SearchReader, SearchResults, SearchUnavailable
from portal.search.models import AssetEmbedding

log = logging.getLogger(__name__)
KIND_LABELS = dict(Kind.choices)
# Cosine distance beyond which all-MiniLM-L6-v2's texts share little (0.4-0.65: a bird of prey and
# another, a whale and an orca; 0.95 and more: a whale and a bread recipe).
RELATED_MAX_DISTANCE = 0.8
T = TypeVar("T")


def _first_answer(ask: Callable[[SearchReader], T], what: str) -> tuple[T, str]:
    """Ask each backend of the chain in turn; the answer and the name of the one that gave it."""
    *engines, last = search_chain()
    for backend in engines:
        try:
            return ask(backend), backend.name
        except SearchUnavailable as error:
            log.warning("%s: %s failed (%s), asking the next", what, backend.name, error)
    return ask(last), last.name  # PostgreSQL: if it is down too, the page's own 503 handling applies


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
    results, _source = _first_answer(lambda backend: backend.search(query), "search")
    results.facets = _labelled(results.facets)
    return results


def search_suggest(*, text: str, limit: int = 8) -> tuple[list[Hit], str]:
    """Suggestions for what was typed so far, and the name of the backend that answered."""
    if not text.strip():
        return [], get_search_backend().name
    return _first_answer(lambda backend: backend.suggest(text, limit=limit), "suggestions")


def related_neighbours(*, asset_id: int, vector: Any) -> QuerySet[Asset]:
    """Listed assets with an embedding, nearest to `vector` first, the asset itself excluded. Visibility
    is a condition of the query, never a filter after it (tests explain it: the HNSW index drives it)."""
    return (
        Asset.objects.listed().filter(embedding__isnull=False).exclude(pk=asset_id)
        .annotate(distance=CosineDistance("embedding__embedding", vector))
        .order_by("distance")
        .select_related("owner").prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )


def related_assets(*, asset_id: int, limit: int = 6, max_distance: float = RELATED_MAX_DISTANCE) -> list[Asset]:
    """The listed assets nearest in meaning to this one (cosine distance of their embeddings), at
    most `max_distance` away: the same for every viewer, so one cached fragment serves all. Three
    queries: the asset's vector, the neighbours through the HNSW index, their tags. None while it
    has no embedding."""
    vector = AssetEmbedding.objects.filter(asset_id=asset_id).values_list("embedding", flat=True).first()
    if vector is None:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        iterative_scan(cursor)
        nearest = list(related_neighbours(asset_id=asset_id, vector=vector)[:limit])
    # Cut after the query, not in it: a distance condition would make the index scan walk on through
    # the whole graph for an asset that has few neighbours.
    return [asset for asset in nearest if asset.distance <= max_distance]  # type: ignore[attr-defined]  # annotated


def iterative_scan(cursor: Any) -> None:
    """For the current transaction. An index scan yields ef_search (40) candidates, then the visibility
    condition drops some; iterative scanning (pgvector 0.8) goes on until enough rows pass, nearest first."""
    cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
