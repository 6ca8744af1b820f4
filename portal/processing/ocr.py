"""OCR of scans and images of text: OCRmyPDF (Tesseract underneath) for PDFs, Tesseract for images.

Pure, like the rest of the pipeline: one local file in, local files out (a searchable PDF and the
recognised text) plus metadata. Only pages without text are read: `--skip-text` leaves a page that
already has text (typed, or an earlier OCR) as it is, and `--pages` names the text-less ones, so a
born-digital PDF with one scanned page costs one page of OCR. (`--redo-ocr` would strip and redo an
earlier OCR layer: more work for text we already index.)

Bounded: one core (`--jobs 1`), a time limit per page (`--tesseract-timeout`) and per run, a memory
limit per process (`prlimit --as`), decompression bombs refused (`--max-image-mpixels`), pages over
OCR_SKIP_BIG_MPIXELS left out (`--skip-big`), and at most OCR_MAX_PAGES pages read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image

from portal.processing.common import Output, Progress, Stages, no_progress, require_content
from portal.processing.documents import TEXT_LIMIT, TEXT_TYPE, _decoded, pdf_info
from portal.processing.errors import ProcessingError
from portal.processing.images import ACCEPTED_FORMATS, BOMB_ERRORS, PARSE_ERRORS
from portal.processing.tools import _Child, run

OCR_PDF = "ocr.pdf"
OCR_TEXT = "ocr.txt"
PDF = "application/pdf"
PLUGIN = Path(__file__).with_name("ocrmypdf_progress.py")
# Tesseract's names; English is always read, the editor adds others (settings.OCR_LANGUAGES).
LANGUAGE_NAMES = {"eng": "English", "fra": "French", "deu": "German", "spa": "Spanish", "ita": "Italian",
                  "nld": "Dutch", "por": "Portuguese"}
DEFAULT_LANGUAGE = "eng"
# What OCRmyPDF writes into the sidecar for a page it did not read.
NOTHING_FOUND = ("No text was found on the pages without text (pages over OCR_SKIP_BIG_MPIXELS megapixels are "
                 "not read).")
_SKIPPED = re.compile(r"^\[(?:OCR skipped on page|Skipped page).*\]\s*$", re.MULTILINE)
_PROGRESS = re.compile(r"^progress (OCR|Image processing) (\d+) (\d+)$")


@dataclass(frozen=True)
class OcrResult:
    pages: int  # pages in the file (1 for an image)
    pages_read: int  # pages OCR was asked to read (those without text, up to the limit)
    pages_left: int  # pages beyond OCR_MAX_PAGES, not read
    languages: list[str]
    text: str = field(repr=False)
    pdf: str | None = None  # relative to out_dir
    text_file: str | None = None
    note: str | None = None

    @property
    def outputs(self) -> list[Output]:
        files = [(self.pdf, PDF), (self.text_file, TEXT_TYPE)]
        return [(path, kind) for path, kind in files if path]

    def metadata(self) -> dict[str, Any]:
        return {"pages_read": self.pages_read, "pages_left": self.pages_left, "languages": self.languages,
                "text_chars": len(self.text), "pdf": self.pdf, "note": self.note}


def languages_for(chosen: list[str] | None) -> list[str]:
    """English first, then the editor's picks that the workers have installed (settings.OCR_LANGUAGES)."""
    installed = list(settings.OCR_LANGUAGES)
    picked = [code for code in (chosen or []) if code in installed and code != DEFAULT_LANGUAGE]
    return [DEFAULT_LANGUAGE, *dict.fromkeys(picked)]


def textless_pages(text: str) -> list[int]:
    """Page numbers (from 1) whose text, as pdftotext wrote it (a form feed after each page), is blank."""
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]  # the part after the last page's form feed
    return [number for number, page in enumerate(pages, start=1) if not page.strip()]


def _limits() -> list[str]:
    """Run a tool under an address-space limit: a hostile page cannot take the worker's memory."""
    return ["prlimit", f"--as={settings.OCR_MAX_MEMORY_MB * 1024 * 1024}", "--"]


def _ranges(pages: list[int]) -> str:
    """[1, 2, 3, 7] → "1-3,7" (OCRmyPDF's --pages)."""
    spans: list[list[int]] = []
    for page in pages:
        if spans and page == spans[-1][1] + 1:
            spans[-1][1] = page
        else:
            spans.append([page, page])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _recognised(path: Path) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as fp:
        data = fp.read(TEXT_LIMIT + 1)
    text, _ = _decoded(data[:TEXT_LIMIT], truncated=len(data) > TEXT_LIMIT)
    return _SKIPPED.sub("", text).strip()


