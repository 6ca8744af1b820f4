"""Where an asset's public copy stands: what the publication task is doing, for the editor's page."""

from __future__ import annotations

from django.db import models

from portal.library.models import Asset


class PublicationState(models.TextChoices):
    PENDING = "pending", "Queued"
    COPYING = "copying", "Publishing"
    REMOVING = "removing", "Removing the public copy"
    RETRYING = "retrying", "Waiting to retry"
    DONE = "done", "Up to date"


WORKING = frozenset({PublicationState.PENDING, PublicationState.COPYING, PublicationState.REMOVING,
                     PublicationState.RETRYING})


class Publication(models.Model):
    """One row per asset that was ever published. Written by portal.media.publication only. The
    intent is the asset's own status and visibility; this row says how far the task has got."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="publication")
    state = models.CharField(max_length=10, choices=PublicationState.choices, default=PublicationState.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The copy being made: its key is chosen once, so a retry goes on where the last attempt stopped.
    target_key = models.CharField(max_length=200, blank=True)
    target_from = models.CharField(max_length=500, blank=True)
    # What the current public copy was made from (original key + renditions folder): a new upload
    # or processing run changes it, and the task republishes under a new token.
    copied_from = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"publication of asset {self.asset_id}: {self.state} {self.done}/{self.total}"

    @property
    def is_working(self) -> bool:
        return self.state in WORKING


class Caption(models.Model):
    """Subtitles of a video or audio asset in one language: a WebVTT file in the private bucket (SRT
    uploads are converted), and its cues (start, end, text) for search and the moment a hit links to.
    Written by portal.media.caption_services only."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="captions")
    language = models.CharField(max_length=12, help_text="a language code, e.g. en or fr-CA")
    label = models.CharField(max_length=80, help_text="what the player's menu shows, e.g. English")
    key = models.CharField(max_length=200)
    cues = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["asset", "language"], name="caption_one_per_language")]

    def __str__(self) -> str:
        return f"{self.label} captions of asset {self.asset_id}"

    @property
    def text(self) -> str:
        return "\n".join(str(cue.get("text", "")) for cue in self.cues)
