"""Merge the partner's catalogue (a postgres_fdw foreign table) into the library. Safe to rerun (an
unchanged catalogue changes nothing) and to kill (the next run continues after the last batch)."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portal.partners.catalogue import CatalogueUnavailable, catalogue_count, catalogue_setup
from portal.partners.models import PartnerImport, Phase
from portal.partners.services import ImportRunning, partner_import


class Command(BaseCommand):
    help = "Merge the partner's catalogue into the library (new, changed, withdrawn rows); resumable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="rows per transaction and checkpoint")
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to wait between batches")

    def handle(self, *args: Any, batch_size: int, pause: float, **options: Any) -> None:
        bar = tqdm(unit="row", desc="partner catalogue", file=sys.stderr)

        def started(run: PartnerImport) -> None:
            if run.last_row_id or run.phase != Phase.ROWS:
                self.stderr.write(f"resuming import {run.pk} after partner row {run.last_row_id}")
            bar.reset(total=catalogue_count(after_id=run.last_row_id) if run.phase == Phase.ROWS else 0)

        try:
            catalogue_setup()
            run = partner_import(batch_size=max(1, batch_size), pause_s=max(0.0, pause), progress=bar.update,
                                 on_start=started)
        except (CatalogueUnavailable, ImportRunning) as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        for refusal in run.refusals:
            self.stdout.write(f"refused row {refusal['row']}: {refusal['reason']}")
        if run.refused > len(run.refusals):
            self.stdout.write(f"... and {run.refused - len(run.refusals)} more refused rows")
        self.stdout.write(f"import {run.pk}: {run.new} new, {run.changed} changed, {run.withdrawn} withdrawn, "
                          f"{run.refused} refused, {run.unchanged} unchanged")
