"""Activity events: ingest throughput into MongoDB, and the main analytics aggregation at scale in
MongoDB (FerretDB here) beside the same aggregation in PostgreSQL over the same data, as a ratio.

Uses its own MongoDB database (`portal_bench_events`) and its own PostgreSQL table
(`bench_events_<pid>` in the portal database), both dropped at the end, even on an error.

1. Ingest: N events shipped the way `analytics.ship` ships them (unordered inserts keyed by
   _id, batches of ANALYTICS_BATCH_SIZE), then the same batch replayed (idempotency costs).
2. Load 1,000,000 events (60 days, 2,000 assets, a realistic mix of types) into both stores, in
   chunks: MongoDB insert_many, PostgreSQL COPY; same rows, same indexes ((type, day) and
   (asset_id, type, day)).
3. Time the analytics page's aggregations on both: views and plays per day for 30 days, and the
   top assets of the week. Median of --repeat runs each; prints the MongoDB / PostgreSQL ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
os.environ["DJANGO_ENV"] = "development"
os.environ["MONGODB_URL"] = os.environ.get("BENCH_MONGODB_URL", "mongodb://127.0.0.1:37017/portal_bench_events")
os.environ["MONGODB_SOCKET_TIMEOUT_MS"] = "900000"  # a 1M-row aggregation takes longer than a page may wait

import django  # noqa: E402

django.setup()

from django.db import InterfaceError, OperationalError, connection  # noqa: E402

from portal.analytics.migrating import chunked  # noqa: E402
from portal.integrations import mongo  # noqa: E402

TYPES = [("view", 50), ("play", 25), ("progress", 15), ("download", 5), ("search", 5)]
TODAY = dt.date(2026, 11, 25)
TABLE = f"bench_events_{os.getpid()}"


def events(count: int, *, start_id: int = 0, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    names = [name for name, _ in TYPES]
    weights = [weight for _, weight in TYPES]
    for n in range(count):
        kind = rng.choices(names, weights)[0]
        day = TODAY - dt.timedelta(days=int(rng.triangular(0, 60, 0)))
        at = dt.datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=dt.UTC)
        event: dict[str, Any] = {"_id": start_id + n, "type": kind, "day": day.isoformat(), "at": at,
                                 "asset_id": int(rng.paretovariate(1.2)) % 2000 + 1,
                                 "visitor": f"{rng.getrandbits(64):016x}"}
        if kind == "progress":
            event["quartile"] = rng.choice((25, 50, 75, 100))
        if kind == "search":
            event.update(asset_id=None, query=f"query {rng.randrange(500)}", result_count=rng.choice((0, 0, 3, 12)))
        yield event


def retrying(fn: Callable[[], Any], what: str) -> Any:
    """The stack is shared: another run's test may restart FerretDB or PostgreSQL under us. Wait
    and redo the step (every step here is idempotent) rather than lose a 1M-row load."""
    for attempt in range(40):
        try:
            return fn()
        except (mongo.MongoUnavailable, OperationalError, InterfaceError) as error:
            print(f"\n{what}: a server went away ({str(error)[:80]}…); retrying", flush=True)
            time.sleep(min(10, 1 + attempt))
            mongo.reset_client()
            connection.close()
    raise SystemExit(f"{what}: the server stayed unavailable")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        while True:
            started = time.perf_counter()
            try:
                result = fn()
            except (mongo.MongoUnavailable, OperationalError, InterfaceError):  # restarted under us: not counted
                retrying(lambda: mongo.count(mongo.EVENTS, {"_id": -1}), "aggregation")
                connection.close()
                continue
            times.append(time.perf_counter() - started)
            break
    return statistics.median(times), result


def ingest(count: int, batch: int) -> None:
    documents = list(events(count, start_id=10_000_000, seed=1))
    started = time.perf_counter()
    for part in chunked(iter(documents), batch):
        mongo.insert_new(mongo.EVENTS, part)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for part in chunked(iter(documents), batch):
        mongo.insert_new(mongo.EVENTS, part)
    replay = time.perf_counter() - started
    assert mongo.count(mongo.EVENTS, {}) == count, "a replay made duplicates"
    print(f"ingest (unordered inserts keyed by outbox id, batches of {batch}): {count / first:,.0f} events/s new; "
          f"{count / replay:,.0f} events/s replayed (no duplicates: {count:,} documents)")
    mongo.delete_many(mongo.EVENTS, {})


def copy_rows(part: list[dict[str, Any]]) -> None:
    """COPY one chunk; on a retry the chunk's ids are deleted first, in case the lost try committed."""
    columns = "id, type, day, at, asset_id, visitor, quartile, query, result_count"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id BETWEEN %s AND %s", [part[0]["_id"], part[-1]["_id"]])
        with cursor.connection.cursor().copy(f"COPY {TABLE} ({columns}) FROM STDIN") as copy:
            for e in part:
                copy.write_row((e["_id"], e["type"], e["day"], e["at"], e["asset_id"], e["visitor"],
                                e.get("quartile"), e.get("query"), e.get("result_count")))


