"""The page memo (portal.core.pagecache.PageMemo): anonymous pages kept in each web process, stamped
with the content generation, which the process trusts for PAGE_MEMO_TRUST_SECONDS. Against the real
Redis of the suite's cache; the trust window's clock is a fake one (no test waits on time)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from portal.core.fragments import GENERATION_KEY, RequestCache, bump_generation
from portal.core.pagecache import PageMemo
from portal.library.models import Asset
from tests.library.test_caching import CountingConnection

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = (b"<html>page</html>", [("Content-Type", "text/html")])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fresh_cache():
    cache.clear()
    bump_generation()
    yield
    cache.clear()


def test_the_generation_is_trusted_for_the_window_then_read_again(fresh_cache):
    clock = Clock()
    memo = PageMemo(8, trust_seconds=1.0, clock=clock)
    first = memo.generation(RequestCache())
    memo.put("k", first, PAGE)
    bump_generation()  # a write in another process
    clock.now += 0.5
    assert memo.generation(RequestCache()) == first  # within the window: no question to Redis, stale
    assert memo.get("k") == (first, PAGE)
    clock.now += 0.6
    assert memo.generation(RequestCache()) == first + 1  # past it: read again, the page is stale
    assert memo.get("k")[0] != first + 1


def test_no_window_asks_every_time(fresh_cache):
    memo = PageMemo(8, trust_seconds=0.0, clock=Clock())
    before = memo.generation(RequestCache())
    bump_generation()
    assert memo.generation(RequestCache()) == before + 1


def test_nothing_is_remembered_without_a_generation(fresh_cache):
    cache.clear()  # a flushed cache server: no generation to stamp pages with
    memo = PageMemo(8, trust_seconds=1.0, clock=Clock())
    assert memo.generation(RequestCache()) is None
    memo.put("k", None, PAGE)
    assert memo.get("k") is None
    assert memo.confirmed is None


def test_the_memo_keeps_only_the_most_recently_used_pages():
    memo = PageMemo(2, trust_seconds=1.0)
    memo.put("a", 5, PAGE)
    memo.put("b", 5, PAGE)
    memo.get("a")  # used: "b" is now the oldest
    memo.put("c", 5, PAGE)
    assert memo.get("b") is None
    assert memo.get("a") is not None
    assert memo.get("c") is not None


def test_a_generation_never_comes_back_after_a_flush(fresh_cache):
    """Seeded from the clock: a page stamped before the flush cannot pass for fresh after it."""
    for _ in range(3):
        bump_generation()
    before = cache.get(GENERATION_KEY)
    cache.clear()
    bump_generation()
    assert cache.get(GENERATION_KEY) > before


def test_a_remembered_page_costs_no_round_trip_within_the_window(settings, asset_factory):
    redis_cache = settings.CACHES["default"]
    settings.CACHES = {"default": {**redis_cache, "LOCATION": f"{redis_cache['LOCATION']}?client_name=page-memo",
                                   "OPTIONS": {**redis_cache.get("OPTIONS", {}),
                                               "CONNECTION_POOL_KWARGS": {"connection_class": CountingConnection}}}}
    settings.PAGE_MEMO_TRUST_SECONDS = 3600.0  # read when the client builds its middleware: below
    cache.clear()
    asset = asset_factory(title="Remembered title")
    bump_generation()
    visitor = Client()
    assert "Remembered title" in visitor.get("/browse/").content.decode()  # a miss: built and remembered
    before = CountingConnection.sent
    assert "Remembered title" in visitor.get("/browse/").content.decode()
    assert CountingConnection.sent == before  # not one command to Redis
    # Within the window even a write shows late, like the balancer's microcache: the documented cost.
    Asset.objects.filter(pk=asset.pk).update(title="Renamed title")
    bump_generation()
    assert "Remembered title" in visitor.get("/browse/").content.decode()
    # A process that never saw the page (another worker, a new Client) asks Redis and gets the new one.
    assert "Renamed title" in Client().get("/browse/").content.decode()
