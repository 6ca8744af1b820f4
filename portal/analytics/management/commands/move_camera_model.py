"""MongoDB → PostgreSQL: the camera model of each image, out of its raw EXIF document into the
analytics_assetcameramodel.camera_model column (migration analytics 0002), so pages can filter
and sort on it. Batched by asset id, idempotent (upserts; a model gone from the document removes
the row), resumable after a kill (checkpoint committed with each batch), --dry-run, verified."""

from __future__ import annotations

from typing import Any

from portal.analytics.migrating import Checkpoint, MigrationCommand, Side, atomic, pause, progress
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


class Command(MigrationCommand):
    help = "Move each image's camera model from its raw metadata in MongoDB into a PostgreSQL column."
    name, what, default_batch_size = NAME, "moving", 500

    def migrate(self, checkpoint: Checkpoint, *, size: int, dry_run: bool, throttle: float) -> None:
        query: dict[str, Any] = {"kind": "image"}
        remaining = mongo.count(mongo.RAW_METADATA, {**query, "asset_id": {"$gt": checkpoint.last_key}})
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

    def sides(self) -> tuple[Side, Side]:
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
