"""PostgreSQL + S3 → MongoDB: the raw metadata document of every asset that has a file, read from
its original in S3 (assets processed before raw metadata was kept, or a MongoDB rebuilt from
scratch). Batched by asset id; idempotent (a document already stored for the asset's current
version is skipped, and writes are upserts by document id); resumable after a kill (checkpoint
after each batch); --dry-run; ends by verifying counts and a checksum of both sides."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from portal.analytics.migrating import Checkpoint, MigrationCommand, Side, chunked, pause, progress
from portal.integrations import mongo, s3
from portal.library.models import Asset
from portal.processing.rawmeta import build_document, document_id, extract_raw

NAME = "backfill_raw_metadata"


def assets_with_files() -> QuerySet[Asset]:
    return Asset.objects.exclude(source_key="").order_by("pk")


def source_fields(asset: Asset) -> dict[str, Any]:
    return {"key": asset.source_key, "size": asset.source_size, "type": asset.source_type,
            "filename": asset.original_filename}


class Command(MigrationCommand):
    help = "Store the raw metadata of every asset with a file in MongoDB, read from its original in S3."
    name, what, default_batch_size = NAME, "the backfill", 20

    def migrate(self, checkpoint: Checkpoint, *, size: int, dry_run: bool, throttle: float) -> None:
        todo = assets_with_files().filter(pk__gt=checkpoint.last_key)
        written = skipped = 0
        with progress(todo.count(), description="raw metadata", out=self.stderr) as bar:
            for batch in chunked(todo.iterator(chunk_size=size), size):
                ids = [document_id(asset.pk, asset.renditions_version) for asset in batch]
                found = mongo.find(mongo.RAW_METADATA, {"_id": {"$in": ids}}, projection={"_id": 1})
                stored = {document["_id"] for document in found}
                read = [self._read(asset) for asset in batch
                        if document_id(asset.pk, asset.renditions_version) not in stored]
                documents = [document for document in read if document is not None]
                if not dry_run:
                    mongo.bulk_upsert(mongo.RAW_METADATA, documents, replace=True)
                written, skipped = written + len(documents), skipped + len(batch) - len(documents)
                checkpoint.advance(last_key=batch[-1].pk, count=len(batch))  # only after MongoDB acknowledged
                bar.update(len(batch))
                pause(throttle)
        verb = "would write" if dry_run else "wrote"
        self.stdout.write(f"{verb} {written} documents; {skipped} already stored or unreadable")

    def _read(self, asset: Asset) -> dict[str, Any] | None:
        with tempfile.TemporaryDirectory(prefix="portal-backfill-") as scratch:
            path = Path(scratch, "original")
            try:
                s3.download_file(bucket=settings.S3_PRIVATE_BUCKET, key=asset.source_key, path=path)
            except s3.ObjectMissing:
                self.stderr.write(f"asset {asset.pk}: original {asset.source_key} is not in storage; skipped")
                return None
            raw, text, notes = extract_raw(asset.kind, path)
        return build_document(asset_id=asset.pk, version=asset.renditions_version, kind=asset.kind,
                              source=source_fields(asset), raw=raw, text=text, notes=notes)

    def sides(self) -> tuple[Side, Side]:
        expected = {document_id(asset.pk, asset.renditions_version): asset for asset in assets_with_files().iterator()}
        source = Side("postgresql", {key: f"{a.source_key}|{a.source_size}" for key, a in expected.items()})
        found: dict[str, str] = {}
        for keys in chunked(expected, 1000):
            for document in mongo.find(mongo.RAW_METADATA, {"_id": {"$in": keys}}, projection={"source": 1}):
                found[document["_id"]] = f"{document['source'].get('key')}|{document['source'].get('size')}"
        return source, Side("mongodb", found)
