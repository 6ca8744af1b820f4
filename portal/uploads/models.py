"""An upload session: one file on its way from a browser straight to S3."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from portal.library.models import Asset, Kind


class UploadStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the file"
    COMPLETE = "complete", "Uploaded"
    FAILED = "failed", "Failed"
    ABANDONED = "abandoned", "Abandoned"


class UploadSession(models.Model):
    # A UUID, so a session id in a URL reveals nothing and cannot be guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="upload_sessions")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions")
    key = models.CharField(max_length=200, unique=True)
    original_filename = models.CharField(max_length=255)
    declared_size = models.BigIntegerField()
    declared_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    multipart_upload_id = models.CharField(max_length=200, blank=True)
    part_size = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="upload_status_created")]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.get_status_display()})"

    @property
    def is_multipart(self) -> bool:
        return bool(self.multipart_upload_id)

    @property
    def part_count(self) -> int:
        if not self.part_size:
            return 1
        return max(1, -(-self.declared_size // self.part_size))

    def expected_part_size(self, number: int) -> int:
        """What part `number` must hold: part_size each, the remainder in the last one."""
        if not self.part_size:
            return self.declared_size
        return min(self.part_size, self.declared_size - (number - 1) * self.part_size)
