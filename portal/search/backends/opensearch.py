"""The OpenSearch backend: with opensearch_index.py, the only modules that import the search client.

Writes go to every index behind the alias and behind the "building" alias, so a reindex in
progress misses no live change. Reads go through the alias. Every call has a short timeout and
passes the circuit breaker, so a dead node costs one timeout per cooldown, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import cache, partial
from itertools import islice
from typing import Any, TypeVar

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from opensearchpy import ConflictError, NotFoundError, OpenSearch, RequestError, TransportError
from opensearchpy import ConnectionError as ClientConnectionError

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
    highlighted,
)
from portal.search.backends.opensearch_index import AssetIndex, live_settings, versioned_index
from portal.search.queries import FACET_SIZES, search_body, suggest_body

log = logging.getLogger(__name__)
T = TypeVar("T")
BULK_BATCH = 500
# Index administration (create, refresh after a bulk load, alias swap, delete) may take seconds on
# a large index; only searches and single-document writes get the short SEARCH_TIMEOUT_SECONDS.
ADMIN_TIMEOUT_S = 120
breaker = CircuitBreaker("search engine", lambda: settings.SEARCH_BREAKER_SECONDS)


@cache
def _client(url: str, timeout: float) -> OpenSearch:
    # One client (and connection pool) per process: a new TCP connection per search costs more than the search.
    return OpenSearch(**client_options(url), timeout=timeout, maxsize=25)


def client() -> OpenSearch:
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


def _version(document: Document) -> int:
    """The document's external version: when its asset last changed, in microseconds."""
    return int(datetime.fromisoformat(document["updated_at"]).timestamp() * 1_000_000)


