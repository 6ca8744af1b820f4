"""What the library knows of a partner's catalogue: which asset each partner row became, and the
import runs with their checkpoints. The catalogue itself is read through a foreign table (catalogue.py)."""

from __future__ import annotations

from django.db import models

from portal.library.models import Asset


class PartnerItem(models.Model):
    """One row of the partner's catalogue, as merged into the library."""

    external_id = models.BigIntegerField(unique=True, help_text="The partner's row id")
    # SET_NULL: an editor may delete the asset; the import then leaves that row alone (never recreates it).
    asset = models.OneToOneField(Asset, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="partner_item")
    url = models.URLField(max_length=500, help_text="The item's page at the partner")
    # A digest of the partner's fields as last merged: an unchanged row costs no write.
    fingerprint = models.CharField(max_length=64)
    withdrawn = models.BooleanField(default=False, help_text="Gone from the catalogue (unpublished here)")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"partner row {self.external_id}"


class Phase(models.TextChoices):
    ROWS = "rows", "Merging rows"
    WITHDRAW = "withdraw", "Withdrawing rows gone from the catalogue"
    DONE = "done", "Done"


class PartnerImport(models.Model):
    """One import run and its checkpoint. Each batch of rows commits with `last_row_id`, so a killed
    run continues after the last committed batch; a finished run is never resumed. One import runs at a
    time (services.partner_import holds an advisory lock)."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.ROWS)
    last_row_id = models.BigIntegerField(default=0, help_text="Rows up to this partner id are merged")
    new = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    refusals = models.JSONField(default=list, blank=True, help_text='[{"row": id, "reason": "..."}]')

    def __str__(self) -> str:
        return f"partner import {self.pk} ({self.phase})"
