"""Documents: PDF (poppler: pdfinfo, pdftotext, pdftoppm), plain text, and office files later.

Office files need LibreOffice to become PDF first. It is not installed on the workers yet, so
they get a result that says so instead of an error: the upload stays, with no preview.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import magic
from PIL import Image

from portal.processing.common import JPEG, Output, Progress, RawMetadata, Stages, fit, no_progress, require_content
from portal.processing.errors import ProcessingError, ToolTimeout
from portal.processing.tools import run

TEXT_LIMIT = 1_000_000  # bytes of UTF-8 kept: plenty for search, bounded for the database
TRUNCATION_MARKER = "\n\n[… the text continues; only the first 1 MB was kept …]"
THUMBNAIL = "thumbnail.jpg"
THUMBNAIL_LONG_SIDE = 640
TEXT_FILE = "text.txt"
TEXT_TYPE = "text/plain; charset=utf-8"
# pdfinfo's fields worth keeping, under our names. Dates come as ISO 8601 (-isodates).
PDF_INFO = {
    "Title": "title", "Subject": "subject", "Keywords": "keywords", "Author": "author",
    "Creator": "creator", "Producer": "producer", "CreationDate": "created", "ModDate": "modified",
    "Page size": "page_size", "PDF version": "pdf_version", "Encrypted": "encrypted",
}
INFO_CHARS = 500
# Word, Excel, PowerPoint and OpenDocument files, new and old, as libmagic names them; the bare
# containers count too, since libmagic cannot always see inside (the upload checked the claim).
OFFICE_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.",
    "application/vnd.ms-", "application/msword", "application/rtf",
    "application/zip", "application/x-ole-storage", "application/CDFV2",
)


@dataclass(frozen=True)
class DocumentResult:
    format: str  # "pdf", "text" or "office"
    mime: str  # as libmagic reads the content
    page_count: int | None
    text: str = field(repr=False)  # for the search index; also written to text.txt
    text_truncated: bool = False
    info: dict[str, str] = field(default_factory=dict)
    thumbnail: str | None = None  # relative to out_dir
    text_file: str | None = None
    supported: bool = True  # False: kept as uploaded, nothing extracted (see note)
    note: str | None = None  # for the editor: why something is missing
    pdfinfo: dict[str, str] = field(default_factory=dict, repr=False)  # every field pdfinfo printed
    pages_without_text: int = 0  # scans, most likely: OCR reads them afterwards (portal.processing.ocr)

    @property
    def outputs(self) -> list[Output]:
        files = [(self.thumbnail, JPEG), (self.text_file, TEXT_TYPE)]
        return [(path, kind) for path, kind in files if path]

    def raw_metadata(self) -> RawMetadata:
        if self.format != "pdf":  # a text file says everything in its text; an office file, its type
            return RawMetadata({"mime": self.mime}, self.text if self.format == "text" else None)
        notes = [f"text: could not be extracted ({self.note})"] if self.note else []
        return RawMetadata({"pdfinfo": self.pdfinfo}, self.text, notes)

    def metadata(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "mime": self.mime,
            "page_count": self.page_count,
            "info": self.info,
            "text_chars": len(self.text),
            "text_truncated": self.text_truncated,
            "thumbnail": self.thumbnail,
            "supported": self.supported,
            "note": self.note,
            "pages_without_text": self.pages_without_text,
        }


def process_document(src: Path, out_dir: Path, progress: Progress = no_progress) -> DocumentResult:
    """Pick the reader by the content's real type, never the file name."""
    require_content(src, "document")
    mime = str(magic.from_file(str(src), mime=True))
    if mime == "application/pdf":
        return process_pdf(src, out_dir, progress)
    if mime.startswith("text/"):
        return process_text(src, out_dir, progress, mime=mime)
    if not mime.startswith(OFFICE_PREFIXES):
        raise ProcessingError(f"The file is not a kind of document we can read (its content is {mime}).")
    progress("metadata", 100)
    return DocumentResult(
        format="office", mime=mime, page_count=None, text="", supported=False,
        note="Previews and text of this kind of document are not supported yet; the file is kept as uploaded.",
    )


