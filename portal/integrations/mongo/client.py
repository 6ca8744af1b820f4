"""The MongoDB client, built once per process, and the few operations the portal uses.

Fork-safe: the client is created lazily with connect=False and rebuilt when the process id changes,
so gunicorn and Celery prefork children never share the parent's sockets. Timeouts are short: a
page that reads from MongoDB degrades to a note instead of hanging, and after a failure reads are
refused for MONGODB_BREAKER_SECONDS without trying, so an outage costs one timeout, not one per page.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any
from urllib.parse import urlsplit

import pymongo
from django.conf import settings
from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError, ServerSelectionTimeoutError

from portal.core.breaker import CircuitBreaker

log = logging.getLogger(__name__)

EVENTS = "events"  # one document per activity event, _id = its outbox id
RAW_METADATA = "raw_metadata"  # one document per asset version, _id = "<asset>:<version>"

# Every index the portal's queries use; `mongo_setup` creates them (idempotent). Keys 1/-1 only
# (FerretDB 1.24 has no text or TTL indexes). Why each exists: README, MongoDB section.
INDEXES: dict[str, list[tuple[str, list[tuple[str, int]], bool]]] = {
    EVENTS: [
        ("type_day", [("type", 1), ("day", 1)], False),  # plays/views per day, searches per day
        ("asset_type_day", [("asset_id", 1), ("type", 1), ("day", 1)], False),  # per-asset figures
        ("day", [("day", 1)], False),  # expiry of old events by the periodic task
    ],
    RAW_METADATA: [
        ("asset_version", [("asset_id", 1), ("version", -1)], True),  # an asset's latest document
    ],
}


DUPLICATE_KEY = 11000


class MongoUnavailable(Exception):
    """MongoDB did not answer (down, slow, refused the operation). Callers degrade or retry."""


class DocumentsRejected(Exception):
    """MongoDB answered and refused some documents of a batch for what they hold (the others were
    written: batches are unordered). `rejected` maps each refused document's position to the reason."""

    def __init__(self, rejected: dict[int, str]) -> None:
        super().__init__(f"{len(rejected)} document(s) refused, e.g. {next(iter(rejected.values()), '')}")
        self.rejected = rejected


def _rejections(error: BulkWriteError) -> DocumentsRejected | None:
    """The documents a bulk write refused for their content, or None if the failure was the server's."""
    details = error.details or {}
    refused = {int(e["index"]): str(e.get("errmsg", ""))[:500] for e in details.get("writeErrors", [])
               if e.get("code") != DUPLICATE_KEY}
    return DocumentsRejected(refused) if refused and not details.get("writeConcernErrors") else None


_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "client": None}
breaker = CircuitBreaker("mongodb", lambda: settings.MONGODB_BREAKER_SECONDS)


def database_name() -> str:
    """From MONGODB_URL's path ("portal" when it has none); under DJANGO_ENV=test the test database's
    name, so parallel test runs never share data (settings.MONGODB_DATABASE decides)."""
    configured: str = getattr(settings, "MONGODB_DATABASE", "")
    if configured:
        return configured
    return urlsplit(settings.MONGODB_URL).path.strip("/") or "portal"


def _client() -> pymongo.MongoClient[dict[str, Any]]:
    pid = os.getpid()
    with _lock:
        if _state["client"] is None or _state["pid"] != pid:
            _state["client"] = pymongo.MongoClient(
                settings.MONGODB_URL,
                connect=False,  # no socket until first use: safe to build before a fork
                serverSelectionTimeoutMS=settings.MONGODB_TIMEOUT_MS,
                connectTimeoutMS=settings.MONGODB_TIMEOUT_MS,
                socketTimeoutMS=settings.MONGODB_SOCKET_TIMEOUT_MS,
                appname="portal",
            )
            _state["pid"] = pid
        client: pymongo.MongoClient[dict[str, Any]] = _state["client"]
        return client


def collection(name: str) -> Any:
    """The pymongo collection, for code inside this package and tests that set up data in bulk."""
    return _client()[database_name()][name]


def _guard() -> None:
    if not breaker.allows():
        raise MongoUnavailable("MongoDB was unreachable moments ago; not retrying yet")


def _tripped(error: Exception, what: str) -> MongoUnavailable:
    """The breaker opens for a server that does not answer, not for one operation over its time limit."""
    if not (isinstance(error, PyMongoError) and error.timeout and not isinstance(error, ServerSelectionTimeoutError)):
        breaker.failed()
    log.warning("MongoDB %s failed: %s", what, error)
    return MongoUnavailable(f"MongoDB {what} failed: {error}")