def ocr_pdf(src: Path, out_dir: Path, *, languages: list[str], progress: Progress = no_progress) -> OcrResult:
    stages = Stages(progress, {"metadata": 5, "ocr": 95})
    stages.start("metadata")
    require_content(src, "PDF")
    pages, _, _ = pdf_info(src)
    limit = settings.OCR_MAX_PAGES
    # The first `limit` pages' text, whole (not cut at TEXT_LIMIT): blank pages are the scans.
    done = run(["pdftotext", "-l", str(limit), "-enc", "UTF-8", src, "-"], failure="The PDF's text could not be read",
               stdout_limit=50 * TEXT_LIMIT)
    wanted = textless_pages(done.stdout.decode("utf-8", errors="replace"))
    left = max(0, pages - limit)  # not looked at: their text, if any, is in text.txt already
    stages.report("metadata", 1.0)
    if not wanted:
        return OcrResult(pages, 0, left, languages, "", note="Every page already has text; nothing to read.")
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd: list[str | Path] = [
           *_limits(), "ocrmypdf", "--skip-text", "--output-type", "pdf", "--jobs", "1", "--optimize", "0",
           "--tesseract-timeout", str(settings.OCR_PAGE_TIMEOUT_SECONDS),
           "--max-image-mpixels", str(settings.OCR_MAX_IMAGE_MPIXELS),
           "--skip-big", str(settings.OCR_SKIP_BIG_MPIXELS),
           "-l", "+".join(languages), "--pages", _ranges(wanted), "--plugin", PLUGIN,
           "--sidecar", out_dir / OCR_TEXT, src, out_dir / OCR_PDF]
    with _Child(cmd, timeout=settings.OCR_MAX_SECONDS, cwd=out_dir) as child:
        for raw in child.stdout:
            match = _PROGRESS.match(raw.decode("ascii", errors="replace").strip())
            if match and int(match[3]):
                stages.report("ocr", int(match[2]) / int(match[3]))
        child.finish("The scanned pages could not be read (OCR)")
    stages.report("ocr", 1.0)
    text = _recognised(out_dir / OCR_TEXT)
    note = f"Only the first {limit} pages were read." if left else None
    if not text:  # nothing recognised, or every page too big to read: a copy of the file is no use
        for name in (OCR_TEXT, OCR_PDF):
            (out_dir / name).unlink(missing_ok=True)
        return OcrResult(pages, len(wanted), left, languages, "", note=note or NOTHING_FOUND)
    return OcrResult(pages, len(wanted), left, languages, text, OCR_PDF, OCR_TEXT, note)


def ocr_image(src: Path, out_dir: Path, *, languages: list[str], progress: Progress = no_progress) -> OcrResult:
    """Tesseract on the image, decoded by Pillow first (our formats only, under our pixel limit), so
    Tesseract's own decoders never see an upload. Writes the text and a one-page searchable PDF."""
    progress("ocr", 0)
    require_content(src, "image")
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "page.png"
    try:
        with Image.open(src, formats=list(ACCEPTED_FORMATS)) as image:
            if image.width * image.height > settings.OCR_MAX_IMAGE_MPIXELS * 1_000_000:
                return OcrResult(1, 0, 1, languages, "", note="The image is too large to read its text.")
            image.convert("L").save(page, "PNG")
    except BOMB_ERRORS:
        return OcrResult(1, 0, 1, languages, "", note="The image is too large to read its text.")
    except (*PARSE_ERRORS, Image.UnidentifiedImageError):
        raise ProcessingError("The image's text could not be read: the image could not be decoded.") from None
    stem = out_dir / "ocr"
    run([*_limits(), "tesseract", page, stem, "-l", "+".join(languages), "txt", "pdf"],
        failure="The image's text could not be read (OCR)", timeout=settings.OCR_PAGE_TIMEOUT_SECONDS, cwd=out_dir)
    page.unlink()
    progress("ocr", 100)
    text = _recognised(out_dir / OCR_TEXT)
    if not text:
        for name in (OCR_TEXT, OCR_PDF):
            (out_dir / name).unlink(missing_ok=True)
        return OcrResult(1, 1, 0, languages, "", note="No text was found in the image.")
    return OcrResult(1, 1, 0, languages, text, OCR_PDF, OCR_TEXT)
