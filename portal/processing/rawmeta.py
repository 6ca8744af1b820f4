"""The complete raw metadata of one asset version, as one document for MongoDB.

The pipeline keeps a small, clean subset in Asset.media (what pages filter and sort
on). This module keeps everything else the tools say: the whole ffprobe answer (format, streams,
chapters), every EXIF IFD including GPS and maker data, XMP, all of pdfinfo, and the extracted
text. The schema below is checked in code (FerretDB has no $jsonSchema validators), and the
content is made storable by portal.integrations.mongo.clean_document: strange input is escaped,
decoded or cut with a marker, never allowed to lose the whole document or fail the job.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import magic
from django.utils import timezone

from portal.integrations.mongo import clean_document
from portal.integrations.mongo.documents import encoded_size
from portal.processing.common import RawMetadata
from portal.processing.documents import TEXT_LIMIT, pdf_info, pdf_text
from portal.processing.images import open_accepted, raw_image_metadata
from portal.processing.probe import probe

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # well under BSON's 16 MiB and cheap to move through the outbox
MAX_TEXT_CHARS = TEXT_LIMIT  # the extracted text, cut with a marker beyond this
# Required keys and their types: the schema, checked before anything is stored.
SCHEMA: dict[str, type | tuple[type, ...]] = {
    "_id": str, "asset_id": int, "version": int, "kind": str, "schema": int, "extracted_at": str,
    "source": dict, "raw": dict, "text": (str, type(None)), "notes": list,
}
KINDS = {"image", "video", "audio", "document"}


class InvalidRawMetadata(ValueError):
    """A document that breaks the schema: a bug of ours, never the file's fault."""


def document_id(asset_id: int, version: int) -> str:
    return f"{asset_id}:{version}"


def extract_raw(kind: str, src: Path) -> tuple[dict[str, Any], str | None, list[str]]:
    """(raw metadata, extracted text, notes) of a file the pipeline did not just process (the
    backfill): the pipeline's own readers, run here once each. Never raises for a strange file:
    what a tool cannot read becomes a note, and the rest is kept."""
    found = _read(kind, src)
    return found.sections, found.text, found.notes


def _read(kind: str, src: Path) -> RawMetadata:
    try:
        if kind in ("video", "audio"):
            return RawMetadata({"ffprobe": probe(src, noun="media file")})
        if kind == "image":
            with open_accepted(src) as image:
                return raw_image_metadata(image)
    except Exception as error:  # noqa: BLE001 - the camera's or encoder's data, not ours: note it, keep going
        reader = "ffprobe" if kind in ("video", "audio") else kind
        return RawMetadata({}, notes=[f"{reader}: could not be read ({type(error).__name__}: {str(error)[:200]})"])
    if kind != "document":
        return RawMetadata({})
    mime = str(magic.from_file(str(src), mime=True))
    if mime != "application/pdf":  # not a PDF: a text file says everything in its text
        text = src.read_bytes()[:MAX_TEXT_CHARS].decode("utf-8", "replace") if mime.startswith("text/") else None
        return RawMetadata({"mime": mime}, text)
    try:
        _, _, fields = pdf_info(src)
    except Exception as error:  # noqa: BLE001
        return RawMetadata({"mime": mime}, notes=[f"pdfinfo: could not be read ({str(error)[:200]})"])
    try:
        text, _ = pdf_text(src)
    except Exception as error:  # noqa: BLE001 - a PDF that forbids copying text still has its info
        return RawMetadata({"pdfinfo": fields}, notes=[f"text: could not be extracted ({str(error)[:200]})"])
    return RawMetadata({"pdfinfo": fields}, text)


def build_document(*, asset_id: int, version: int, kind: str, source: dict[str, Any], raw: dict[str, Any],
                   text: str | None, notes: list[str] | None = None) -> dict[str, Any]:
    """The validated, storable document. Oversized parts are cut with markers so that the
    document fits MAX_DOCUMENT_BYTES; the rest of it is always kept."""
    notes = list(notes or [])
    cleaned_raw, raw_notes = clean_document(raw)
    cleaned_source, _ = clean_document(source)
    cleaned_text = None
    if text is not None:
        cleaned, text_notes = clean_document({"text": text}, max_string=MAX_TEXT_CHARS)
        cleaned_text = cleaned["text"]
        raw_notes += text_notes
    document: dict[str, Any] = {
        "_id": document_id(asset_id, version), "asset_id": asset_id, "version": version, "kind": kind,
        "schema": SCHEMA_VERSION, "extracted_at": timezone.now().isoformat(), "source": cleaned_source,
        "raw": cleaned_raw, "text": cleaned_text, "notes": (notes + raw_notes)[:60],
    }
    _fit(document)
    validate(document)
    if document["notes"]:
        log.info("raw metadata of asset %s version %s stored with changes: %s", asset_id, version,
                 "; ".join(document["notes"][:10]))
    return document


def validate(document: dict[str, Any]) -> None:
    for key, expected in SCHEMA.items():
        if key not in document:
            raise InvalidRawMetadata(f"raw metadata document lacks {key!r}")
        if not isinstance(document[key], expected) or (isinstance(document[key], bool) and expected is int):
            raise InvalidRawMetadata(f"raw metadata {key!r} is {type(document[key]).__name__}, not {expected}")
    if document["kind"] not in KINDS:
        raise InvalidRawMetadata(f"raw metadata kind {document['kind']!r} is not one of {sorted(KINDS)}")
    if encoded_size(document) > MAX_DOCUMENT_BYTES:
        raise InvalidRawMetadata("raw metadata document is over the size limit after cutting")


def _fit(document: dict[str, Any]) -> None:
    """Cut the text first, then the biggest raw sections, until the document fits."""
    size = encoded_size(document)
    if size <= MAX_DOCUMENT_BYTES:
        return
    if document["text"]:
        room = max(0, len(document["text"]) - (size - MAX_DOCUMENT_BYTES) - 1024)
        document["notes"].append(f"text cut from {len(document['text'])} to {room} characters to fit the size limit")
        document["text"] = document["text"][:room] + "…[cut: document size limit]"
    while encoded_size(document) > MAX_DOCUMENT_BYTES and document["raw"]:
        biggest = max(document["raw"], key=lambda key: encoded_size({"v": document["raw"][key]}))
        document["notes"].append(f"raw section {biggest!r} left out: over the document size limit")
        document["raw"][biggest] = "…[cut: document size limit]"
        if all(isinstance(value, str) for value in document["raw"].values()):
            break
