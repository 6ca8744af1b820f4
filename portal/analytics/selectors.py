"""Reads of the analytics app: MongoDB aggregations over indexed fields, with roll-ups cached.

Each raises mongo.MongoUnavailable when MongoDB cannot answer; pages turn that into a note.
Daily counts of past days never change once every event of the day has been shipped, so they are
cached without expiry; today's and the weekly lists are cached for a minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from portal.analytics.models import OutboxEntry, Stream
from portal.integrations import mongo
from portal.library.models import Asset

SHORT_TTL = 60
PAGE_TIMEOUT = 1.0  # seconds an asset page waits for MongoDB before showing its note instead
REFRESH_TTL = 180  # what the periodic refresh stores lives past its next run
CHART_TYPES = ("view", "play")


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    views: int
    plays: int


@dataclass(frozen=True)
class TopAsset:
    asset: Asset | None  # None: deleted since
    asset_id: int
    views: int
    plays: int


@dataclass(frozen=True)
class AssetFigures:
    views: int
    plays: int
    downloads: int
    completed: int  # plays that reached the end (the 100 % quartile)


def _key(*parts: object) -> str:
    return ":".join(["analytics", mongo.database_name(), *map(str, parts)])


def _oldest_pending_day() -> dt.date | None:
    created = (OutboxEntry.objects.filter(stream=Stream.EVENT, rejected="").order_by("id")
               .values_list("created_at", flat=True).first())
    return created.astimezone(dt.UTC).date() if created else None


def daily_counts(*, days: int = 30, today: dt.date | None = None, refresh: bool = False) -> list[DayCount]:
    """Views and plays per day for the last `days` days, oldest first. `refresh` recounts today."""
    today = today or timezone.now().astimezone(dt.UTC).date()
    span = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    keys = {day: _key("day", day.isoformat()) for day in span[:-1]}
    found: dict[str, Any] = cache.get_many([*keys.values(), *([] if refresh else [_key("today", today.isoformat())])])
    counts: dict[dt.date, tuple[int, int]] = {day: found[key] for day, key in keys.items() if key in found}
    if _key("today", today.isoformat()) in found:
        counts[today] = found[_key("today", today.isoformat())]
    missing = [day for day in span if day not in counts]
    if missing:
        # Pending first: read after the count, a batch shipped between the two reads would let a
        # day counted without that batch be cached for good.
        pending = _oldest_pending_day()
        fresh = _count_days(missing[0], today)
        final = {keys[day]: fresh.get(day, (0, 0)) for day in missing
                 if day != today and (pending is None or day < pending)}
        cache.set_many(final, timeout=None)  # a finished day never changes
        if today in missing:
            cache.set(_key("today", today.isoformat()), fresh.get(today, (0, 0)), REFRESH_TTL if refresh else SHORT_TTL)
        counts.update({day: fresh.get(day, (0, 0)) for day in missing})
    return [DayCount(day, *counts[day]) for day in span]


def _count_days(first: dt.date, last: dt.date) -> dict[dt.date, tuple[int, int]]:
    rows = mongo.aggregate(mongo.EVENTS, [
        {"$match": {"type": {"$in": list(CHART_TYPES)}, "day": {"$gte": first.isoformat(), "$lte": last.isoformat()}}},
        {"$group": {"_id": {"day": "$day", "type": "$type"}, "n": {"$sum": 1}}},
    ])
    counts: dict[dt.date, list[int]] = {}
    for row in rows:
        pair = counts.setdefault(dt.date.fromisoformat(row["_id"]["day"]), [0, 0])
        pair[CHART_TYPES.index(row["_id"]["type"])] = int(row["n"])
    return {day: (views, plays) for day, (views, plays) in counts.items()}


def top_assets_this_week(*, limit: int = 10, refresh: bool = False) -> list[TopAsset]:
    """The assets most viewed and played in the last 7 days (today included)."""
    key = _key("top", limit)
    cached = None if refresh else cache.get(key)
    if cached is None:
        since = (timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=6)).isoformat()
        match = {"type": {"$in": list(CHART_TYPES)}, "day": {"$gte": since}}
        leaders = mongo.aggregate(mongo.EVENTS, [
            {"$match": {**match, "asset_id": {"$ne": None}}},
            {"$group": {"_id": "$asset_id", "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
            {"$limit": limit},
        ])
        ids = [int(row["_id"]) for row in leaders]
        split = mongo.aggregate(mongo.EVENTS, [
            {"$match": {**match, "asset_id": {"$in": ids}}},
            {"$group": {"_id": {"asset": "$asset_id", "type": "$type"}, "n": {"$sum": 1}}},
        ]) if ids else []
        by_type = {(int(r["_id"]["asset"]), r["_id"]["type"]): int(r["n"]) for r in split}
        cached = [(asset_id, by_type.get((asset_id, "view"), 0), by_type.get((asset_id, "play"), 0))
                  for asset_id in ids]
        cache.set(key, cached, REFRESH_TTL if refresh else SHORT_TTL)
    assets = Asset.objects.in_bulk([row[0] for row in cached])
    return [TopAsset(assets.get(asset_id), asset_id, views, plays) for asset_id, views, plays in cached]


def searches_without_results(*, days: int = 7, limit: int = 20, refresh: bool = False) -> list[tuple[str, int]]:
    """(query, how often) for searches that found nothing in the last `days` days."""
    key = _key("no-results", days, limit)
    cached: list[tuple[str, int]] | None = None if refresh else cache.get(key)
    if cached is None:
        since = (timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)).isoformat()
        rows = mongo.aggregate(mongo.EVENTS, [
            {"$match": {"type": "search", "day": {"$gte": since}, "result_count": 0}},
            {"$group": {"_id": "$query", "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
            {"$limit": limit},
        ])
        cached = [(str(row["_id"]), int(row["n"])) for row in rows]
        cache.set(key, cached, REFRESH_TTL if refresh else SHORT_TTL)
    return cached


def asset_figures(*, asset_id: int) -> AssetFigures:
    """All-time views, plays, downloads and completed plays of one asset."""
    key = _key("asset", asset_id)
    cached: AssetFigures | None = cache.get(key)
    if cached is None:
        rows = mongo.aggregate(mongo.EVENTS, [
            {"$match": {"asset_id": asset_id, "type": {"$in": ["view", "play", "download", "progress"]}}},
            {"$group": {"_id": {"type": "$type", "quartile": "$quartile"}, "n": {"$sum": 1}}},
        ], timeout=PAGE_TIMEOUT)
        counts = {(row["_id"].get("type"), row["_id"].get("quartile")): int(row["n"]) for row in rows}
        cached = AssetFigures(views=counts.get(("view", None), 0), plays=counts.get(("play", None), 0),
                              downloads=counts.get(("download", None), 0), completed=counts.get(("progress", 100), 0))
        cache.set(key, cached, SHORT_TTL)
    return cached


def technical_metadata(*, asset: Asset) -> dict[str, Any] | None:
    """The latest raw metadata document of an asset (without its text), or None when there is none
    yet. The document of the asset's current processing run is cached under that run: it never
    changes. An older one (the current run's is still in the outbox) is shown but not cached."""
    key = _key("raw", asset.pk, asset.renditions_version)
    cached: dict[str, Any] | None = cache.get(key)
    if cached is None:
        found = mongo.find(mongo.RAW_METADATA, {"asset_id": asset.pk}, projection={"text": 0},
                           sort=[("version", -1)], limit=1, timeout=PAGE_TIMEOUT)
        if not found:
            return None
        cached = found[0]
        if int(cached.get("version", 0)) >= asset.renditions_version:
            cache.set(key, cached, 24 * 3600)
    return cached


def rollups_refresh() -> None:
    """Recount what the analytics page shows and store it for longer than the refresh interval, so
    the page reads caches only: on FerretDB every aggregation reads the whole collection (tens of
    seconds at a million events, see bench/README.md), which no page request should wait for."""
    daily_counts(days=30, refresh=True)
    top_assets_this_week(refresh=True)
    searches_without_results(refresh=True)


def pending_events() -> int:
    return OutboxEntry.objects.filter(stream=Stream.EVENT, rejected="").count()
