"""MongoDB (FerretDB locally, MongoDB or Atlas in production): the only importer of pymongo.

Holds what is unstructured, bulky or append-only: raw metadata documents and activity events.
PostgreSQL stays the truth; everything here can be rebuilt or is a derived copy. Plain pymongo
and only what FerretDB 1.24 supports (no transactions, TTL, text indexes, $lookup/$facet), so a
real MongoDB works by changing MONGODB_URL alone.
"""

from portal.integrations.mongo.client import (
    EVENTS,
    RAW_METADATA,
    DocumentsRejected,
    MongoUnavailable,
    aggregate,
    bulk_upsert,
    collection,
    count,
    database_name,
    deadline,
    delete_many,
    drop_database,
    ensure_indexes,
    find,
    find_one,
    insert_new,
    ping,
    replace,
)
from portal.integrations.mongo.documents import clean_document

__all__ = [
    "EVENTS",
    "RAW_METADATA",
    "DocumentsRejected",
    "MongoUnavailable",
    "aggregate",
    "bulk_upsert",
    "clean_document",
    "collection",
    "count",
    "database_name",
    "deadline",
    "delete_many",
    "drop_database",
    "ensure_indexes",
    "find",
    "find_one",
    "insert_new",
    "ping",
    "replace",
]
