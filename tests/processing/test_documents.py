"""Documents: PDF pages, text and thumbnail; plain text; office files skipped, not failed."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from portal.processing import documents
from portal.processing.documents import TRUNCATION_MARKER, DocumentResult, process_document, process_text
from portal.processing.errors import ProcessingError
from tests.processing.media import make_pdf

WORDS = ["Alpha harbour", "Bravo lighthouse", "Charlie tidewater"]


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[DocumentResult, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    (folder / "report.pdf").write_bytes(make_pdf(WORDS))
    return process_document(folder / "report.pdf", folder / "out"), folder / "out"


def test_pdf_pages_and_info(pdf: tuple[DocumentResult, Path]) -> None:
    result, _ = pdf
    assert (result.format, result.mime, result.page_count) == ("pdf", "application/pdf", 3)
    assert result.info["pdf_version"] == "1.4"
    assert result.info["encrypted"] == "no"
    json.dumps(result.metadata(), allow_nan=False)


def test_pdf_text_has_every_page_in_order(pdf: tuple[DocumentResult, Path]) -> None:
    result, out_dir = pdf
    positions = [result.text.index(words) for words in WORDS]
    assert positions == sorted(positions)
    assert result.text.count("\f") == 3
    assert not result.text_truncated
    assert (out_dir / "text.txt").read_text(encoding="utf-8") == result.text


def test_pdf_thumbnail_is_a_640px_jpeg_of_page_one(pdf: tuple[DocumentResult, Path]) -> None:
    result, out_dir = pdf
    assert result.outputs == [("thumbnail.jpg", "image/jpeg"), ("text.txt", "text/plain; charset=utf-8")]
    with Image.open(out_dir / "thumbnail.jpg") as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) == 640
        assert thumbnail.size == (495, 640)  # US letter, upright
    assert sorted(p.name for p in out_dir.iterdir()) == ["text.txt", "thumbnail.jpg"]  # no scratch left


def test_long_pdf_text_is_cut_with_a_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "TEXT_LIMIT", 20)
    (tmp_path / "long.pdf").write_bytes(make_pdf(WORDS))
    result = process_document(tmp_path / "long.pdf", tmp_path / "out")
    assert result.text_truncated
    assert result.metadata()["text_truncated"] is True
    assert result.text == "Alpha harbour\n\n\fBrav" + TRUNCATION_MARKER  # the first 20 bytes


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_pdf_is_refused_fast(tmp_path: Path, keep: float) -> None:
    whole = make_pdf(WORDS)
    (tmp_path / "cut.pdf").write_bytes(whole[: int(len(whole) * keep)])
    started = time.monotonic()
    with pytest.raises(ProcessingError, match=r"^The PDF could not be read: .*xref"):
        process_document(tmp_path / "cut.pdf", tmp_path / "out")
    assert time.monotonic() - started < 2


def test_empty_document_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(ProcessingError, match=r"^The document file is empty \(0 bytes\)\.$"):
        process_document(tmp_path / "empty.pdf", tmp_path / "out")


def test_plain_text_is_decoded_with_replacement(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes("\ufeffCafé notes\n".encode() + b"broken \xff byte\n")
    result = process_document(tmp_path / "notes.txt", tmp_path / "out")
    assert (result.format, result.mime, result.page_count, result.thumbnail) == ("text", "text/plain", 1, None)
    assert result.text == "Café notes\nbroken \ufffd byte\n"
    assert result.outputs == [("text.txt", "text/plain; charset=utf-8")]


def test_text_loses_nul_characters_postgresql_refuses(tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"a\x00b\n")
    assert process_text(tmp_path / "nul.txt", tmp_path / "out").text == "ab\n"


def test_long_plain_text_is_cut_at_one_megabyte(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("é" * 600_000, encoding="utf-8")  # 1.2 MB
    result = process_document(tmp_path / "big.txt", tmp_path / "out")
    assert result.text_truncated
    assert result.text == "é" * 500_000 + TRUNCATION_MARKER


def test_office_document_is_kept_without_preview_not_failed(tmp_path: Path) -> None:
    src = tmp_path / "letter.docx"
    with zipfile.ZipFile(src, "w") as docx:  # the parts libmagic looks for in a Word file
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        docx.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        docx.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    result = process_document(src, tmp_path / "out")
    assert not result.supported
    assert result.outputs == []
    assert result.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert result.note
    assert "not supported yet" in result.note
    assert result.metadata()["supported"] is False


def test_unknown_binary_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blob.pdf").write_bytes(bytes(range(256)) * 16)
    with pytest.raises(ProcessingError, match="not a kind of document we can read"):
        process_document(tmp_path / "blob.pdf", tmp_path / "out")
