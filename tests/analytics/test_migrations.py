"""The SQL ↔ NoSQL migration commands against the real servers: exact counts, idempotent reruns,
--dry-run, mismatches reported, and a run SIGKILLed half-way finished exactly by the next."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from portal.analytics.models import AssetCameraModel, MigrationCheckpoint
from portal.integrations import mongo, s3
from portal.jobs.models import Job
from portal.library.models import Asset, Kind, Status
from portal.processing.samples import make_audio, make_photo
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def image_documents(count: int, *, without_model_every: int = 0) -> list[Asset]:
    owner = UserFactory()
    assets = Asset.objects.bulk_create([Asset(kind=Kind.IMAGE, title=f"Photo {n}", slug=f"photo-{uuid.uuid4().hex}",
                                              owner=owner, status=Status.PUBLISHED) for n in range(count)])
    documents = []
    for n, asset in enumerate(assets):
        main = {} if without_model_every and n % without_model_every == 0 else {"Model": f"Camera {n % 7}"}
        documents.append({"_id": f"{asset.pk}:2", "asset_id": asset.pk, "version": 2, "kind": "image",
                          "raw": {"image": {"exif": {"main": main}}}})
        documents.append({"_id": f"{asset.pk}:1", "asset_id": asset.pk, "version": 1, "kind": "image",
                          "raw": {"image": {"exif": {"main": {"Model": "an older version's camera"}}}}})
    mongo.bulk_upsert(mongo.RAW_METADATA, documents, replace=True)
    return assets


def test_camera_models_move_to_postgresql_exactly_and_a_rerun_changes_nothing(mongo_db):
    assets = image_documents(30, without_model_every=10)
    dry = run("move_camera_model", "--dry-run", "--batch-size", "7")
    assert "dry run" in dry
    assert AssetCameraModel.objects.count() == 0
    assert not MigrationCheckpoint.objects.exists()  # not even a checkpoint

    output = run("move_camera_model", "--batch-size", "7")
    assert "verify: mongodb 27 rows" in output
    assert "verify: OK" in output
    assert AssetCameraModel.objects.count() == 27
    assert AssetCameraModel.objects.get(asset=assets[1]).camera_model == "Camera 1"  # the newest version's
    assert MigrationCheckpoint.objects.get(name="move_camera_model").finished

    again = run("move_camera_model", "--batch-size", "7")
    assert "verify: OK" in again
    assert AssetCameraModel.objects.count() == 27


def test_mismatches_are_printed_and_fail_the_command(mongo_db):
    assets = image_documents(3)
    run("move_camera_model")
    AssetCameraModel.objects.filter(asset=assets[0]).update(camera_model="tampered")
    assert f"{assets[0].pk}: mongodb 'Camera 0', postgresql 'tampered'" in run("move_camera_model", "--dry-run")
    stray = Asset.objects.create(kind=Kind.IMAGE, title="x", slug=f"x-{uuid.uuid4().hex}", owner=assets[0].owner)
    AssetCameraModel.objects.create(asset=stray, camera_model="not from MongoDB")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 mismatches"):
        call_command("move_camera_model", stdout=out, stderr=io.StringIO())
    assert f"{stray.pk}: mongodb None, postgresql 'not from MongoDB'" in out.getvalue()
    assert AssetCameraModel.objects.get(asset=assets[0]).camera_model == "Camera 0"  # the rerun mended it


def test_a_move_killed_half_way_is_finished_exactly_by_the_next_run(mongo_db):
    image_documents(300, without_model_every=4)
    env = {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, "manage.py", "move_camera_model", "--batch-size", "10",
                              "--throttle", "0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = MigrationCheckpoint.objects.filter(name="move_camera_model").first()
            if row and row.processed >= 50:
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    row = MigrationCheckpoint.objects.get(name="move_camera_model")
    assert 50 <= row.processed < 300
    assert not row.finished
    assert AssetCameraModel.objects.count() < 225

    output = run("move_camera_model", "--batch-size", "10")
    assert f"resuming after asset {row.last_key}" in output
    assert "verify: mongodb 225 rows" in output
    assert "verify: OK" in output
    assert AssetCameraModel.objects.count() == 225


def test_backfill_reads_originals_from_s3_skips_what_is_stored_and_reports_missing_files(mongo_db, tmp_path):
    owner = UserFactory()
    photo = make_photo(tmp_path / "p.jpg", size=(64, 48))
    sound = make_audio(tmp_path / "a.m4a")
    assets = []
    for kind, path, content_type in ((Kind.IMAGE, photo, "image/jpeg"), (Kind.AUDIO, sound, "audio/mp4")):
        key = f"originals/test-{uuid.uuid4().hex}"
        s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=path.read_bytes(), content_type=content_type)
        asset = Asset.objects.create(kind=kind, title=kind, slug=f"b-{uuid.uuid4().hex}", owner=owner,
                                     source_key=key, source_size=path.stat().st_size, source_type=content_type)
        asset.renditions_job = Job.objects.create(asset=asset, status="succeeded")  # the run its outputs are from
        asset.save()
        assets.append(asset)
    Asset.objects.create(kind=Kind.VIDEO, title="no file", slug=f"n-{uuid.uuid4().hex}", owner=owner)

    assert "would write 2 documents" in run("backfill_raw_metadata", "--dry-run")
    assert mongo.count(mongo.RAW_METADATA, {}) == 0
    output = run("backfill_raw_metadata", "--batch-size", "1")
    assert "wrote 2 documents" in output
    assert "verify: postgresql 2 rows" in output
    assert "verify: OK" in output
    image = mongo.find_one(mongo.RAW_METADATA, {"_id": f"{assets[0].pk}:{assets[0].renditions_job_id}"})
    assert image is not None
    assert image["raw"]["image"]["exif"]["main"]["Make"] == "Portal Camera Co"
    audio = mongo.find_one(mongo.RAW_METADATA, {"_id": f"{assets[1].pk}:{assets[1].renditions_job_id}"})
    assert audio is not None
    assert audio["raw"]["ffprobe"]["streams"][0]["codec_name"] == "aac"

    assert "wrote 0 documents; 2 already stored" in run("backfill_raw_metadata", "--restart")

    s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=assets[1].source_key)
    rerun = Job.objects.create(asset=assets[1], status="succeeded")
    Asset.objects.filter(pk=assets[1].pk).update(renditions_job=rerun)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 mismatches"):
        call_command("backfill_raw_metadata", "--restart", stdout=out, stderr=io.StringIO())
    assert f"{assets[1].pk}:{rerun.pk}: postgresql" in out.getvalue()


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
