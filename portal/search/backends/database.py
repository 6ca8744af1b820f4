"""The PostgreSQL fallback: full-text search (SearchVector/SearchRank, English stemming) plus
trigram similarity for prefixes and typos, over the same visibility rule (listed assets only).

Used while the engine is unreachable (the last link of the selectors' chain). A `SearchReader`
only: it answers search and suggestions and has no write side at all, since PostgreSQL is the
truth already and there is no index to keep. Facets are kind and year only, and there is no geo
filter: the page's notice says so.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery as PgQuery
from django.contrib.postgres.search import SearchRank, SearchVector, TrigramWordSimilarity
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from portal.library.models import Asset
from portal.search.backends.base import Bucket, Hit, SearchQuery, SearchResults

WORD = re.compile(r"\w+", re.UNICODE)
# pg_trgm word similarity of the typed text to the closest part of a title. Rough typo tolerance:
# 0.44 lets "medow" find "Meadow flowers" (0.444) and "lanturn" "Paper lanterns" (0.5), but keeps
# "harb" from "City hall" (0.4); a swap like "glaicer" (0.375) is left to OpenSearch.
MIN_SIMILARITY = 0.44
VECTOR = SearchVector("title", weight="A", config="english") + SearchVector("description", weight="B", config="english")


def _prefix_query(text: str) -> PgQuery | None:
    """Every word as an English prefix ("volc" → 'volc':*), all required: search-as-you-type in SQL."""
    words = WORD.findall(text.lower())[:10]
    if not words:
        return None
    return PgQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="english")


def _matching(text: str) -> QuerySet[Asset]:
    assets = Asset.objects.listed()
    query = _prefix_query(text)
    if query is None:
        return assets.order_by("-published_at", "-id")
    # Trigram word similarity catches typos ("volcanoe") that no prefix matches. Computed per row
    # (word_similarity(), ORed with the rank): a scan of the listed assets, acceptable for a fallback.
    return (
        assets.annotate(rank=SearchRank(VECTOR, query), similarity=TrigramWordSimilarity(text, "title"))
        .filter(Q(rank__gt=0) | Q(similarity__gte=MIN_SIMILARITY))
        .order_by("-rank", "-similarity", "-published_at", "-id")  # word matches first, then near misses
    )


def _hit(asset: Asset) -> Hit:
    return Hit(id=asset.pk, slug=asset.slug, title=asset.title, title_html=mark_safe(escape(asset.title)),  # noqa: S308
               snippet_html=mark_safe(escape(Truncator(asset.description).chars(160))),  # noqa: S308
               kind=asset.kind, published_at=asset.published_at)


class DatabaseBackend:
    """A SearchReader (portal.search.backends.base): read-only by design."""

    name = "database"

    def search(self, query: SearchQuery) -> SearchResults:
        assets = _matching(query.text)
        if query.kind:
            assets = assets.filter(kind=query.kind)
        for tag in query.tags:
            assets = assets.filter(tags__slug=tag)
        if query.collection:
            assets = assets.filter(collections__slug=query.collection)
        if query.year:
            assets = assets.filter(published_at__year=query.year)
        facet_rows = assets.order_by().values("kind", year=ExtractYear("published_at")).annotate(n=Count("id"))
        kinds: dict[str, int] = {}
        years: dict[str, int] = {}
        for row in facet_rows:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
            if row["year"]:
                years[str(row["year"])] = years.get(str(row["year"]), 0) + row["n"]
        page = list(assets.only("id", "slug", "title", "description", "kind", "published_at")
                    [query.offset:query.offset + query.per_page])
        return SearchResults(
            hits=[_hit(asset) for asset in page], total=sum(kinds.values()), source=self.name,
            facets={"kind": [Bucket(k, n) for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])],
                    "year": [Bucket(y, n) for y, n in sorted(years.items(), reverse=True)]},
        )

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]:
        if not text.strip():
            return []
        return [_hit(asset) for asset in _matching(text).only("id", "slug", "title", "description", "kind",
                                                                "published_at")[:limit]]
