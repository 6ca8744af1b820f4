"""The query DSL for the OpenSearch backend: plain dicts built from a SearchQuery.

Relevance: title over tags and description over collection titles and extracted text; typos
forgiven (fuzziness AUTO, first letter fixed); prefixes through the title's edge n-grams. The
visibility rule is a filter of the query itself: only published, public assets ever match.
"""

from __future__ import annotations

from typing import Any

from portal.search.backends.base import SearchQuery
from portal.search.index import MARK_END, MARK_START

LISTED_FILTER: list[dict[str, Any]] = [{"term": {"status": "published"}}, {"term": {"visibility": "public"}}]
FACET_SIZES = {"kind": 10, "tags": 20, "collections": 20, "year": 30}
SOURCE_FIELDS = ["id", "slug", "title", "kind", "published_at", "tags", "description"]


def _text_match(text: str, *, full_fields: list[str], prefix_fields: list[str]) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                {"multi_match": {"query": text, "fields": full_fields, "type": "best_fields", "operator": "and",
                                 "fuzziness": "AUTO", "prefix_length": 1}},
                {"multi_match": {"query": text, "fields": prefix_fields, "operator": "and"}},
            ],
            "minimum_should_match": 1,
        }
    }


def _filters(query: SearchQuery) -> list[dict[str, Any]]:
    filters = list(LISTED_FILTER)
    if query.kind:
        filters.append({"term": {"kind": query.kind}})
    filters.extend({"term": {"tags": tag}} for tag in query.tags)
    if query.collection:
        filters.append({"term": {"collections": query.collection}})
    if query.year:
        filters.append({"term": {"year": query.year}})
    if query.near:
        filters.append({"geo_distance": {"distance": f"{query.near.km}km",
                                         "location": {"lat": query.near.lat, "lon": query.near.lon}}})
    return filters


def _highlight(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"pre_tags": [MARK_START], "post_tags": [MARK_END], "fields": fields}


def search_body(query: SearchQuery) -> dict[str, Any]:
    if query.text:
        must = _text_match(
            query.text,
            full_fields=["title^4", "tag_names^2", "description^2", "collection_titles", "text"],
            prefix_fields=["title.prefix^3", "tag_names.prefix"],
        )
        sort: list[Any] = ["_score", {"published_at": "desc"}]
    else:
        must = {"match_all": {}}
        sort = [{"published_at": "desc"}, {"id": "desc"}]
    aggs = {name: {"terms": {"field": name, "size": size}} for name, size in FACET_SIZES.items()}
    aggs["year"]["terms"]["order"] = {"_key": "desc"}
    return {
        "query": {"bool": {"must": must, "filter": _filters(query)}},
        "from": query.offset,
        "size": query.per_page,
        "sort": sort,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
        "aggs": aggs,
        "highlight": _highlight({
            "title": {"number_of_fragments": 0},
            "title.prefix": {"number_of_fragments": 0},
            "description": {"fragment_size": 160, "number_of_fragments": 1},
            "text": {"fragment_size": 160, "number_of_fragments": 1},
        }),
    }


def suggest_body(text: str, *, limit: int) -> dict[str, Any]:
    return {
        "query": {"bool": {
            "must": _text_match(text, full_fields=["title^2"], prefix_fields=["title.prefix^3"]),
            "filter": LISTED_FILTER,
        }},
        "size": limit,
        "_source": ["id", "slug", "title", "kind", "published_at"],
        "highlight": _highlight({"title": {"number_of_fragments": 0}, "title.prefix": {"number_of_fragments": 0}}),
    }
