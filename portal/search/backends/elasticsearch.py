"""The Elasticsearch backend (7.x API; tested against 7.10.2 OSS): the OpenSearch backend's twin,
selected by SEARCH_BACKEND=portal.search.backends.elasticsearch.ElasticsearchBackend, with
SEARCH_URL pointing at the node. Same index design (backends/elasticsearch_index.py), same query
DSL (portal.search.queries), same versioned indexes behind an alias, same breaker discipline.

Its clients (elasticsearch 7.13, elasticsearch-dsl 7.4, django-elasticsearch-dsl 7.4) are the
`elasticsearch` extra, installed into .venv-es by bin/venv-es: 7.14 and later refuse a 7.10 node,
and they pin urllib3 below 2. With this module and elasticsearch_index.py, the only importers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any, TypeVar, cast

from django.conf import settings
from elasticsearch import ConflictError, Elasticsearch, NotFoundError, RequestError, TransportError
from elasticsearch import ConnectionError as ClientConnectionError
from elasticsearch.helpers import bulk

from portal.core.breaker import CircuitBreaker
from portal.library.models import Asset
from portal.search import index as design
from portal.search.backends.base import (
    Bucket,
    Document,
    Hit,
    Progress,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    client_options,
)
from portal.search.backends.elasticsearch_index import SETTINGS, AssetIndex, versioned_index

# Turning documents and responses into our types is engine-neutral: the same code for both.
from portal.search.backends.opensearch import _batches, _hit, _status, _version
from portal.search.queries import FACET_SIZES, search_body, suggest_body

log = logging.getLogger(__name__)
T = TypeVar("T")
BULK_BATCH = 500
ADMIN_TIMEOUT_S = 120  # index administration on a large index; searches get SEARCH_TIMEOUT_SECONDS
breaker = CircuitBreaker("search engine", lambda: settings.SEARCH_BREAKER_SECONDS)


@cache
def _client(url: str, timeout: float) -> Elasticsearch:
    # One client (and connection pool) per process, as for OpenSearch.
    return Elasticsearch(**client_options(url), timeout=timeout, maxsize=25)


def client() -> Elasticsearch:
    return _client(settings.SEARCH_URL, settings.SEARCH_TIMEOUT_SECONDS)


def _guarded(call: Callable[[], T]) -> T:
    """Run one engine call through the breaker; every client error becomes SearchUnavailable."""
    if not breaker.allows():
        raise SearchUnavailable("the search engine failed recently; skipped until the cooldown ends")
    try:
        result = call()
    except NotFoundError as error:  # no index yet (search_setup not run): not a dead node
        breaker.succeeded()
        raise SearchUnavailable(f"no search index: {error}") from error
    except RequestError as error:  # the engine answered and refused this request: not a dead node
        breaker.succeeded()
        raise SearchUnavailable(f"request refused: {error}") from error
    except (ClientConnectionError, TransportError) as error:
        breaker.failed()
        raise SearchUnavailable(str(error)) from error
    breaker.succeeded()
    return result


class ElasticsearchBackend:
    """A SearchBackend (portal.search.backends.base) on Elasticsearch 7.x."""

    name = "elasticsearch"

    def health_check(self, timeout: float) -> None:
        """Raise unless the cluster answers with status yellow or green within `timeout` seconds."""
        try:
            health = _client(settings.SEARCH_URL, timeout).cluster.health()
        except (ClientConnectionError, TransportError) as error:
            raise SearchUnavailable(str(error)) from error
        if health.get("status") not in ("yellow", "green"):
            raise SearchUnavailable(f"cluster status {health.get('status')!r}")

    # ----- index lifecycle -------------------------------------------------------------
    def indices_behind(self, alias: str) -> list[str]:
        return list(client().indices.get_alias(name=alias, ignore=404).keys() - {"error", "status"})

    def setup(self) -> str | None:
        """Create a versioned index and the alias if there is no alias; returns the new index or None.
        An existing index gets fields added to AssetIndex since (a changed analyzer needs a reindex)."""
        if client().indices.exists_alias(name=design.alias_name()):
            client().indices.put_mapping(index=design.alias_name(), body=AssetIndex._doc_type.mapping.to_dict(),
                                         request_timeout=ADMIN_TIMEOUT_S)
            return None
        name = design.new_index_name()
        versioned_index(name, alias=design.alias_name()).create(using=client(), request_timeout=ADMIN_TIMEOUT_S)
        return name

    def drop_all(self) -> None:
        """Delete every index of this prefix (tests and benchmarks clean up with it)."""
        client().indices.delete(index=f"{design.alias_name()}-v*", ignore=404, request_timeout=ADMIN_TIMEOUT_S)

    def refresh(self) -> None:
        client().indices.refresh(index=design.alias_name(), request_timeout=ADMIN_TIMEOUT_S)

    def _write_targets(self) -> list[str]:
        targets = self.indices_behind(f"{design.alias_name()},{design.building_alias_name()}")
        if not targets:
            raise SearchUnavailable("no search index: run manage.py search_setup")
        return targets

    # ----- writes -------------------------------------------------------------------
    def index(self, asset: Asset, *, refresh: bool = False) -> None:
        document = AssetIndex().prepare(asset)

        def write() -> None:
            for target in self._write_targets():
                try:
                    client().index(index=target, id=str(document["id"]), body=document, refresh=refresh,
                                   version=_version(document), version_type="external_gte")
                except ConflictError:  # a newer state is already there (tasks can finish out of order)
                    continue

        _guarded(write)

    def delete(self, asset_id: int, *, refresh: bool = False) -> None:
        # Deleted "now", as an external version: the tombstone refuses a late write of an older state.
        def remove() -> None:
            for target in self._write_targets():
                client().delete(index=target, id=str(asset_id), refresh=refresh, ignore=[404, 409],
                                version=time.time_ns() // 1000, version_type="external")

        _guarded(remove)

    def bulk_index(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> int:
        return self.write_documents(map(AssetIndex().prepare, assets), progress=progress)

    def write_documents(self, documents: Iterable[Document], *, progress: Progress | None = None,
                        index: str | None = None) -> int:
        """Bulk-write prepared documents to `index`, or to every index behind both aliases."""
        targets = [index] if index else self._write_targets()
        written = 0
        for batch in _batches(documents, BULK_BATCH):
            actions = [{"_index": target, "_id": str(doc["id"]), "_source": doc, "_version": _version(doc),
                        "_version_type": "external_gte"} for target in targets for doc in batch]
            # elasticsearch's own bulk helper: the package's Document.bulk writes through its global
            # connection, which this portal does not configure. Without raise_on_error, a list.
            _, errors = _guarded(partial(bulk, client(), actions, request_timeout=60, raise_on_error=False))
            # 409: a live write got there first with a newer state; keep it.
            failed = [error for error in cast(list[Any], errors) if _status(error) != 409]
            if failed:
                raise SearchUnavailable(f"{len(failed)} document(s) refused, e.g. {failed[0]}")
            written += len(batch)
            if progress:
                progress(len(batch))
        return written

    def rebuild(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> str:
        """Fill a new versioned index while the old one serves, then swap the alias in one atomic
        request and drop the old index. Live writes reach both meanwhile (the building alias)."""
        return self.rebuild_documents(map(AssetIndex().prepare, assets), progress=progress)

    def rebuild_documents(self, documents: Iterable[Document], *, progress: Progress | None = None) -> str:
        alias, building = design.alias_name(), design.building_alias_name()
        for leftover in self.indices_behind(building):  # a rebuild killed outright (SIGKILL) left it
            log.warning("dropping %s, left half-built by an interrupted rebuild", leftover)
            client().indices.delete(index=leftover, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
        name = design.new_index_name()
        versioned_index(name, alias=building, bulk_load=True).create(using=client(), request_timeout=ADMIN_TIMEOUT_S)
        try:
            self.write_documents(documents, progress=progress, index=name)
            live_refresh = {"index": {"refresh_interval": SETTINGS["refresh_interval"]}}
            client().indices.put_settings(index=name, body=live_refresh, request_timeout=ADMIN_TIMEOUT_S)
            client().indices.refresh(index=name, request_timeout=ADMIN_TIMEOUT_S)
            old = self.indices_behind(alias)
            actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
            actions += [{"add": {"index": name, "alias": alias}}, {"remove": {"index": name, "alias": building}}]
            client().indices.update_aliases(body={"actions": actions}, request_timeout=ADMIN_TIMEOUT_S)
        except BaseException:
            # A failed or interrupted rebuild leaves the live index alone and removes its own.
            client().indices.delete(index=name, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
            raise
        for index in old:
            client().indices.delete(index=index, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
        return name

    def ids_in_collection(self, collection_id: int) -> list[int]:
        body = {"query": {"term": {"collection_ids": collection_id}}, "_source": False, "size": 10_000}
        response = _guarded(lambda: client().search(index=design.alias_name(), body=body))
        return [int(raw["_id"]) for raw in response["hits"]["hits"]]

    # ----- reads --------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResults:
        response = _guarded(lambda: client().search(index=design.alias_name(), body=search_body(query)))
        facets = {
            name: [Bucket(value=str(b["key"]), count=b["doc_count"])
                   for b in response["aggregations"][name]["values"]["buckets"]]
            for name in FACET_SIZES
        }
        return SearchResults(hits=[_hit(raw) for raw in response["hits"]["hits"]],
                             total=response["hits"]["total"]["value"], facets=facets, took_ms=response["took"],
                             source=self.name)

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]:
        # The shard request cache answers a repeated keystroke until the next refresh that changed the index.
        response = _guarded(lambda: client().search(index=design.alias_name(), body=suggest_body(text, limit=limit),
                                                    request_cache=True))
        return [_hit(raw) for raw in response["hits"]["hits"]]

    def took(self, text: str) -> int:
        """The engine's own time for the suggest query of `text` (benchmarks print it beside ours)."""
        body = suggest_body(text, limit=8)
        return int(client().search(index=design.alias_name(), body=body, request_cache=True)["took"])
