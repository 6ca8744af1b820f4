"""Every write to assets, collections and tags: validated, in one transaction,
with its side effects (cache generation, announcements) run after commit."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from django.db import DatabaseError, connection, transaction
from django.utils.text import slugify

from portal.accounts.models import User
from portal.library.errors import EditConflict, KindFrozen, RevisionMissing, TagMergeRefused
from portal.library.lifecycle import announce, announce_asset, asset_transition
from portal.library.models import Asset, Collection, Status, Tag
from portal.library.revisions import one_revision, related_ids
from portal.library.signals import collection_changed, tags_merged

log = logging.getLogger(__name__)
DEADLOCK = "40P01"
MERGE_ATTEMPTS = 3
MERGE_REFUSALS = {"22023": "A tag cannot be merged into itself.",
                  "P0002": "One of these tags no longer exists (merged or deleted meanwhile)."}


@dataclass(frozen=True)
class AssetData:
    title: str
    kind: str
    description: str = ""
    visibility: str = "public"
    featured: bool = False
    share_location: bool = False
    offer_original: bool = False
    tag_names: list[str] = field(default_factory=list)
    collection_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CollectionData:
    title: str
    description: str = ""


def unique_slug(text: str, max_length: int = 200) -> str:
    """Readable and collision-free without a lookup loop: slugified text plus a short random tail."""
    base = slugify(text)[:max_length].strip("-") or "item"
    return f"{base}-{secrets.token_hex(3)}"


def _announce_collection(collection_id: int, change: str) -> None:
    announce(collection_changed, Collection, change, collection_id=collection_id)


def tags_for_names(names: Iterable[str]) -> list[Tag]:
    """Get or create tags by name (case-insensitive, trimmed, de-duplicated, order kept)."""
    tags: list[Tag] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join(raw.split())[:50]
        slug = slugify(name)[:60]
        if not slug or slug in seen:
            continue
        seen.add(slug)
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
        tags.append(tag)
    return tags


def _apply(asset: Asset, data: AssetData) -> None:
    asset.title = data.title.strip()
    asset.kind = data.kind
    asset.description = data.description.strip()
    asset.visibility = data.visibility
    asset.featured = data.featured
    asset.share_location = data.share_location
    asset.offer_original = data.offer_original


def asset_create(*, owner: User, data: AssetData) -> Asset:
    with transaction.atomic():
        asset = Asset(owner=owner, slug=unique_slug(data.title))
        _apply(asset, data)
        asset.full_clean()
        with one_revision(asset, user=owner):
            asset.save()
            asset.tags.set(tags_for_names(data.tag_names))
            asset.collections.set(data.collection_ids)
        transaction.on_commit(partial(announce_asset, asset.pk, "created"))
    return asset


def asset_update(*, asset_id: int, expected_version: int, data: AssetData, editor: User | None = None,
                 reason: str = "") -> Asset:
    """An editor's save (or a restore of a revision, `reason` saying which): one new revision."""
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        if asset.version != expected_version:
            raise EditConflict(current=asset)
        if data.kind != asset.kind and asset.kind_is_frozen:
            raise KindFrozen(kind=asset.kind)
        _apply(asset, data)
        asset.version += 1  # safe: we hold the row lock
        asset.full_clean()
        with one_revision(asset, user=editor, reason=reason):
            asset.save()
            asset.tags.set(tags_for_names(data.tag_names))
            asset.collections.set(data.collection_ids)
        transaction.on_commit(partial(announce_asset, asset.pk, "updated"))
    return asset


def asset_restore(*, asset_id: int, revision_id: int, expected_version: int, editor: User) -> Asset:
    """Bring back what an editor set in an old revision, as a new save by `editor`: the same checks
    as any edit (a version changed since the page was loaded raises EditConflict), a new version
    and a revision of its own. Never the status (the lifecycle's), never a kind fixed by a file;
    tags and collections deleted since are left out."""
    record = Asset.history.filter(id=asset_id, history_id=revision_id).exclude(history_type="-").first()
    if record is None:
        raise RevisionMissing()
    current = Asset.objects.only("kind", "source_key", "status").get(pk=asset_id)
    data = AssetData(
        title=record.title, kind=current.kind if current.kind_is_frozen else record.kind,
        description=record.description, visibility=record.visibility, featured=record.featured,
        share_location=record.share_location, offer_original=record.offer_original,
        tag_names=list(Tag.objects.filter(pk__in=related_ids(Asset, record, "tags")).values_list("name", flat=True)),
        collection_ids=list(Collection.objects.filter(pk__in=related_ids(Asset, record, "collections"))
                            .values_list("pk", flat=True)),
    )
    return asset_update(asset_id=asset_id, expected_version=expected_version, data=data, editor=editor,
                        reason=f"restored version {record.version}")


