"""Readiness: can this instance serve? Each dependency is probed with a short timeout, all of them
in parallel, so the whole answer takes about one timeout even when several are dead.

Only PostgreSQL is essential (it holds the truth: no page works without it). The cache, search,
MongoDB and S3 each have a fallback or only slow some pages down, so their failure makes the
instance "degraded", not unready: a balancer must not take every instance out because Redis blinked.

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
from django.db import connection, transaction

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


CHECKS: dict[str, Callable[[], None]] = {
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
_pool = ThreadPoolExecutor(max_workers=len(CHECKS) * 2, thread_name_prefix="readyz")
_memo_lock = threading.Lock()
_memo: tuple[float, Readiness] | None = None


def _timed(check: Callable[[], None]) -> float:
    started = time.perf_counter()
    check()
    return (time.perf_counter() - started) * 1000


def _result(future: Future[float], seconds_left: float) -> float:
    return future.result(timeout=seconds_left)


def _outcome(run: Callable[[float], float], started: float) -> dict[str, object]:
    """{status, latency_ms} of one check; `run(seconds_left)` returns the check's latency in ms."""
    try:
        latency = run(max(0.0, TIMEOUT_SECONDS + 0.1 - (time.perf_counter() - started)))
    except TimeoutError:
        return {"status": "timeout", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception:  # noqa: BLE001 - any failure of a dependency is reported, never raised
        return {"status": "error", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    return {"status": "ok", "latency_ms": round(latency, 1)}


def probe() -> Readiness:
    """Run every check now, in parallel; a check that raises or overruns the timeout is an error."""
    started = time.perf_counter()
    futures = {name: _pool.submit(_timed, check) for name, check in CHECKS.items() if name != "database"}
    results = {"database": _outcome(lambda _left: _timed(CHECKS["database"]), started)}
    for name, future in futures.items():
        results[name] = _outcome(partial(_result, future), started)
    results = {name: results[name] for name in CHECKS}  # a stable order in the JSON
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
