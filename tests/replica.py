"""The PostgreSQL streaming replica for tests (SCALE=2): started by the stack if it is not up, the router
turned on for one test, replay paused and always resumed, and a wait until the replica has replayed
what the primary wrote. The test database (DJANGO_TEST_DATABASE) reaches the replica by replication."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from django.test import override_settings
from stackctl import config
from stackctl.services.postgres import PostgresReplica

from portal.core import dbrouter

REPLAY_WAIT_SECONDS = 60.0  # a bound, not a measure: a loaded two-core machine may lag for seconds


@pytest.fixture(scope="session")
def replica_server() -> PostgresReplica:
    """`SCALE=2 bin/stack up postgres-replica`: a no-op when `make test` already started it."""
    started = subprocess.run([str(config.ROOT / "bin" / "stack"), "up", "postgres-replica"],
                             env={**os.environ, "SCALE": "2"}, capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr
    return PostgresReplica()


@pytest.fixture
def router_on(replica_server: PostgresReplica) -> Iterator[PostgresReplica]:
    """The router installed as production has it with DATABASE_REPLICA_URL, the breaker closed."""
    dbrouter.breaker.reset()
    wait_for_replay(replica_server)  # the test's rows (and the test database itself) are on the replica
    with override_settings(DATABASE_ROUTERS=[dbrouter.ROUTER]):
        yield replica_server
    dbrouter.breaker.reset()
    connections[dbrouter.REPLICA].close()


def wait_for_replay(replica: PostgresReplica) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")  # with synchronous_commit off, past the last commit
        (lsn,) = cursor.fetchone()
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn").strip() != "t":
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay {lsn} within {REPLAY_WAIT_SECONDS:.0f}s")
        time.sleep(0.05)


@contextmanager
def replay_paused(replica: PostgresReplica) -> Iterator[None]:
    """The replica keeps receiving WAL but applies none of it: it shows the data as it was."""
    replica.psql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        replica.psql("SELECT pg_wal_replay_resume()")


def replica_transactions(replica: PostgresReplica, database: str) -> int:
    """Transactions the replica has served in `database` (its own statistics: reads served there)."""
    return int(replica.psql(f"SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{database}'")
               or 0)
