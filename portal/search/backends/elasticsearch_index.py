"""The Elasticsearch index, declared with django-elasticsearch-dsl: the same design as the OpenSearch
one (backends/opensearch_index.py): analyzers, strict mapping and settings in one `Document`, which
also turns an asset into its document (`prepare`). Only this module and backends/elasticsearch.py
import the Elasticsearch client packages, which live in .venv-es (bin/venv-es), not in .venv.

The package's Django app is not installed: its signal processor would sync on model saves and its
`search_index` command would bypass the versioned indexes. Writes come from the indexing tasks
through the backend, rebuilds from `manage.py search_reindex`, as with OpenSearch.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry
from elasticsearch_dsl import Index, MetaField, analyzer, normalizer, token_filter

from portal.library.models import Asset
from portal.search.documents import asset_document
from portal.search.index import alias_name

# Full text: "Cafés" and "cafe", "gardens" and "garden" meet on the same token.
folded_english = analyzer("folded_english", tokenizer="standard", filter=[
    token_filter("english_possessive", type="stemmer", language="possessive_english"),
    "lowercase", "asciifolding", token_filter("english_stemmer", type="stemmer", language="english"),
])
# Search-as-you-type: every word's prefixes are indexed, folded; the typed text is only folded.
autocomplete = analyzer("autocomplete", tokenizer="standard", filter=[
    "lowercase", "asciifolding", token_filter("autocomplete_edge", type="edge_ngram", min_gram=1, max_gram=20),
])
autocomplete_search = analyzer("autocomplete_search", tokenizer="standard", filter=["lowercase", "asciifolding"])
folded = normalizer("folded", filter=["lowercase", "asciifolding"])

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # Replicas: settings.SEARCH_INDEX_REPLICAS, given to each versioned index when it is created (as OpenSearch).
    "refresh_interval": "1s",  # near real time: a write is searchable within a second
    "max_result_window": 10_000,
}


def _text(**extra: Any) -> fields.TextField:
    return fields.TextField(analyzer=folded_english, **extra)


def _prefix() -> fields.TextField:
    return fields.TextField(analyzer=autocomplete, search_analyzer=autocomplete_search)


@registry.register_document
class AssetIndex(Document):
    id = fields.LongField()
    slug = fields.KeywordField(index=False)
    title = _text(fields={
        "prefix": _prefix(),
        "sort": fields.KeywordField(normalizer=folded, ignore_above=256),
        "typeahead": fields.SearchAsYouTypeField(analyzer=autocomplete_search),  # the suggestions' field
    })
    description = _text()
    text = _text()  # extracted document text (processing's text.txt)
    tags = fields.KeywordField()  # slugs: facets and filters
    tag_names = _text(fields={"prefix": _prefix()})
    collections = fields.KeywordField()  # slugs
    collection_ids = fields.LongField()  # finds the assets of a deleted collection
    collection_titles = _text()
    kind = fields.KeywordField()
    owner = fields.KeywordField()
    visibility = fields.KeywordField()
    status = fields.KeywordField()
    featured = fields.BooleanField()
    published_at = fields.DateField()
    updated_at = fields.DateField()  # also the document's external version: a stale write loses
    year = fields.ShortField()
    duration = fields.FloatField()
    page_count = fields.IntegerField()
    location = fields.GeoPointField()  # exact: only editors' searches filter on it
    shared_location = fields.GeoPointField()  # visitors': set only when the editor shares it, ~1 km

    class Index:
        name = alias_name()  # a template: real indexes are versioned copies (versioned_index)
        settings = SETTINGS

    class Django:
        model = Asset
        ignore_signals = True  # indexing is a Celery task after commit, never a model signal

    class Meta:
        dynamic = MetaField("strict")  # a field the mapping lacks is an error, not a guess

    def prepare(self, instance: models.Model) -> dict[str, Any]:
        assert isinstance(instance, Asset)
        return asset_document(instance)


def versioned_index(name: str, *, alias: str, bulk_load: bool = False) -> Index:
    """A new index of AssetIndex's design named `name`, created with `alias` pointing at it.
    `bulk_load`: refresh off while a rebuild fills it (one refresh at the end is far cheaper)."""
    index = AssetIndex._index.clone(name=name)
    index.aliases(**{alias: {}})
    index.settings(auto_expand_replicas=settings.SEARCH_INDEX_REPLICAS)  # one node here: none, and green
    if bulk_load:
        index.settings(refresh_interval="-1")
    return index


def index_body() -> dict[str, Any]:
    """The whole index definition as the engine receives it (tests read the analyzers from it)."""
    body: dict[str, Any] = AssetIndex._index.to_dict()
    return body
