"""Readiness: can this instance serve? Each dependency is probed with a short timeout, all of them
in parallel, so the whole answer takes about one timeout even when several are dead.

Only PostgreSQL is essential (it holds the truth: no page works without it). The cache, search,
MongoDB, S3 and the database replica (with DATABASE_REPLICA_URL; its check also reports the replay
lag) each have a fallback or only slow some pages down, so their failure makes the instance
"degraded", not unready: a balancer must not take every instance out because Redis blinked.

One result is kept for POLL_MEMO_SECONDS in this process, so a balancer or a PaaS polling every
second (times every instance's threads) costs at most one round of probes per second per process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from django.core.cache import cache
from django.db import connection, connections, transaction

from portal.core.dbrouter import REPLICA, replica_in_use
from portal.integrations import mongo, s3
from portal.search import health_check as search_health_check

TIMEOUT_SECONDS = 0.5
POLL_MEMO_SECONDS = 1.0
ESSENTIAL = frozenset({"database"})


class CacheUnavailable(RuntimeError):
    """The cache did not hand back what was just written to it (its client swallows errors)."""


def check_database() -> None:
    # Runs in the request's own thread, on the request's own connection: Django opens, checks and
    # closes it like any other (CONN_MAX_AGE), and no probe thread keeps one of its own.
    with transaction.atomic(), connection.cursor() as cursor:
        # LOCAL: the limit ends with this transaction, never outliving it on a kept connection.
        cursor.execute(f"SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)}")
        cursor.execute("SELECT 1")


def check_cache() -> None:
    # A write and a read back: the cache client ignores errors (a dead cache must not break
    # pages), so "no exception" proves nothing; the round trip does.
    key, token = "ops:readyz", uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
        raise CacheUnavailable("the cache did not return the value just written")


def check_search() -> None:
    search_health_check(timeout=TIMEOUT_SECONDS)


def check_mongo() -> None:
    mongo.ping(TIMEOUT_SECONDS)


def check_storage() -> None:
    s3.ping(timeout=TIMEOUT_SECONDS)


# On the replica: how far replay trails (0 when it has replayed all it received) and the WAL bytes waiting.
REPLICA_LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)
"""


def check_replica() -> dict[str, object]:
    """Only with the router on (DATABASE_REPLICA_URL); its failure degrades, reads fall back to the primary."""
    replica = connections[REPLICA]
    try:  # a fresh connection each time (at most once per POLL_MEMO_SECONDS): a probe thread keeps none
        with replica.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(TIMEOUT_SECONDS * 1000)}")
            cursor.execute(REPLICA_LAG_SQL)
            seconds, wal_bytes = cursor.fetchone()
    finally:
        replica.close()
    return {"lag_seconds": round(float(seconds), 3), "lag_bytes": int(wal_bytes)}


CHECKS: dict[str, Callable[[], dict[str, object] | None]] = {
    "database": check_database,
    "cache": check_cache,
    "search": check_search,
    "mongodb": check_mongo,
    "storage": check_storage,
}


@dataclass(frozen=True)
class Readiness:
    status: str  # "ok", "degraded" (something optional failed) or "down" (cannot serve)
    checks: dict[str, dict[str, object]]

    @property
    def serving(self) -> bool:
        return self.status != "down"

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "checks": self.checks}


# Long-lived probe threads for the checks that are not the database (not one per request); a
# probe stuck past its timeout holds one of these threads, never a request's.
_pool = ThreadPoolExecutor(max_workers=(len(CHECKS) + 1) * 2, thread_name_prefix="readyz")
_memo_lock = threading.Lock()
_memo: tuple[float, Readiness] | None = None


Timed = tuple[float, dict[str, object] | None]  # latency in ms, and what the check reports beside it


def _timed(check: Callable[[], dict[str, object] | None]) -> Timed:
    started = time.perf_counter()
    extra = check()
    return (time.perf_counter() - started) * 1000, extra


def _result(future: Future[Timed], seconds_left: float) -> Timed:
    return future.result(timeout=seconds_left)


def _outcome(run: Callable[[float], Timed], started: float) -> dict[str, object]:
    """{status, latency_ms, ...what the check adds} of one check; `run(seconds_left)` returns _timed's pair."""
    try:
        latency, extra = run(max(0.0, TIMEOUT_SECONDS + 0.1 - (time.perf_counter() - started)))
    except TimeoutError:
        return {"status": "timeout", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception:  # noqa: BLE001 - any failure of a dependency is reported, never raised
        return {"status": "error", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    return {"status": "ok", "latency_ms": round(latency, 1), **(extra or {})}


def probe() -> Readiness:
    """Run every check now, in parallel; a check that raises or overruns the timeout is an error."""
    started = time.perf_counter()
    checks = {**CHECKS, "replica": check_replica} if replica_in_use() else CHECKS
    futures = {name: _pool.submit(_timed, check) for name, check in checks.items() if name != "database"}
    results = {"database": _outcome(lambda _left: _timed(CHECKS["database"]), started)}
    for name, future in futures.items():
        results[name] = _outcome(partial(_result, future), started)
    results = {name: results[name] for name in checks}  # a stable order in the JSON
    failed = {name for name, result in results.items() if result["status"] != "ok"}
    status = "down" if failed & ESSENTIAL else "degraded" if failed else "ok"
    return Readiness(status=status, checks=results)


def readiness() -> Readiness:
    """The latest result if it is younger than POLL_MEMO_SECONDS, else a fresh probe."""
    global _memo  # one memo per process, guarded by its lock
    with _memo_lock:
        if _memo is not None and time.monotonic() - _memo[0] < POLL_MEMO_SECONDS:
            return _memo[1]
        result = probe()
        _memo = (time.monotonic(), result)
        return result