def pg_indexes() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_type_day ON {TABLE} (type, day)")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_asset_type_day ON {TABLE} (asset_id, type, day)")
        cursor.execute(f"ANALYZE {TABLE}")


def drop_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def load(total: int, chunk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, type text NOT NULL, day date NOT NULL, "
                       "at timestamptz NOT NULL, asset_id integer, visitor text, quartile smallint, query text, "
                       "result_count integer)")
    started = time.perf_counter()
    mongo_seconds = pg_seconds = 0.0
    for part in chunked(events(total), chunk):
        t0 = time.perf_counter()
        retrying(lambda part=part: mongo.insert_new(mongo.EVENTS, part), "load")
        t1 = time.perf_counter()
        retrying(lambda part=part: copy_rows(part), "load")
        pg_seconds += time.perf_counter() - t1
        mongo_seconds += t1 - t0
        done = part[-1]["_id"] + 1
        print(f"\rloaded {done:,} / {total:,}", end="", flush=True)
    print(f"\rloaded {total:,} events in {time.perf_counter() - started:.0f} s: MongoDB insert_many "
          f"{total / mongo_seconds:,.0f} events/s, PostgreSQL COPY {total / pg_seconds:,.0f} events/s")
    t0 = time.perf_counter()
    retrying(mongo.ensure_indexes, "indexes")
    t1 = time.perf_counter()
    retrying(pg_indexes, "indexes")
    print(f"indexes: MongoDB {t1 - t0:.1f} s, PostgreSQL {time.perf_counter() - t1:.1f} s")


def daily_mongo() -> list[tuple[str, str, int]]:
    first = (TODAY - dt.timedelta(days=29)).isoformat()
    rows = mongo.aggregate(mongo.EVENTS, [
        {"$match": {"type": {"$in": ["view", "play"]}, "day": {"$gte": first, "$lte": TODAY.isoformat()}}},
        {"$group": {"_id": {"day": "$day", "type": "$type"}, "n": {"$sum": 1}}},
    ])
    return sorted((r["_id"]["day"], r["_id"]["type"], int(r["n"])) for r in rows)


def daily_pg() -> list[tuple[str, str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT day, type, count(*) FROM {TABLE} WHERE type IN ('view', 'play') "
                       "AND day BETWEEN %s AND %s GROUP BY day, type", [TODAY - dt.timedelta(days=29), TODAY])
        return sorted((day.isoformat(), kind, int(n)) for day, kind, n in cursor.fetchall())


def top_mongo() -> list[tuple[int, int]]:
    rows = mongo.aggregate(mongo.EVENTS, [
        {"$match": {"type": {"$in": ["view", "play"]}, "day": {"$gte": (TODAY - dt.timedelta(days=6)).isoformat()},
                    "asset_id": {"$ne": None}}},
        {"$group": {"_id": "$asset_id", "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": 10},
    ])
    return [(int(r["_id"]), int(r["n"])) for r in rows]


def top_pg() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT asset_id, count(*) AS n FROM {TABLE} WHERE type IN ('view', 'play') AND day >= %s "
                       "AND asset_id IS NOT NULL GROUP BY asset_id ORDER BY n DESC, asset_id LIMIT 10",
                       [TODAY - dt.timedelta(days=6)])
        return [(int(a), int(n)) for a, n in cursor.fetchall()]


def compare(name: str, in_mongo: Callable[[], Any], in_pg: Callable[[], Any], repeat: int) -> None:
    mongo_time, mongo_rows = timed(in_mongo, repeat)
    pg_time, pg_rows = timed(in_pg, repeat)
    same = "same result" if mongo_rows == pg_rows else "RESULTS DIFFER"
    print(f"{name}: MongoDB {mongo_time * 1000:,.0f} ms, PostgreSQL {pg_time * 1000:,.0f} ms, "
          f"ratio MongoDB/PostgreSQL {mongo_time / pg_time:.1f} ({same}, median of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events for the aggregation")
    parser.add_argument("--ingest", type=int, default=20_000, help="events for the ingest measurement")
    parser.add_argument("--batch", type=int, default=500, help="events per shipped batch")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"MongoDB database {mongo.database_name()!r}; PostgreSQL table {TABLE}")
    retrying(mongo.drop_database, "drop")
    try:
        mongo.ensure_indexes()
        retrying(lambda: ingest(args.ingest, args.batch), "ingest")
        load(args.events, 10_000)
        compare(f"views and plays per day, 30 days, {args.events:,} events", daily_mongo, daily_pg, args.repeat)
        compare(f"top 10 assets of the week, {args.events:,} events", top_mongo, top_pg, args.repeat)
    finally:  # each side dropped on its own, waiting for its server if need be
        retrying(drop_table, "drop table")
        mongo.reset_client()
        retrying(mongo.drop_database, "drop")


if __name__ == "__main__":
    main()
