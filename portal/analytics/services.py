"""Writes of the analytics app: events into the outbox, the outbox shipped to MongoDB, expiry.

A request never waits on MongoDB: it inserts one outbox row (PostgreSQL, same transaction as the
request's own writes). The `analytics.ship` task moves batches to MongoDB with idempotent upserts
keyed by the row id and deletes the rows only after MongoDB acknowledged them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from portal.analytics.models import OutboxEntry, Stream
from portal.integrations import mongo
from portal.library.models import Asset
from portal.ops.proxy import client_ip

log = logging.getLogger(__name__)

# What each event type may carry besides type/at/day/asset_id/visitor (anything else is dropped).
EVENT_FIELDS: dict[str, set[str]] = {
    "view": {"slug"},
    "download": {"slug"},
    "play": set(),
    "progress": {"quartile"},
    "search": {"query", "result_count", "source"},
    "editor": {"change", "collection_id"},
}
QUARTILES = (25, 50, 75, 100)
MAX_QUERY_CHARS = 200


def visitor_hash(request: HttpRequest | None) -> str | None:
    """A keyed hash of who it is (user id, else address and browser), with the day in the key: counts
    distinct visitors per day, and can be tied neither to a person nor across days."""
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        who = f"user:{user.pk}"
    else:
        who = f"{client_ip(request)}|{request.META.get('HTTP_USER_AGENT', '')[:200]}"
    key = f"{settings.SECRET_KEY}|analytics|{timezone.now().date().isoformat()}".encode()
    return hmac.new(key, who.encode(), hashlib.sha256).hexdigest()[:16]


def event_record(*, kind: str, asset_id: int | None = None, request: HttpRequest | None = None,
                 **fields: Any) -> OutboxEntry:
    """One event into the outbox. Unknown types raise ValueError (a bug of ours); unknown fields are dropped."""
    if kind not in EVENT_FIELDS:
        raise ValueError(f"unknown event type {kind!r}")
    payload: dict[str, Any] = {"type": kind, "asset_id": asset_id, "visitor": visitor_hash(request)}
    payload.update({key: value for key, value in fields.items() if key in EVENT_FIELDS[kind]})
    if "query" in payload:
        payload["query"] = " ".join(str(payload["query"]).split())[:MAX_QUERY_CHARS].lower()
    return OutboxEntry.objects.create(stream=Stream.EVENT, payload=payload)


def raw_metadata_enqueue(*, document: dict[str, Any]) -> OutboxEntry:
    """A validated raw metadata document (portal.processing.rawmeta), shipped like events."""
    return OutboxEntry.objects.create(stream=Stream.RAW_METADATA, payload=document)


def outbox_ship(*, limit: int | None = None) -> int:
    """Ship one batch of outbox rows to MongoDB; returns how many were shipped. Rows locked by
    another shipper are skipped (never sent twice at once). If MongoDB fails, the transaction rolls
    back and the rows stay for the next run. Raises mongo.MongoUnavailable then."""
    limit = limit or settings.ANALYTICS_BATCH_SIZE
    with transaction.atomic():
        rows = list(OutboxEntry.objects.select_for_update(skip_locked=True).filter(rejected="").order_by("id")[:limit])
        if not rows:
            return 0
        events = [row for row in rows if row.stream == Stream.EVENT]
        documents = [row for row in rows if row.stream == Stream.RAW_METADATA]
        # Events are append-only: a replay skips what is stored. Raw metadata replaces by version.
        refused = _shipped(events, lambda: mongo.insert_new(mongo.EVENTS, _event_documents(events)))
        refused |= _shipped(documents, lambda: mongo.bulk_upsert(mongo.RAW_METADATA, [row.payload for row in documents],
                                                                 replace=True))
        for pk, reason in refused.items():
            OutboxEntry.objects.filter(pk=pk).update(rejected=reason or "refused")
        OutboxEntry.objects.filter(id__in=[row.pk for row in rows if row.pk not in refused]).delete()
    return len(rows) - len(refused)


def _shipped(rows: list[OutboxEntry], write: Callable[[], int]) -> dict[int, str]:
    """Run one batch write; the rows MongoDB refused for their content (row id → reason). The others
    were written (batches are unordered); an unavailable MongoDB raises and rolls everything back."""
    if not rows:
        return {}
    try:
        write()
    except mongo.DocumentsRejected as error:
        refused = {rows[index].pk: reason for index, reason in error.rejected.items()}
        log.error("MongoDB refused outbox rows %s; kept aside with the reason: %s", sorted(refused), error)
        return refused
    return {}


def outbox_ship_all(*, limit: int | None = None, max_batches: int = 100) -> int:
    """Ship batches until the outbox is empty (or max_batches): what the periodic task runs."""
    shipped = 0
    for _ in range(max_batches):
        count = outbox_ship(limit=limit)
        shipped += count
        if count == 0:
            break
    return shipped


def _event_documents(rows: list[OutboxEntry]) -> list[dict[str, Any]]:
    """Outbox rows as event documents: `_id` is the row id (the idempotency key), `day` the UTC
    date as text (grouped on without date operators), slugs resolved to asset ids in one query."""
    slugs = {row.payload["slug"] for row in rows if row.payload.get("slug") and not row.payload.get("asset_id")}
    ids = dict(Asset.objects.filter(slug__in=slugs).values_list("slug", "id")) if slugs else {}
    documents = []
    for row in rows:
        document = {key: value for key, value in row.payload.items() if value is not None and key != "slug"}
        if row.payload.get("slug") and not row.payload.get("asset_id"):
            document["asset_id"] = ids.get(row.payload["slug"])
        at = row.created_at.astimezone(dt.UTC)
        documents.append({**document, "_id": row.pk, "at": at, "day": at.date().isoformat()})
    return documents


def events_expire(*, keep_days: int | None = None) -> int:
    """Delete events older than ANALYTICS_KEEP_DAYS (FerretDB has no TTL indexes)."""
    keep = keep_days if keep_days is not None else settings.ANALYTICS_KEEP_DAYS
    cutoff = (timezone.now() - dt.timedelta(days=keep)).date().isoformat()
    return mongo.delete_many(mongo.EVENTS, {"day": {"$lt": cutoff}})
