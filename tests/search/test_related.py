"""Related media: pgvector in the real PostgreSQL, embeddings from the real model (in this process),
the related selector's order and visibility, its plan, the page's fragment, and the trigger."""

from __future__ import annotations

import importlib
import math

import numpy
import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from portal.core.fragments import bump_generation
from portal.library import services as library
from portal.library.lifecycle import announce_asset
from portal.library.models import Asset, Status, Visibility
from portal.search import embeddings
from portal.search.models import AssetEmbedding
from portal.search.selectors import iterative_scan, related_assets, related_neighbours
from portal.search.services import embeddings_backfill, embeddings_write
from tests.jobs.conftest import queued_messages  # noqa: F401 - a fixture used by name
from tests.workers.conftest import broker_redis  # noqa: F401 - a fixture used by name
from workers.tasks.search import embed_asset

CHECK = importlib.import_module("portal.search.migrations.0003_vector_available")
pytestmark = pytest.mark.django_db


def cosine_distance(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return 1 - dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def stored(asset: Asset) -> list[float]:
    return [float(x) for x in AssetEmbedding.objects.get(asset=asset).embedding]


def test_the_extension_is_created_and_its_check_runs_alone_before_any_schema_change():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone() is not None
    CHECK.require_extension(connection)  # the real server has it: no error
    graph = MigrationLoader(connection).graph
    check = graph.nodes[("search", "0003_vector_available")]
    assert [type(operation).__name__ for operation in check.operations] == ["RunPython"]
    assert ("search", "0003_vector_available") in graph.nodes[("search", "0004_asset_embedding")].dependencies


def test_a_server_without_the_extension_stops_migrate_with_what_to_do():
    with pytest.raises(CHECK.ExtensionUnavailable) as raised:
        CHECK.require_extension(connection, "vector_absent_here")  # what a server without pgvector answers
    message = str(raised.value)
    assert '"vector_absent_here"' in message
    assert "not available on this server" in message
    assert "Nothing was changed" in message
    assert "then run migrate again" in message


def test_the_task_stores_384_unit_floats_from_title_description_tags_and_nothing_twice(asset_factory, tag_factory):
    asset = asset_factory(title="Harbour seals", description="Seals hauled out on a sandbank at low tide.")
    asset.tags.add(tag_factory(name="wildlife"))
    embed_asset(asset.pk)  # the Celery task's body, run here
    vector = stored(asset)
    assert len(vector) == embeddings.DIMENSIONS == 384
    assert all(isinstance(x, float) for x in vector)
    assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-4)
    text = "Harbour seals\nwildlife\nSeals hauled out on a sandbank at low tide."
    assert AssetEmbedding.objects.get(asset=asset).source_digest == embeddings.digest(text)

    fresh = Asset.objects.prefetch_related("tags").get(pk=asset.pk)
    assert embeddings_write(assets=[fresh]) == 0  # unchanged text: no model run, no write
    asset.title = "Grey seals"
    asset.save()
    embed_asset(asset.pk)
    assert cosine_distance(stored(asset), vector) > 0.01  # the new title moved the vector


def test_related_are_nearest_first_and_only_listed_ones(asset_factory, visitor):
    source = asset_factory(title="Humpback whales breaching", description="Whales leaping out of the ocean.")
    listed = [
        asset_factory(title="Orca pod hunting", description="Killer whales chase seals in the sea."),
        asset_factory(title="Dolphins at the bow", description="Dolphins swim beside a boat at sea."),
        asset_factory(title="Sourdough starter", description="Feeding a bread starter with flour and water."),
        asset_factory(title="Quarterly earnings", description="The company's revenue grew three percent."),
    ]
    hidden = [  # nearer than any listed one, and never shown
        asset_factory(title="Humpback whales breaching again", description="Whales leaping out of the ocean.",
                      owner=visitor, visibility=Visibility.PRIVATE),
        asset_factory(title="Humpback whale breach", description="Whales leaping out of the ocean.",
                      visibility=Visibility.UNLISTED),
        asset_factory(title="Humpback whales breaching, draft", description="Whales leaping out of the ocean.",
                      status=Status.DRAFT),
    ]
    assert embeddings_backfill(batch_size=3) == 8

    everything = related_assets(asset_id=source.pk, max_distance=2.0)  # no relevance cut
    by_distance = sorted(listed, key=lambda asset: cosine_distance(stored(asset), stored(source)))
    assert [asset.title for asset in everything] == [asset.title for asset in by_distance]
    assert [asset.distance for asset in everything] == sorted(asset.distance for asset in everything)
    assert not {asset.pk for asset in everything} & {asset.pk for asset in [source, *hidden]}
    # What the page shows: the model's sense, and nothing too far to be related.
    assert [asset.title for asset in related_assets(asset_id=source.pk)] == ["Orca pod hunting", "Dolphins at the bow"]
    # A private asset's page lists only listed ones too (its own embedding is the query, never a result).
    assert [asset.pk for asset in related_assets(asset_id=hidden[0].pk)] == [source.pk, listed[0].pk, listed[1].pk]


