"""The MongoDB module against the real FerretDB: naming, ping, indexes, idempotent upserts."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command

from portal.integrations import mongo
from tests.resets import reset_mongo_client


def test_a_test_run_writes_to_the_database_its_environment_names_and_no_other(mongo_db, settings):
    other = f"test_h_other_{uuid.uuid4().hex[:8]}"
    # Another run, started the way every run is: only its DJANGO_TEST_DATABASE differs.
    script = ("import django; django.setup(); from portal.integrations import mongo; "
              "mongo.insert_new(mongo.EVENTS, [{'_id': 'from-the-other-run'}]); print(mongo.database_name())")
    env = {**os.environ, "DJANGO_ENV": "test", "DJANGO_TEST_DATABASE": other}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                          cwd=settings.BASE_DIR, check=True)
    assert done.stdout.strip() == other
    assert mongo.find_one(mongo.EVENTS, {"_id": "from-the-other-run"}) is None  # not in this run's database
    settings.MONGODB_DATABASE = other
    reset_mongo_client()
    try:
        assert mongo.find_one(mongo.EVENTS, {"_id": "from-the-other-run"}) is not None
    finally:
        mongo.drop_database()


def test_outside_tests_the_database_is_the_urls_path(settings):
    settings.MONGODB_DATABASE = ""
    settings.MONGODB_URL = "mongodb://127.0.0.1:37017/elsewhere?serverSelectionTimeoutMS=100"
    assert mongo.database_name() == "elsewhere"
    settings.MONGODB_URL = "mongodb://127.0.0.1:37017"
    assert mongo.database_name() == "portal"


def test_ping_answers_when_up_and_raises_when_the_port_is_dead(settings):
    mongo.ping(timeout=2)
    settings.MONGODB_URL = "mongodb://127.0.0.1:9/portal"
    with pytest.raises(mongo.MongoUnavailable, match=r"within 0\.3 s"):
        mongo.ping(timeout=0.3)


def test_mongo_setup_creates_every_index_and_is_idempotent(mongo_db, capsys):
    call_command("mongo_setup")
    call_command("mongo_setup")
    names = {index["name"] for index in mongo.collection(mongo.EVENTS).list_indexes()}
    assert {"type_day", "asset_type_day", "day"} <= names
    unique = next(i for i in mongo.collection(mongo.RAW_METADATA).list_indexes() if i["name"] == "asset_version")
    assert unique.get("unique") is True
    assert "4 indexes in place" in capsys.readouterr().out


def test_a_replayed_batch_of_upserts_makes_no_duplicates(mongo_db):
    batch = [{"_id": f"{n}:1", "asset_id": n, "version": 1} for n in range(20)]
    assert mongo.bulk_upsert(mongo.RAW_METADATA, batch, replace=True) == 20
    assert mongo.bulk_upsert(mongo.RAW_METADATA, batch, replace=True) == 20
    assert mongo.count(mongo.RAW_METADATA, {}) == 20


def test_a_replayed_overlapping_batch_of_inserts_adds_only_the_new_documents(mongo_db):
    assert mongo.insert_new(mongo.EVENTS, [{"_id": n, "type": "view"} for n in range(50)]) == 50
    assert mongo.insert_new(mongo.EVENTS, [{"_id": n, "type": "play"} for n in range(40, 60)]) == 10
    assert mongo.count(mongo.EVENTS, {}) == 60
    assert mongo.count(mongo.EVENTS, {"type": "play"}) == 10  # the replayed ten were left as stored


def test_a_dead_server_is_one_timeout_then_refused_at_once_until_reset(settings, mongo_db):
    settings.MONGODB_URL = "mongodb://127.0.0.1:9/portal"
    settings.MONGODB_TIMEOUT_MS = 200
    reset_mongo_client()
    with pytest.raises(mongo.MongoUnavailable, match="read failed"):
        mongo.find_one(mongo.EVENTS, {})
    with pytest.raises(mongo.MongoUnavailable, match="moments ago"):
        mongo.find_one(mongo.EVENTS, {})
    settings.MONGODB_URL = "mongodb://127.0.0.1:37017/portal"
    reset_mongo_client()
    assert mongo.find_one(mongo.EVENTS, {}) is None


def test_a_read_over_its_time_limit_is_refused_without_opening_the_breaker(mongo_db):
    mongo.insert_new(mongo.EVENTS, [{"_id": n, "type": "view", "day": "2026-11-25"} for n in range(3000)])
    with pytest.raises(mongo.MongoUnavailable, match="aggregation failed"):
        mongo.aggregate(mongo.EVENTS, [{"$group": {"_id": "$day", "n": {"$sum": 1}}}], timeout=0.001)
    assert mongo.aggregate(mongo.EVENTS, [{"$group": {"_id": "$day", "n": {"$sum": 1}}}], timeout=5) == [
        {"_id": "2026-11-25", "n": 3000}]


def test_a_deadline_bounds_every_call_inside_it_and_leaves_the_breaker_closed(mongo_db):
    mongo.insert_new(mongo.EVENTS, [{"_id": n, "type": "view", "day": "2026-11-25"} for n in range(50)])
    group = [{"$group": {"_id": "$type", "n": {"$sum": 1}}}]
    with pytest.raises(mongo.MongoUnavailable), mongo.deadline(1e-9):  # spent before the call starts
        mongo.aggregate(mongo.EVENTS, group)
    assert mongo.aggregate(mongo.EVENTS, group) == [{"_id": "view", "n": 50}]  # no cooldown followed
