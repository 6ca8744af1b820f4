"""Search on the two-node OpenSearch cluster (SCALE=2): with one replica per shard, either node can
be taken away while suggestions and searches run, and every one of them is answered by the engine
(none fails, none falls back to PostgreSQL). Taking away portal-1 is the hard case: it is the only
cluster manager, so portal-2 answers from the last cluster state it knew.

The tests start opensearch2 when it is not running and stop it again at the end, and bring back
every node they stop (finally), so the suite after them finds the topology it had."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from stackctl import config, stack
from stackctl.service import Service
from stackctl.services.opensearch import OpenSearch2

from portal.search.backends import get_search_backend
from portal.search.backends.base import SearchQuery
from portal.search.backends.opensearch import OpenSearchBackend, breaker, client
from portal.search.documents import with_relations
from portal.search.index import alias_name
from portal.search.selectors import search_run, search_suggest
from portal.search.services import search_setup
from tests.workers.conftest import wait_until

pytestmark = pytest.mark.django_db
NODES = f"http://{config.HOST}:{config.PORTS.opensearch},http://{config.HOST}:{config.PORTS.opensearch2}"
THREADS = 4
AFTER_STOP = 30  # rounds (a suggestion and a search each) answered once the node is gone
START_TIMEOUT_S = 300.0


@pytest.fixture(scope="module")
def second_node() -> Iterator[Service]:
    """opensearch2 joined to the cluster; stopped again afterwards if this module started it."""
    node = OpenSearch2()
    was_running = node.running()
    node.start()  # a no-op when it already runs (SCALE=2 `bin/stack up`)
    yield node
    if not was_running:
        node.stop()


@pytest.fixture
def cluster_index(second_node: Service, settings: Any, asset_factory: Any) -> Iterator[OpenSearchBackend]:
    """This test's index, found through both nodes, with one replica green and the assets searched for."""
    settings.SEARCH_URL = NODES
    settings.SEARCH_INDEX_PREFIX = f"{settings.SEARCH_INDEX_PREFIX}-{uuid.uuid4().hex[:10]}"
    # What is tested is that a node's absence fails nothing; a search slowed by a busy machine is not.
    settings.SEARCH_TIMEOUT_SECONDS = 10.0
    breaker.succeeded()
    engine = get_search_backend()
    assert isinstance(engine, OpenSearchBackend)
    name = search_setup()
    assert name is not None
    assets = [asset_factory(title="Harbour lanterns at dusk"), asset_factory(title="Lanterns by the harbour"),
              asset_factory(title="Meadow at noon")]
    engine.bulk_index(with_relations(type(assets[0]).objects.filter(pk__in=[a.pk for a in assets])))
    engine.refresh()
    wait_green(name)
    yield engine
    breaker.succeeded()
    engine.drop_all()


def wait_green(index: str = "") -> None:
    health = client().cluster.health(index=index or None, wait_for_status="green", timeout=f"{START_TIMEOUT_S:.0f}s",
                                     request_timeout=START_TIMEOUT_S + 10)
    assert health["status"] == "green", health


def copies(index: str) -> dict[str, str]:
    """Node name -> "p" or "r" for the index's one shard."""
    rows = client().cat.shards(index=index, format="json", h="node,prirep,state")
    return {row["node"]: row["prirep"] for row in rows if row["state"] == "STARTED"}


@dataclass
class Load:
    """Suggestions and searches, as visitors typing and submitting would send them."""

    answered: list[str] = field(default_factory=list)  # who answered each, in order
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    hits, source = search_suggest(text="harb")
                    self.check(source, [hit.title for hit in hits], "suggest")
                    results = search_run(query=SearchQuery(text="lanterns"))
                    self.check(results.source, [hit.title for hit in results.hits], "search")
                except Exception as error:  # noqa: BLE001 - every failure is counted, the test reports them
                    self.failures.append(repr(error))
        finally:
            connection.close()  # this thread's own (search_run reads tag and collection names)

    def check(self, source: str, titles: list[str], what: str) -> None:
        self.answered.append(source)
        if source != "opensearch":
            self.failures.append(f"{what} answered by {source}")
        elif sorted(titles) != ["Harbour lanterns at dusk", "Lanterns by the harbour"]:
            self.failures.append(f"{what} found {titles}")


def take_away_while_searching(node: Service) -> Load:
    """Stop `node` (SIGTERM) while the load runs, keep the load on for AFTER_STOP more rounds, then
    bring the node back and wait for green; the load is stopped before the node comes back."""
    load = Load()
    # Several threads, as a web process has: the client's pool of nodes is shared between them.
    threads = [threading.Thread(target=load.run, name=f"search-load-{n}") for n in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(load.answered) >= 10, timeout=60, what="searches before the stop")
        node.stop()
        before = len(load.answered)
        wait_until(lambda: len(load.answered) >= before + 2 * AFTER_STOP or load.failures, timeout=120,
                   what=f"{AFTER_STOP} rounds with {node.name} stopped")
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        node.start()
    wait_green()
    return load


def test_either_node_taken_away_fails_no_search(cluster_index, second_node):
    name = cluster_index.indices_behind(alias_name())[0]
    assert client().indices.get_settings(index=name)[name]["settings"]["index"]["number_of_replicas"] == "1"
    assert sorted(copies(name).values()) == ["p", "r"]
    assert set(copies(name)) == {"portal-1", "portal-2"}

    # portal-2 first: the client then still counts it out for a while when portal-1 goes (the
    # order in which a client left with no node it trusts must not fail a search).
    for node in (second_node, stack.service("opensearch")):
        load = take_away_while_searching(node)

        assert load.failures == [], node.name
        assert len(load.answered) >= 2 * AFTER_STOP
        assert set(load.answered) == {"opensearch"}  # never the PostgreSQL fallback
        assert not breaker.is_open
        # Both copies again: green may come first, with auto_expand_replicas yet to add the replica back.
        wait_until(lambda: sorted(copies(name)) == ["portal-1", "portal-2"], timeout=120, what="both copies again")
    assert search_suggest(text="harb")[1] == "opensearch"


def test_one_node_alone_is_green_with_no_replica(cluster_index, second_node):
    name = cluster_index.indices_behind(alias_name())[0]
    second_node.stop()
    try:
        # auto_expand_replicas 0-1: the replica goes with the node, and the index stays green.
        wait_until(lambda: client().indices.get_settings(index=name)[name]["settings"]["index"]
                   ["number_of_replicas"] == "0", timeout=60, what="the replica count to shrink to 0")
        wait_green(name)
        assert copies(name) == {"portal-1": "p"}
    finally:
        second_node.start()
    wait_green(name)
    assert set(copies(name)) == {"portal-1", "portal-2"}
