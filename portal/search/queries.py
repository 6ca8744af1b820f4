"""The query DSL for the OpenSearch backend: plain dicts built from a SearchQuery.

Relevance: title over tags and description over collection titles and extracted text; typos
forgiven (fuzziness AUTO, first letter fixed); prefixes through the title's edge n-grams. The
visibility rule is a filter of the query itself: only published, public assets ever match.
"""

from __future__ import annotations

from typing import Any

from portal.library.models import LISTED_FIELDS
from portal.search.backends.base import SearchQuery
from portal.search.index import MARK_END, MARK_START

LISTED_FILTER: list[dict[str, Any]] = [{"term": {field: str(value)}} for field, value in LISTED_FIELDS.items()]
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


def _facet_filters(query: SearchQuery) -> dict[str, list[dict[str, Any]]]:
    """The filters a visitor picked, by the facet they belong to."""
    return {
        "kind": [{"term": {"kind": query.kind}}] if query.kind else [],
        "tags": [{"term": {"tags": tag}} for tag in query.tags],
        "collections": [{"term": {"collections": query.collection}}] if query.collection else [],
        "year": [{"term": {"year": query.year}}] if query.year else [],
    }


def _base_filters(query: SearchQuery) -> list[dict[str, Any]]:
    """What bounds the whole result set, facets included: visibility and the place."""
    filters = list(LISTED_FILTER)
    if query.near:
        field = "location" if query.exact_location else "shared_location"  # an unshared asset has none
        filters.append({"geo_distance": {"distance": f"{query.near.km}km",
                                         field: {"lat": query.near.lat, "lon": query.near.lon}}})
    return filters


def _facets(picked: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each single-choice facet (kind, collection, year) counts what the other facets' choices
    leave, so picking "video" still shows how many images there are (the hits themselves are
    narrowed by the post_filter). Tags combine with AND, so their counts keep the picked tags too:
    a count is always what ticking that box would give."""
    aggs: dict[str, Any] = {}
    for name, size in FACET_SIZES.items():
        others = [f for facet, filters in picked.items() if facet != name or facet == "tags" for f in filters]
        terms: dict[str, Any] = {"field": name, "size": size}
        if name == "year":
            terms["order"] = {"_key": "desc"}
        aggs[name] = {"filter": {"bool": {"filter": others}}, "aggs": {"values": {"terms": terms}}}
    return aggs


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
    picked = _facet_filters(query)
    return {
        "query": {"bool": {"must": must, "filter": _base_filters(query)}},
        "post_filter": {"bool": {"filter": [f for filters in picked.values() for f in filters]}},
        "from": query.offset,
        "size": query.per_page,
        "sort": sort,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
        "aggs": _facets(picked),
        "highlight": _highlight({
            "title": {"number_of_fragments": 0},
            "title.prefix": {"number_of_fragments": 0},
            "description": {"fragment_size": 160, "number_of_fragments": 1},
            "text": {"fragment_size": 160, "number_of_fragments": 1},
        }),
    }


TYPEAHEAD_FIELDS = ["title.typeahead", "title.typeahead._2gram", "title.typeahead._3gram"]


def suggest_body(text: str, *, limit: int) -> dict[str, Any]:
    """One query a keystroke, kept cheap at a million documents: one field family (the title's
    search-as-you-type field), the last word a prefix through its prefix index and the others
    whole words with a typo forgiven; no total count (the engine may stop once it has the best
    `limit`). Highlighting runs only on the hits, through the edge n-grams, so whole words light up."""
    return {
        "query": {"bool": {
            "must": {"multi_match": {"query": text, "type": "bool_prefix", "fields": TYPEAHEAD_FIELDS,
                                     "operator": "and", "fuzziness": "AUTO", "prefix_length": 1}},
            "filter": LISTED_FILTER,
        }},
        "size": limit,
        "track_total_hits": False,
        "_source": ["id", "slug", "title", "kind", "published_at"],
        "highlight": _highlight({"title.prefix": {
            "number_of_fragments": 0,
            "highlight_query": {"match": {"title.prefix": {"query": text}}},
        }}),
    }
