"""The asset lifecycle's one owner: every change of `Asset.status` goes through here.

`asset_transition` locks the row, checks the transition table (Asset.move_to), bumps the version,
records who and why (AssetTransition), and announces the change after commit. Uploads, processing,
the studio and the management commands call it; tests/library/test_lifecycle.py fails if any other
module under portal/ or workers/ writes the status itself.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from functools import partial

from django.db import transaction
from django.dispatch import Signal

from portal.accounts.models import User
from portal.core.fragments import bump_generation
from portal.library.errors import IllegalTransition
from portal.library.models import Asset, AssetTransition, Status
from portal.library.signals import asset_changed

log = logging.getLogger(__name__)
REASON_MAX = 300
MOVED_FIELDS = ("status", "version", "published_at")  # all a move writes
BIG_FIELDS = ("renditions", "media", "attributes")


def announce(signal: Signal, sender: type, change: str, **ids: int) -> None:
    """Bump the content generation and tell the subscribers (search, media, processing, analytics).
    send_robust: one receiver's exception must not skip the others (an unpublished asset left
    findable because the media receiver raised before search's ran)."""
    bump_generation()
    for receiver, result in signal.send_robust(sender=sender, change=change, **ids):
        if isinstance(result, Exception):
            log.error("%s receiver %r failed for %s (%s)", sender.__name__, receiver, ids, change, exc_info=result)


def announce_asset(asset_id: int, change: str) -> None:
    announce(asset_changed, Asset, change, asset_id=asset_id)


def _change_name(current: str, to: str) -> str:
    if current == Status.PUBLISHED and to == Status.READY:
        return "unpublished"
    return str(to)


def asset_transition(*, asset_id: int, to: str, actor: User | None, reason: str,
                     only_from: Collection[str] | None = None, change: str = "") -> Asset:
    """Move an asset to `to` and return it as saved. Moving to the status it already has does
    nothing (publishing twice is not an error); so does an asset outside `only_from`, when given
    (a re-run of a published asset keeps it published). An illegal move raises IllegalTransition.
    `change` names the announcement when it is not the status itself ("uploaded", "processed").
    Callers that change other fields in the same transaction save them first: this re-reads the row."""
    with transaction.atomic():
        # Not the big fields (a video's thousands of rendition paths): the cost of a move must not
        # grow with them. Loaded on access if a caller needs them.
        asset = Asset.objects.select_for_update().defer(*BIG_FIELDS).get(pk=asset_id)
        current = asset.status
        if current == to or (only_from is not None and current not in only_from):
            return asset
        asset.move_to(to)
        asset.version += 1  # safe: we hold the row lock
        asset.clean_fields(exclude=[f.name for f in Asset._meta.fields if f.name not in MOVED_FIELDS])
        asset.save(update_fields=[*MOVED_FIELDS, "updated_at"])
        AssetTransition.objects.create(asset=asset, from_status=current, to_status=to, actor=actor,
                                       reason=reason[:REASON_MAX])
        transaction.on_commit(partial(announce_asset, asset.pk, change or _change_name(current, to)))
    return asset


def assets_seed(*, assets: Sequence[Asset], statuses: Sequence[str], actor: User | None, reason: str) -> None:
    """Demo data in bulk: create unsaved draft assets, each moved to its status in `statuses` by a
    legal move from draft, with their transition rows. No announcement per asset: the caller bumps
    the cache generation once, and `search_reindex` indexes them."""
    for asset, status in zip(assets, statuses, strict=True):
        if asset.pk is not None or asset.status != Status.DRAFT:
            raise IllegalTransition(current=asset.status, wanted=status)
        if status != Status.DRAFT:
            asset.move_to(status)
    with transaction.atomic():
        Asset.objects.bulk_create(assets, batch_size=500)
        AssetTransition.objects.bulk_create(
            [AssetTransition(asset=asset, from_status=Status.DRAFT, to_status=asset.status, actor=actor,
                             reason=reason[:REASON_MAX])
             for asset in assets if asset.status != Status.DRAFT], batch_size=500)