def test_the_related_query_walks_the_hnsw_index_at_a_realistic_size_past_hidden_neighbours(editor):
    """5,000 assets with random unit vectors (the plan depends on counts, not on meaning), one in ten
    private; and the source's 100 nearest are private near-copies of it, more than one index scan
    yields (ef_search 40): without iterative scanning the list would be empty. The planner's own
    choice, no enable_seqscan. The index is built after the rows are in (a bulk build, like after a
    backfill), in this test's transaction."""
    rng = numpy.random.default_rng(16)
    vectors = rng.standard_normal((5000, embeddings.DIMENSIONS)).astype(numpy.float32)
    vectors[1:101] = vectors[0] + 0.1 * vectors[1:101]  # near the source
    vectors /= numpy.linalg.norm(vectors, axis=1, keepdims=True)
    hidden = set(range(1, 101)) | set(range(0, 5000, 10)[1:])
    assets = Asset.objects.bulk_create(
        [Asset(kind="image", title=f"Random {n}", slug=f"random-{n}", owner=editor, status=Status.PUBLISHED,
               visibility=Visibility.PRIVATE if n in hidden else Visibility.PUBLIC) for n in range(5000)],
        batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX asset_embedding_hnsw")
        AssetEmbedding.objects.bulk_create([AssetEmbedding(asset=asset, embedding=vector, source_digest="random")
                                            for asset, vector in zip(assets, vectors, strict=True)], batch_size=1000)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign key checks, before the DDL
        cursor.execute(
            "CREATE INDEX asset_embedding_hnsw ON search_assetembedding "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        cursor.execute("ANALYZE library_asset; ANALYZE search_assetembedding")
        iterative_scan(cursor)
        plan = related_neighbours(asset_id=assets[0].pk, vector=vectors[0])[:6].explain()
    assert "Index Scan using asset_embedding_hnsw on search_assetembedding" in plan
    assert "Order By: (embedding <=>" in plan
    assert "Sort" not in plan  # nothing sorts the table: the index yields nearest first
    # Visibility is in the same query, on the rows the index yields (before the limit, not after it).
    assert "'published'" in plan
    assert "'public'" in plan
    related = related_assets(asset_id=assets[0].pk, max_distance=2.0)  # random vectors: all about 1 apart
    assert len(related) == 6
    assert all(asset.visibility == Visibility.PUBLIC for asset in related)
    assert assets[0].pk not in {asset.pk for asset in related}


def test_the_asset_page_shows_related_media_from_a_cached_fragment(asset_factory, client):
    source = asset_factory(title="Alpine meadow in bloom", description="Wildflowers on a mountain slope.")
    near = asset_factory(title="Edelweiss on the ridge", description="Mountain flowers above the tree line.")
    asset_factory(title="Private <b>gentian</b> study", description="Mountain flowers, blue ones.",
                  visibility=Visibility.PRIVATE)
    embeddings_backfill()
    page = client.get(reverse("library:asset", args=[source.slug])).content.decode()
    assert '<h2 id="related-heading">Related</h2>' in page
    assert f'href="{near.get_absolute_url()}"' in page
    assert "gentian" not in page

    AssetEmbedding.objects.filter(asset=near).delete()  # no announcement: the fragment is not rebuilt...
    assert f'href="{near.get_absolute_url()}"' in client.get(source.get_absolute_url()).content.decode()
    bump_generation()  # ...until the content generation moves, as any published change moves it
    assert "Edelweiss" not in client.get(source.get_absolute_url()).content.decode()


def test_edits_publication_and_processing_queue_the_embedding_on_bulk_after_commit(
        editor, broker_redis, queued_messages, django_capture_on_commit_callbacks):
    data = library.AssetData(title="Tide pools", kind="image", description="Anemones at low tide.")
    with django_capture_on_commit_callbacks(execute=True):
        asset = library.asset_create(owner=editor, data=data)
        assert queued_messages("bulk") == []  # nothing before commit
    with django_capture_on_commit_callbacks(execute=True):
        library.asset_update(asset_id=asset.pk, expected_version=1, data=data)
    with django_capture_on_commit_callbacks(execute=True):
        library.asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    with django_capture_on_commit_callbacks(execute=True):
        library.asset_set_published(asset_id=asset.pk, editor=editor, published=False)  # text unchanged: none
    announce_asset(asset.pk, "processed")  # what processing announces after commit (new extracted text)
    sent = [(message["headers"]["task"], message["headers"]["argsrepr"]) for message in queued_messages("bulk")]
    assert sent == [("search.embed_asset", f"[{asset.pk}]")] * 4  # created, updated, published, processed
