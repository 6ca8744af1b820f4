"""The periodic tasks and what analytics hears from the library and search."""

from __future__ import annotations

import pytest

from portal.analytics.models import OutboxEntry
from portal.analytics.services import event_record, visitor_hash
from portal.integrations import mongo
from portal.library.services import AssetData, CollectionData, asset_create, collection_create
from portal.search.signals import search_performed
from tests.resets import reset_mongo_client
from workers.tasks import analytics as tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_ship_task_moves_the_outbox_and_waits_quietly_when_mongodb_is_down(mongo_db, settings, caplog):
    for _ in range(3):
        event_record(kind="download", asset_id=4)
    settings.MONGODB_URL = "mongodb://127.0.0.1:9/portal"
    settings.MONGODB_TIMEOUT_MS = 200
    reset_mongo_client()
    assert tasks.ship() == 0
    assert "MongoDB unavailable" in caplog.text
    assert OutboxEntry.objects.count() == 3
    settings.MONGODB_URL = "mongodb://127.0.0.1:37017/portal"
    reset_mongo_client()
    assert tasks.ship() == 3
    assert mongo.count(mongo.EVENTS, {"type": "download"}) == 3


def test_the_expire_task_deletes_events_older_than_the_kept_days(mongo_db, settings):
    settings.ANALYTICS_KEEP_DAYS = 30
    mongo.insert_new(mongo.EVENTS, [{"_id": 1, "type": "view", "day": "2000-01-01"},
                                    {"_id": 2, "type": "view", "day": "2999-01-01"}])
    assert tasks.expire() == 1
    assert [d["_id"] for d in mongo.find(mongo.EVENTS, {})] == [2]


def test_editor_actions_and_searches_become_events_without_the_searchers_identity(mongo_db, editor, rf):
    asset = asset_create(owner=editor, data=AssetData(title="Signal test", kind="video"))
    collection = collection_create(owner=editor, data=CollectionData(title="Signal set"))
    request = rf.get("/search/?q=x", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser/1")
    request.user = editor
    search_performed.send(sender=None, query="Harbour  BELLS", result_count=3, request=request, source="results")
    search_performed.send(sender=None, query="   ", result_count=0, request=request, source="results")
    rows = [row.payload for row in OutboxEntry.objects.order_by("id")]
    assert {"type": "editor", "asset_id": asset.pk, "change": "created", "visitor": None} in rows
    assert {"type": "editor", "asset_id": None, "collection_id": collection.pk, "change": "created",
            "visitor": None} in rows
    search = next(row for row in rows if row["type"] == "search")
    assert search["query"] == "harbour bells"
    assert (search["result_count"], search["source"]) == (3, "results")
    assert search["visitor"] == visitor_hash(request)
    assert "203.0.113.9" not in str(search)
    # Not in any value (a substring test failed whenever the hex visitor hash happened to contain "ed").
    assert not {editor.username, editor.pk, str(editor.pk)} & {v for v in search.values() if not isinstance(v, dict)}
    assert set(search) == {"type", "asset_id", "visitor", "query", "result_count", "source"}
    assert sum(row["type"] == "search" for row in rows) == 1  # a blank query is no search


def test_the_refresh_task_keeps_the_page_on_caches_so_it_never_waits_on_an_aggregation(mongo_db, asset_factory,
                                                                                     client_as, editor):
    asset = asset_factory(title="Warm clip")
    for _ in range(2):
        event_record(kind="play", asset_id=asset.pk)
    tasks.ship()
    tasks.refresh()
    mongo.delete_many(mongo.EVENTS, {})  # what the page shows now can only come from the refreshed caches
    page = client_as(editor).get("/studio/analytics/").content.decode()
    assert "0 views, 2 plays" in page
    assert "Warm clip" in page
