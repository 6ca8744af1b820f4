"""Changes reach the index: the service for one asset (write, change, delete), a renamed or
deleted collection, and near real time through a real Celery worker fed by the library's signals."""

from __future__ import annotations

import pytest

from portal.integrations import s3
from portal.library import services as library
from portal.library.models import Asset, Visibility
from portal.search import health_check
from portal.search.backends.base import SearchQuery
from portal.search.documents import with_relations
from portal.search.selectors import search_run
from portal.search.services import search_index_asset, search_index_collection
from tests.storage import _isolated_storage, test_bucket  # noqa: F401 - autouse: ids and bucket of our own
from tests.workers.conftest import (  # noqa: F401 - fixtures used by name
    broker_redis,
    progress_redis,
    start_process,
    start_worker,
    work_dir,
    worker_env,
)
from tests.workers.conftest import (
    wait_until as shared_wait_until,
)

FOUND_TIMEOUT_S = 60.0  # a deadline for polling, not a speed claim (bench/search.py measures speed)


def titles(text: str) -> list[str]:
    return [hit.title for hit in search_run(query=SearchQuery(text=text)).hits]


@pytest.mark.django_db
def test_the_service_writes_rewrites_and_deletes_one_document(asset_factory, search_index):
    asset = asset_factory(title="Kingfisher")
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert titles("kingfisher") == ["Kingfisher"]
    asset.title, asset.visibility = "Kingfisher dive", Visibility.PRIVATE
    asset.save()
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert titles("kingfisher") == []
    asset.visibility = Visibility.PUBLIC
    asset.save()
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert titles("kingfisher") == ["Kingfisher dive"]
    asset_id = asset.pk
    asset.delete()
    search_index_asset(asset_id=asset_id, refresh=True)
    assert titles("kingfisher") == []
    search_index_asset(asset_id=asset_id, refresh=True)  # idempotent: deleting twice is fine


@pytest.mark.django_db
def test_a_renamed_or_deleted_collection_rewrites_its_assets(asset_factory, collection_factory, search_index):
    coast = collection_factory(title="Coastline")
    asset = asset_factory(title="Cliffs", collections=[coast])
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert titles("coastline") == ["Cliffs"]
    coast.title = "Shoreline"
    coast.save()
    search_index_collection(collection_id=coast.pk)
    search_index.refresh()
    assert titles("shoreline") == ["Cliffs"]
    coast_id = coast.pk
    coast.delete()
    search_index_collection(collection_id=coast_id)
    search_index.refresh()
    assert titles("shoreline") == []
    assert titles("cliffs") == ["Cliffs"]


@pytest.mark.django_db(transaction=True)
def test_edits_reach_the_index_through_a_real_worker(search_index, start_worker, editor, settings):
    worker = start_worker("interactive,bulk", SEARCH_INDEX_PREFIX=settings.SEARCH_INDEX_PREFIX)

    def wait_until(check, *, what):
        shared_wait_until(check, timeout=FOUND_TIMEOUT_S, what=what, explain=worker.tail)

    data = library.AssetData(title="Puffin colony", kind="image", description="Seabirds nesting on the cliff.")
    asset = library.asset_create(owner=editor, data=data)
    library.asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    wait_until(lambda: titles("puffin") == ["Puffin colony"], what="the new asset searchable")

    edited = library.AssetData(title="Puffin burrows", kind="image", description=data.description)
    library.asset_update(asset_id=asset.pk, expected_version=2, data=edited)
    wait_until(lambda: titles("burrows") == ["Puffin burrows"], what="the edit searchable")

    library.asset_set_published(asset_id=asset.pk, editor=editor, published=False)
    wait_until(lambda: titles("puffin") == [], what="the unpublished asset gone")
    library.asset_set_published(asset_id=asset.pk, editor=editor, published=True)
    wait_until(lambda: titles("puffin") == ["Puffin burrows"], what="republished")

    library.asset_delete(asset_id=asset.pk)
    wait_until(lambda: titles("puffin") == [], what="the deleted asset gone")


def test_health_check_answers_for_a_live_node_and_raises_for_a_dead_one(settings):
    health_check(timeout=2.0)  # returns None: the stack's node is up
    settings.SEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(Exception, match="onnection"):
        health_check(timeout=0.5)


@pytest.mark.django_db
def test_a_late_task_with_an_older_state_never_overwrites_a_newer_one(asset_factory, search_index):
    asset = asset_factory(title="Osprey")
    stale = with_relations(Asset.objects.filter(pk=asset.pk)).get()  # read by a slow task
    asset.title = "Osprey nest"
    asset.save()
    search_index_asset(asset_id=asset.pk, refresh=True)
    search_index.index(stale, refresh=True)  # the slow task finishes last
    assert titles("osprey") == ["Osprey nest"]
    asset_id = asset.pk
    asset.delete()
    search_index_asset(asset_id=asset_id, refresh=True)
    search_index.index(stale, refresh=True)  # read before the delete, written after it
    assert titles("osprey") == []


@pytest.mark.django_db
def test_extracted_document_text_is_read_from_its_rendition(asset_factory, search_index, settings):
    asset = asset_factory(title="Minutes", kind="document")
    prefix = f"renditions/{asset.pk}/job-1/"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=prefix + "text.txt",
           body=b"Page one.\fThe committee approved the new footbridge.", content_type="text/plain")
    try:
        asset.renditions_prefix, asset.renditions, asset.media = prefix, ["text.txt"], {"page_count": 2}
        asset.save()
        search_index_asset(asset_id=asset.pk, refresh=True)
        results = search_run(query=SearchQuery(text="footbridge"))
        assert [hit.title for hit in results.hits] == ["Minutes"]
        assert "<mark>footbridge</mark>" in results.hits[0].snippet_html
        assert "\f" not in results.hits[0].snippet_html  # pdftotext's page breaks are not shown as boxes
    finally:  # the bucket is shared with the other tests, which count what is in it
        s3.delete_prefix(bucket=settings.S3_PRIVATE_BUCKET, prefix=prefix)
