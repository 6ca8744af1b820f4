"""MongoDB → PostgreSQL: the camera model of each image, out of its raw EXIF document into the
analytics_assetcameramodel.camera_model column (migration analytics 0002), so pages can filter
and sort on it. Batched by asset id, idempotent (upserts; a model gone from the document removes
the row), resumable after a kill (checkpoint committed with each batch), --dry-run, verified."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.analytics.migrating import Checkpoint, Side, atomic, pause, progress, verify
from portal.analytics.models import AssetCameraModel
from portal.integrations import mongo
from portal.library.models import Asset

NAME = "move_camera_model"
MODEL_PATH = "raw.image.exif.main.Model"


def camera_model(document: dict[str, Any]) -> str:
    value: Any = document
    for part in MODEL_PATH.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return " ".join(str(value).split())[:200] if isinstance(value, str) else ""


class Command(BaseCommand):
    help = "Move each image's camera model from its raw metadata in MongoDB into a PostgreSQL column."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
        parser.add_argument("--throttle", type=float, default=0.0, help="seconds to pause between batches")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run, size = options["dry_run"], max(1, options["batch_size"])
        checkpoint = Checkpoint(NAME, dry_run=dry_run)
        if options["restart"] or checkpoint.row.finished:
            checkpoint.restart()
        try:
            self._move(checkpoint, size, dry_run, options["throttle"])
            mismatches = verify(*self._sides(), out=self.stdout)
        except mongo.MongoUnavailable as error:
            raise CommandError(f"{error}; rerun to resume from asset {checkpoint.last_key}") from error
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        elif mismatches:
            raise CommandError(f"{len(mismatches)} mismatches after moving; see above")
        else:
            checkpoint.finish()

    def _move(self, checkpoint: Checkpoint, size: int, dry_run: bool, throttle: float) -> None:
        query: dict[str, Any] = {"kind": "image"}
        remaining = mongo.count(mongo.RAW_METADATA, {**query, "asset_id": {"$gt": checkpoint.last_key}})
        if checkpoint.last_key:
            self.stdout.write(f"resuming after asset {checkpoint.last_key} ({checkpoint.row.processed} done)")
        with progress(remaining, description="camera models", out=self.stderr) as bar:
            while True:
                documents = mongo.find(mongo.RAW_METADATA, {**query, "asset_id": {"$gt": checkpoint.last_key}},
                                       projection={"asset_id": 1, "version": 1, MODEL_PATH: 1},
                                       sort=[("asset_id", 1), ("version", -1)], limit=size)
                if not documents:
                    break
                latest: dict[int, str] = {}
                for document in documents:  # newest version first within an asset
                    latest.setdefault(int(document["asset_id"]), camera_model(document))
                if len(latest) > 1 and len(documents) == size:  # the last asset may continue in the next batch
                    latest.pop(max(latest))
                with atomic():
                    if not dry_run:
                        self._write(latest)
                    checkpoint.advance(last_key=max(latest), count=len(latest))
                bar.update(sum(1 for d in documents if int(d["asset_id"]) <= max(latest)))
                pause(throttle)

    def _write(self, latest: dict[int, str]) -> None:
        existing = set(Asset.objects.filter(pk__in=latest).values_list("pk", flat=True))
        rows = [AssetCameraModel(asset_id=pk, camera_model=model) for pk, model in latest.items()
                if model and pk in existing]
        AssetCameraModel.objects.bulk_create(rows, update_conflicts=True, unique_fields=["asset"],
                                             update_fields=["camera_model"])
        AssetCameraModel.objects.filter(asset_id__in=[pk for pk, model in latest.items() if not model]).delete()

    def _sides(self) -> tuple[Side, Side]:
        latest: dict[int, str] = {}
        for document in mongo.find(mongo.RAW_METADATA, {"kind": "image"},
                                   projection={"asset_id": 1, "version": 1, MODEL_PATH: 1},
                                   sort=[("asset_id", 1), ("version", -1)]):
            latest.setdefault(int(document["asset_id"]), camera_model(document))
        existing = set(Asset.objects.filter(pk__in=latest).values_list("pk", flat=True))
        source = Side("mongodb", {str(pk): model for pk, model in latest.items() if model and pk in existing})
        target = Side("postgresql", {str(pk): model for pk, model in
                                     AssetCameraModel.objects.values_list("asset_id", "camera_model")})
        return source, target
