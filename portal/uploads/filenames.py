"""A user's file name is data to show, never a path or a key: clean it before keeping it."""

from __future__ import annotations

import unicodedata

MAX_NAME = 255


def clean_filename(raw: str) -> str:
    """Drop any directory part, control and format characters; normalise; cap the length
    while keeping the extension. What is left is safe to store and (escaped) to show."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip().strip(".")
    if not name:
        return "unnamed"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep_extension = dot and 0 < len(ext) <= 10
        name = f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}" if keep_extension else name[:MAX_NAME]
    return name


def title_from_filename(name: str) -> str:
    stem = name.rpartition(".")[0] or name
    title = " ".join(stem.replace("_", " ").replace("-", " ").split())
    return (title[:1].upper() + title[1:])[:200] or "Untitled"