def process_pdf(src: Path, out_dir: Path, progress: Progress = no_progress) -> DocumentResult:
    """pdfinfo first: it refuses a truncated or corrupt PDF in milliseconds, before the slower tools."""
    stages = Stages(progress, {"metadata": 10, "text": 40, "thumbnails": 50})
    stages.start("metadata")
    require_content(src, "PDF")
    pages, info, every_field = pdf_info(src)
    stages.report("metadata", 1.0)
    out_dir.mkdir(parents=True, exist_ok=True)

    note = None
    try:
        text, truncated = pdf_text(src)
    except ToolTimeout:
        raise
    except ProcessingError as exc:  # say, copying text forbidden by the author: keep the rest
        text, truncated, note = "", False, f"No text was taken from it: {exc.reason}"
    text_file = _write_text(out_dir, text)
    stages.report("text", 1.0)
    pdf_thumbnail(src, out_dir / THUMBNAIL)
    stages.report("thumbnails", 1.0)
    parts = text.split("\f")[:pages] if not note else []
    blank = sum(1 for page in parts if not page.strip()) + (pages - len(parts) if not (truncated or note) else 0)
    return DocumentResult("pdf", "application/pdf", pages, text, truncated, info, THUMBNAIL, text_file, note=note,
                          pdfinfo=every_field, pages_without_text=blank)


def process_text(
    src: Path, out_dir: Path, progress: Progress = no_progress, *, mime: str = "text/plain"
) -> DocumentResult:
    """UTF-8 (a BOM is dropped), with anything undecodable replaced by U+FFFD; one page."""
    progress("text", 0)
    require_content(src, "document")
    with src.open("rb") as fp:
        data = fp.read(TEXT_LIMIT + 1)
    text, truncated = _decoded(data[:TEXT_LIMIT], truncated=len(data) > TEXT_LIMIT, encoding="utf-8-sig")
    out_dir.mkdir(parents=True, exist_ok=True)
    text_file = _write_text(out_dir, text)
    progress("text", 100)
    return DocumentResult("text", mime, 1, text, truncated, text_file=text_file)


def pdf_info(src: Path) -> tuple[int, dict[str, str], dict[str, str]]:
    """(page count, selected fields cut for the database, every field as pdfinfo printed it)."""
    done = run(["pdfinfo", "-isodates", "-enc", "UTF-8", src], failure="The PDF could not be read")
    fields: dict[str, str] = {}
    for line in done.stdout.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    try:
        pages = int(fields.get("Pages", ""))
    except ValueError:
        pages = 0
    if pages < 1:
        raise ProcessingError("The PDF could not be read: it has no pages.")
    cut = {key: value.replace("\x00", "")[:INFO_CHARS] for key, value in fields.items()}
    return pages, {ours: cut[theirs] for theirs, ours in PDF_INFO.items() if cut.get(theirs)}, fields


def pdf_text(src: Path) -> tuple[str, bool]:
    """(text, truncated). Pages are separated by form feeds (\\f), as pdftotext writes them."""
    done = run(["pdftotext", "-enc", "UTF-8", "-eol", "unix", src, "-"],
               failure="The PDF's text could not be read", stdout_limit=TEXT_LIMIT)
    return _decoded(done.stdout, truncated=done.truncated)


def pdf_thumbnail(src: Path, dest: Path) -> None:
    """The first page as a JPEG, THUMBNAIL_LONG_SIDE px on its longer side. pdftoppm renders
    straight to that size, so a poster-sized page costs no more than a letter-sized one."""
    with tempfile.TemporaryDirectory(dir=dest.parent) as scratch:
        stem = Path(scratch) / "page"
        run(["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", str(THUMBNAIL_LONG_SIDE),
             src, stem], failure="The PDF's first page could not be drawn")
        png = stem.with_suffix(".png")
        if not png.exists():
            raise ProcessingError("The PDF's first page could not be drawn.")
        with Image.open(png, formats=["PNG"]) as page:  # pdftoppm's own output, nothing else
            image = page.convert("RGB")
    size = fit(image.width, image.height, THUMBNAIL_LONG_SIDE)  # pdftoppm's size, unless it misjudged
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    image.save(dest, "JPEG", quality=82, optimize=True)


def _decoded(data: bytes, *, truncated: bool, encoding: str = "utf-8") -> tuple[str, bool]:
    """Text fit for PostgreSQL (no NUL characters), with a marker where it was cut."""
    text = data.decode(encoding, errors="replace").replace("\x00", "")
    if truncated:
        text = text.rstrip("\ufffd") + TRUNCATION_MARKER  # the cut can split the last character
    return text, truncated


def _write_text(out_dir: Path, text: str) -> str | None:
    if not text.strip():
        return None
    (out_dir / TEXT_FILE).write_text(text, encoding="utf-8")
    return TEXT_FILE
