"""Test media: the shared samples, plus a hostile PNG that only tests need."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from portal.processing.samples import FFMPEG, dms, make_audio, make_pdf, make_photo, make_video

__all__ = ["FFMPEG", "dms", "make_audio", "make_pdf", "make_photo", "make_png_bomb", "make_video"]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png_bomb(dest: Path, width: int, height: int) -> Path:
    """A valid 1-bit PNG of width × height black pixels: a few KB on disk that would need
    width × height bytes once Pillow decoded it. Written by hand, since Pillow would have to
    hold it in memory to write it."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    dest.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
                     + png_chunk(b"IEND", b""))
    return dest
