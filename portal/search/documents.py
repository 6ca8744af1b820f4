"""An asset as the index stores it: one plain dict built from PostgreSQL (the truth) and, for
documents, the text processing extracted (the "text.txt" rendition in the private bucket)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from portal.integrations import s3
from portal.library.models import Asset, Collection, Tag
from portal.search.index import MARK_END, MARK_START

log = logging.getLogger(__name__)

TEXT_RENDITION = "text.txt"
OCR_RENDITION = "ocr.txt"  # what OCR read on scanned pages and images (portal.processing.ocr)
MAX_TEXT_BYTES = 1024 * 1024  # processing caps extraction too; the index needs no more
# Our highlight markers must only ever come from the engine; control characters (pdftotext's
# form feed between pages) would show as boxes in a snippet.
_CLEAN = {ord(MARK_START): None, ord(MARK_END): None,
          **{code: " " for code in [*range(32), 0x7F] if chr(code) not in "\t\n\r"}}


def _clean(text: str) -> str:
    return text.translate(_CLEAN)


def extracted_text(asset: Asset) -> str:
    """The text processing took out of the file, then what OCR read on its scans (a PDF's typed pages
    are in the first, its scanned pages in the second; an image has only the second)."""
    parts = []
    for relative in (TEXT_RENDITION, OCR_RENDITION):
        key = asset.rendition_key(relative)
        if key is None:
            continue
        try:
            data = s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=key, max_bytes=MAX_TEXT_BYTES)
        except s3.StorageError:  # index the rest now; a later change or reindex brings the text
            log.warning("could not read the extracted text of asset %s", asset.pk, exc_info=True)
            continue
        parts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _point(location: tuple[float, float] | None) -> dict[str, float] | None:
    return {"lat": location[0], "lon": location[1]} if location else None


def asset_document(asset: Asset, *, text: str | None = None) -> dict[str, Any]:
    """The index document. Call with tags, collections and owner loaded (see `with_relations`)."""
    media = asset.media or {}
    tags = list(asset.tags.all())
    collections = list(asset.collections.all())
    return {
        "id": asset.pk,
        "slug": asset.slug,
        "title": _clean(asset.title),
        "description": _clean(asset.description),
        # Caption cues count as the asset's text: a search finds what is said (the page links the moment).
        "text": _clean("\n".join([extracted_text(asset) if text is None else text,
                                  *(caption.text for caption in asset.captions.all())])),
        "tags": [tag.slug for tag in tags],
        "tag_names": [_clean(tag.name) for tag in tags],
        "collections": [collection.slug for collection in collections],
        "collection_ids": [collection.pk for collection in collections],
        "collection_titles": [_clean(collection.title) for collection in collections],
        "kind": asset.kind,
        "owner": asset.owner.get_username(),
        "visibility": asset.visibility,
        "status": asset.status,
        "featured": asset.featured,
        "published_at": asset.published_at.isoformat() if asset.published_at else None,
        "year": asset.published_at.year if asset.published_at else None,
        "updated_at": asset.updated_at.isoformat(),
        "duration": media.get("duration"),
        "page_count": media.get("page_count"),
        "location": _point(asset.location),  # exact: the editors' place filter
        "shared_location": _point(asset.shared_location),  # visitors': only if shared, to about 1 km
    }


def with_relations(assets: QuerySet[Asset]) -> QuerySet[Asset]:
    return assets.select_related("owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("slug", "name")),
        Prefetch("collections", queryset=Collection.objects.only("id", "slug", "title")),
        "captions",
    )


def all_assets(*, batch: int = 500) -> Iterator[Asset]:
    """Every asset (the query filters visibility, so editors' views can share the index), in id
    order, with relations loaded, a batch at a time (a rebuild never holds them all)."""
    last = 0
    while True:
        chunk = list(with_relations(Asset.objects.filter(pk__gt=last).order_by("pk"))[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk
