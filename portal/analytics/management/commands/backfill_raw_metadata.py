"""PostgreSQL + S3 → MongoDB: the raw metadata document of every asset that has a file, read from
its original in S3 (assets processed before raw metadata was kept, or a MongoDB rebuilt from
scratch). Batched by asset id; idempotent (a document already stored for the asset's current
version is skipped, and writes are upserts by document id); resumable after a kill (checkpoint
after each batch); --dry-run; ends by verifying counts and a checksum of both sides."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.analytics.migrating import Checkpoint, Side, chunked, pause, progress, verify
from portal.integrations import mongo, s3
from portal.library.models import Asset
from portal.processing.rawmeta import build_document, document_id, extract_raw

NAME = "backfill_raw_metadata"
JOB_IN_PREFIX = re.compile(r"^renditions/\d+/(\d+)/$")


def current_version(asset: Asset) -> int:
    """The processing job whose outputs the asset uses (its document's version); 0 if never processed."""
    found = JOB_IN_PREFIX.match(str(asset.attributes.get("renditions_prefix", "")))
    return int(found.group(1)) if found else 0


def source_fields(asset: Asset) -> dict[str, Any]:
    return {"key": asset.source_key, "size": asset.source_size, "type": asset.source_type,
            "filename": asset.original_filename}


class Command(BaseCommand):
    help = "Store the raw metadata of every asset with a file in MongoDB, read from its original in S3."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=20)
        parser.add_argument("--dry-run", action="store_true", help="report what would be read, write nothing")
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
        parser.add_argument("--throttle", type=float, default=0.0, help="seconds to pause between batches")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        checkpoint = Checkpoint(NAME, dry_run=dry_run)
        if options["restart"] or checkpoint.row.finished:
            checkpoint.restart()
        assets = Asset.objects.exclude(source_key="").order_by("pk")
        try:
            self._backfill(assets, checkpoint, max(1, options["batch_size"]), dry_run, options["throttle"])
            mismatches = verify(*self._sides(assets), out=self.stdout)
        except mongo.MongoUnavailable as error:
            raise CommandError(f"{error}; rerun to resume after asset {checkpoint.last_key}") from error
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        elif mismatches:
            raise CommandError(f"{len(mismatches)} mismatches after the backfill; see above")
        else:
            checkpoint.finish()

    def _backfill(self, assets: Any, checkpoint: Checkpoint, size: int, dry_run: bool, throttle: float) -> None:
        todo = assets.filter(pk__gt=checkpoint.last_key)
        if checkpoint.last_key:
            self.stdout.write(f"resuming after asset {checkpoint.last_key} ({checkpoint.row.processed} done)")
        written = skipped = 0
        with progress(todo.count(), description="raw metadata", out=self.stderr) as bar:
            for batch in chunked(todo.iterator(chunk_size=size), size):
                ids = [document_id(asset.pk, current_version(asset)) for asset in batch]
                found = mongo.find(mongo.RAW_METADATA, {"_id": {"$in": ids}}, projection={"_id": 1})
                stored = {document["_id"] for document in found}
                read = [self._read(asset) for asset in batch
                        if document_id(asset.pk, current_version(asset)) not in stored]
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
        return build_document(asset_id=asset.pk, version=current_version(asset), kind=asset.kind,
                              source=source_fields(asset), raw=raw, text=text, notes=notes)

    def _sides(self, assets: Any) -> tuple[Side, Side]:
        expected = {document_id(asset.pk, current_version(asset)): asset for asset in assets.iterator()}
        source = Side("postgresql", {key: f"{a.source_key}|{a.source_size}" for key, a in expected.items()})
        found: dict[str, str] = {}
        for keys in chunked(expected, 1000):
            for document in mongo.find(mongo.RAW_METADATA, {"_id": {"$in": keys}}, projection={"source": 1}):
                found[document["_id"]] = f"{document['source'].get('key')}|{document['source'].get('size')}"
        return source, Side("mongodb", found)
