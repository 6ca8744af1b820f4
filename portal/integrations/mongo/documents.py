"""Making arbitrary extracted data storable: in MongoDB (BSON) and, on its way there, in the
PostgreSQL outbox (JSONB). Both refuse some things a camera or a PDF happily contains.

- keys: `$` and `.` are operators and paths in MongoDB, so they are replaced by their full-width
  look-alikes (＄ ．), as MongoDB's own documentation suggests; NUL is removed; non-strings become text.
- strings: NUL (JSONB refuses it) removed, lone surrogates (bytes decoded with surrogateescape)
  replaced; longer than the limit: cut, with a marker saying how much was cut.
- bytes: UTF-8 if they are, else Latin-1 if that gives printable text (old cameras), else a marker.
- numbers: NaN and infinities (JSONB refuses them) become None; integers beyond 64 bits become text.
- nesting deeper than MAX_DEPTH and lists or objects longer than MAX_ITEMS are cut, with a marker.
Nothing raises on strange data: the caller gets a cleaned document and a list of what was changed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 24
MAX_ITEMS = 2000
MAX_STRING = 64 * 1024
INT64 = 2**63
CUT = "…[cut: {} more characters]"


@dataclass
class Cleaner:
    max_string: int = MAX_STRING
    notes: list[str] = field(default_factory=list)

    def key(self, raw: object, path: str) -> str:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        safe = self.text(text, path, limit=256).replace("$", "＄").replace(".", "．") or "_"
        if safe != text:
            self.note(f"{path}: key {text[:40]!r} escaped")
        return safe

    def text(self, value: str, path: str, *, limit: int | None = None) -> str:
        limit = self.max_string if limit is None else limit
        clean = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
        if len(clean) > limit:
            self.note(f"{path}: text of {len(clean)} characters cut to {limit}")
            clean = clean[:limit] + CUT.format(len(clean) - limit)
        return clean

    def value(self, value: Any, path: str, depth: int) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value if -INT64 <= value < INT64 else str(value)
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, str):
            return self.text(value, path)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.binary(bytes(value), path)
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple | set):
            self.note(f"{path}: nested deeper than {MAX_DEPTH} levels, cut")
            return "…[cut: nested too deep]"
        if isinstance(value, Mapping):
            items = list(value.items())
            cleaned = {}
            for raw_key, item in items[:MAX_ITEMS]:
                name = self.key(raw_key, path)
                cleaned[name] = self.value(item, f"{path}.{name}", depth + 1)
            if len(items) > MAX_ITEMS:
                self.note(f"{path}: {len(items)} keys cut to {MAX_ITEMS}")
                cleaned["…cut"] = f"{len(items) - MAX_ITEMS} more keys"
            return cleaned
        if isinstance(value, list | tuple | set):
            seq = list(value)
            # An array inside an array becomes an object keyed by position: FerretDB refuses nested arrays.
            out = [self.value(dict(enumerate(item)) if isinstance(item, list | tuple | set) else item,
                              f"{path}[{i}]", depth + 1) for i, item in enumerate(seq[:MAX_ITEMS])]
            if len(seq) > MAX_ITEMS:
                self.note(f"{path}: {len(seq)} items cut to {MAX_ITEMS}")
                out.append(f"…[cut: {len(seq) - MAX_ITEMS} more items]")
            return out
        try:  # Pillow's IFDRational and other number-like values
            return self.value(float(value), path, depth)
        except (TypeError, ValueError, ZeroDivisionError):
            return self.text(str(value), path, limit=1024)

    def binary(self, raw: bytes, path: str) -> str:
        body = raw.rstrip(b"\x00")
        try:
            return self.text(body.decode("utf-8"), path)
        except UnicodeDecodeError:
            pass
        latin = body.decode("latin-1")
        if latin.isprintable():
            self.note(f"{path}: bytes that are not UTF-8 read as Latin-1")
            return self.text(latin, path)
        self.note(f"{path}: {len(raw)} bytes of binary data left out")
        return f"<binary: {len(raw)} bytes>"

    def note(self, message: str) -> None:
        if len(self.notes) < 50:
            self.notes.append(message)


def encoded_size(document: Mapping[str, Any]) -> int:
    return len(json.dumps(document, ensure_ascii=False, default=str).encode("utf-8"))


def clean_document(document: Mapping[str, Any], *, max_string: int = MAX_STRING) -> tuple[dict[str, Any], list[str]]:
    """A copy safe for BSON and JSONB, and notes on what was changed (empty when nothing was)."""
    cleaner = Cleaner(max_string=max_string)
    cleaned = cleaner.value(dict(document), "$", 0)
    return cleaned, cleaner.notes
