"""Caption files: WebVTT or SRT in, WebVTT out, every cue checked, and a refusal that names its line.

Written here rather than with webvtt-py: its errors do not say on which line a cue is broken, and an
editor with a 900-cue file needs the line. The grammar is small: an optional header ("WEBVTT..."),
then blocks separated by blank lines, each an optional identifier, a timing line
"start --> end [settings]" (SRT writes a comma before the milliseconds) and one or more lines of text.
WebVTT NOTE, STYLE and REGION blocks are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 1024 * 1024
_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")
_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")
# SRT's <font> has no meaning in WebVTT; <i>, <b> and <u> mean the same in both.
_FONT = re.compile(r"</?font[^>]*>", re.IGNORECASE)


class CaptionError(Exception):
    """A caption file we refuse; `reason` names the line, in words for the editor."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "text": self.text}


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _stamp(value: float) -> str:
    millis = round(value * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise CaptionError(f"The caption file is larger than {MAX_BYTES // 1024} KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CaptionError(f"Line {line}: the file is not UTF-8 text; save it as UTF-8 and upload it again.") from None
    if "\x00" in text:
        raise CaptionError("The caption file is not text (it holds NUL bytes).")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(data: bytes) -> list[Cue]:
    """Every cue of a WebVTT or SRT file, in order. Raises CaptionError naming the first bad line."""
    lines = decode(data).split("\n")
    number = 0
    if lines and lines[0].startswith("WEBVTT"):
        if lines[0] not in ("WEBVTT",) and not lines[0].startswith(("WEBVTT ", "WEBVTT\t")):
            raise CaptionError("Line 1: a WebVTT file starts with the line WEBVTT.")
        while number < len(lines) and lines[number].strip():  # the header block
            number += 1
    cues: list[Cue] = []
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        block_start = number
        block = []
        while number < len(lines) and lines[number].strip():
            block.append(lines[number])
            number += 1
        if block[0].startswith(_SKIPPED_BLOCKS) and "-->" not in block[0]:
            continue
        cues.append(_cue(block, block_start + 1))
    if not cues:
        raise CaptionError("The caption file has no cues.")
    return cues


def _cue(block: list[str], first_line: int) -> Cue:
    timing_at = 0 if "-->" in block[0] else 1  # an identifier (SRT's counter) may come first
    if timing_at >= len(block):
        raise CaptionError(f"Line {first_line}: a cue needs a timing line such as 00:00:01.000 --> 00:00:04.000.")
    line = first_line + timing_at
    match = _TIMING.match(block[timing_at].strip())
    if match is None:
        raise CaptionError(f"Line {line}: “{block[timing_at].strip()[:80]}” is not a cue timing such as "
                           "00:00:01.000 --> 00:00:04.000.")
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    if end <= start:
        raise CaptionError(f"Line {line}: the cue ends before it starts.")
    text = "\n".join(_FONT.sub("", row).replace("-->", "→") for row in block[timing_at + 1:]).strip()
    if not text:
        raise CaptionError(f"Line {line}: the cue has no text.")
    return Cue(start, end, text)


def to_webvtt(cues: list[Cue]) -> str:
    body = "\n\n".join(f"{_stamp(cue.start)} --> {_stamp(cue.end)}\n{cue.text}" for cue in cues)
    return f"WEBVTT\n\n{body}\n"
