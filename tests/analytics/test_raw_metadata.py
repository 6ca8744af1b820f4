"""Raw metadata documents: hostile and odd values stored safely in the real FerretDB, never
losing the whole document, and processing storing one per asset version through the outbox."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.conf import settings
from PIL import ExifTags, Image

from portal.analytics import selectors
from portal.analytics.models import OutboxEntry
from portal.analytics.services import outbox_ship_all, raw_metadata_enqueue
from portal.integrations import mongo, s3
from portal.jobs.models import Job
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.rawmeta import MAX_DOCUMENT_BYTES, build_document, extract_raw
from portal.processing.samples import make_photo
from portal.processing.services import processing_run
from tests.resets import reset_mongo_client

pytestmark = pytest.mark.django_db(transaction=True)


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": True}
    for level in range(depth):
        value = {f"level{level}": value}
    return value


def stored(document: dict[str, object]) -> dict[str, object]:
    raw_metadata_enqueue(document=document)
    outbox_ship_all()
    found = mongo.find_one(mongo.RAW_METADATA, {"_id": document["_id"]})
    assert found is not None
    return found


def test_hostile_values_are_stored_escaped_cut_and_noted_never_lost(mongo_db, caplog):
    raw = {
        "ffprobe": {"format": {"tags": {"$where": "1", "com.apple.quicktime.make": "Apple", "a\x00b": "nul"}}},
        "deep": nested(200),
        "huge": "x" * 5_000_000,
        "bytes": b"Caf\xe9 cr\xe8me",  # Latin-1, not UTF-8: what old cameras write
        "blob": bytes(range(256)) * 4,
        "numbers": [float("nan"), float("inf"), 2**80, 1.5],
        "list": list(range(5000)),
    }
    with caplog.at_level(logging.INFO, logger="portal.processing.rawmeta"):
        document = build_document(asset_id=1, version=2, kind="video", source={"key": "k"}, raw=raw, text="t" * 3)
    found = stored(document)

    tags = found["raw"]["ffprobe"]["format"]["tags"]
    assert tags["＄where"] == "1"
    assert tags["com．apple．quicktime．make"] == "Apple"
    assert tags["ab"] == "nul"
    assert found["raw"]["bytes"] == "Café crème"
    assert found["raw"]["blob"] == "<binary: 1024 bytes>"
    assert found["raw"]["numbers"] == [None, None, str(2**80), 1.5]
    assert found["raw"]["huge"].startswith("x" * 1000)
    assert "cut:" in found["raw"]["huge"]
    assert len(found["raw"]["list"]) == 2001
    assert "more items" in found["raw"]["list"][-1]
    depth, value = 0, found["raw"]["deep"]
    while isinstance(value, dict):
        value, depth = next(iter(value.values())), depth + 1
    assert value == "…[cut: nested too deep]"
    assert depth < 30
    assert found["text"] == "ttt"
    assert any("escaped" in note for note in found["notes"])
    assert "stored with changes" in caplog.text


def test_a_document_over_the_size_limit_keeps_its_other_parts(mongo_db):
    many = {f"k{n}": "y" * 60_000 for n in range(1000)}  # 60 MB of short-enough strings
    document = build_document(asset_id=3, version=1, kind="document", source={}, raw={"pdfinfo": {"Pages": "2"},
                              "blob": many}, text="z" * 900_000)
    found = stored(document)
    assert found["raw"]["pdfinfo"] == {"Pages": "2"}
    assert found["raw"]["blob"] == "…[cut: document size limit]"
    assert len(str(found)) < MAX_DOCUMENT_BYTES * 1.1
    assert any("left out" in note for note in found["notes"])


def test_a_photo_with_non_utf8_exif_text_is_extracted_and_stored(mongo_db, tmp_path):
    path = make_photo(tmp_path / "p.jpg", size=(64, 48), lat=48.85, lon=2.35)
    with Image.open(path) as image:
        exif = image.getexif()
        exif[ExifTags.Base.Artist] = b"Fran\xe7ois M\xfcller"  # Latin-1 bytes in an ASCII tag
        exif[ExifTags.Base.ImageDescription] = "caf\udce9"  # a lone surrogate, as surrogateescape leaves it
        image.save(path, exif=exif)
    raw, text, notes = extract_raw("image", path)
    found = stored(build_document(asset_id=5, version=9, kind="image", source={}, raw=raw, text=text, notes=notes))
    main = found["raw"]["image"]["exif"]["main"]
    assert main["Model"] == "PC-1"
    assert main["Artist"] == "François Müller"  # read as Latin-1, not lost
    assert main["ImageDescription"].startswith("caf")  # what Pillow left of a lone surrogate, stored
    assert found["raw"]["image"]["exif"]["gpsinfo"]["GPSLatitudeRef"] == "N"


def test_a_file_no_reader_understands_gives_notes_not_a_crash(mongo_db, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01garbage" * 100)
    raw, text, notes = extract_raw("video", junk)
    assert raw == {}
    assert text is None
    assert notes
    assert notes[0].startswith("ffprobe: could not be read")
    found = stored(build_document(asset_id=6, version=1, kind="video", source={}, raw=raw, text=text, notes=notes))
    assert found["notes"] == notes


def test_processing_stores_the_complete_raw_metadata_even_while_mongodb_is_down(mongo_db, asset_factory, tmp_path,
                                                                                stopped):
    path = make_photo(tmp_path / "photo.jpg", size=(320, 240), lat=52.37, lon=4.89)
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=path.read_bytes(), content_type="image/jpeg")
    asset = asset_factory(kind=Kind.IMAGE, status=Status.PROCESSING, published_at=None, source_key=key,
                          source_size=path.stat().st_size, source_type="image/jpeg", original_filename="photo.jpg")
    job = job_create(asset_id=asset.pk, queue="interactive", enqueue=False)
    with stopped("ferretdb"):
        processing_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == "succeeded"  # the outage cost the job nothing
        assert OutboxEntry.objects.filter(stream="raw_metadata").count() == 1
    reset_mongo_client()
    outbox_ship_all()
    found = mongo.find_one(mongo.RAW_METADATA, {"asset_id": asset.pk}, sort=[("version", -1)])
    assert found is not None
    assert found["version"] == job.pk
    assert found["raw"]["image"]["exif"]["main"]["Make"] == "Portal Camera Co"
    assert found["raw"]["image"]["exif"]["gpsinfo"]["GPSLatitudeRef"] == "N"
    assert found["source"] == {"key": key, "size": path.stat().st_size, "type": "image/jpeg", "filename": "photo.jpg"}


def test_bytes_and_lone_surrogates_from_a_reader_become_storable_text(mongo_db):
    document, notes = mongo.clean_document({"_id": "odd-text", "latin": b"Fran\xe7ois", "utf8": "caf\u00e9".encode(),
                                            "surrogate": "caf\udce9", "binary": b"\x00\x01\x02\xff\xfe"})
    mongo.bulk_upsert(mongo.RAW_METADATA, [document], replace=True)
    found = mongo.find_one(mongo.RAW_METADATA, {"_id": "odd-text"})
    assert found["latin"] == "François"
    assert found["utf8"] == "café"
    assert found["surrogate"] == "caf?"  # an unpaired surrogate cannot be UTF-8: replaced, the rest kept
    assert found["binary"] == "<binary: 5 bytes>"
    assert any("Latin-1" in note for note in notes)


@pytest.mark.django_db
def test_technical_metadata_is_cached_only_once_the_current_runs_document_arrived(mongo_db, asset_factory):
    asset = asset_factory()
    run_6, run_7 = (Job.objects.create(asset=asset, status="succeeded") for _ in range(2))
    asset.renditions_job = run_7  # the processing run whose outputs are current
    older = {"_id": f"{asset.pk}:{run_6.pk}", "asset_id": asset.pk, "version": run_6.pk, "raw": {"image": {"width": 1}}}
    mongo.bulk_upsert(mongo.RAW_METADATA, [older], replace=True)
    assert selectors.technical_metadata(asset=asset)["version"] == run_6.pk  # shown while run 7's is on its way
    current = {"_id": f"{asset.pk}:{run_7.pk}", "asset_id": asset.pk, "version": run_7.pk,
               "raw": {"image": {"width": 2}}}
    mongo.bulk_upsert(mongo.RAW_METADATA, [current], replace=True)
    assert selectors.technical_metadata(asset=asset)["version"] == run_7.pk  # the older one was not cached
    mongo.delete_many(mongo.RAW_METADATA, {"_id": current["_id"]})
    assert selectors.technical_metadata(asset=asset)["version"] == run_7.pk  # the current run's is cached
