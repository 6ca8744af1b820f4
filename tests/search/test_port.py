"""The search port: one factory picks the engine from settings.SEARCH_BACKEND, services and
selectors see only the protocol, reads fall back along an explicit chain, the PostgreSQL fallback
has no write side, and the OpenSearch index is the one django-opensearch-dsl declares."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.apps import apps

from portal.library.models import Asset
from portal.search.backends import get_fallback_backend, get_search_backend, search_chain
from portal.search.backends.base import Hit, Progress, SearchQuery, SearchResults, SearchUnavailable
from portal.search.backends.database import DatabaseBackend
from portal.search.backends.opensearch import OpenSearchBackend, client
from portal.search.backends.opensearch_index import AssetIndex, NoSignalProcessor
from portal.search.index import alias_name
from portal.search.selectors import search_run, search_suggest
from portal.search.services import search_index_asset, search_reindex
from tests.search.engine import SERVER

pytestmark = pytest.mark.django_db
WRITES = ("setup", "index", "bulk_index", "delete", "ids_in_collection", "rebuild", "refresh")
# Under `make test-es` the engine is Elasticsearch: tests/search/test_elasticsearch.py checks its own declaration.
opensearch_only = pytest.mark.skipif(SERVER != "opensearch", reason="OpenSearch's own declaration and default")


def within(declared: object, live: object) -> bool:
    """Everything declared is in the live mapping (the engine adds its defaults to what it reports)."""
    if isinstance(declared, dict):
        return isinstance(live, dict) and all(key in live and within(value, live[key])
                                              for key, value in declared.items())
    return declared == live


class ListEngine:
    """A second engine, plugged in by the setting alone: keeps titles in a class-level dict."""

    name = "list"
    titles: dict[int, str] = {}
    down = False

    def health_check(self, timeout: float) -> None:
        return None

    def setup(self) -> str | None:
        return None

    def index(self, asset: Asset, *, refresh: bool = False) -> None:
        self.titles[asset.pk] = asset.title

    def bulk_index(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> int:
        for asset in assets:
            self.index(asset)
        return len(self.titles)

    def delete(self, asset_id: int, *, refresh: bool = False) -> None:
        self.titles.pop(asset_id, None)

    def ids_in_collection(self, collection_id: int) -> list[int]:
        return []

    def rebuild(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> str:
        self.titles.clear()
        self.bulk_index(assets)
        return "list-1"

    def refresh(self) -> None:
        return None

    def _hits(self, text: str) -> list[Hit]:
        if self.down:
            raise SearchUnavailable("the list engine is down")
        return [Hit(id=pk, slug="", title=title, title_html=title, snippet_html="", kind="", published_at=None)
                for pk, title in sorted(self.titles.items()) if text.lower() in title.lower()]

    def search(self, query: SearchQuery) -> SearchResults:
        hits = self._hits(query.text)
        return SearchResults(hits=hits, total=len(hits), source=self.name)

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]:
        return self._hits(text)[:limit]


@pytest.fixture
def list_engine(settings):
    settings.SEARCH_BACKEND = f"{__name__}.ListEngine"
    ListEngine.titles, ListEngine.down = {}, False
    return get_search_backend()


@opensearch_only
def test_the_default_engine_is_opensearch_and_the_chain_ends_in_postgresql():
    assert isinstance(get_search_backend(), OpenSearchBackend)
    assert get_search_backend() is get_search_backend()  # one instance per process
    assert [backend.name for backend in search_chain()] == ["opensearch", "database"]


def test_the_fallback_is_read_only_by_type():
    fallback = get_fallback_backend()
    assert isinstance(fallback, DatabaseBackend)
    assert [name for name in WRITES if hasattr(fallback, name)] == []
    assert [name for name in WRITES if not hasattr(get_search_backend(), name)] == []


def test_a_second_engine_plugs_in_by_the_setting_alone(list_engine, asset_factory):
    puffin = asset_factory(title="Puffin colony")
    asset_factory(title="Harbour at dusk")
    search_index_asset(asset_id=puffin.pk)  # what the indexing task calls
    assert list_engine.titles == {puffin.pk: "Puffin colony"}
    assert search_reindex() == "list-1"
    assert len(list_engine.titles) == 2
    found = search_run(query=SearchQuery(text="puffin"))
    assert (found.source, [hit.title for hit in found.hits]) == ("list", ["Puffin colony"])
    puffin_id = puffin.pk
    puffin.delete()
    search_index_asset(asset_id=puffin_id)
    assert puffin_id not in list_engine.titles


def test_reads_fall_back_to_postgresql_when_the_engine_fails(list_engine, asset_factory):
    asset_factory(title="Puffin colony")
    list_engine.down = True
    found = search_run(query=SearchQuery(text="puffin"))
    assert (found.source, [hit.title for hit in found.hits]) == ("database", ["Puffin colony"])
    hits, source = search_suggest(text="puff")
    assert (source, [hit.title for hit in hits]) == ("database", ["Puffin colony"])


@opensearch_only
def test_the_live_index_is_the_one_django_opensearch_dsl_declares(search_index):
    mapping = client().indices.get_mapping(index=alias_name())
    (live,) = mapping.values()
    assert within(AssetIndex._doc_type.mapping.to_dict(), live["mappings"])
    analysis = next(iter(client().indices.get_settings(index=alias_name()).values()))["settings"]["index"]["analysis"]
    assert set(analysis["analyzer"]) == {"folded_english", "autocomplete", "autocomplete_search"}


@opensearch_only
def test_the_package_syncs_nothing_on_model_signals(search_index, asset_factory):
    assert isinstance(apps.get_app_config("django_opensearch_dsl").signal_processor, NoSignalProcessor)
    asset_factory(title="Saved, never indexed by a signal")
    search_index.refresh()
    assert client().count(index=alias_name())["count"] == 0
