"""OCR of scans and images of text: real OCRmyPDF and Tesseract, real S3, the real search engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from portal.core.tasks import Queue, TaskName
from portal.integrations import s3
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.errors import ProcessingError
from portal.processing.ocr import OCR_PDF, OCR_TEXT, languages_for, ocr_image, ocr_pdf, textless_pages
from portal.processing.ocr_services import ocr_languages_set, ocr_run
from portal.processing.samples import make_pdf, make_scan, scanned_page
from portal.processing.services import processing_run
from portal.search.backends.base import SearchQuery
from portal.search.selectors import search_run
from portal.search.services import search_index_asset
from tests.search.conftest import search_index  # noqa: F401 - fixture used by name
from tests.storage import _isolated_storage, test_bucket  # noqa: F401 - autouse fixture and its bucket
from tests.workers.conftest import uploaded

SCAN = [["The quarterly zeppelin report"], ["Marmalade inventory audit"], ["Lighthouse keeper logbook"]]


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_a_scan_becomes_a_searchable_pdf_and_its_text_page_by_page(tmp_path):
    scan = make_scan(tmp_path / "scan.pdf", SCAN)
    assert pdftotext(scan).strip() == ""  # pixels only: nothing to search before OCR
    calls: list[tuple[str, int]] = []

    result = ocr_pdf(scan, tmp_path / "out", languages=["eng"], progress=lambda s, p: calls.append((s, p)))

    assert (result.pages, result.pages_read, result.pages_left) == (3, 3, 0)
    assert "zeppelin" in result.text
    assert "Lighthouse" in result.text
    assert {OCR_PDF, OCR_TEXT} == {path for path, _ in result.outputs}
    assert "Marmalade" in pdftotext(tmp_path / "out" / OCR_PDF)  # the PDF itself now has a text layer
    ocr_percents = [percent for stage, percent in calls if stage == "ocr"]
    assert len(ocr_percents) >= 4  # a report per page (3) besides the start: not one jump to the end
    assert ocr_percents == sorted(ocr_percents)
    assert ocr_percents[-1] == 100


def test_only_pages_without_text_are_read():
    assert textless_pages("typed\f\f  \fmore typed\f") == [2, 3]
    assert languages_for(["fra", "xxx", "eng", "fra"]) == ["eng", "fra"]  # English first, unknown dropped


def test_a_born_digital_pdf_is_not_ocred(tmp_path):
    pdf = tmp_path / "typed.pdf"
    pdf.write_bytes(make_pdf(["typed words on a page"]))
    result = ocr_pdf(pdf, tmp_path / "out", languages=["eng"])
    assert (result.pages_read, result.outputs) == (0, [])


def test_an_image_of_text_gets_its_text(tmp_path):
    image = tmp_path / "note.png"
    scanned_page(["Pelican crossing ahead"]).save(image, "PNG")
    result = ocr_image(image, tmp_path / "out", languages=["eng"])
    assert "Pelican" in result.text
    assert OCR_TEXT in {path for path, _ in result.outputs}


def test_a_corrupt_image_inside_a_pdf_fails_with_a_reason_not_a_hang(tmp_path):
    data = make_scan(tmp_path / "scan.pdf", SCAN[:1]).read_bytes()
    start = data.index(b"stream") + 400  # inside the page's JPEG
    (tmp_path / "bad.pdf").write_bytes(data[:start] + os.urandom(4000) + data[start + 4000:])
    with pytest.raises(ProcessingError) as caught:
        ocr_pdf(tmp_path / "bad.pdf", tmp_path / "out", languages=["eng"])
    assert caught.value.reason.startswith("The scanned pages could not be read (OCR)")


def test_a_huge_page_is_left_out_not_read(tmp_path, settings):
    # The page's image is 6 megapixels; with the bound at 2, OCRmyPDF skips the page (--skip-big).
    settings.OCR_SKIP_BIG_MPIXELS = 2
    scan = tmp_path / "huge.pdf"
    scanned_page(["Enormous poster words"], size=(3000, 2000)).save(scan, "PDF", resolution=10)
    result = ocr_pdf(scan, tmp_path / "out", languages=["eng"])
    assert (result.pages_read, result.text, result.outputs) == (1, "", [])
    assert "not read" in (result.note or "")


def test_a_pdf_over_the_page_limit_reads_only_the_first_pages(tmp_path, settings):
    settings.OCR_MAX_PAGES = 2
    result = ocr_pdf(make_scan(tmp_path / "scan.pdf", SCAN), tmp_path / "out", languages=["eng"])
    assert (result.pages_read, result.pages_left) == (2, 1)
    assert "Marmalade" in result.text
    assert "Lighthouse" not in result.text
    assert result.note == "Only the first 2 pages were read."


@pytest.mark.django_db
def test_words_only_in_a_scan_are_found_by_search_after_ocr(tmp_path, search_index):
    body = make_scan(tmp_path / "scan.pdf", SCAN).read_bytes()
    asset = uploaded(kind=Kind.DOCUMENT, body=body, content_type="application/pdf")
    processing_run(job_id=job_create(asset_id=asset.pk, queue="interactive", enqueue=False).pk)
    asset.refresh_from_db()
    assert asset.status == Status.READY
    assert asset.media["pages_without_text"] == 3
    # Processing queued OCR as a job of its own on `bulk`, after its own job finished.
    ocr_job = Job.objects.for_asset(asset.pk).first()
    assert ocr_job is not None
    assert (ocr_job.task, ocr_job.queue, ocr_job.status) == (TaskName.PROCESSING_OCR, Queue.BULK, JobStatus.QUEUED)
    Asset = type(asset)
    Asset.objects.filter(pk=asset.pk).update(status=Status.PUBLISHED, published_at=asset.updated_at)
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert not search_run(query=SearchQuery(text="zeppelin")).hits

    ocr_run(job_id=ocr_job.pk)

    ocr_job.refresh_from_db()
    asset.refresh_from_db()
    assert ocr_job.status == JobStatus.SUCCEEDED, ocr_job.error
    assert asset.renditions_prefix == f"renditions/{asset.pk}/{ocr_job.pk}/"
    assert {OCR_PDF, OCR_TEXT, "thumbnail.jpg"} <= set(asset.renditions)
    for relative in asset.renditions:  # the earlier files came along into the new folder
        assert s3.head(bucket=settings.S3_PRIVATE_BUCKET, key=asset.renditions_prefix + relative) is not None
    search_index_asset(asset_id=asset.pk, refresh=True)
    assert [hit.title for hit in search_run(query=SearchQuery(text="zeppelin")).hits] == [asset.title]


@pytest.mark.django_db
def test_an_editors_languages_are_kept_and_unknown_ones_refused(asset_factory):
    asset = asset_factory(kind=Kind.DOCUMENT)
    assert ocr_languages_set(asset_id=asset.pk, languages=["fra", "deu"]) == ["fra", "deu"]
    with pytest.raises(ProcessingError):
        ocr_languages_set(asset_id=asset.pk, languages=["klingon"])
