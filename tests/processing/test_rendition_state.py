"""Rendition state is typed: Asset fields written by processing, read by everyone else."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps

from portal.jobs.models import Job

ROOT = Path(__file__).resolve().parents[2]
MOVED_KEYS = ("renditions_prefix", "renditions", "media", "processing_error", "upload_error", "demo_media", "demo")
migration = importlib.import_module("portal.library.migrations.0003_asset_typed_rendition_state")


def test_no_code_or_template_reads_rendition_state_out_of_attributes():
    keys = "|".join(MOVED_KEYS)
    pattern = re.compile(rf"attributes(?:\.get\(|\[|__|\.)[\"']?(?:{keys})\b")
    files = [*ROOT.glob("portal/**/*.py"), *ROOT.glob("workers/**/*.py"), *ROOT.glob("templates/**/*.html")]
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in files if "migrations" not in path.parts
                 for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


@pytest.mark.django_db
def test_the_migration_moves_old_attributes_into_the_fields_and_keeps_the_rest(asset_factory):
    asset = asset_factory()
    job = Job.objects.create(asset=asset, status="succeeded")
    asset.attributes = {"renditions_prefix": f"renditions/{asset.pk}/{job.pk}/", "renditions": ["thumb.jpg"],
                        "media": {"width": 3}, "processing_error": "old", "demo_media": True, "custom": 1}
    asset.save()
    gone = asset_factory(attributes={"renditions_prefix": f"renditions/{asset.pk}/999999999/"})

    migration.forwards(apps, None)

    asset.refresh_from_db()
    assert (asset.renditions_job_id, asset.renditions_prefix, asset.renditions, asset.media) == (
        job.pk, f"renditions/{asset.pk}/{job.pk}/", ["thumb.jpg"], {"width": 3})
    assert (asset.processing_error, asset.seeded_by, asset.attributes) == ("old", "seed_demo_media", {"custom": 1})
    gone.refresh_from_db()
    assert (gone.renditions_job_id, gone.renditions_prefix) == (None, f"renditions/{asset.pk}/999999999/")
