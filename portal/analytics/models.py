"""The outbox (activity events and raw metadata on their way to MongoDB), migration checkpoints,
and the one field moved out of MongoDB into PostgreSQL."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Stream(models.TextChoices):
    EVENT = "event", "Activity event"
    RAW_METADATA = "raw_metadata", "Raw metadata document"


class OutboxEntry(models.Model):
    """Written in the request's (or the processing job's) own transaction: a cheap insert that
    commits or rolls back with the change it describes. `analytics.ship` moves rows to MongoDB and
    deletes them only once MongoDB acknowledged; the row id is the MongoDB key, so a replay of a
    batch overwrites instead of duplicating."""

    id = models.BigAutoField(primary_key=True)
    stream = models.CharField(max_length=20, choices=Stream.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # Why MongoDB refused this row's document, if it did: kept for a person to look at and never
    # shipped again, so one bad row cannot hold back the rows behind it.
    rejected = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        verbose_name_plural = "outbox entries"

    def __str__(self) -> str:
        return f"{self.stream} #{self.pk}"


class MigrationCheckpoint(models.Model):
    """How far a data migration command got: the last key it finished, committed after each
    batch, so a killed run resumes where it stopped."""

    name = models.CharField(max_length=100, primary_key=True)
    last_key = models.BigIntegerField(default=0)
    processed = models.BigIntegerField(default=0)
    finished = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_key}"


class AssetCameraModel(models.Model):
    """The camera model of an image asset, moved out of its raw EXIF in MongoDB into a column that
    pages can filter and sort on (`manage.py move_camera_model`). Kept beside the asset rather than
    on it, so the library's table and migrations stay the library's."""

    asset = models.OneToOneField("library.Asset", on_delete=models.CASCADE, primary_key=True,
                                 related_name="camera")
    camera_model = models.CharField(max_length=200, db_index=True)

    def __str__(self) -> str:
        return self.camera_model
