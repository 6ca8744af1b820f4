"""EXIF as JSON for the asset's attributes, and GPS as decimal degrees.

The result lands in PostgreSQL JSONB, which rejects NaN and the NUL character, and whose
rows should stay small: values are made JSON-safe or dropped, never passed through raw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image, TiffImagePlugin

MAX_TEXT = 1000
MAX_ITEMS = 64
# Pointers to other IFDs, offsets into the file, and blobs: meaningless or bulky as JSON.
# MakerNote is a vendor blob that can hold serial numbers; GPS tags are reported as `gps`.
SKIPPED = {
    "ExifOffset", "GPSInfo", "InteropOffset", "MakerNote", "PrintImageMatching", "XMLPacket",
    "InterColorProfile", "JPEGInterchangeFormat", "JPEGInterchangeFormatLength",
    "StripOffsets", "StripByteCounts", "TileOffsets", "TileByteCounts",
}
# UserComment starts with 8 bytes naming its character set (EXIF 2.3, section 4.6.5).
COMMENT_CODES = {b"ASCII\0\0\0": "ascii", b"UNICODE\0": "utf-16", b"\0" * 8: "utf-8"}


@dataclass(frozen=True)
class GPS:
    lat: float
    lon: float


def exif_tags(exif: Image.Exif) -> dict[str, Any]:
    """The main IFD and the Exif sub-IFD, keyed by tag name (unknown tags dropped)."""
    tags: dict[str, Any] = {}
    for ifd in (exif, exif.get_ifd(ExifTags.IFD.Exif)):
        for tag, raw in ifd.items():
            name = ExifTags.TAGS.get(tag)
            if name is None or name in SKIPPED:
                continue
            value = _comment(raw) if name == "UserComment" else json_safe(raw)
            if value is not None and value != "":
                tags[name] = value
    return tags


def gps_position(exif: Image.Exif) -> GPS | None:
    """Decimal latitude and longitude, or None when absent or impossible. 0,0 is treated as
    absent: cameras without a fix write it, and nobody photographs Null Island."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return GPS(lat=round(lat, 7), lon=round(lon, 7))


def json_safe(value: Any) -> Any:
    """A value JSON and JSONB accept, or None to drop it."""
    if isinstance(value, TiffImagePlugin.IFDRational | float):
        return _finite(value)
    if isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes):
        return _printable(value)
    if isinstance(value, tuple | list):
        items = [json_safe(item) for item in value[:MAX_ITEMS]]
        return items if items and all(item is not None for item in items) else None
    return None


def _finite(value: TiffImagePlugin.IFDRational | float) -> float | None:
    try:
        number = float(value)
    except ZeroDivisionError:  # a 0/0 rational: the camera did not know
        return None
    return round(number, 6) if math.isfinite(number) else None


def _text(value: str) -> str:
    return value.replace("\x00", "").strip()[:MAX_TEXT]


def _printable(value: bytes) -> str | None:
    """Bytes that are really text (ExifVersion b"0231") as text; binary as nothing."""
    try:
        text = value.rstrip(b"\0").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _text(text) if text.isprintable() else None


def _comment(value: Any) -> str | None:
    if not isinstance(value, bytes):
        return json_safe(value) if isinstance(value, str) else None
    encoding = COMMENT_CODES.get(value[:8])
    if encoding is None:
        return _printable(value)
    return _text(value[8:].decode(encoding, errors="replace")) or None


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    """(degrees, minutes, seconds) as rationals, plus "N"/"S" or "E"/"W", to signed degrees."""
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [_finite(part) for part in value]
    if any(part is None or part < 0 for part in parts):
        return None
    degrees = sum(part / 60**index for index, part in enumerate(parts) if part is not None)
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", errors="replace")
    return -degrees if str(ref).strip().upper() == negative else degrees
