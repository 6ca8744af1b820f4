"""Zero-downtime rebuild: a thread searches without pause while the index is rebuilt and the alias
swapped; not one query fails or comes back empty. A change made during the rebuild is kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from portal.library.models import Asset
from portal.search.backends.base import SearchQuery, SearchUnavailable
from portal.search.documents import all_assets
from portal.search.index import alias_name
from portal.search.services import search_index_asset, search_reindex, search_setup
from tests.search.engine import Backend, client

pytestmark = pytest.mark.django_db(transaction=True)  # the reindex reads rows the test committed


class Searcher(threading.Thread):
    """Searches through the alias in a loop, counting failures and empty answers."""

    def __init__(self, engine: Backend) -> None:
        super().__init__(daemon=True)
        self.engine, self.stop, self.queries, self.failures, self.empties = engine, threading.Event(), 0, [], 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                results = self.engine.search(SearchQuery(text="lantern"))
            except SearchUnavailable as error:
                self.failures.append(str(error))
            else:
                self.empties += results.total == 0
            self.queries += 1


def test_reindex_swaps_the_alias_while_searches_keep_answering(asset_factory, search_index):
    for n in range(300):
        asset_factory(title=f"Lantern {n}", description="Paper lanterns on the river.")
    search_index.bulk_index(all_assets())
    search_index.refresh()
    first = search_index.indices_behind(alias_name())
    searcher = Searcher(search_index)
    searcher.start()
    try:
        second = search_reindex()
        third = search_reindex()
    finally:
        searcher.stop.set()
        searcher.join(timeout=30)
    assert searcher.queries > 10
    assert searcher.failures == []
    assert searcher.empties == 0
    assert search_index.indices_behind(alias_name()) == [third]
    assert second not in first
    assert set(client().indices.get(index=f"{alias_name()}-v*")) == {third}  # the old indexes were dropped
    assert search_index.search(SearchQuery(text="lantern")).total == 300


def test_a_change_during_the_rebuild_reaches_the_new_index(asset_factory, search_index):
    kept = asset_factory(title="Lantern kept")
    search_index.bulk_index(all_assets())
    search_index.refresh()
    late = asset_factory(title="Lantern late")

    def assets_then_a_live_edit() -> Iterator[Asset]:
        yield from (asset for asset in all_assets() if asset.pk != late.pk)  # the rebuild's snapshot misses it
        search_index_asset(asset_id=late.pk)  # ...but a live write lands while the rebuild runs

    search_index.rebuild(assets_then_a_live_edit())
    search_index.refresh()
    titles = {hit.title for hit in search_index.search(SearchQuery(text="lantern")).hits}
    assert titles == {kept.title, late.title}


def test_setup_is_idempotent_and_the_command_reindexes(asset_factory, search_index, capsys):
    assert search_setup() is None  # the fixture made the alias: nothing to do
    asset_factory(title="Lantern festival")
    call_command("search_setup")
    assert "nothing to do" in capsys.readouterr().out
    call_command("search_reindex")
    captured = capsys.readouterr()
    assert "the alias now points at" in captured.out
    assert "reindex" in captured.err  # the progress bar
    assert [hit.title for hit in search_index.search(SearchQuery(text="festival")).hits] == ["Lantern festival"]
