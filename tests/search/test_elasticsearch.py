"""The Elasticsearch engine's own declaration, checked only when the search tests run on it
(`make test-es`: SEARCH_BACKEND names the Elasticsearch backend, in .venv-es). Every other test
of tests/search runs there too, against the real 7.10 node."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps

from tests.search.engine import SERVER

if SERVER != "elasticsearch":
    pytest.skip("the search tests run on OpenSearch here (make test-es runs them on Elasticsearch)",
                allow_module_level=True)

from portal.search.backends import elasticsearch_index, get_search_backend, opensearch_index, search_chain
from portal.search.backends.base import SearchQuery
from portal.search.backends.elasticsearch import ElasticsearchBackend, client
from portal.search.backends.elasticsearch_index import AssetIndex
from portal.search.index import alias_name

pytestmark = pytest.mark.django_db


def declared_in(declared: object, live: object) -> bool:
    """Everything declared is in the live mapping (the engine adds its defaults to what it reports)."""
    if isinstance(declared, dict):
        return isinstance(live, dict) and all(key in live and declared_in(value, live[key])
                                               for key, value in declared.items())
    return declared == live


def test_the_setting_picks_elasticsearch_and_the_chain_ends_in_postgresql():
    assert isinstance(get_search_backend(), ElasticsearchBackend)
    assert [backend.name for backend in search_chain()] == ["elasticsearch", "database"]


def test_the_node_is_elasticsearch_7_oss():
    version = client().info()["version"]
    assert (version["number"].split(".")[0], version["build_flavor"]) == ("7", "oss")


def test_the_live_index_is_the_one_django_elasticsearch_dsl_declares(search_index):
    (live,) = client().indices.get_mapping(index=alias_name()).values()
    assert declared_in(AssetIndex._doc_type.mapping.to_dict(), live["mappings"])
    analysis = next(iter(client().indices.get_settings(index=alias_name()).values()))["settings"]["index"]["analysis"]
    assert set(analysis["analyzer"]) == {"folded_english", "autocomplete", "autocomplete_search"}
    assert set(analysis["normalizer"]) == {"folded"}


def test_both_engines_declare_the_same_index():
    """The two Document classes are twins, one per dsl package: a field or analyzer added to one
    and not the other fails here, not in production on the other engine."""
    assert elasticsearch_index.index_body() == opensearch_index.index_body()


def test_the_package_syncs_nothing_on_model_signals(search_index, asset_factory):
    assert not apps.is_installed("django_elasticsearch_dsl")  # so no signal processor is connected
    asset_factory(title="Saved, never indexed by a signal")
    search_index.refresh()
    assert client().count(index=alias_name())["count"] == 0


def test_a_search_logs_nothing_below_warning(search_index, caplog):
    """elasticsearch-py logs every request at INFO and formats it as a curl command for its trace
    logger: noise at best, and milliseconds a search (the settings quiet it, as opensearch-py)."""
    with caplog.at_level(logging.INFO):
        search_index.search(SearchQuery(text="anything"))
    assert [record for record in caplog.records if record.name.startswith("elasticsearch")] == []
