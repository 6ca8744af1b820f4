"""ffprobe: what a media file holds (streams, codecs, duration), checked before any encoding."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from portal.processing.common import max_seconds, require_content
from portal.processing.errors import ProcessingError
from portal.processing.tools import FFPROBE, LOCAL_INPUT, run, run_ffmpeg

# A probe reads headers only; a file that keeps ffprobe busy longer than this is not media.
PROBE_SECONDS = 120.0
# Demuxers that point at other files or render text: an upload is never one of these.
INDIRECT_FORMATS = {"hls", "dash", "concat", "ffmetadata", "tty", "lavfi", "sdp", "rtsp"}


def probe(src: Path, *, noun: str = "video", timeout: float | None = None) -> dict[str, Any]:
    """ffprobe -show_format -show_streams as a dict. Refuses empty, unreadable and indirect files
    fast, with `noun` in the sentence: "The video could not be read: moov atom not found"."""
    require_content(src, noun)
    limit = min(PROBE_SECONDS, max_seconds()) if timeout is None else timeout
    done = run(
        [*FFPROBE, *LOCAL_INPUT, "-show_format", "-show_streams", "-of", "json", src],
        failure=f"The {noun} could not be read",
        timeout=limit,
    )
    try:
        info: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise ProcessingError(f"The {noun} could not be read: ffprobe gave no description of it.") from exc
    names = set(str(info.get("format", {}).get("format_name", "")).split(","))
    if names & INDIRECT_FORMATS:
        raise ProcessingError(f"The {noun} file is a playlist or text, not a media file.")
    return info


def streams(info: dict[str, Any], codec_type: str) -> list[dict[str, Any]]:
    """Streams of one type. Cover art inside an audio file is a "video" stream marked
    attached_pic: it is a picture, so it never counts as video."""
    found = [s for s in info.get("streams", []) if s.get("codec_type") == codec_type]
    if codec_type == "video":
        found = [s for s in found if not s.get("disposition", {}).get("attached_pic")]
    return found


def duration(info: dict[str, Any]) -> float | None:
    """Seconds, from the container or else the longest stream; None when nothing says."""
    candidates = [info.get("format", {}).get("duration")]
    candidates += [s.get("duration") for s in info.get("streams", [])]
    values = [_number(value) for value in candidates]
    known = [value for value in values if value is not None and value > 0]
    return max(known) if known else None


def measured_duration(src: Path, *, stream: str, noun: str) -> float:
    """Seconds, by reading every packet of one stream ("0:v:0") without decoding any. For files
    that say nothing about their length: WebM recorded in a browser writes no duration."""
    seconds = run_ffmpeg(
        [*LOCAL_INPUT, "-i", str(src), "-map", stream, "-c", "copy", "-f", "null", "-"],
        failure=f"The {noun} could not be read", duration=0, on_fraction=lambda _: None,
    )
    if seconds <= 0:
        raise ProcessingError(f"The {noun} could not be read: it holds nothing to play.")
    return seconds


def display_size(stream: dict[str, Any]) -> tuple[int, int]:
    """Width and height as shown: a phone video stored 1920x1080 with a 90° rotation is 1080x1920.
    ffmpeg applies the rotation when it decodes, so every size we compute uses these."""
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    rotation = _number(stream.get("tags", {}).get("rotate")) or 0.0
    for side_data in stream.get("side_data_list", []):
        rotation = _number(side_data.get("rotation")) or rotation
    if round(abs(rotation)) % 180 == 90:
        return height, width
    return width, height


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