def asset_set_published(*, asset_id: int, editor: User, published: bool) -> Asset:
    """Publishing twice is a no-op, not an error. The public copy follows in a task (portal.media)."""
    target = Status.PUBLISHED if published else Status.READY
    return asset_transition(asset_id=asset_id, to=target, actor=editor,
                            reason="published by an editor" if published else "unpublished by an editor")


def asset_delete(*, asset_id: int) -> None:
    with transaction.atomic():
        deleted, _ = Asset.objects.filter(pk=asset_id).delete()
        if deleted:
            transaction.on_commit(partial(announce_asset, asset_id, "deleted"))


def collection_create(*, owner: User, data: CollectionData) -> Collection:
    with transaction.atomic():
        collection = Collection(owner=owner, title=data.title.strip(), description=data.description.strip(),
                                slug=unique_slug(data.title))
        collection.full_clean()
        with one_revision(collection, user=owner):
            collection.save()
        transaction.on_commit(partial(_announce_collection, collection.pk, "created"))
    return collection


def collection_update(*, collection_id: int, expected_version: int, data: CollectionData,
                      editor: User | None = None, reason: str = "") -> Collection:
    with transaction.atomic():
        collection = Collection.objects.select_for_update().get(pk=collection_id)
        if collection.version != expected_version:
            raise EditConflict(current=collection)
        collection.title = data.title.strip()
        collection.description = data.description.strip()
        collection.version += 1
        collection.full_clean()
        with one_revision(collection, user=editor, reason=reason):
            collection.save()
        transaction.on_commit(partial(_announce_collection, collection.pk, "updated"))
    return collection


def collection_restore(*, collection_id: int, revision_id: int, expected_version: int, editor: User) -> Collection:
    """As asset_restore: a new save of an old revision's title and description."""
    record = Collection.history.filter(id=collection_id, history_id=revision_id).exclude(history_type="-").first()
    if record is None:
        raise RevisionMissing()
    return collection_update(collection_id=collection_id, expected_version=expected_version, editor=editor,
                             data=CollectionData(title=record.title, description=record.description),
                             reason=f"restored version {record.version}")


def collection_delete(*, collection_id: int) -> None:
    """Deleting a collection keeps its assets; only the grouping goes."""
    with transaction.atomic():
        deleted, _ = Collection.objects.filter(pk=collection_id).delete()
        if deleted:
            transaction.on_commit(partial(_announce_collection, collection_id, "deleted"))


def _sqlstate(error: DatabaseError) -> str:
    return str(getattr(error.__cause__, "sqlstate", "") or "")


def _announce_retagged(asset_ids: list[int]) -> None:
    for asset_id in asset_ids:
        announce_asset(asset_id, "updated")


def tag_merge(*, source_id: int, target_id: int) -> list[int]:
    """Merge tag `source_id` into `target_id` everywhere, atomically: every asset that had the source
    has the target (once), the source is gone, the moved assets have a new version and their index
    documents are due (recorded in this transaction by the tags_merged receivers). The work is one
    PL/pgSQL function (migration 0009), which locks in a fixed order; a deadlock with some other
    writer is retried when this is the outermost transaction. Returns the moved assets' ids."""
    for attempt in range(1, MERGE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT library_merge_tags(%s, %s)", [source_id, target_id])
                    moved: list[int] = cursor.fetchone()[0]
                tags_merged.send(sender=Tag, source_id=source_id, target_id=target_id, asset_ids=moved)
                transaction.on_commit(partial(_announce_retagged, moved))
            return moved
        except DatabaseError as error:
            state = _sqlstate(error)
            if state in MERGE_REFUSALS:
                raise TagMergeRefused(MERGE_REFUSALS[state]) from error
            if state != DEADLOCK or attempt == MERGE_ATTEMPTS or connection.in_atomic_block:
                raise
            log.warning("tag merge %s -> %s: deadlock, attempt %s", source_id, target_id, attempt)
    raise AssertionError("unreachable")
