"""The OpenSearch index, declared with django-opensearch-dsl: analyzers, mapping and settings in one
`Document` class, which also turns an asset into its document (`prepare`) and writes in bulk.

The class's index is a template: every real index is a versioned copy of it (`versioned_index`)
behind the alias of portal.search.index, so a reindex can fill a new one and swap the alias.
django-opensearch-dsl's own syncing is off: no model signal writes to the index; the library's
`asset_changed` queues a Celery task after commit (portal.search.apps), and `search_reindex`
rebuilds. Use `manage.py search_setup` / `search_reindex`, not the package's `opensearch` command.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django_opensearch_dsl import Document, fields
from django_opensearch_dsl.registries import registry
from django_opensearch_dsl.signals import BaseSignalProcessor
from opensearchpy import Index, MetaField, analyzer, normalizer, token_filter

from portal.library.models import Asset
from portal.search.documents import asset_document
from portal.search.index import alias_name

# Full text: "Cafés" and "cafe", "gardens" and "garden" meet on the same token.
folded_english = analyzer("folded_english", tokenizer="standard", filter=[
    token_filter("english_possessive", type="stemmer", language="possessive_english"),
    "lowercase", "asciifolding", token_filter("english_stemmer", type="stemmer", language="english"),
])
# Search-as-you-type: every word's prefixes are indexed ("vol", "volc"...), folded; the typed text
# is only folded, so "volc" is one term lookup.
autocomplete = analyzer("autocomplete", tokenizer="standard", filter=[
    "lowercase", "asciifolding", token_filter("autocomplete_edge", type="edge_ngram", min_gram=1, max_gram=20),
])
autocomplete_search = analyzer("autocomplete_search", tokenizer="standard", filter=["lowercase", "asciifolding"])
folded = normalizer("folded", filter=["lowercase", "asciifolding"])

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # Replicas: settings.SEARCH_INDEX_REPLICAS, given to each versioned index when it is created.
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
        # The suggestions' field: word 2- and 3-shingles and an index of prefixes, so the word being
        # typed is one term lookup ("harb" → harb) instead of a match over every edge n-gram.
        "typeahead": fields.SearchAsYouTypeField(analyzer=autocomplete_search),
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


def live_settings() -> dict[str, Any]:
    """What an index serving searches has: periodic refreshes and its copies on the other nodes."""
    return {"refresh_interval": SETTINGS["refresh_interval"], "auto_expand_replicas": settings.SEARCH_INDEX_REPLICAS}


def versioned_index(name: str, *, alias: str, bulk_load: bool = False) -> Index:
    """A new index of AssetIndex's design named `name`, created with `alias` pointing at it.
    `bulk_load`: no refreshes and no replicas while a rebuild fills it (one refresh at the end, and
    copying the finished files to the other nodes, are far cheaper than doing the work on each)."""
    index = AssetIndex._index.clone(name=name)
    index.aliases(**{alias: {}})
    if bulk_load:
        index.settings(refresh_interval="-1", auto_expand_replicas=False, number_of_replicas=0)
    else:
        index.settings(**live_settings())
    return index


def index_body() -> dict[str, Any]:
    """The whole index definition as the engine receives it (tests read the analyzers from it)."""
    body: dict[str, Any] = AssetIndex._index.to_dict()
    return body


class NoSignalProcessor(BaseSignalProcessor):
    """OPENSEARCH_DSL_SIGNAL_PROCESSOR: connects to no model signal (the package's default connects to
    every model's save and delete), since writes reach the index only through the indexing tasks."""

    def setup(self) -> None:
        return None

    def teardown(self) -> None:
        return None

    def handle_save(self, sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
        return None

    def handle_pre_delete(self, sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
        return None

    def handle_m2m_changed(self, sender: type[models.Model], instance: models.Model, action: str,
                           **kwargs: Any) -> None:
        return None
