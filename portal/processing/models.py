"""Per-asset processing options an editor sets (the asset's own row belongs to the library)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from portal.library.models import Asset


class OcrOptions(models.Model):
    """The languages OCR reads on this asset's scans, besides English (Tesseract's codes: "fra")."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="ocr_options")
    languages = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"OCR languages of asset {self.asset_id}: {', '.join(self.languages) or 'English only'}"
