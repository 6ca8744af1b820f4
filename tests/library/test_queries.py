"""The pages' query plans and counts: indexes are used, and counts do not grow with the data."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.library.models import Asset, Kind, Status, Visibility
from portal.library.selectors import BrowseFilters, asset_list

pytestmark = pytest.mark.django_db


def bulk_assets(owner, count: int) -> None:
    rng = random.Random(7)
    now = timezone.now()
    Asset.objects.bulk_create([
        Asset(kind=rng.choice(list(Kind)), title=f"Asset {n}", slug=f"asset-{n}", owner=owner,
              status=rng.choices([Status.PUBLISHED, Status.DRAFT], weights=[8, 2])[0],
              visibility=rng.choices(list(Visibility), weights=[8, 1, 1])[0],
              published_at=now - timezone.timedelta(minutes=n))
        for n in range(count)
    ], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE library_asset")


@pytest.mark.parametrize("filters", [
    BrowseFilters(), BrowseFilters(kind="audio"), BrowseFilters(sort="title"), BrowseFilters(sort="oldest"),
    BrowseFilters(kind="image", sort="title"),
], ids=["newest", "kind", "title", "oldest", "kind-title"])
def test_browse_query_uses_an_index_scan(editor, filters):
    bulk_assets(editor, 4000)
    plan = asset_list(filters=filters)[:24].explain()
    # One of the partial "listed" indexes (the planner picks which by selectivity), never a table scan.
    assert "Seq Scan on library_asset" not in plan, plan
    assert "Index Scan using asset_listed_" in plan or "Index Scan Backward using asset_listed_" in plan, plan


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("count", [10, 200])
def test_browse_and_detail_query_counts_do_not_grow_with_the_data(
        client, asset_factory, tag_factory, collection_factory, count):
    tags = [tag_factory(name=f"t{n}") for n in range(5)]
    collections = [collection_factory() for _ in range(3)]
    assets = [asset_factory(tags=tags[: n % 5 + 1], collections=collections[: n % 3]) for n in range(count)]
    # Uncached: count, page, tags of the page, and three facet groupings.
    assert len(_queries(client, "/browse/")) == 6
    # Detail: the asset with its owner, its tags, its collections, its caption tracks (a video or audio
    # player's), and the view event's one outbox insert (analytics). Never cached: it checks permissions.
    assert len(_queries(client, assets[0].get_absolute_url())) == 5
    # Cached: the browse page needs no query at all.
    assert len(_queries(client, "/browse/")) == 0
