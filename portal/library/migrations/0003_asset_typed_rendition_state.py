# Rendition state moves out of Asset.attributes into typed fields; existing rows are converted.

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

# attributes key -> field; "renditions_prefix" also gives the run (job) that wrote the files.
MOVED = {"media": "media", "renditions": "renditions", "renditions_prefix": "renditions_prefix",
         "upload_error": "upload_error", "processing_error": "processing_error"}
MARKERS = {"demo": "seed_demo", "demo_media": "seed_demo_media"}


def _job_of(prefix: str) -> int | None:
    """Only here, once, for rows written before the field existed: "renditions/<asset>/<job>/"."""
    parts = prefix.strip("/").split("/")
    return int(parts[2]) if len(parts) == 3 and parts[0] == "renditions" and parts[2].isdigit() else None


def forwards(apps, schema_editor):
    Asset = apps.get_model("library", "Asset")
    Job = apps.get_model("jobs", "Job")
    keys = [*MOVED, *MARKERS]
    for asset in Asset.objects.filter(attributes__has_any_keys=keys).iterator(chunk_size=500):
        attributes = dict(asset.attributes)
        for key, field in MOVED.items():
            if key in attributes:
                setattr(asset, field, attributes.pop(key) or ([] if field == "renditions" else
                                                              {} if field == "media" else ""))
        for key, command in MARKERS.items():
            if attributes.pop(key, None):
                asset.seeded_by = command
        job_id = _job_of(asset.renditions_prefix)
        asset.renditions_job_id = job_id if job_id and Job.objects.filter(pk=job_id).exists() else None
        asset.attributes = attributes
        asset.save(update_fields=["attributes", "seeded_by", "renditions_job", *MOVED.values()])


def backwards(apps, schema_editor):
    Asset = apps.get_model("library", "Asset")
    for asset in Asset.objects.iterator(chunk_size=500):
        attributes = dict(asset.attributes)
        for key, field in MOVED.items():
            if getattr(asset, field):
                attributes[key] = getattr(asset, field)
        for key, command in MARKERS.items():
            if asset.seeded_by == command:
                attributes[key] = True
        if attributes != asset.attributes:
            asset.attributes = attributes
            asset.save(update_fields=["attributes"])


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0001_initial'),
        ('library', '0002_asset_original_filename_asset_public_key_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='asset',
            name='media',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='asset',
            name='processing_error',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='asset',
            name='renditions',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=300), blank=True, default=list, size=None),
        ),
        migrations.AddField(
            model_name='asset',
            name='renditions_job',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.job'),
        ),
        migrations.AddField(
            model_name='asset',
            name='renditions_prefix',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='asset',
            name='seeded_by',
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name='asset',
            name='upload_error',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
