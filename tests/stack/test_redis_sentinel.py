"""SCALE=2: the stack's redis-replica and its three sentinels watch the default Redis, which stays the
master at its default address. Takes nothing away (tests/workers/test_redis_failover.py kills a master,
on a pair of its own)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from stackctl import config

SCALED = ("redis-replica", "sentinel1", "sentinel2", "sentinel3")
SENTINEL_PORTS = (config.PORTS.sentinel1, config.PORTS.sentinel2, config.PORTS.sentinel3)
DB = 15  # a key of this test's own, removed afterwards


@pytest.fixture(scope="module")
def scaled() -> None:
    """Started when a plain pytest run did not (`make test` has SCALE=2); a no-op when they are up."""
    done = subprocess.run([str(config.ROOT / "bin" / "stack"), "up", *SCALED], env={**os.environ, "SCALE": "2"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def master() -> Iterator[redis.Redis]:
    client = redis.Redis(host=config.HOST, port=config.PORTS.redis, db=DB)
    yield client
    client.close()


def test_the_sentinels_name_the_default_address_as_master(scaled: None, master: redis.Redis) -> None:
    for port in SENTINEL_PORTS:
        sentinel = redis.Redis(host=config.HOST, port=port, decode_responses=True)
        try:
            named = sentinel.sentinel_get_master_addr_by_name(config.SENTINEL_MASTER)
            assert named == (config.HOST, config.PORTS.redis)
            assert sentinel.sentinel_master(config.SENTINEL_MASTER)["quorum"] == 2
            # They find each other through the master (hello messages every 2 s): a failover needs a majority.
            deadline = time.monotonic() + 15
            while sentinel.sentinel_master(config.SENTINEL_MASTER)["num-other-sentinels"] < len(SENTINEL_PORTS) - 1:
                assert time.monotonic() < deadline, f"sentinel on {port} never met the other two"
                time.sleep(0.2)
        finally:
            sentinel.close()
    assert master.info("replication")["role"] == "master"


def test_the_replica_follows_the_master_with_the_same_persistence(scaled: None, master: redis.Redis) -> None:
    replica = redis.Redis(host=config.HOST, port=config.PORTS.redis_replica, db=DB)
    key = f"sentinel-test:{uuid.uuid4().hex}"
    try:
        info = replica.info("replication")
        assert (info["role"], info["master_port"], info["master_link_status"]) == ("slave", config.PORTS.redis, "up")
        master.set(key, "queued")
        assert master.execute_command("WAIT", 1, 5000) == 1  # the replica acknowledged the write
        assert replica.get(key) == b"queued"
        # Promoted, it keeps queued tasks as the master does: append-only file, 64 databases.
        assert replica.config_get("appendonly") == {"appendonly": "yes"}
        assert replica.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert replica.config_get("databases") == {"databases": "64"}
    finally:
        master.delete(key)
        replica.close()
