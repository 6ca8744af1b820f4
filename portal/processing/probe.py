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
MP4 = "mov,mp4,m4a,3gp,3g2,mj2"  # ffprobe names a demuxer by every format it reads, comma-joined
MKV = "matroska,webm"
# The containers we accept per kind, as ffprobe's format_name: an allow-list, since ffmpeg reads
# hundreds of formats (image sequences, subtitles, game archives) that no upload should be.
ACCEPTED_FORMATS: dict[str, frozenset[str]] = {
    "video": frozenset({MP4, MKV, "avi", "mpegts", "mpeg", "ogg", "flv", "asf"}),
    "audio": frozenset({"wav", "mp3", "flac", "ogg", "aac", "aiff", "asf", MP4, MKV}),
}
FORMAT_WORDS = {"video": "MP4/MOV, MKV/WebM, AVI, MPEG-TS/PS, Ogg, FLV or WMV",
                "audio": "WAV, MP3, FLAC, Ogg, AAC/M4A, AIFF, WMA or MKV/WebM"}


def probe(src: Path, *, noun: str = "video", kind: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """ffprobe's whole answer (format, streams, chapters, programs) as a dict: the pipeline's facts
    and the raw metadata both come from this one run. Refuses empty, unreadable and indirect files
    fast, with `noun` in the sentence: "The video could not be read: moov atom not found"; with
    `kind` ("video", "audio"), also a container outside that kind's allow-list."""
    require_content(src, noun)
    limit = min(PROBE_SECONDS, max_seconds()) if timeout is None else timeout
    done = run(
        [*FFPROBE, *LOCAL_INPUT, "-show_format", "-show_streams", "-show_chapters", "-show_programs",
         "-of", "json", src],
        failure=f"The {noun} could not be read",
        timeout=limit,
    )
    try:  # tags are the encoder's bytes: undecodable ones are kept escaped for the raw copy to clean
        info: dict[str, Any] = json.loads(done.stdout.decode("utf-8", "surrogateescape"))
    except ValueError as exc:
        raise ProcessingError(f"The {noun} could not be read: ffprobe gave no description of it.") from exc
    format_name = str(info.get("format", {}).get("format_name", ""))
    if set(format_name.split(",")) & INDIRECT_FORMATS:
        raise ProcessingError(f"The {noun} file is a playlist or text, not a media file.")
    if kind is not None and format_name not in ACCEPTED_FORMATS[kind]:
        raise ProcessingError(f"The {noun} is in a format we do not accept ({format_name or 'unknown'}); "
                              f"we accept {FORMAT_WORDS[kind]}.")
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
