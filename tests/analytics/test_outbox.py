"""The transactional outbox: events written with the request, shipped idempotently, never lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection, transaction

from portal.analytics.models import OutboxEntry
from portal.analytics.services import event_record, outbox_ship, outbox_ship_all
from portal.integrations import mongo
from portal.library.models import Collection
from tests.resets import reset_mongo_client

T = TypeVar("T")


def _row_transaction(table: str, pk: int) -> int:
    """The id of the PostgreSQL transaction that wrote a row (its xmin)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT xmin::text::bigint FROM {table} WHERE id = %s", [pk])
        return int(cursor.fetchone()[0])


def _elsewhere(work: Callable[[], T]) -> T:
    """work() on another thread, so on another database connection: what another process sees."""
    results: list[T] = []

    def run() -> None:
        try:
            results.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return results[0]


@pytest.mark.django_db(transaction=True)
def test_an_event_is_written_in_its_requests_transaction_and_shipped_after_commit(mongo_db, editor):
    with transaction.atomic():
        collection = Collection.objects.create(title="Outbox", slug="outbox", owner=editor)
        entry = event_record(kind="progress", asset_id=11, quartile=25)
        assert _row_transaction("analytics_outboxentry", entry.pk) == _row_transaction("library_collection",
                                                                                      collection.pk)
        assert _elsewhere(outbox_ship) == 0  # a shipper sees nothing of it before the commit
    assert _elsewhere(outbox_ship) == 1
    shipped = mongo.find_one(mongo.EVENTS, {"_id": entry.pk})
    assert shipped is not None
    assert (shipped["type"], shipped["asset_id"], shipped["quartile"]) == ("progress", 11, 25)
    assert not OutboxEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_rolled_back_with_its_request_is_never_shipped(mongo_db, editor):
    def failing_request() -> None:
        with transaction.atomic():
            Collection.objects.create(title="Rolled back", slug="rolled-back", owner=editor)
            event_record(kind="play", asset_id=1)
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert not Collection.objects.filter(slug="rolled-back").exists()
    assert OutboxEntry.objects.count() == 0
    assert outbox_ship() == 0
    assert mongo.count(mongo.EVENTS, {}) == 0


@pytest.mark.django_db(transaction=True)
def test_events_are_shipped_once_with_the_outbox_id_as_key_and_rows_deleted(mongo_db, asset_factory):
    asset = asset_factory()
    ids = [event_record(kind="view", slug=asset.slug).pk for _ in range(3)]
    ids.append(event_record(kind="progress", asset_id=asset.pk, quartile=50, bogus="dropped").pk)
    assert outbox_ship_all(limit=2) == 4
    assert OutboxEntry.objects.count() == 0
    documents = {d["_id"]: d for d in mongo.find(mongo.EVENTS, {})}
    assert sorted(documents) == ids
    assert {d["asset_id"] for d in documents.values()} == {asset.pk}  # slugs resolved to the id
    assert documents[ids[-1]]["quartile"] == 50
    assert "bogus" not in documents[ids[-1]]
    assert documents[ids[0]]["day"] == documents[ids[0]]["at"].date().isoformat()


@pytest.mark.django_db(transaction=True)
def test_a_batch_replayed_after_a_crash_before_the_delete_makes_no_duplicates(mongo_db):
    for _ in range(5):
        event_record(kind="play", asset_id=7)
    rows = list(OutboxEntry.objects.order_by("id"))
    outbox_ship()
    # The shipper died after MongoDB acknowledged but before its delete committed: the rows are back.
    OutboxEntry.objects.bulk_create(rows)
    outbox_ship()
    assert mongo.count(mongo.EVENTS, {"type": "play"}) == 5


@pytest.mark.django_db(transaction=True)
def test_two_shippers_at_once_never_send_the_same_row(mongo_db):
    for _ in range(40):
        event_record(kind="play", asset_id=1)
    locked = threading.Event()
    release = threading.Event()

    def first_shipper() -> None:  # holds the first 20 rows locked while the second ships
        with transaction.atomic():
            list(OutboxEntry.objects.select_for_update(skip_locked=True).order_by("id")[:20])
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=first_shipper)
    thread.start()
    locked.wait(10)
    shipped = outbox_ship(limit=100)
    release.set()
    thread.join()
    assert shipped == 20
    assert OutboxEntry.objects.count() == 20
    assert outbox_ship(limit=100) == 20
    assert mongo.count(mongo.EVENTS, {}) == 40


@pytest.mark.django_db(transaction=True)
def test_mongodb_down_keeps_every_row_and_ships_them_all_when_back(mongo_db, settings):
    for _ in range(12):
        event_record(kind="play", asset_id=3)
    settings.MONGODB_URL = "mongodb://127.0.0.1:9/portal"
    settings.MONGODB_TIMEOUT_MS = 200
    reset_mongo_client()
    with pytest.raises(mongo.MongoUnavailable):
        outbox_ship()
    assert OutboxEntry.objects.count() == 12
    settings.MONGODB_URL = "mongodb://127.0.0.1:37017/portal"
    reset_mongo_client()
    assert outbox_ship_all() == 12
    assert mongo.count(mongo.EVENTS, {"asset_id": 3}) == 12


@pytest.mark.django_db(transaction=True)
def test_a_row_mongodb_refuses_is_kept_aside_and_the_rows_behind_it_still_ship(mongo_db):
    first = event_record(kind="play", asset_id=1)
    # What no code path writes today, but a server may refuse: FerretDB rejects nested arrays.
    poison = OutboxEntry.objects.create(stream="event", payload={"type": "play", "asset_id": 2, "odd": [[1, 2]]})
    last = event_record(kind="play", asset_id=3)
    assert outbox_ship_all() == 2
    assert sorted(d["_id"] for d in mongo.find(mongo.EVENTS, {})) == [first.pk, last.pk]
    poison.refresh_from_db()
    assert "nested arrays" in poison.rejected  # the server's reason, for a person to read
    event_record(kind="play", asset_id=4)
    assert outbox_ship_all() == 1  # the refused row is not retried, and blocks nothing
    assert list(OutboxEntry.objects.values_list("pk", flat=True)) == [poison.pk]


def test_arrays_inside_arrays_are_stored_as_objects_keyed_by_position(mongo_db):
    document, _notes = mongo.clean_document({"_id": "nested", "matrix": [[1, 2], [3]], "flat": [1, 2]})
    mongo.bulk_upsert(mongo.RAW_METADATA, [document], replace=True)
    stored = mongo.find_one(mongo.RAW_METADATA, {"_id": "nested"})
    assert stored["matrix"] == [{"0": 1, "1": 2}, {"0": 3}]
    assert stored["flat"] == [1, 2]