def _status(bulk_error: Any) -> int | None:
    """The HTTP status of one item of a bulk response's errors: {"index": {"status": 409, ...}}."""
    if not isinstance(bulk_error, dict) or not bulk_error:
        return None
    item: dict[str, Any] = next(iter(bulk_error.values()))
    return item.get("status")


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class OpenSearchBackend:
    """A SearchBackend (portal.search.backends.base); SEARCH_BACKEND names it by default."""

    name = "opensearch"

    def health_check(self, timeout: float) -> None:
        """Raise unless the cluster answers with status yellow or green within `timeout` seconds."""
        try:
            health = _client(settings.SEARCH_URL, timeout).cluster.health()  # answers at once; no wait_for_status
        except (ClientConnectionError, TransportError) as error:
            raise SearchUnavailable(str(error)) from error
        if health.get("status") not in ("yellow", "green"):
            raise SearchUnavailable(f"cluster status {health.get('status')!r}")

    # ----- index lifecycle -------------------------------------------------------------
    def indices_behind(self, alias: str) -> list[str]:
        return list(client().indices.get_alias(name=alias, ignore=404).keys() - {"error", "status"})

    def setup(self) -> str | None:
        """Create a versioned index and the alias if there is no alias; returns the new index or None."""
        if client().indices.exists_alias(name=design.alias_name()):
            # An index made before a field was added to AssetIndex gets it now (the release runs
            # this), so strict-mapped writes of the new field do not fail. Only additions apply in
            # place; a changed analyzer needs `search_reindex`.
            client().indices.put_mapping(index=design.alias_name(), body=AssetIndex._doc_type.mapping.to_dict(),
                                         request_timeout=ADMIN_TIMEOUT_S)
            # So do its replicas (an index made for one node gets its copy on a second).
            client().indices.put_settings(index=design.alias_name(), body={"index": live_settings()},
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
        # Deleted "now", as an external version: the tombstone refuses a late write of an older
        # state (a task that read the asset just before it was deleted) for index.gc_deletes (60 s).
        def remove() -> None:
            for target in self._write_targets():
                client().delete(index=target, id=str(asset_id), refresh=refresh, ignore=[404, 409],
                                version=time.time_ns() // 1000, version_type="external")

        _guarded(remove)

    def bulk_index(self, assets: Iterable[Asset], *, progress: Progress | None = None) -> int:
        return self.write_documents(map(AssetIndex().prepare, assets), progress=progress)

    def write_documents(self, documents: Iterable[Document], *, progress: Progress | None = None,
                        index: str | None = None) -> int:
        """Bulk-write prepared documents (the benchmark writes generated ones) to `index`, or to every
        index behind the alias and the building alias."""
        targets = [index] if index else self._write_targets()
        writer, written = AssetIndex(), 0
        for batch in _batches(documents, BULK_BATCH):
            actions = [{"_index": target, "_id": str(doc["id"]), "_source": doc, "_version": _version(doc),
                        "_version_type": "external_gte"} for target in targets for doc in batch]
            _, errors = _guarded(partial(writer.bulk, actions, using=client(), request_timeout=60,
                                         raise_on_error=False))
            # A version conflict means a live write got there first with a newer state: keep it.
            failed = [error for error in errors if _status(error) != 409]
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
        """`rebuild` from prepared documents (the benchmark's generated ones)."""
        alias, building = design.alias_name(), design.building_alias_name()
        for leftover in self.indices_behind(building):  # a rebuild killed outright (SIGKILL) left it
            log.warning("dropping %s, left half-built by an interrupted rebuild", leftover)
            client().indices.delete(index=leftover, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
        name = design.new_index_name()
        # Bulk load without periodic refreshes; one refresh at the end, before the swap.
        versioned_index(name, alias=building, bulk_load=True).create(using=client(), request_timeout=ADMIN_TIMEOUT_S)
        try:
            self.write_documents(documents, progress=progress, index=name)
            client().indices.put_settings(index=name, body={"index": live_settings()}, request_timeout=ADMIN_TIMEOUT_S)
            client().indices.refresh(index=name, request_timeout=ADMIN_TIMEOUT_S)
            self._wait_for_copies(name)
            old = self.indices_behind(alias)
            actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
            actions += [{"add": {"index": name, "alias": alias}}, {"remove": {"index": name, "alias": building}}]
            client().indices.update_aliases(body={"actions": actions}, request_timeout=ADMIN_TIMEOUT_S)
        except BaseException:
            # A failed or interrupted (Ctrl-C, a task's time limit) rebuild leaves the live index
            # alone and removes its own half-built one, which would otherwise keep taking live writes.
            client().indices.delete(index=name, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
            raise
        for index in old:
            client().indices.delete(index=index, ignore=404, request_timeout=ADMIN_TIMEOUT_S)
        return name

    def _wait_for_copies(self, index: str) -> None:
        """Before an index takes the alias, let its replicas finish copying (green), so losing a node
        right after the swap loses no search; after ADMIN_TIMEOUT_S, swap anyway (they keep copying)."""
        health = client().cluster.health(index=index, wait_for_status="green", timeout=f"{ADMIN_TIMEOUT_S}s",
                                         request_timeout=ADMIN_TIMEOUT_S + 10)
        if health.get("timed_out"):
            log.warning("%s is %s after %d s; swapping the alias anyway", index, health.get("status"), ADMIN_TIMEOUT_S)

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
                             total=response["hits"]["total"]["value"], facets=facets, took_ms=response["took"])

    def suggest(self, text: str, *, limit: int = 8) -> list[Hit]:
        # The shard request cache answers a repeated keystroke ("ha" is typed all day) until the next
        # refresh that changed the index; a hit costs no query at all.
        response = _guarded(lambda: client().search(index=design.alias_name(), body=suggest_body(text, limit=limit),
                                                    request_cache=True))
        return [_hit(raw) for raw in response["hits"]["hits"]]

    def took(self, text: str) -> int:
        """The engine's own time for the suggest query of `text` (benchmarks print it beside ours)."""
        body = suggest_body(text, limit=8)
        return int(client().search(index=design.alias_name(), body=body, request_cache=True)["took"])


def _hit(raw: dict[str, Any]) -> Hit:
    source, marks = raw["_source"], raw.get("highlight", {})
    title_marks = marks.get("title") or marks.get("title.prefix")
    snippet_marks = marks.get("description") or marks.get("text")
    if snippet_marks:
        snippet = highlighted(snippet_marks[0])
    else:
        snippet = mark_safe(escape(Truncator(source.get("description", "")).chars(160)))  # noqa: S308
    published = source.get("published_at")
    return Hit(
        id=int(source["id"]), slug=source["slug"], title=source["title"],
        title_html=highlighted(title_marks[0]) if title_marks else mark_safe(escape(source["title"])),  # noqa: S308
        snippet_html=snippet, kind=source.get("kind", ""),
        published_at=datetime.fromisoformat(published) if published else None, tags=tuple(source.get("tags", ())),
    )
