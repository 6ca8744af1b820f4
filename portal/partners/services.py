"""Merging the partner's catalogue into the library: new rows become draft assets, changed rows update
theirs, rows gone from the catalogue are withdrawn (unpublished through the lifecycle), bad rows are
refused with their partner id and the reason, and the rest goes on.

Resumable and idempotent: rows are read in partner-id order in batches; each batch commits together
with the run's checkpoint (`PartnerImport.last_row_id`), so a killed run continues after its last
committed batch, and a row whose fingerprint is unchanged costs no write (a rerun changes nothing)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone

from portal.accounts.models import User
from portal.library.errors import LibraryError
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Kind, Status
from portal.library.services import AssetData, asset_create, asset_update
from portal.partners.catalogue import PartnerRow, catalogue_gone, catalogue_rows
from portal.partners.models import PartnerImport, PartnerItem, Phase

LOCK_KEY = 0x70617274  # pg_advisory_lock key of the import ("part")
MAX_REFUSALS_KEPT = 1000
MAX_TAGS = 20
URL = URLValidator(schemes=["http", "https"])
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


class ImportRunning(Exception):
    """Another import holds the lock: one at a time."""


class RowRefused(Exception):
    """A partner row the library cannot take, in words for the report."""


@dataclass(frozen=True)
class RowData:
    data: AssetData
    url: str
    fingerprint: str


def row_data(row: PartnerRow) -> RowData:
    """The partner row as library input, or RowRefused saying what is wrong with it."""
    title = " ".join(row.title.split())
    kind = row.kind.strip().lower()
    url = row.url.strip()
    tags = [" ".join(tag.split()) for tag in row.tags.split(",") if tag.strip()]
    if not title:
        raise RowRefused("the title is empty")
    if len(title) > Asset._meta.get_field("title").max_length:  # type: ignore[operator]
        raise RowRefused(f"the title is longer than {Asset._meta.get_field('title').max_length} characters")
    if kind not in Kind.values:
        raise RowRefused(f"kind {row.kind.strip()[:40]!r} is not one of {', '.join(Kind.values)}")
    if len(row.description) > 10_000:
        raise RowRefused("the description is longer than 10,000 characters")
    try:
        URL(url)
    except ValidationError:
        raise RowRefused(f"url {url[:80]!r} is not an http(s) address") from None
    if len(url) > PartnerItem._meta.get_field("url").max_length:  # type: ignore[operator]
        raise RowRefused("the url is longer than 500 characters")
    if len(tags) > MAX_TAGS or any(len(tag) > 50 for tag in tags):
        raise RowRefused(f"more than {MAX_TAGS} tags, or a tag longer than 50 characters")
    data = AssetData(title=title, kind=kind, description=row.description.strip(), tag_names=tags)
    digest = hashlib.sha256(json.dumps([title, kind, data.description, url, tags]).encode()).hexdigest()
    return RowData(data=data, url=url, fingerprint=digest)


def partner_owner() -> User:
    """The author of the partner's assets: a user of its own that cannot sign in."""
    owner, created = User.objects.get_or_create(username=settings.PARTNER_OWNER_USERNAME)
    if created:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    return owner


def _merge(row: RowData, external_id: int, item: PartnerItem | None, owner: User) -> str:
    if item is None:
        asset = asset_create(owner=owner, data=row.data)  # a draft: an editor publishes it
        PartnerItem.objects.create(external_id=external_id, asset=asset, url=row.url, fingerprint=row.fingerprint)
        return NEW
    if item.fingerprint == row.fingerprint and not item.withdrawn:
        return UNCHANGED
    if item.asset_id is not None:  # None: an editor deleted the asset; the import does not bring it back
        asset = Asset.objects.get(pk=item.asset_id)
        # The partner owns title, kind, description and tags; the editor's choices stay.
        data = AssetData(**{**row.data.__dict__, "visibility": asset.visibility, "featured": asset.featured,
                            "share_location": asset.share_location, "offer_original": asset.offer_original,
                            "collection_ids": list(asset.collections.values_list("pk", flat=True))})
        asset_update(asset_id=asset.pk, expected_version=asset.version, data=data)
    item.url, item.fingerprint, item.withdrawn = row.url, row.fingerprint, False  # back in the catalogue
    item.save()
    return CHANGED


def _refuse(run: PartnerImport, row_id: int, reason: str) -> None:
    run.refused += 1
    if len(run.refusals) < MAX_REFUSALS_KEPT:
        run.refusals.append({"row": row_id, "reason": reason})


def _merge_batch(run: PartnerImport, batch_size: int, owner: User, progress: Callable[[int], None]) -> bool:
    """One batch of rows and the checkpoint, in one transaction; False when no rows are left."""
    with transaction.atomic():
        rows = catalogue_rows(after_id=run.last_row_id, limit=batch_size)
        if not rows:
            run.phase = Phase.WITHDRAW
            run.save()
            return False
        items = PartnerItem.objects.in_bulk([row.id for row in rows], field_name="external_id")
        for row in rows:
            try:
                data = row_data(row)
                with transaction.atomic():  # a savepoint: a row refused half-way leaves nothing behind
                    outcome = _merge(data, row.id, items.get(row.id), owner)
                setattr(run, outcome, getattr(run, outcome) + 1)
            except (RowRefused, LibraryError, ValidationError) as error:
                _refuse(run, row.id, "; ".join(error.messages) if isinstance(error, ValidationError) else str(error))
            progress(1)
        run.last_row_id = rows[-1].id
        run.save()
    return True


def _withdraw_batch(run: PartnerImport, batch_size: int) -> bool:
    with transaction.atomic():
        gone = catalogue_gone(limit=batch_size)
        for item in PartnerItem.objects.select_for_update().filter(external_id__in=gone).order_by("external_id"):
            if item.asset_id is not None:  # published: unpublished; a draft stays a draft
                asset_transition(asset_id=item.asset_id, to=Status.READY, actor=None, only_from={Status.PUBLISHED},
                                 reason=f"withdrawn from the partner catalogue (row {item.external_id})")
            item.withdrawn = True
            item.save(update_fields=["withdrawn", "updated_at"])
            run.withdrawn += 1
        if len(gone) < batch_size:
            run.phase, run.finished_at = Phase.DONE, timezone.now()
        run.save()
    return run.phase != Phase.DONE


def partner_import(*, batch_size: int = 200, pause_s: float = 0.0, progress: Callable[[int], None] | None = None,
                   on_start: Callable[[PartnerImport], None] | None = None) -> PartnerImport:
    """Run the import, continuing the unfinished run if there is one; returns the run with its counts.
    `progress(n)` is told of each row merged; `on_start(run)` of the run before the first batch;
    `pause_s` is slept between batches (spares the partner's server)."""
    with connection.cursor() as cursor:  # session-level: a killed import's lock goes with its connection
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ImportRunning("Another partner import is running.")
    try:
        run = PartnerImport.objects.filter(finished_at=None).order_by("-pk").first() or PartnerImport.objects.create()
        if on_start is not None:
            on_start(run)
        owner = partner_owner()
        while run.phase == Phase.ROWS and _merge_batch(run, batch_size, owner, progress or (lambda n: None)):
            time.sleep(pause_s)
        while run.phase == Phase.WITHDRAW and _withdraw_batch(run, batch_size):
            pass
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
