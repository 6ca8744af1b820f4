"""What a file really is, from its first bytes (libmagic), never from its name or the browser's claim."""

from __future__ import annotations

import magic

from portal.library.models import Kind

DOCUMENT_TYPES = {
    "application/pdf", "text/plain",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
}
# Image types a browser can show; SVG is left out on purpose (it can carry script).
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/tiff", "image/heic"}


def kind_for_type(mime: str) -> str | None:
    """The asset kind a MIME type belongs to, or None when we do not accept it."""
    mime = mime.split(";")[0].strip().lower()
    if mime in IMAGE_TYPES:
        return Kind.IMAGE
    if mime.startswith("video/"):
        return Kind.VIDEO
    if mime.startswith("audio/"):
        return Kind.AUDIO
    if mime in DOCUMENT_TYPES:
        return Kind.DOCUMENT
    return None


def sniff(prefix: bytes) -> str:
    """The MIME type libmagic reads from the first bytes of a file."""
    if not prefix:
        return "application/x-empty"
    return str(magic.from_buffer(prefix, mime=True))


def sniffed_kind(prefix: bytes, declared_type: str) -> tuple[str, str | None]:
    """(sniffed MIME, its kind). Office files are ZIP or OLE containers: those count as the
    declared document type only when the browser declared an office type too."""
    mime = sniff(prefix)
    if mime in ("application/zip", "application/x-ole-storage", "application/CDFV2") and (
        kind_for_type(declared_type) == Kind.DOCUMENT and declared_type != "application/pdf"
    ):
        return declared_type, Kind.DOCUMENT
    if mime == "application/octet-stream" and prefix[4:8] == b"ftyp":  # some MP4/MOV brands
        return "video/mp4", Kind.VIDEO
    return mime, kind_for_type(mime)