def _within(timeout: float | None) -> AbstractContextManager[None]:
    # No timeout of its own: keep any deadline() around the call (pymongo.timeout(None) would lift it).
    return pymongo.timeout(timeout) if timeout is not None else nullcontext()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every MongoDB call inside the block shares one time budget: a page that reads several
    aggregations waits `seconds` in all, then gets MongoUnavailable (the breaker stays closed)."""
    with pymongo.timeout(seconds):
        yield


def ping(timeout: float) -> None:
    """Raises MongoUnavailable unless MongoDB answers a ping within `timeout` seconds (readiness)."""
    millis = max(1, int(timeout * 1000))
    try:
        probe: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            settings.MONGODB_URL, serverSelectionTimeoutMS=millis, connectTimeoutMS=millis, socketTimeoutMS=millis)
        try:
            probe.admin.command("ping")
        finally:
            probe.close()
    except PyMongoError as error:
        raise MongoUnavailable(f"MongoDB did not answer a ping within {timeout:g} s: {error}") from error


def ensure_indexes() -> list[str]:
    """Create every index in INDEXES; existing ones are left alone. Returns "collection.index" names."""
    created = []
    try:
        for name, indexes in INDEXES.items():
            target = collection(name)
            for index_name, keys, unique in indexes:
                target.create_index(keys, name=index_name, unique=unique)
                created.append(f"{name}.{index_name}")
    except PyMongoError as error:
        raise _tripped(error, "index creation") from error
    return created


def find_one(name: str, query: Mapping[str, Any], *,
             sort: list[tuple[str, int]] | None = None) -> dict[str, Any] | None:
    _guard()
    try:
        found: dict[str, Any] | None = collection(name).find_one(dict(query), sort=sort)
    except PyMongoError as error:
        raise _tripped(error, "read") from error
    breaker.succeeded()  # closes the breaker when this call was the probe after a cooldown
    return found


def find(name: str, query: Mapping[str, Any], *, projection: Mapping[str, Any] | None = None,
         sort: list[tuple[str, int]] | None = None, limit: int = 0,
         timeout: float | None = None) -> list[dict[str, Any]]:
    """`timeout` (seconds) bounds this one read, for pages that would rather show a note than wait."""
    _guard()
    try:
        with _within(timeout):
            cursor = collection(name).find(dict(query), projection=dict(projection) if projection else None,
                                           limit=limit)
            if sort:
                cursor = cursor.sort(sort)
            found = list(cursor)
    except PyMongoError as error:
        raise _tripped(error, "read") from error
    breaker.succeeded()
    return found


def count(name: str, query: Mapping[str, Any]) -> int:
    _guard()
    try:
        counted = int(collection(name).count_documents(dict(query)))
    except PyMongoError as error:
        raise _tripped(error, "count") from error
    breaker.succeeded()
    return counted


def aggregate(name: str, pipeline: list[dict[str, Any]], *, timeout: float | None = None) -> list[dict[str, Any]]:
    """Run a pipeline of stages FerretDB supports ($match $group $sort $project $unwind $limit $skip
    $count $unset; $sum/$count accumulators only). `timeout` as for find()."""
    _guard()
    try:
        with _within(timeout):
            rows = list(collection(name).aggregate(pipeline))
    except PyMongoError as error:
        raise _tripped(error, "aggregation") from error
    breaker.succeeded()
    return rows


def insert_new(name: str, documents: Iterable[Mapping[str, Any]]) -> int:
    """Insert documents whose `_id` may already be stored (a replayed batch): those are skipped, so
    a replay makes no duplicates. For append-only data (events): one unordered insert, far cheaper
    than upserts (FerretDB runs each upsert as a search of the collection). Returns how many were new."""
    batch = [dict(document) for document in documents]
    if not batch:
        return 0
    try:
        return len(collection(name).insert_many(batch, ordered=False).inserted_ids)
    except BulkWriteError as error:
        details = error.details or {}
        rejected = _rejections(error)
        if rejected:
            raise rejected from error
        if details.get("writeConcernErrors"):
            raise _tripped(error, "insert") from error
        return int(details.get("nInserted", 0))  # only duplicates: a replay
    except PyMongoError as error:
        raise _tripped(error, "insert") from error


def bulk_upsert(name: str, documents: Iterable[Mapping[str, Any]], *, replace: bool = False) -> int:
    """Write documents by their `_id`, creating or updating each: replaying a batch makes no duplicates.
    `replace` swaps the whole document (raw metadata); otherwise fields are set. Returns how many
    were written once MongoDB acknowledged."""
    operations: list[ReplaceOne[dict[str, Any]] | UpdateOne] = []
    for document in documents:
        body = {key: value for key, value in document.items() if key != "_id"}
        if replace:
            operations.append(ReplaceOne({"_id": document["_id"]}, body, upsert=True))
        else:
            operations.append(UpdateOne({"_id": document["_id"]}, {"$set": body}, upsert=True))
    if not operations:
        return 0
    try:
        result = collection(name).bulk_write(operations, ordered=False)
    except BulkWriteError as error:
        raise _rejections(error) or _tripped(error, "write") from error
    except PyMongoError as error:
        raise _tripped(error, "write") from error
    return int(result.upserted_count + result.matched_count)


def replace(name: str, document: Mapping[str, Any]) -> None:
    bulk_upsert(name, [document], replace=True)


def delete_many(name: str, query: Mapping[str, Any]) -> int:
    try:
        return int(collection(name).delete_many(dict(query)).deleted_count)
    except PyMongoError as error:
        raise _tripped(error, "delete") from error


def drop_database() -> None:
    """Drop this process's database (tests drop theirs; never called by the portal itself)."""
    try:
        _client().drop_database(database_name())
    except PyMongoError as error:
        raise _tripped(error, "drop") from error
